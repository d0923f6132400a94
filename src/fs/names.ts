// Validation of one directory-entry name (an NFSv4 component4), shared by the
// NFS layer (which checks before calling the backend) and the backends (which
// must not trust their callers). RFC 8881 §18.13.3 (LOOKUP): an empty name
// is NFS4ERR_INVAL; "." and ".." are NFS4ERR_BADNAME; so is a name holding
// "/" (it would name a path, not an entry — Linux nfsd answers BADNAME too);
// NUL cannot be stored in a POSIX name, so it is a character this server does
// not support (NFS4ERR_BADCHAR); longer than the filesystem allows is
// NFS4ERR_NAMETOOLONG.

import { nfsstat4 } from "../../generated/nfs4/index.js";
import type { NfsErrorStatus } from "./errors.js";

/** The error for an unusable entry name, or null when `name` is fine. */
export function nameError(name: string, maxNameBytes: number): NfsErrorStatus | null {
  if (name.length === 0) return nfsstat4.NFS4ERR_INVAL;
  if (name === "." || name === "..") return nfsstat4.NFS4ERR_BADNAME;
  if (name.includes("/")) return nfsstat4.NFS4ERR_BADNAME;
  if (name.includes("\0")) return nfsstat4.NFS4ERR_BADCHAR;
  // A UTF-16 code unit encodes to 1–3 bytes: only measure when it could matter.
  if (name.length * 3 > maxNameBytes && Buffer.byteLength(name, "utf8") > maxNameBytes) {
    return nfsstat4.NFS4ERR_NAMETOOLONG;
  }
  return null;
}

const strictUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/**
 * A component4 from the wire as a string: NFS4ERR_INVAL when it is not valid
 * UTF-8 (RFC 8881 §14: names are UTF-8), else the nameError rules.
 */
export function decodeName(
  bytes: Uint8Array,
  maxNameBytes: number,
): { ok: true; name: string } | { ok: false; status: NfsErrorStatus } {
  // Checked before decoding so an oversized name costs no decoding work.
  if (bytes.length > maxNameBytes) return { ok: false, status: nfsstat4.NFS4ERR_NAMETOOLONG };
  let name: string;
  try {
    name = strictUtf8.decode(bytes);
  } catch {
    return { ok: false, status: nfsstat4.NFS4ERR_INVAL };
  }
  const status = nameError(name, maxNameBytes);
  return status === null ? { ok: true, name } : { ok: false, status };
}

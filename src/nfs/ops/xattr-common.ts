// What the four extended-attribute operations of RFC 8276 (GETXATTR,
// SETXATTR, LISTXATTRS, REMOVEXATTR; NFSv4.2 only) share: whether the
// backend has xattrs at all (NFS4ERR_NOTSUPP otherwise), which objects carry
// them, who may read or change them, and how a key arrives off the wire.
//
// Objects: regular files and directories only, as Linux allows "user."
// attributes only there (xattr(7)); anything else is NFS4ERR_WRONG_TYPE.
// Rights, as Linux nfsd checks them: reading or listing needs read permission
// on the object, changing needs write permission and, in a sticky directory,
// ownership (as for the "user." namespace in xattr(7)).

import { MODE4_SVTX, nfs_ftype4, nfsstat4 } from "../../../generated/nfs4/index.js";
import type { FileAttributes, FileHandle, NfsErrorStatus, XattrLimits } from "../../fs/backend.js";
import { MAY_READ, MAY_WRITE, SUPERUSER_UID, mayAccess } from "../../fs/permission.js";
import type { CompoundState } from "../context.js";
import { capabilitiesOf, currentFh } from "./common.js";

/** Read the values or the keys (GETXATTR, LISTXATTRS), or change them (SETXATTR, REMOVEXATTR). */
export type XattrAccess = "read" | "write";

/** The current object, checked for xattr use, with the backend's limits. */
export interface XattrTarget {
  readonly fh: FileHandle;
  readonly attrs: FileAttributes;
  readonly limits: XattrLimits;
}

/**
 * The current object when the caller may `how` its xattrs: NOTSUPP when the
 * backend has none, WRONG_TYPE for an object that cannot carry them, ACCESS
 * when the caller lacks the right.
 */
export async function xattrTarget(
  state: CompoundState,
  how: XattrAccess,
): Promise<XattrTarget | { readonly error: NfsErrorStatus }> {
  const fs = state.server.fs;
  const limits = capabilitiesOf(state).xattrs;
  if (limits === null) return { error: nfsstat4.NFS4ERR_NOTSUPP };
  const fh = currentFh(state);
  const attrs = await fs.getattr(fh);
  if (attrs.type !== nfs_ftype4.NF4REG && attrs.type !== nfs_ftype4.NF4DIR)
    return { error: nfsstat4.NFS4ERR_WRONG_TYPE };
  if (!mayXattr(attrs, state, how)) return { error: nfsstat4.NFS4ERR_ACCESS };
  return { fh, attrs, limits };
}

function mayXattr(attrs: FileAttributes, state: CompoundState, how: XattrAccess): boolean {
  const cred = state.cred;
  if (how === "read") return mayAccess(attrs, cred, MAY_READ);
  if (!mayAccess(attrs, cred, MAY_WRITE)) return false;
  const stickyDir = attrs.type === nfs_ftype4.NF4DIR && (attrs.mode & MODE4_SVTX) !== 0;
  return !stickyDir || cred.uid === attrs.uid || cred.uid === SUPERUSER_UID;
}

const strictUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/**
 * An xattrkey4 (a component4: UTF-8) from the wire as a string: INVAL when
 * empty or not UTF-8, NAMETOOLONG beyond the backend's limit (checked before
 * decoding, so an oversized key costs no decoding work).
 */
export function decodeXattrKey(
  bytes: Uint8Array,
  limits: XattrLimits,
):
  | { readonly ok: true; readonly name: string }
  | { readonly ok: false; readonly status: NfsErrorStatus } {
  if (bytes.length === 0) return { ok: false, status: nfsstat4.NFS4ERR_INVAL };
  if (bytes.length > limits.maxNameBytes)
    return { ok: false, status: nfsstat4.NFS4ERR_NAMETOOLONG };
  try {
    return { ok: true, name: strictUtf8.decode(bytes) };
  } catch {
    return { ok: false, status: nfsstat4.NFS4ERR_INVAL };
  }
}

// What READ, WRITE, SEEK, ALLOCATE and DEALLOCATE share: the current file must
// be a regular file, and the stateid (or, for the anonymous and bypass
// stateids, the caller's own permissions) must allow the access.

import { nfs_ftype4, nfsstat4, type stateid4 } from "../../../generated/nfs4/index.js";
import type { FileAttributes, FileHandle } from "../../fs/backend.js";
import { MAY_READ, MAY_WRITE, mayAccess } from "../../fs/permission.js";
import { ACCESS_WRITE } from "../../state/open-state.js";
import type { NfsError } from "../../state/slot-table.js";
import type { CompoundState } from "../context.js";
import { ioAuthority } from "../stateids.js";
import { currentFh, delegationConflict } from "./common.js";

/** The error for I/O on something that is not a regular file. */
export function ioTypeError(type: nfs_ftype4): NfsError {
  if (type === nfs_ftype4.NF4DIR) return nfsstat4.NFS4ERR_ISDIR;
  if (type === nfs_ftype4.NF4LNK) return nfsstat4.NFS4ERR_SYMLINK;
  return nfsstat4.NFS4ERR_INVAL;
}

/**
 * The current file and its attributes if `stateid` allows `access`
 * (ACCESS_READ or ACCESS_WRITE) on it. Without an open the caller's
 * permissions decide; the owner may always read its own file.
 * Backend errors propagate (COMPOUND maps them). Needs a current filehandle.
 */
export async function ioTarget(
  state: CompoundState,
  stateid: stateid4,
  access: number,
): Promise<
  { readonly fh: FileHandle; readonly attrs: FileAttributes } | { readonly error: NfsError }
> {
  const fh = currentFh(state);
  const attrs = await state.server.fs.getattr(fh);
  if (attrs.type !== nfs_ftype4.NF4REG) return { error: ioTypeError(attrs.type) };
  const auth = ioAuthority(state, stateid, access);
  if ("error" in auth) return auth;
  // Reading recalls other clients' write delegations, writing any (§10.4.6).
  const conflict = delegationConflict(state, fh, access === ACCESS_WRITE ? "write" : "read");
  if (conflict !== null) return { error: conflict };
  if (auth.ok.kind === "special") {
    const allowed =
      access === ACCESS_WRITE
        ? mayAccess(attrs, state.cred, MAY_WRITE)
        : attrs.uid === state.cred.uid || mayAccess(attrs, state.cred, MAY_READ);
    if (!allowed) return { error: nfsstat4.NFS4ERR_ACCESS };
  }
  return { fh, attrs };
}

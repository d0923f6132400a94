// REMOVE (RFC 8881 §18.25): removes the entry `target` — a non-directory, or
// an empty directory — from the current directory. cinfo is the directory's
// change.
//
// Checks, in order: a current handle; that it is a directory (NOTDIR,
// symlinks included: §15.2 gives REMOVE no NFS4ERR_SYMLINK); the name (as
// LOOKUP); write and search permission on the directory (NFS4ERR_ACCESS); the
// entry (NFS4ERR_NOENT); the sticky bit (NFS4ERR_ACCESS — REMOVE may not
// return NFS4ERR_PERM); then the backend (NOTEMPTY).
//
// A removed file that is still open keeps its data: OPEN pins it in the
// backend (FileSystem.pin) and the last CLOSE unpins it, so READ and WRITE on
// the open stateid go on working and the storage is freed only then.

import {
  REMOVE4res_MAXSIZE,
  nfs_opnum4,
  nfsstat4,
  notify_type4,
} from "../../../generated/nfs4/index.js";
import { decodeName } from "../../fs/names.js";
import { MAY_EXEC, MAY_WRITE, mayAccess, mayUnlinkFrom } from "../../fs/permission.js";
import { defineOp, type OpHandler } from "../op.js";
import { changeOrigin, currentFh, delegationConflicts, notDirError } from "./common.js";
import { fixed } from "./reply-size.js";

export const remove: OpHandler<typeof nfs_opnum4.OP_REMOVE> = async (args, state) => {
  const dir = currentFh(state);
  const fs = state.server.fs;
  const dirAttrs = await fs.getattr(dir);
  const typeError = notDirError(dirAttrs.type);
  if (typeError !== null) return { status: typeError };
  const name = decodeName(args.target, fs.capabilities.maxNameBytes);
  if (!name.ok) return { status: name.status };
  // During grace a file may not go that a client is about to reclaim an open of (as nfsd).
  const graceError = state.server.recovery.graceError();
  if (graceError !== null) return { status: graceError };
  if (!mayAccess(dirAttrs, state.cred, MAY_WRITE | MAY_EXEC)) {
    return { status: nfsstat4.NFS4ERR_ACCESS };
  }
  const victim = await fs.lookup(dir, name.name);
  if (!mayUnlinkFrom(dirAttrs, victim.attrs, state.cred)) {
    return { status: nfsstat4.NFS4ERR_ACCESS };
  }
  // Removing a delegated file recalls other clients' delegations (§10.4.6).
  // …and the directory's (§10.9.2).
  const conflict = delegationConflicts(
    state,
    [victim.handle, { fh: dir, notified: notify_type4.NOTIFY4_REMOVE_ENTRY }],
    "write",
  );
  if (conflict !== null) return { status: conflict };
  const cinfo = await fs.remove(dir, name.name, changeOrigin(state));
  return { status: nfsstat4.NFS4_OK, resok4: { cinfo: { ...cinfo } } };
};

export const REMOVE = defineOp({
  op: nfs_opnum4.OP_REMOVE,
  handler: remove,
  needsCurrentFh: true,
  replyBound: fixed(REMOVE4res_MAXSIZE),
  nonIdempotent: true,
  writesExport: () => true,
});

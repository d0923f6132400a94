// LINK (RFC 8881 §18.9): gives the object of the saved filehandle another
// name, `newname`, in the directory of the current filehandle. cinfo is that
// directory's change.
//
// Checks, in order: both handles (NFS4ERR_NOFILEHANDLE); that the current one
// is a directory (NFS4ERR_SYMLINK for a symlink, as LOOKUP; NOTDIR else); that
// the source is not a directory (NFS4ERR_ISDIR: hard links to directories
// would make the tree a graph); the name; hard-link support (NFS4ERR_NOTSUPP);
// the same filesystem (NFS4ERR_XDEV); write and search permission on the
// directory (NFS4ERR_ACCESS); then the backend (EXIST, MLINK, and STALE for
// an open file whose last name is already gone).

import {
  LINK4res_MAXSIZE,
  nfs_ftype4,
  nfs_opnum4,
  nfsstat4,
  notify_type4,
} from "../../../generated/nfs4/index.js";
import { decodeName } from "../../fs/names.js";
import { MAY_EXEC, MAY_WRITE, mayAccess } from "../../fs/permission.js";
import { defineOp, type OpHandler } from "../op.js";
import {
  capabilitiesOf,
  changeOrigin,
  currentFh,
  delegationConflicts,
  lookupDirError,
  NO_FILEHANDLE,
  sameFilesystem,
} from "./common.js";
import { fixed } from "./reply-size.js";

export const link: OpHandler<typeof nfs_opnum4.OP_LINK> = async (args, state) => {
  const dir = currentFh(state);
  const source = state.savedFh;
  if (source === null) return NO_FILEHANDLE;
  const fs = state.server.fs;
  const dirAttrs = await fs.getattr(dir);
  const typeError = lookupDirError(dirAttrs.type);
  if (typeError !== null) return { status: typeError };
  const srcAttrs = await fs.getattr(source);
  if (srcAttrs.type === nfs_ftype4.NF4DIR) return { status: nfsstat4.NFS4ERR_ISDIR };
  const name = decodeName(args.newname, fs.capabilities.maxNameBytes);
  if (!name.ok) return { status: name.status };
  if (!capabilitiesOf(state).linkSupport) return { status: nfsstat4.NFS4ERR_NOTSUPP };
  if (!sameFilesystem(srcAttrs.fsid, dirAttrs.fsid)) return { status: nfsstat4.NFS4ERR_XDEV };
  if (!mayAccess(dirAttrs, state.cred, MAY_WRITE | MAY_EXEC)) {
    return { status: nfsstat4.NFS4ERR_ACCESS };
  }
  // A new name for a delegated file recalls other clients' delegations (§10.4.6).
  // …and the directory gaining the name (§10.9.2).
  const conflict = delegationConflicts(
    state,
    [source, { fh: dir, notified: notify_type4.NOTIFY4_ADD_ENTRY }],
    "write",
  );
  if (conflict !== null) return { status: conflict };
  const cinfo = await fs.link(source, dir, name.name, changeOrigin(state));
  return { status: nfsstat4.NFS4_OK, resok4: { cinfo: { ...cinfo } } };
};

export const LINK = defineOp({
  op: nfs_opnum4.OP_LINK,
  handler: link,
  needsCurrentFh: true,
  replyBound: fixed(LINK4res_MAXSIZE),
  nonIdempotent: true,
  writesExport: () => true,
});

// LOOKUP (RFC 8881 §18.13): the current filehandle, a directory, is replaced
// by the handle of its entry `objname`. Checks, in order: a current handle;
// that it is a directory (NFS4ERR_SYMLINK for a symlink, else NFS4ERR_NOTDIR);
// the name (INVAL for empty or non-UTF-8, BADNAME for "." / ".." / "/",
// NAMETOOLONG); search (x) permission on the directory (NFS4ERR_ACCESS); then
// the entry itself (NFS4ERR_NOENT, also for an export this client may not
// see). COMPOUND then checks the new handle's security flavor (WRONGSEC).

import { LOOKUP4res_MAXSIZE, nfs_opnum4, nfsstat4 } from "../../../generated/nfs4/index.js";
import { decodeName } from "../../fs/names.js";
import { MAY_EXEC, mayAccess } from "../../fs/permission.js";
import { reachable } from "../export-access.js";
import { defineOp, type OpHandler } from "../op.js";
import { currentFh, lookupDirError } from "./common.js";
import { fixed } from "./reply-size.js";

export const lookup: OpHandler<typeof nfs_opnum4.OP_LOOKUP> = async (args, state) => {
  const dir = currentFh(state);
  const fs = state.server.fs;
  const attrs = await fs.getattr(dir);
  const typeError = lookupDirError(attrs.type);
  if (typeError !== null) return { status: typeError };
  const name = decodeName(args.objname, fs.capabilities.maxNameBytes);
  if (!name.ok) return { status: name.status };
  if (!mayAccess(attrs, state.cred, MAY_EXEC)) return { status: nfsstat4.NFS4ERR_ACCESS };
  const found = await fs.lookup(dir, name.name);
  // An export hidden from this client is not in its pseudo-filesystem (export-access.ts).
  if (!reachable(state, found.handle)) return { status: nfsstat4.NFS4ERR_NOENT };
  state.currentFh = found.handle;
  return { status: nfsstat4.NFS4_OK };
};

export const LOOKUP = defineOp({
  op: nfs_opnum4.OP_LOOKUP,
  handler: lookup,
  needsCurrentFh: true,
  replyBound: fixed(LOOKUP4res_MAXSIZE),
  nonIdempotent: false,
});

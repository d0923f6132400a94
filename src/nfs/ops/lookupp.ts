// LOOKUPP (RFC 8881 §18.14): the current filehandle, a directory, is replaced
// by its parent's. The root has no parent: NFS4ERR_NOENT. Like LOOKUP of ".."
// it needs search permission on the directory (as Linux nfsd checks).

import { LOOKUPP4res_MAXSIZE, nfs_opnum4, nfsstat4 } from "../../../generated/nfs4/index.js";
import { MAY_EXEC, mayAccess } from "../../fs/permission.js";
import { defineOp, type OpHandler } from "../op.js";
import { currentFh, lookupDirError } from "./common.js";
import { fixed } from "./reply-size.js";

export const lookupp: OpHandler<typeof nfs_opnum4.OP_LOOKUPP> = async (_args, state) => {
  const dir = currentFh(state);
  const fs = state.server.fs;
  const attrs = await fs.getattr(dir);
  const typeError = lookupDirError(attrs.type);
  if (typeError !== null) return { status: typeError };
  if (!mayAccess(attrs, state.cred, MAY_EXEC)) return { status: nfsstat4.NFS4ERR_ACCESS };
  const parent = await fs.lookupParent(dir);
  state.currentFh = parent.handle;
  return { status: nfsstat4.NFS4_OK };
};

export const LOOKUPP = defineOp({
  op: nfs_opnum4.OP_LOOKUPP,
  handler: lookupp,
  needsCurrentFh: true,
  replyBound: fixed(LOOKUPP4res_MAXSIZE),
  nonIdempotent: false,
});

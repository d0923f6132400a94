// RESTOREFH (RFC 8881 §18.27): the saved filehandle becomes the current one.
// Without one it is NFS4ERR_NOFILEHANDLE: §15.1.16.4 says NFSv4.1 superseded
// NFSv4.0's NFS4ERR_RESTOREFH with it (Linux nfsd and Ganesha still answer the
// old code).

import { RESTOREFH4res_MAXSIZE, nfs_opnum4, nfsstat4 } from "../../../generated/nfs4/index.js";
import { defineOp, type OpHandler } from "../op.js";
import { NO_FILEHANDLE } from "./common.js";
import { fixed } from "./reply-size.js";

export const restorefh: OpHandler<typeof nfs_opnum4.OP_RESTOREFH> = (_args, state) => {
  if (state.savedFh === null) return NO_FILEHANDLE;
  state.currentFh = state.savedFh;
  state.currentStateid = state.savedStateid; // §16.2.3.1.2: restored with the filehandle
  return { status: nfsstat4.NFS4_OK };
};

export const RESTOREFH = defineOp({
  op: nfs_opnum4.OP_RESTOREFH,
  handler: restorefh,
  // It needs the saved filehandle, which it checks itself.
  needsCurrentFh: false,
  replyBound: fixed(RESTOREFH4res_MAXSIZE),
  nonIdempotent: false,
});

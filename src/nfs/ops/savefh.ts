// SAVEFH (RFC 8881 §18.28): the current filehandle is copied to the saved one,
// for the two-handle operations (RENAME, LINK, COPY) and RESTOREFH.

import { SAVEFH4res_MAXSIZE, nfs_opnum4, nfsstat4 } from "../../../generated/nfs4/index.js";
import { defineOp, type OpHandler } from "../op.js";
import { currentFh } from "./common.js";
import { fixed } from "./reply-size.js";

export const savefh: OpHandler<typeof nfs_opnum4.OP_SAVEFH> = (_args, state) => {
  state.savedFh = currentFh(state);
  state.savedStateid = state.currentStateid; // §16.2.3.1.2: saved with the filehandle
  return { status: nfsstat4.NFS4_OK };
};

export const SAVEFH = defineOp({
  op: nfs_opnum4.OP_SAVEFH,
  handler: savefh,
  needsCurrentFh: true,
  replyBound: fixed(SAVEFH4res_MAXSIZE),
  nonIdempotent: false,
});

// GETFH (RFC 8881 §18.8): returns the current filehandle.

import { GETFH4res_MAXSIZE, nfs_opnum4, nfsstat4 } from "../../../generated/nfs4/index.js";
import { defineOp, type OpHandler } from "../op.js";
import { currentFh } from "./common.js";
import { fixed } from "./reply-size.js";

export const getfh: OpHandler<typeof nfs_opnum4.OP_GETFH> = (_args, state) => ({
  status: nfsstat4.NFS4_OK,
  resok4: { object: currentFh(state) },
});

export const GETFH = defineOp({
  op: nfs_opnum4.OP_GETFH,
  handler: getfh,
  needsCurrentFh: true,
  replyBound: fixed(GETFH4res_MAXSIZE),
  nonIdempotent: false,
});

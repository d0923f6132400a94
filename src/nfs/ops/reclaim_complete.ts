// RECLAIM_COMPLETE (RFC 8881 §18.51): the client says it has reclaimed all
// the state it will. This server keeps no state across restarts, so there is
// no grace period to end; the operation only records that it was done.

import {
  RECLAIM_COMPLETE4res_MAXSIZE,
  nfs_opnum4,
  nfsstat4,
} from "../../../generated/nfs4/index.js";
import { defineOp, type OpHandler } from "../op.js";
import { fixed } from "./reply-size.js";

export const reclaimComplete: OpHandler<typeof nfs_opnum4.OP_RECLAIM_COMPLETE> = (args, state) => {
  const session = state.session;
  if (!session) return { rcr_status: nfsstat4.NFS4ERR_OP_NOT_IN_SESSION };
  if (args.rca_one_fs) {
    // Per file system: names the current filehandle's file system; nothing to end.
    return { rcr_status: state.currentFh ? nfsstat4.NFS4_OK : nfsstat4.NFS4ERR_NOFILEHANDLE };
  }
  if (session.client.reclaimComplete) return { rcr_status: nfsstat4.NFS4ERR_COMPLETE_ALREADY };
  session.client.reclaimComplete = true;
  return { rcr_status: nfsstat4.NFS4_OK };
};

export const RECLAIM_COMPLETE = defineOp({
  op: nfs_opnum4.OP_RECLAIM_COMPLETE,
  handler: reclaimComplete,
  // Only the per-filesystem form (rca_one_fs) names the current filehandle.
  needsCurrentFh: false,
  replyBound: fixed(RECLAIM_COMPLETE4res_MAXSIZE),
  nonIdempotent: true,
});

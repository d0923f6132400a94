// RECLAIM_COMPLETE (RFC 8881 §18.51): the client says it has reclaimed all
// the state it will. From then on it may take new state (once grace is over)
// and may reclaim nothing more; it is recorded as a client that may reclaim
// after a restart (recovery.ts), durably before the reply, and once every
// client recorded before a restart has sent it the grace period ends.

import {
  RECLAIM_COMPLETE4res_MAXSIZE,
  nfs_opnum4,
  nfsstat4,
} from "../../../generated/nfs4/index.js";
import { defineOp, type OpHandler } from "../op.js";
import { fixed } from "./reply-size.js";

export const reclaimComplete: OpHandler<typeof nfs_opnum4.OP_RECLAIM_COMPLETE> = async (
  args,
  state,
) => {
  const session = state.session;
  if (!session) return { rcr_status: nfsstat4.NFS4ERR_OP_NOT_IN_SESSION };
  if (args.rca_one_fs) {
    // Per file system: names the current filehandle's file system; nothing to end.
    return { rcr_status: state.currentFh ? nfsstat4.NFS4_OK : nfsstat4.NFS4ERR_NOFILEHANDLE };
  }
  const client = session.client;
  if (client.reclaimComplete) return { rcr_status: nfsstat4.NFS4ERR_COMPLETE_ALREADY };
  client.reclaimComplete = true;
  try {
    await state.server.recovery.reclaimComplete(client);
  } catch (e) {
    // Not recorded, so not done: the client may send it again.
    state.server.log.error({ err: e }, "RECLAIM_COMPLETE: client record not written");
    client.reclaimComplete = false;
    return { rcr_status: nfsstat4.NFS4ERR_SERVERFAULT };
  }
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

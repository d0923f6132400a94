// DESTROY_CLIENTID (RFC 8881 §18.50): forgets a client record that has no
// sessions and no state left.

import {
  DESTROY_CLIENTID4res_MAXSIZE,
  nfs_opnum4,
  nfsstat4,
} from "../../../generated/nfs4/index.js";
import { defineOp, type OpHandler } from "../op.js";
import { fixed } from "./reply-size.js";

export const destroyClientid: OpHandler<typeof nfs_opnum4.OP_DESTROY_CLIENTID> = (args, state) => {
  const manager = state.server.state;
  const record = manager.client(args.dca_clientid);
  if (!record) return { dcr_status: nfsstat4.NFS4ERR_STALE_CLIENTID };
  if (manager.hasState(record)) return { dcr_status: nfsstat4.NFS4ERR_CLIENTID_BUSY };
  manager.removeClient(record);
  return { dcr_status: nfsstat4.NFS4_OK };
};

export const DESTROY_CLIENTID = defineOp({
  op: nfs_opnum4.OP_DESTROY_CLIENTID,
  handler: destroyClientid,
  sessionless: true,
  needsCurrentFh: false,
  replyBound: fixed(DESTROY_CLIENTID4res_MAXSIZE),
  nonIdempotent: true,
});

// BIND_CONN_TO_SESSION (RFC 8881 §18.34): binds the connection it arrives on
// to a session's fore channel, back channel or both.

import type { BIND_CONN_TO_SESSION4resok } from "../../../generated/nfs4/index.js";
import {
  BIND_CONN_TO_SESSION4res_MAXSIZE,
  nfs_opnum4,
  channel_dir_from_client4,
  channel_dir_from_server4,
  nfsstat4,
} from "../../../generated/nfs4/index.js";
import { defineOp, type OpHandler } from "../op.js";
import { fixed } from "./reply-size.js";

export const bindConnToSession: OpHandler<typeof nfs_opnum4.OP_BIND_CONN_TO_SESSION> = (
  args,
  state,
) => {
  const manager = state.server.state;
  const session = manager.session(args.bctsa_sessid);
  if (!session) return { bctsr_status: nfsstat4.NFS4ERR_BADSESSION };
  let fore: boolean;
  let back: boolean;
  switch (args.bctsa_dir) {
    case channel_dir_from_client4.CDFC4_FORE:
      [fore, back] = [true, false];
      break;
    case channel_dir_from_client4.CDFC4_BACK:
      [fore, back] = [false, true];
      break;
    // We can always use a connection for both, so "or both" means both.
    case channel_dir_from_client4.CDFC4_FORE_OR_BOTH:
    case channel_dir_from_client4.CDFC4_BACK_OR_BOTH:
      [fore, back] = [true, true];
      break;
  }
  manager.bind(session, state.conn, fore, back);
  // A connection for the back channel (new or re-offered): probe it, then send
  // the callbacks waiting for one (RFC 8881 §18.34.3).
  if (back) state.server.callbacks.backChannelChanged(session, state.conn);
  // The reply names the direction(s) the connection is bound to now (§18.34.3):
  // binding adds to what an earlier BIND_CONN_TO_SESSION or SEQUENCE bound.
  const bound = session.connections.get(state.conn.id);
  if (bound) [fore, back] = [bound.fore, bound.back];
  manager.renew(session.client);
  const resok: BIND_CONN_TO_SESSION4resok = {
    bctsr_sessid: session.id,
    bctsr_dir:
      fore && back
        ? channel_dir_from_server4.CDFS4_BOTH
        : fore
          ? channel_dir_from_server4.CDFS4_FORE
          : channel_dir_from_server4.CDFS4_BACK,
    // RDMA is not offered: the connection stays in non-RDMA mode.
    bctsr_use_conn_in_rdma_mode: false,
  };
  return { bctsr_status: nfsstat4.NFS4_OK, bctsr_resok4: resok };
};

export const BIND_CONN_TO_SESSION = defineOp({
  op: nfs_opnum4.OP_BIND_CONN_TO_SESSION,
  handler: bindConnToSession,
  sessionless: true,
  needsCurrentFh: false,
  replyBound: fixed(BIND_CONN_TO_SESSION4res_MAXSIZE),
  nonIdempotent: true,
});

// DESTROY_SESSION (RFC 8881 §18.37): ends a session. It may follow SEQUENCE
// (of this or another session) or stand alone.

import {
  DESTROY_SESSION4res_MAXSIZE,
  nfs_opnum4,
  nfsstat4,
} from "../../../generated/nfs4/index.js";
import { defineOp, type OpHandler } from "../op.js";
import { fixed } from "./reply-size.js";

export const destroySession: OpHandler<typeof nfs_opnum4.OP_DESTROY_SESSION> = (args, state) => {
  const manager = state.server.state;
  const session = manager.session(args.dsa_sessionid);
  if (!session) return { dsr_status: nfsstat4.NFS4ERR_BADSESSION };
  const own = state.session === session;
  // Without SEQUENCE of this session, the request must come on one of its connections.
  if (!own && !session.isBound(state.conn.id))
    return { dsr_status: nfsstat4.NFS4ERR_CONN_NOT_BOUND_TO_SESSION };
  // Destroying the session this COMPOUND runs in is allowed only as its last operation.
  if (own && state.opIndex !== state.opCount - 1)
    return { dsr_status: nfsstat4.NFS4ERR_NOT_ONLY_OP };
  // Other requests still executing on the session must finish first.
  if (session.slots.inUseCount > (own ? 1 : 0)) return { dsr_status: nfsstat4.NFS4ERR_DELAY };
  manager.destroySession(session);
  return { dsr_status: nfsstat4.NFS4_OK };
};

export const DESTROY_SESSION = defineOp({
  op: nfs_opnum4.OP_DESTROY_SESSION,
  handler: destroySession,
  sessionless: true,
  needsCurrentFh: false,
  replyBound: fixed(DESTROY_SESSION4res_MAXSIZE),
  nonIdempotent: true,
});

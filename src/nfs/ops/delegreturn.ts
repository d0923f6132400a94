// DELEGRETURN (RFC 8881 §18.6): the client gives a delegation back — on
// recall (CB_RECALL) or when it no longer wants it. The stateid must name a
// delegation of this client for the current file; a revoked one is
// NFS4ERR_DELEG_REVOKED (the client frees it with FREE_STATEID). Returning it
// lets the conflicting requests that were answered NFS4ERR_DELAY proceed.

import { DELEGRETURN4res_MAXSIZE, nfs_opnum4, nfsstat4 } from "../../../generated/nfs4/index.js";
import type { DelegationState } from "../../state/delegation-state.js";
import { defineOp, type OpHandler } from "../op.js";
import { resolveForFile } from "../stateids.js";
import { fixed } from "./reply-size.js";

export const delegreturn: OpHandler<typeof nfs_opnum4.OP_DELEGRETURN> = (args, state) => {
  const r = resolveForFile<DelegationState>(state, args.deleg_stateid, ["delegation"]);
  if ("error" in r) return { status: r.error };
  state.server.state.removeDelegation(r.ok);
  return { status: nfsstat4.NFS4_OK };
};

export const DELEGRETURN = defineOp({
  op: nfs_opnum4.OP_DELEGRETURN,
  handler: delegreturn,
  needsCurrentFh: true,
  replyBound: fixed(DELEGRETURN4res_MAXSIZE),
  nonIdempotent: true,
});

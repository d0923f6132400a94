// FREE_STATEID (RFC 8881 §18.38): frees a lock stateid whose lock-owner holds
// no locks on the file. An open stateid is freed by CLOSE, and a lock stateid
// with locks by LOCKU first: both are NFS4ERR_LOCKS_HELD. A revoked
// delegation's stateid is freed here (§10.2.1), which clears
// SEQ4_STATUS_RECALLABLE_STATE_REVOKED once none is left; one in force is
// LOCKS_HELD (DELEGRETURN gives it back).

import { FREE_STATEID4res_MAXSIZE, nfs_opnum4, nfsstat4 } from "../../../generated/nfs4/index.js";
import type { DelegationState } from "../../state/delegation-state.js";
import type { LockState } from "../../state/lock-state.js";
import type { OpenState } from "../../state/open-state.js";
import { defineOp, type OpHandler } from "../op.js";
import { resolveStateid } from "../stateids.js";
import { fixed } from "./reply-size.js";

export const freeStateid: OpHandler<typeof nfs_opnum4.OP_FREE_STATEID> = (args, state) => {
  const r = resolveStateid<OpenState | LockState | DelegationState>(
    state,
    args.fsa_stateid,
    ["open", "lock", "delegation"],
    { revoked: true },
  );
  if ("error" in r) return { fsr_status: r.error };
  if (r.ok.kind === "delegation") {
    // A delegation in force is given back with DELEGRETURN (§18.38.3).
    if (!r.ok.revoked) return { fsr_status: nfsstat4.NFS4ERR_LOCKS_HELD };
    state.server.state.removeDelegation(r.ok);
    return { fsr_status: nfsstat4.NFS4_OK };
  }
  if (r.ok.kind === "open" || r.ok.ranges.length > 0)
    return { fsr_status: nfsstat4.NFS4ERR_LOCKS_HELD };
  state.server.state.removeLockState(r.ok);
  return { fsr_status: nfsstat4.NFS4_OK };
};

export const FREE_STATEID = defineOp({
  op: nfs_opnum4.OP_FREE_STATEID,
  handler: freeStateid,
  needsCurrentFh: false,
  replyBound: fixed(FREE_STATEID4res_MAXSIZE),
  nonIdempotent: true,
});

// WANT_DELEGATION (RFC 8881 §18.49): asks for a delegation on the current
// object outside OPEN, or registers or cancels a "want" for one. A regular
// file gets one under the same policy as OPEN (delegations.ts): a write
// delegation when WRITE_DELEG is asked and no other client has the file
// open, else a read one. Otherwise the answer is NFS4_OK with
// OPEN_DELEGATE_NONE_EXT and the reason —
// - WND4_CANCELLED for OPEN4_SHARE_ACCESS_WANT_CANCEL (there is never a
//   registered want to cancel, so cancelling always succeeds);
// - WND4_NOT_WANTED when no delegation is asked for (NO_PREFERENCE, or
//   NO_DELEG, which §18.49.3 says the server ignores here);
// - WND4_IS_DIR for a directory (file delegations only; directories have
//   GET_DIR_DELEGATION);
// - WND4_NOT_SUPP_FTYPE for other non-regular files;
// - for a regular file, the policy's reason (WND4_CONTENTION, WND4_RESOURCE),
//   without a promise to signal when one becomes available — wants are not
//   registered.
// The share-access bits in wda_want are ignored (§18.49.3); bits or want
// values RFC 8881 does not define are NFS4ERR_INVAL.
//
// Reclaims: a CLAIM_PREVIOUS reclaim after a server restart follows OPEN's
// rule (recovery.ts: NFS4ERR_NO_GRACE outside grace or for a client with no
// record) and, when allowed, gets back the file delegation it names
// (Delegations.reclaim), or none (WND4_NOT_WANTED) when it names none; CLAIM_DELEG_PREV_FH reclaims a
// delegation of an earlier client instance, and since none was ever granted
// it is NFS4ERR_RECLAIM_BAD. A new delegation waits for the end of grace
// (NFS4ERR_GRACE), as a new open does.

import {
  OPEN4_SHARE_ACCESS_BOTH,
  OPEN4_SHARE_ACCESS_READ,
  OPEN4_SHARE_ACCESS_WANT_ANY_DELEG,
  OPEN4_SHARE_ACCESS_WANT_CANCEL,
  OPEN4_SHARE_ACCESS_WANT_DELEG_MASK,
  OPEN4_SHARE_ACCESS_WANT_NO_DELEG,
  OPEN4_SHARE_ACCESS_WANT_NO_PREFERENCE,
  OPEN4_SHARE_ACCESS_WANT_PUSH_DELEG_WHEN_UNCONTENDED,
  OPEN4_SHARE_ACCESS_WANT_READ_DELEG,
  OPEN4_SHARE_ACCESS_WANT_SIGNAL_DELEG_WHEN_RESRC_AVAIL,
  OPEN4_SHARE_ACCESS_WANT_WRITE_DELEG,
  nfs_ftype4,
  nfs_opnum4,
  nfsstat4,
  open_claim_type4,
  open_delegation_type4,
  why_no_delegation4,
  type open_none_delegation4,
} from "../../../generated/nfs4/index.js";
import { defineOp, type OpHandler } from "../op.js";
import { currentFh } from "./common.js";
import { DELEGATION_BOUND, RESOP_SIZE } from "./reply-size.js";

/** Every bit wda_want may carry. */
const KNOWN_BITS =
  OPEN4_SHARE_ACCESS_BOTH |
  OPEN4_SHARE_ACCESS_WANT_DELEG_MASK |
  OPEN4_SHARE_ACCESS_WANT_SIGNAL_DELEG_WHEN_RESRC_AVAIL |
  OPEN4_SHARE_ACCESS_WANT_PUSH_DELEG_WHEN_UNCONTENDED;

const WANTS_DELEGATION: ReadonlySet<number> = new Set([
  OPEN4_SHARE_ACCESS_WANT_READ_DELEG,
  OPEN4_SHARE_ACCESS_WANT_WRITE_DELEG,
  OPEN4_SHARE_ACCESS_WANT_ANY_DELEG,
]);

const WANTS_NOTHING: ReadonlySet<number> = new Set([
  OPEN4_SHARE_ACCESS_WANT_NO_PREFERENCE,
  OPEN4_SHARE_ACCESS_WANT_NO_DELEG,
]);

export const wantDelegation: OpHandler<typeof nfs_opnum4.OP_WANT_DELEGATION> = async (
  args,
  state,
) => {
  const type = (await state.server.fs.getattr(currentFh(state))).type;
  const want = args.wda_want & OPEN4_SHARE_ACCESS_WANT_DELEG_MASK;
  const cancel = want === OPEN4_SHARE_ACCESS_WANT_CANCEL;
  const known = cancel || WANTS_DELEGATION.has(want) || WANTS_NOTHING.has(want);
  if ((args.wda_want & ~KNOWN_BITS) !== 0 || !known) {
    return { wdr_status: nfsstat4.NFS4ERR_INVAL };
  }
  const recovery = state.server.recovery;
  switch (args.wda_claim.dc_claim) {
    case open_claim_type4.CLAIM_PREVIOUS: {
      const error =
        state.session === null
          ? nfsstat4.NFS4ERR_NO_GRACE
          : recovery.reclaimError(state.session.client);
      if (error !== null || state.session === null)
        return { wdr_status: error ?? nfsstat4.NFS4ERR_NO_GRACE };
      const held = args.wda_claim.dc_delegate_type;
      const grantedBy = state.sequence && { sessionId: state.session.id, ...state.sequence };
      if (
        type === nfs_ftype4.NF4REG &&
        (held === open_delegation_type4.OPEN_DELEGATE_READ ||
          held === open_delegation_type4.OPEN_DELEGATE_WRITE)
      )
        return {
          wdr_status: nfsstat4.NFS4_OK,
          wdr_resok4: state.server.delegations.reclaim(
            state.session.client,
            currentFh(state),
            held === open_delegation_type4.OPEN_DELEGATE_READ ? "read" : "write",
            grantedBy,
          ),
        };
      return {
        wdr_status: nfsstat4.NFS4_OK,
        wdr_resok4: {
          delegation_type: open_delegation_type4.OPEN_DELEGATE_NONE_EXT,
          od_whynone: { ond_why: why_no_delegation4.WND4_NOT_WANTED },
        },
      };
    }
    case open_claim_type4.CLAIM_DELEG_PREV_FH:
      return { wdr_status: nfsstat4.NFS4ERR_RECLAIM_BAD };
    case open_claim_type4.CLAIM_FH: {
      const error = recovery.graceError();
      if (error !== null && !cancel && WANTS_DELEGATION.has(want)) return { wdr_status: error };
      break;
    }
  }
  let why: open_none_delegation4;
  if (cancel) why = { ond_why: why_no_delegation4.WND4_CANCELLED };
  else if (WANTS_NOTHING.has(want)) why = { ond_why: why_no_delegation4.WND4_NOT_WANTED };
  else if (type === nfs_ftype4.NF4DIR) why = { ond_why: why_no_delegation4.WND4_IS_DIR };
  else if (type !== nfs_ftype4.NF4REG) why = { ond_why: why_no_delegation4.WND4_NOT_SUPP_FTYPE };
  else {
    // COMPOUND runs it only in a session; without one there is no client to delegate to.
    const session = state.session;
    if (session === null)
      return {
        wdr_status: nfsstat4.NFS4_OK,
        wdr_resok4: {
          delegation_type: open_delegation_type4.OPEN_DELEGATE_NONE_EXT,
          od_whynone: {
            ond_why: why_no_delegation4.WND4_RESOURCE,
            ond_server_will_signal_avail: false,
          },
        },
      };
    const access =
      want === OPEN4_SHARE_ACCESS_WANT_WRITE_DELEG
        ? OPEN4_SHARE_ACCESS_BOTH
        : OPEN4_SHARE_ACCESS_READ;
    const grantedBy = state.sequence && { sessionId: session.id, ...state.sequence };
    return {
      wdr_status: nfsstat4.NFS4_OK,
      wdr_resok4: state.server.delegations.offer(
        session.client,
        currentFh(state),
        access,
        want,
        grantedBy,
      ),
    };
  }
  return {
    wdr_status: nfsstat4.NFS4_OK,
    wdr_resok4: { delegation_type: open_delegation_type4.OPEN_DELEGATE_NONE_EXT, od_whynone: why },
  };
};

/** status and the largest answer, a write delegation (see OPEN's). */
const WANT_DELEGATION_BOUND = RESOP_SIZE + 4 + DELEGATION_BOUND;

export const WANT_DELEGATION = defineOp({
  op: nfs_opnum4.OP_WANT_DELEGATION,
  handler: wantDelegation,
  needsCurrentFh: true,
  replyBound: () => WANT_DELEGATION_BOUND,
  nonIdempotent: false,
});

// SEQUENCE (RFC 8881 §18.46, §2.10.6): names the session and slot of the
// COMPOUND, decides whether the request is new, a retry to answer from the
// replay cache, or an error — leaving the slot untouched on error — renews the
// lease and binds an unbound connection to the session's fore channel. A retry
// is treated as a new request in all of that: only the results after SEQUENCE
// come from the cache; SEQUENCE's own result (status flags, slot limits) is
// computed now.

import type { SEQUENCE4args, SEQUENCE4res } from "../../../generated/nfs4/index.js";
import {
  SEQUENCE4res_MAXSIZE,
  nfs_opnum4,
  SEQ4_STATUS_ADMIN_STATE_REVOKED,
  SEQ4_STATUS_RECALLABLE_STATE_REVOKED,
  nfsstat4,
} from "../../../generated/nfs4/index.js";
import type { Session } from "../../state/session.js";
import type { CachedReply, NfsError, RetryIdentity, Slot } from "../../state/slot-table.js";
import type { CompoundState } from "../context.js";
import { defineOp } from "../op.js";
import { fixed } from "./reply-size.js";

export interface RequestInfo {
  /** Encoded size of the COMPOUND request, for ca_maxrequestsize. */
  readonly size: number;
  /** What a retry must match (principal, op count, digest of the bytes after SEQUENCE). */
  readonly identity: RetryIdentity;
  /** The size of the smallest possible reply: this COMPOUND answered by SEQUENCE alone. */
  readonly minReplySize: number;
}

export type SequenceOutcome =
  | {
      readonly kind: "new";
      readonly res: SEQUENCE4res;
      readonly session: Session;
      readonly slot: Slot;
    }
  /** A retry: answer `res` followed by the cached results; execute nothing. */
  | {
      readonly kind: "replay";
      readonly session: Session;
      readonly res: SEQUENCE4res;
      readonly cached: CachedReply;
    }
  | { readonly kind: "error"; readonly res: SEQUENCE4res };

function fail(status: NfsError): SequenceOutcome {
  return { kind: "error", res: { sr_status: status } };
}

export function sequence(
  args: SEQUENCE4args,
  state: CompoundState,
  request: RequestInfo,
): SequenceOutcome {
  const manager = state.server.state;
  const session = manager.session(args.sa_sessionid);
  if (!session || session.destroyed) return fail(nfsstat4.NFS4ERR_BADSESSION);
  if (state.opCount > session.fore.ca_maxoperations) return fail(nfsstat4.NFS4ERR_TOO_MANY_OPS);
  if (request.size > session.fore.ca_maxrequestsize) return fail(nfsstat4.NFS4ERR_REQ_TOO_BIG);
  // When not even SEQUENCE's own reply fits, SEQUENCE fails before taking the slot.
  if (request.minReplySize > session.fore.ca_maxresponsesize)
    return fail(nfsstat4.NFS4ERR_REP_TOO_BIG);
  if (args.sa_cachethis && request.minReplySize > session.fore.ca_maxresponsesize_cached)
    return fail(nfsstat4.NFS4ERR_REP_TOO_BIG_TO_CACHE);

  const decision = session.slots.begin(args.sa_slotid, args.sa_sequenceid, request.identity);
  if (decision.kind === "error") return fail(decision.status);
  session.compounds++;
  manager.adaptSlots(session, args.sa_slotid, args.sa_highest_slotid);

  // A request on a connection the session does not know binds it to the fore
  // channel (§2.10.3.1 for SP4_NONE; the Linux client's nconnect relies on it).
  if (!session.isBound(state.conn.id)) manager.bind(session, state.conn, true, false);
  manager.renew(session.client);

  // CB_PATH_DOWN(_SESSION), BACKCHANNEL_FAULT: what the callback channel knows.
  let flags = state.server.callbacks.statusFlags(session);
  // Delegations revoked and not yet freed (§18.46.3, §10.2.1): by the server
  // for not returning them, or by an administrator.
  if (manager.hasRevokedDelegations(session.client))
    for (const d of manager.revokedDelegationsOf(session.client))
      flags |= d.adminRevoked
        ? SEQ4_STATUS_ADMIN_STATE_REVOKED
        : SEQ4_STATUS_RECALLABLE_STATE_REVOKED;
  const res: SEQUENCE4res = {
    sr_status: nfsstat4.NFS4_OK,
    sr_resok4: {
      sr_sessionid: session.id,
      sr_sequenceid: args.sa_sequenceid,
      sr_slotid: args.sa_slotid,
      // The highest slot we accept now, and the one we would like the client to use.
      sr_highest_slotid: session.slots.highestSlotId,
      sr_target_highest_slotid: session.slots.targetHighestSlotId,
      sr_status_flags: flags >>> 0,
    },
  };
  if (decision.kind === "replay") return { kind: "replay", session, res, cached: decision.cached };
  return { kind: "new", session, slot: decision.slot, res };
}

/**
 * SEQUENCE's facts. COMPOUND runs SEQUENCE itself (it needs the request's
 * size and retry identity, and may answer from the replay cache), so the
 * descriptor's handler is never called.
 */
export const SEQUENCE = defineOp({
  op: nfs_opnum4.OP_SEQUENCE,
  handler: () => {
    throw new Error("SEQUENCE is run by COMPOUND, not through its descriptor");
  },
  needsCurrentFh: false,
  replyBound: fixed(SEQUENCE4res_MAXSIZE),
  nonIdempotent: false,
});

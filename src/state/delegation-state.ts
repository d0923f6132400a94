// Delegations (RFC 8881 §10.2, §10.4, §10.9): a client's promise from the
// server that no other client will write the file (a read delegation), open
// it at all (a write delegation), or change the directory (a directory
// delegation) without the server first recalling it. Named by a
// delegation stateid. A delegation is recalled (CB_RECALL, §20.2) when
// another client's request conflicts with it; a holder that does not return
// it within a lease has it revoked (§10.2.1): it is then kept only to answer
// its stateid NFS4ERR_DELEG_REVOKED until the client frees it (FREE_STATEID).

import type { ClientRecord } from "./client.js";
import { keyOf } from "./keys.js";
import type { StateObject } from "./stateid.js";

/**
 * A file's read or write delegation (§10.4), or a directory delegation
 * (§10.9), with or without notifications (NotificationTerms).
 */
export type DelegationType = "read" | "write" | "directory";

/**
 * Why a delegation stopped being in force: the client gave it back
 * (DELEGRETURN), the server revoked it (§10.2.1), or it went with its client
 * (lease expiry, a courtesy client evicted by a conflict, DESTROY_CLIENTID, a
 * rebooted client's new record).
 */
export type DelegationEnd = "returned" | "revoked" | "client gone";

/** The fore-channel request that granted a delegation (for csa_referring_call_lists, §2.10.6.3). */
export interface GrantingCall {
  readonly sessionId: Uint8Array;
  readonly slotid: number;
  readonly sequenceid: number;
}

/**
 * What a directory delegation's holder is told of (§18.39.3, §20.4): the
 * notify_type4 values granted (bit n of `types` is notify_type4 n; none: a
 * caching delegation, recalled by any change another client makes), the
 * attributes reported for entries and for the directory (bitmap4 words), and
 * how long attribute notifications may be held back to batch them.
 */
export interface NotificationTerms {
  readonly types: number;
  readonly childAttributes: readonly number[];
  readonly dirAttributes: readonly number[];
  readonly childDelayMs: number;
  readonly dirDelayMs: number;
}

export class DelegationState implements StateObject {
  readonly kind = "delegation";
  readonly key: string;
  readonly fileKey: string;
  seqid = 1;
  /** When CB_RECALL was first attempted (ms, the state manager's clock); null until recalled. */
  recalledAt: number | null = null;
  /** Revoked (§10.2.1): no longer protects anything; its stateid answers DELEG_REVOKED. */
  revoked = false;
  /**
   * Revoked by an administrator (dfsctl), not for failing to return it: its
   * stateid answers NFS4ERR_ADMIN_REVOKED, and the holder's SEQUENCE replies
   * carry SEQ4_STATUS_ADMIN_STATE_REVOKED until it frees it (RFC 8881 §18.46.3).
   */
  adminRevoked = false;
  /**
   * For a write delegation (§10.4.3): the change attribute the holder last
   * reported through CB_GETATTR (null before any), and how many times the
   * holder was found to have modified the file since the grant, so that other
   * clients see a change attribute that moves on each time.
   */
  holderChange: bigint | null = null;
  modificationsSeen = 0;
  /** A directory delegation's notifications (null for a file delegation). */
  notifications: NotificationTerms | null = null;

  constructor(
    readonly other: Uint8Array,
    readonly client: ClientRecord,
    readonly fh: Uint8Array,
    readonly type: DelegationType,
    readonly grantedAt: number,
    readonly grantedBy: GrantingCall | null,
  ) {
    this.key = keyOf(other);
    this.fileKey = keyOf(fh);
  }
}

// A client record (RFC 8881 §2.4, §18.35): what EXCHANGE_ID establishes for one
// client owner, confirmed by its first CREATE_SESSION: its identity, its lease,
// and the one-slot replay cache CREATE_SESSION uses. What the client holds
// (sessions, open-owners, lock-owners) the state manager indexes by record, so
// that this module imports none of the modules that point back at it.

import type { CREATE_SESSION4res, nfs_impl_id4 } from "../../generated/nfs4/index.js";
import { copyImplIds, ownedBytes } from "./copies.js";

export class ClientRecord {
  confirmed = false;
  /** The lease was last renewed at this time (ms, from the state manager's clock). */
  renewedAt: number;
  /**
   * The lease expired but the client still holds opens or locks, which it
   * keeps until another client conflicts with them (or courtesyTimeSec passes);
   * any request on one of its sessions makes it an ordinary client again.
   */
  courtesy = false;
  /** RECLAIM_COMPLETE (rca_one_fs = false) has been done. */
  reclaimComplete = false;
  /**
   * Its owner has a client recovery record (RFC 8881 §8.4.2.1): written at
   * its RECLAIM_COMPLETE, or found when it reclaimed after a restart. The
   * record goes when this client record goes with its state.
   */
  recorded = false;
  /**
   * CREATE_SESSION's own slot (§18.36.4): the last csa_sequence accepted and
   * its reply. A new record starts with the "contrived" previous request
   * `eir_sequenceid - 1` whose reply is NFS4ERR_SEQ_MISORDERED.
   */
  createSessionSeqid: number;
  createSessionReply: CREATE_SESSION4res;

  /** co_ownerid (a copy). */
  readonly ownerId: Uint8Array;
  /** co_verifier (a copy): changes when the client reboots. */
  readonly verifier: Uint8Array;
  /** eia_client_impl_id (a copy). */
  readonly implId: readonly nfs_impl_id4[];

  /** Copies every opaque it is given: decoded values are views into the received record. */
  constructor(
    readonly clientid: bigint,
    ownerId: Uint8Array,
    verifier: Uint8Array,
    /** The principal that sent EXCHANGE_ID. */
    readonly principal: string,
    /** The eia_flags the client sent (for the record; the reply's flags are computed). */
    readonly clientFlags: number,
    implId: readonly nfs_impl_id4[],
    now: number,
    firstSequenceId: number,
    contrivedReply: CREATE_SESSION4res,
  ) {
    this.ownerId = ownedBytes(ownerId);
    this.verifier = ownedBytes(verifier);
    this.implId = copyImplIds(implId);
    this.renewedAt = now;
    this.createSessionSeqid = (firstSequenceId - 1) >>> 0;
    this.createSessionReply = contrivedReply;
  }

  /** The sequence ID the next CREATE_SESSION must carry (eir_sequenceid). */
  get nextCreateSessionSeqid(): number {
    return (this.createSessionSeqid + 1) >>> 0;
  }
}

// A session's slot table (RFC 8881 §2.10.6.1): a fixed array of slots sized at
// CREATE_SESSION from the negotiated ca_maxrequests. Each slot remembers the
// last sequence ID it saw, whether a request on it is still executing, and the
// encoded reply of the last completed request (the replay cache). Deciding on a
// request never changes the slot unless the request is accepted as new.

import { nfsstat4 } from "../../generated/nfs4/index.js";

export interface Slot {
  readonly id: number;
  /** The sequence ID of the last request accepted on this slot; 0 before the first (which must be 1). */
  seqid: number;
  /** A request accepted on this slot has not completed yet. */
  inUse: boolean;
  /** The encoded COMPOUND4res of the last completed request, if it was cached. */
  reply: Uint8Array | null;
  /** Who sent the last request, and a fingerprint of it, to recognise false retries. */
  principal: string;
  fingerprint: number;
}

export type SlotDecision =
  /** A new request: the slot now belongs to it until `complete`. */
  | { readonly kind: "new"; readonly slot: Slot }
  /** A retry of the last completed request: send this reply again, execute nothing. */
  | { readonly kind: "replay"; readonly reply: Uint8Array }
  | { readonly kind: "error"; readonly status: NfsError };

/** Any status but NFS4_OK. */
export type NfsError = Exclude<nfsstat4, typeof nfsstat4.NFS4_OK>;

export class SlotTable {
  private readonly slots: Slot[];
  /** The highest slot ID any request has used (reported in sr_highest_slotid). */
  private highestUsed = 0;

  constructor(count: number) {
    if (!Number.isInteger(count) || count < 1)
      throw new RangeError(`a slot table needs at least one slot, not ${count}`);
    this.slots = Array.from({ length: count }, (_, id) => ({
      id,
      seqid: 0,
      inUse: false,
      reply: null,
      principal: "",
      fingerprint: 0,
    }));
  }

  slot(id: number): Slot {
    const s = this.slots[id];
    if (!s) throw new RangeError(`no slot ${id}`);
    return s;
  }

  get size(): number {
    return this.slots.length;
  }

  /** The highest slot ID the server will accept (sr_highest_slotid). */
  get highestSlotId(): number {
    return this.slots.length - 1;
  }

  get highestUsedSlotId(): number {
    return this.highestUsed;
  }

  /** Bytes held by the replay cache of this table. */
  get cachedBytes(): number {
    let n = 0;
    for (const s of this.slots) n += s.reply?.length ?? 0;
    return n;
  }

  /**
   * Classifies a request on `slotid` with `seqid` (RFC 8881 §2.10.6.1). A new
   * request takes the slot; anything else leaves the table exactly as it was.
   */
  begin(slotid: number, seqid: number, principal: string, fingerprint: number): SlotDecision {
    const slot = this.slots[slotid];
    if (slot === undefined) return { kind: "error", status: nfsstat4.NFS4ERR_BADSLOT };
    if (slot.inUse) {
      // The original is still executing: a retry must wait, anything else is out of order.
      return {
        kind: "error",
        status: seqid === slot.seqid ? nfsstat4.NFS4ERR_DELAY : nfsstat4.NFS4ERR_SEQ_MISORDERED,
      };
    }
    if (seqid === (slot.seqid + 1) >>> 0) {
      slot.seqid = seqid;
      // The previous reply stays until completeSlot replaces it, so that the
      // replay-cache accounting releases exactly the bytes it counted.
      slot.inUse = true;
      slot.principal = principal;
      slot.fingerprint = fingerprint;
      if (slotid > this.highestUsed) this.highestUsed = slotid;
      return { kind: "new", slot };
    }
    if (seqid === slot.seqid && slot.seqid !== 0) {
      if (principal !== slot.principal || fingerprint !== slot.fingerprint)
        return { kind: "error", status: nfsstat4.NFS4ERR_SEQ_FALSE_RETRY };
      if (slot.reply === null)
        return { kind: "error", status: nfsstat4.NFS4ERR_RETRY_UNCACHED_REP };
      return { kind: "replay", reply: slot.reply };
    }
    return { kind: "error", status: nfsstat4.NFS4ERR_SEQ_MISORDERED };
  }

  /** Ends the request holding `slot`, keeping `reply` (a copy the caller owns) for retries. */
  complete(slot: Slot, reply: Uint8Array | null): void {
    slot.inUse = false;
    slot.reply = reply;
  }

  /** True while any request is executing on this table. */
  get busy(): boolean {
    return this.slots.some((s) => s.inUse);
  }
}

/**
 * A cheap fingerprint of a request (FNV-1a over its length and first bytes):
 * a true retry is byte-identical, so a different fingerprint on the same slot
 * and sequence ID is a false retry. Only the head is hashed so that a 1 MiB
 * WRITE costs no more than a GETATTR.
 */
export function requestFingerprint(bytes: Uint8Array, start: number, end: number): number {
  let h = 0x811c9dc5 ^ (end - start);
  const stop = Math.min(end, start + 1024);
  for (let i = start; i < stop; i++) h = Math.imul(h ^ bytes[i]!, 0x01000193);
  return h >>> 0;
}

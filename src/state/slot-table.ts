// A session's fore-channel slot table (RFC 8881 §2.10.6.1) and the sequence ID
// rule that CREATE_SESSION's one-slot cache shares (§18.36.4). This is the one
// module where a slot is taken (begin), completed (complete) or abandoned
// (abandon), and where the table grows and shrinks.
//
// A retry is recognised by session + slot + seqid and checked against its
// identity: the principal, the operation count and a digest of every byte
// after SEQUENCE's arguments (§2.10.6.1.3: a "false retry" is a different
// request on the same slot and seqid). SEQUENCE's own fields are never part of
// the identity: a client may re-encode them (sa_highest_slotid) when it
// retransmits after a reconnect.
//
// The table is dynamic (as Linux nfsd since 6.14): it holds `size` slots, each
// backed by a replay-cache reservation the state manager made; it may grow up
// to `maxSlots` when the client keeps using its highest slot, and the server
// may lower `target` (sr_target_highest_slotid + 1) under memory pressure. A
// slot above the target is freed only once the client has acknowledged the
// lower target: a request on a slot whose previous reply carried that target
// (so the client had seen it when it sent this one; Linux nfsd's slot
// generation) with sa_highest_slotid below it (§2.10.6.1: the slots above hold
// no outstanding request then). A reply a slot promised to cache is therefore
// never dropped while the client may still retry it.

import { crc32 } from "node:zlib";
import { nfsstat4 } from "../../generated/nfs4/index.js";

/** Any status but NFS4_OK. */
export type NfsError = Exclude<nfsstat4, typeof nfsstat4.NFS4_OK>;

/** What must match for a request on the same slot and seqid to be a true retry. */
export interface RetryIdentity {
  readonly principal: string;
  /** Operations in the COMPOUND, SEQUENCE included. */
  readonly opCount: number;
  /** Length and CRC-32 of every byte after SEQUENCE's arguments. */
  readonly length: number;
  readonly digest: number;
}

/**
 * The cached part of a reply: the COMPOUND status, the number of results and
 * the encoded results after SEQUENCE. SEQUENCE's own result is encoded anew on
 * every replay (current status flags and slot limits). `tail` is owned: never
 * a view into a buffer the transport reuses.
 */
export interface CachedReply {
  /** The COMPOUND4res status (an nfsstat4 value, as encoded). */
  readonly status: number;
  readonly count: number;
  readonly tail: Uint8Array;
}

export interface Slot {
  readonly id: number;
  /** The sequence ID of the last request accepted on this slot (meaningless until `used`). */
  seqid: number;
  /** A request has been accepted on this slot: `seqid` names it. */
  used: boolean;
  /** A request accepted on this slot has not completed yet. */
  inUse: boolean;
  /** Who sent the last request and what it was, to tell a true retry from a false one. */
  identity: RetryIdentity | null;
  /** The reply of the last completed request, if it was cached. */
  cached: CachedReply | null;
  /** The table's target generation when this slot's last SEQUENCE was answered (-1: never). */
  answeredGeneration: number;
}

export type SlotDecision =
  /** A new request: the slot now belongs to it until `complete` or `abandon`. */
  | { readonly kind: "new"; readonly slot: Slot }
  /** A retry of the last completed request: send this reply again, execute nothing. */
  | { readonly kind: "replay"; readonly slot: Slot; readonly cached: CachedReply }
  | { readonly kind: "error"; readonly status: NfsError };

/** How a sequence ID relates to the last one accepted (§2.10.6.1, §18.36.4). */
export type SeqidVerdict = "new" | "retry" | "misordered";

/**
 * The sequence ID rule shared by session slots and CREATE_SESSION's slot: the
 * next ID (wrapping from 0xffffffff to 0) is new, the same ID a retry, any
 * other misordered. An unused slot accepts only 1.
 */
export function seqidVerdict(last: number, used: boolean, seqid: number): SeqidVerdict {
  if (!used) return seqid === 1 ? "new" : "misordered";
  if (seqid === (last + 1) >>> 0) return "new";
  if (seqid === last) return "retry";
  return "misordered";
}

/**
 * Requests longer than this after SEQUENCE's arguments are digested by their
 * first and last DIGEST_EDGE_BYTES only (with their length).
 */
export const DIGEST_FULL_BYTES = 16 * 1024;
export const DIGEST_EDGE_BYTES = 4 * 1024;

/**
 * The digest of a request's bytes after SEQUENCE's arguments: CRC-32 and the
 * length. A true retry is byte-identical there, so any difference seen makes
 * it a false retry. Detecting false retries is optional (RFC 8881
 * §2.10.6.1.3.1: the replier MAY return NFS4ERR_SEQ_FALSE_RETRY), and a
 * CRC over every byte of a 1 MiB WRITE costs more CPU than the rest of the
 * WRITE: past DIGEST_FULL_BYTES only both ends are digested — for a WRITE
 * COMPOUND, its operations and arguments before the data, those after it,
 * and the edges of the data. A false retry differing only inside the middle of a large WRITE's
 * data is answered from the replay cache, as by a server that compares nothing.
 */
export function requestDigest(
  bytes: Uint8Array,
  start: number,
  end: number,
): { readonly length: number; readonly digest: number } {
  const length = end - start;
  if (length <= DIGEST_FULL_BYTES)
    return { length, digest: crc32(bytes.subarray(start, end)) >>> 0 };
  const head = crc32(bytes.subarray(start, start + DIGEST_EDGE_BYTES));
  return { length, digest: crc32(bytes.subarray(end - DIGEST_EDGE_BYTES, end), head) >>> 0 };
}

/** The reply to a retry of a COMPOUND holding only SEQUENCE: a fresh SEQUENCE result. */
const LONE_SEQUENCE: CachedReply = { status: nfsstat4.NFS4_OK, count: 1, tail: new Uint8Array() };

function freshSlot(id: number): Slot {
  return {
    id,
    seqid: 0,
    used: false,
    inUse: false,
    identity: null,
    cached: null,
    answeredGeneration: -1,
  };
}

export class SlotTable {
  private readonly slots: Slot[];
  /** How many slots the server would like the client to use (sr_target_highest_slotid + 1). */
  private targetCount: number;
  /** Counts the times the target was lowered: a reply carries the generation it told the client. */
  private generation = 0;

  constructor(
    size: number,
    /** The most slots this table may grow to (what the client asked for, within our cap). */
    readonly maxSlots: number = size,
  ) {
    if (!Number.isInteger(size) || size < 1)
      throw new RangeError(`a slot table needs at least one slot, not ${size}`);
    if (!Number.isInteger(maxSlots) || maxSlots < size)
      throw new RangeError(`a slot table of ${size} cannot have a maximum of ${maxSlots}`);
    this.slots = Array.from({ length: size }, (_, id) => freshSlot(id));
    this.targetCount = size;
  }

  slot(id: number): Slot {
    const s = this.slots[id];
    if (!s) throw new RangeError(`no slot ${id}`);
    return s;
  }

  /** Slots allocated now (each backed by a replay-cache reservation). */
  get size(): number {
    return this.slots.length;
  }

  /** The highest slot ID the server accepts now (sr_highest_slotid). */
  get highestSlotId(): number {
    return this.slots.length - 1;
  }

  /** The highest slot ID the server would like the client to use (sr_target_highest_slotid). */
  get targetHighestSlotId(): number {
    return this.targetCount - 1;
  }

  /** Bytes held by the replay cache of this table. */
  get cachedBytes(): number {
    let n = 0;
    for (const s of this.slots) n += s.cached?.tail.length ?? 0;
    return n;
  }

  /** True while any request is executing on this table. */
  get busy(): boolean {
    return this.slots.some((s) => s.inUse);
  }

  /** How many requests are executing on this table. */
  get inUseCount(): number {
    let n = 0;
    for (const s of this.slots) if (s.inUse) n++;
    return n;
  }

  /**
   * Classifies a request on `slotid` with `seqid` (RFC 8881 §2.10.6.1). A new
   * request takes the slot; anything else leaves the table exactly as it was.
   */
  begin(slotid: number, seqid: number, identity: RetryIdentity): SlotDecision {
    const slot = this.slots[slotid];
    if (slot === undefined) return { kind: "error", status: nfsstat4.NFS4ERR_BADSLOT };
    const verdict = seqidVerdict(slot.seqid, slot.used, seqid);
    if (slot.inUse) {
      // The original is still executing: a retry must wait, anything else is out of order.
      return {
        kind: "error",
        status: verdict === "retry" ? nfsstat4.NFS4ERR_DELAY : nfsstat4.NFS4ERR_SEQ_MISORDERED,
      };
    }
    switch (verdict) {
      case "new":
        slot.seqid = seqid;
        slot.used = true;
        slot.inUse = true;
        slot.identity = identity;
        // The previous reply goes now: the client's new seqid says it has the reply.
        slot.cached = null;
        return { kind: "new", slot };
      case "retry": {
        if (!sameIdentity(slot.identity, identity))
          return { kind: "error", status: nfsstat4.NFS4ERR_SEQ_FALSE_RETRY };
        // SEQUENCE alone has nothing to replay but its own, freshly encoded, result.
        const cached = identity.opCount === 1 ? LONE_SEQUENCE : slot.cached;
        if (cached === null) return { kind: "error", status: nfsstat4.NFS4ERR_RETRY_UNCACHED_REP };
        return { kind: "replay", slot, cached };
      }
      case "misordered":
        return { kind: "error", status: nfsstat4.NFS4ERR_SEQ_MISORDERED };
    }
  }

  /** Ends the request holding `slot`, keeping `cached` (owned by the caller) for retries. */
  complete(slot: Slot, cached: CachedReply | null): void {
    if (this.slots[slot.id] !== slot || !slot.inUse) throw new Error(`slot ${slot.id} is not held`);
    slot.inUse = false;
    slot.cached = cached;
  }

  /**
   * Ends the request holding `slot` without a reply to keep (its handler
   * failed): a retry gets NFS4ERR_RETRY_UNCACHED_REP, never a stale reply.
   */
  abandon(slot: Slot): void {
    this.complete(slot, null);
  }

  /**
   * True when a request on `slotid` asks for more slots: the client is using
   * the highest slot it may, the table is not shrinking, and may still grow.
   */
  wantsGrowth(slotid: number): boolean {
    return (
      slotid === this.slots.length - 1 &&
      this.targetCount === this.slots.length &&
      this.slots.length < this.maxSlots
    );
  }

  /** How many slots to add when growing: a fifth of the table (at least one), within the maximum. */
  get growthStep(): number {
    return Math.min(
      Math.max(1, Math.ceil(this.slots.length / 5)),
      this.maxSlots - this.slots.length,
    );
  }

  /** Adds `n` fresh slots (already reserved by the caller) and raises the target to match. */
  grow(n: number): void {
    if (!Number.isInteger(n) || n < 0 || this.slots.length + n > this.maxSlots)
      throw new RangeError(`cannot grow a table of ${this.slots.length} by ${n}`);
    for (let i = 0; i < n; i++) this.slots.push(freshSlot(this.slots.length));
    this.targetCount = this.slots.length;
  }

  /** Asks the client to use at most `count` slots (at least one); returns the slots it may free. */
  lowerTarget(count: number): number {
    const next = Math.max(1, Math.min(count, this.targetCount));
    if (next < this.targetCount) this.generation++;
    this.targetCount = next;
    return this.slots.length - next;
  }

  /**
   * Called for every request SEQUENCE accepts (new or retry) on `slotid`, with
   * its sa_highest_slotid: frees the slots above the target if this request
   * acknowledges it — the slot's previous reply carried the current target,
   * and no slot above `clientHighest` holds an outstanding request. Returns
   * how many slots were freed (their reservations go back to the caller's
   * budget). The slots go from the top, so IDs stay dense. The reply to this
   * request carries the current target, which the slot remembers.
   */
  acknowledge(slotid: number, clientHighest: number): number {
    const slot = this.slots[slotid];
    if (slot === undefined) return 0;
    const seen = slot.answeredGeneration === this.generation;
    slot.answeredGeneration = this.generation;
    if (!seen || clientHighest >= this.targetCount) return 0;
    let freed = 0;
    while (this.slots.length > this.targetCount) {
      const top = this.slots[this.slots.length - 1]!;
      if (top.inUse) break;
      this.slots.pop();
      freed++;
    }
    return freed;
  }
}

function sameIdentity(a: RetryIdentity | null, b: RetryIdentity): boolean {
  return (
    a !== null &&
    a.principal === b.principal &&
    a.opCount === b.opCount &&
    a.length === b.length &&
    a.digest === b.digest
  );
}

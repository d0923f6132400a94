// The client's fore-channel slot table (RFC 8881 §2.10.6.1). Sized from the
// ca_maxrequests the server granted at CREATE_SESSION; each slot carries the
// sequence ID its next request will use. A request takes a free slot (waiting
// in FIFO order when none is free), and gives it back with an outcome that says
// what happened to the server's copy of the slot — see SlotOutcome and
// session.ts for the rule that picks it.
//
// The server steers us with sr_highest_slotid (the highest slot it will
// accept) and sr_target_highest_slotid (the highest it would like us to use):
// automatic allocation stays at or below both. A server with a dynamic slot
// table (Linux nfsd since 6.14, ours) may offer more slots than ca_maxrequests
// later: the table then grows, as the Linux client's does, up to
// MAX_CLIENT_SLOTS. Every request reports sa_highest_slotid (highestBusy), which
// is how the server learns that we stopped using the slots above its target.

/** The most slots a table grows to when the server offers more (the Linux client's NFS4_MAX_SLOT_TABLE). */
export const MAX_CLIENT_SLOTS = 1024;

/**
 * What a request did to its slot on the server:
 * - "advance": the server now holds this sequence ID (the request was processed);
 * - "keep": the server did not touch the slot; the next request reuses the ID;
 * - "doubt": no reply came, so we cannot know; the slot is resynchronised
 *   (session.ts) before its next real use.
 */
export type SlotOutcome = "advance" | "keep" | "doubt";

export interface ClientSlot {
  readonly id: number;
  /** The sequence ID the next request on this slot carries; 32 bits, wrapping. */
  seqid: number;
  busy: boolean;
  /** A request on this slot got no reply: the server may or may not have processed it. */
  inDoubt: boolean;
}

interface Waiter {
  /** The slot asked for, or undefined for any slot within the limit. */
  readonly want: number | undefined;
  readonly resolve: (slot: ClientSlot) => void;
  readonly reject: (err: Error) => void;
}

export class ClientSlotTable {
  private readonly slots: ClientSlot[];
  /** The highest slot ID handed out automatically. */
  private limit: number;
  private waiters: Waiter[] = [];
  private closedWith: Error | null = null;

  constructor(size: number) {
    if (!Number.isInteger(size) || size < 1)
      throw new RangeError(`a slot table needs at least one slot, not ${size}`);
    this.slots = Array.from({ length: size }, (_, id) => newSlot(id));
    this.limit = size - 1;
  }

  get size(): number {
    return this.slots.length;
  }

  /** The highest slot ID automatic allocation may use now. */
  get highestUsable(): number {
    return this.limit;
  }

  /** sa_highest_slotid: the highest slot ID with a request outstanding (0 when idle). */
  get highestBusy(): number {
    for (let i = this.slots.length - 1; i > 0; i--) if (this.slots[i]!.busy) return i;
    return 0;
  }

  /** Requests waiting for a slot. */
  get waiting(): number {
    return this.waiters.length;
  }

  /** The slot's state, for tests and diagnostics. */
  peek(id: number): Readonly<ClientSlot> {
    const s = this.slots[id];
    if (s === undefined) throw new RangeError(`no slot ${id} in a table of ${this.size}`);
    return s;
  }

  /**
   * Takes slot `want` (waiting until it is free), or, without `want`, the
   * lowest free slot within the server's limits (waiting for one if all are
   * busy). A pinned slot ignores the server's target: tests pin on purpose.
   */
  acquire(want?: number): Promise<ClientSlot> {
    if (this.closedWith) return Promise.reject(this.closedWith);
    if (want !== undefined && (!Number.isInteger(want) || want < 0 || want >= this.size))
      return Promise.reject(new RangeError(`no slot ${want} in a table of ${this.size}`));
    return new Promise((resolve, reject) => {
      this.waiters.push({ want, resolve, reject });
      this.grant();
    });
  }

  /** Gives `slot` back; `outcome` says what the request did to the server's slot. */
  release(slot: ClientSlot, outcome: SlotOutcome): void {
    if (this.slots[slot.id] !== slot || !slot.busy) throw new Error(`slot ${slot.id} is not held`);
    switch (outcome) {
      case "advance":
        slot.seqid = (slot.seqid + 1) >>> 0;
        slot.inDoubt = false;
        break;
      case "keep":
        break;
      case "doubt":
        slot.inDoubt = true;
        break;
    }
    slot.busy = false;
    this.grant();
  }

  /**
   * Applies sr_highest_slotid and sr_target_highest_slotid from a SEQUENCE
   * reply. Free slots above sr_highest_slotid are forgotten by the server, so
   * they start again at sequence ID 1 if it offers them later (as the Linux
   * client does when it shrinks its table).
   */
  applyServerLimits(highest: number, target: number): void {
    // A server that offers more slots than we have: take them (fresh, seqid 1).
    while (this.slots.length <= Math.min(highest, MAX_CLIENT_SLOTS - 1))
      this.slots.push(newSlot(this.slots.length));
    const top = this.size - 1;
    this.limit = Math.max(0, Math.min(top, highest, target));
    for (let i = highest + 1; i <= top; i++) {
      const s = this.slots[i]!;
      if (!s.busy) {
        s.seqid = 1;
        s.inDoubt = false;
      }
    }
    this.grant();
  }

  /** Fails every waiter and every later acquire with `err` (the session is gone). */
  close(err: Error): void {
    this.closedWith ??= err;
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w.reject(err);
  }

  /** Hands free slots to waiters in arrival order; a waiter that cannot be served waits on. */
  private grant(): void {
    if (this.waiters.length === 0) return;
    const still: Waiter[] = [];
    for (const w of this.waiters) {
      const slot = w.want === undefined ? this.lowestFree() : this.freeSlot(w.want);
      if (slot === undefined) {
        still.push(w);
        continue;
      }
      slot.busy = true;
      w.resolve(slot);
    }
    this.waiters = still;
  }

  private lowestFree(): ClientSlot | undefined {
    for (let i = 0; i <= this.limit; i++) if (!this.slots[i]!.busy) return this.slots[i];
    return undefined;
  }

  private freeSlot(id: number): ClientSlot | undefined {
    const s = this.slots[id]!;
    return s.busy ? undefined : s;
  }
}

function newSlot(id: number): ClientSlot {
  // Every slot starts at sequence ID 1 (RFC 8881 §2.10.6.1).
  return { id, seqid: 1, busy: false, inDoubt: false };
}

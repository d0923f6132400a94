// The size, times and change attribute that UNSTABLE4 WRITEs gave regular
// files, held in memory instead of a metadata transaction per WRITE.
//
// Why: a small file written and removed (or written and committed) used to
// pay a transaction for each WRITE's new size and times, a third of the
// SQLite store's transactions in such a workload. Like the data itself
// (write-behind.ts), that metadata need not be on stable storage before the
// file's COMMIT (RFC 8881 §18.32.3: the client keeps UNSTABLE4 data until a
// COMMIT with the same write verifier, and sends it again otherwise), so it
// is kept here until a transaction that changes the file writes it into the
// store (every transaction reads files through StoreOp.get, which adds it),
// the file's COMMIT, the age limit, or the end of the process.
//
// Held attributes apply to a record only while their change value is above
// the record's: once a transaction on the file has committed them (with a
// change of its own, taken after them), they are stale and dropped.
//
// Storing held attributes as they are (foldHeld in store-fs.ts: COMMIT, the
// age limit) changes nothing a WRITE computed, so WRITEs go on holding
// meanwhile; what one holds then replaces the stored entry's and stays.
//
// Otherwise a WRITE holds its attributes only if no transaction used the file
// meanwhile: it takes a ticket before it reads the file, any transaction
// reading the file voids the tickets of WRITEs under way on it, and none is
// issued while such a transaction is open. A voided WRITE goes through a
// transaction instead, writing its data again there (after whatever the
// transaction did to the file), so every WRITE is ordered with every
// transaction on its file exactly as when each took one.

import type { FsTime } from "../fs/backend.js";
import type { ObjectId, ObjectRecord } from "./metadata.js";

/** What UNSTABLE4 WRITEs did to one file since its record was stored. */
export interface HeldWrite {
  /** The file's size after them. */
  readonly size: bigint;
  /** Their last time: mtime and ctime. */
  readonly time: FsTime;
  /** The change attribute after the last of them. */
  readonly change: bigint;
  /** When the first of them was held (performance.now(), ms). */
  readonly since: number;
}

/** A WRITE under way that may hold its attributes (HeldAttributes.begin). */
export interface HoldTicket {
  readonly id: ObjectId;
  /** A transaction read the file since the ticket was issued. */
  voided: boolean;
}

/** Per file: the transactions that read it and have not ended, and the tickets under way. */
interface Activity {
  readers: number;
  readonly tickets: Set<HoldTicket>;
}

export class HeldAttributes {
  private readonly held = new Map<ObjectId, HeldWrite>();
  private readonly activity = new Map<ObjectId, Activity>();

  /** `maxFiles`: files with held attributes at most; more WRITEs take transactions. */
  constructor(private readonly maxFiles: number) {}

  /** Files with held attributes. */
  get files(): number {
    return this.held.size;
  }

  has(id: ObjectId): boolean {
    return this.held.has(id);
  }

  /** What is held for `id` now (each hold() makes a new one, so identity tells a later hold apart). */
  get(id: ObjectId): HeldWrite | undefined {
    return this.held.get(id);
  }

  /**
   * `entry`, as get() returned it, is in the store now: dropped unless a
   * WRITE held more since (that one stays: its change is above the stored one).
   */
  stored(id: ObjectId, entry: HeldWrite): void {
    if (this.held.get(id) === entry) this.held.delete(id);
  }

  /** `o` with its held attributes, if it has any newer than it. */
  overlay(o: ObjectRecord): ObjectRecord {
    if (this.held.size === 0) return o;
    const h = this.held.get(o.id);
    if (h === undefined || h.change <= o.change) return o;
    return {
      ...o,
      size: h.size > o.size ? h.size : o.size,
      mtime: h.time,
      ctime: h.time,
      change: h.change,
    };
  }

  /**
   * A ticket for a WRITE about to read file `id`, or null when it must take a
   * transaction: one that read the file is open, or the table is full.
   */
  begin(id: ObjectId): HoldTicket | null {
    const a = this.activity.get(id);
    if (a !== undefined && a.readers > 0) return null;
    if (!this.held.has(id) && this.held.size >= this.maxFiles) return null;
    const ticket: HoldTicket = { id, voided: false };
    this.activityOf(id).tickets.add(ticket);
    return ticket;
  }

  /**
   * Holds the WRITE's attributes: `read` is the file as the WRITE read it
   * after begin() (overlay() applied), `end` the end of its data. False when
   * the ticket was voided: the WRITE must take a transaction.
   */
  hold(ticket: HoldTicket, read: ObjectRecord, end: bigint, time: FsTime, change: bigint): boolean {
    if (ticket.voided) return false;
    const current = this.held.get(ticket.id);
    // No transaction changed the file since it was read, so its size is
    // still `read.size` or what WRITEs held since then.
    let size = read.size;
    if (current !== undefined && current.size > size) size = current.size;
    if (end > size) size = end;
    this.held.set(ticket.id, { size, time, change, since: current?.since ?? performance.now() });
    return true;
  }

  /** The WRITE is done with its ticket (after hold(), or when it gave up). */
  release(ticket: HoldTicket): void {
    const a = this.activity.get(ticket.id);
    if (a === undefined) return;
    a.tickets.delete(ticket);
    this.tidy(ticket.id, a);
  }

  /** A transaction read file `id`: WRITEs under way on it take a transaction, and no new one holds until ended(). */
  read(id: ObjectId): void {
    const a = this.activityOf(id);
    a.readers++;
    for (const t of a.tickets) t.voided = true;
  }

  /**
   * A transaction that read `read` ended. If it committed, the held
   * attributes of the files it wrote or deleted are in the store now (it read
   * them with overlay(), and nothing was held for them since).
   */
  ended(read: Iterable<ObjectId>, written: Iterable<ObjectId>, committed: boolean): void {
    if (committed) for (const id of written) this.held.delete(id);
    for (const id of read) {
      const a = this.activity.get(id);
      if (a === undefined) continue;
      a.readers--;
      this.tidy(id, a);
    }
  }

  /** Drops what is held for `id` (an object found gone). */
  forget(id: ObjectId): void {
    this.held.delete(id);
  }

  /** Files whose attributes were first held at or before `since` (performance.now(), ms). */
  heldSince(since: number): ObjectId[] {
    const out: ObjectId[] = [];
    for (const [id, h] of this.held) if (h.since <= since) out.push(id);
    return out;
  }

  private activityOf(id: ObjectId): Activity {
    let a = this.activity.get(id);
    if (a === undefined) {
      a = { readers: 0, tickets: new Set() };
      this.activity.set(id, a);
    }
    return a;
  }

  private tidy(id: ObjectId, a: Activity): void {
    if (a.readers <= 0 && a.tickets.size === 0) this.activity.delete(id);
  }
}

// The SQLite store's cache of decoded object records, as last committed.
//
// Every NFS operation reads the objects it touches (PUTFH's handle, GETATTR,
// ACCESS, the directory of a LOOKUP…), and a COMPOUND reads the same object
// several times, each in its own read transaction: without a cache each read
// is a SELECT plus decoding the row, and it was the largest single cost of an
// OPEN with create (a profile of the kernel-client benchmark, issue 10).
//
// It is valid only because one process owns the database: the data directory
// is locked (data-dir.ts) and every write goes through the store's one write
// transaction, which hands its object changes to committed() once SQLite has
// committed them. A networked store shared by several servers (PostgreSQL)
// cannot keep one like this.
//
// `generation` counts the commits that wrote. A read-only transaction records
// it when it starts; while it is unchanged, the cache and the database hold
// the same committed state, so the transaction may mix cache hits with its
// own SELECTs (sqlite-metadata.ts).

import type { ObjectId, ObjectRecord } from "./metadata.js";

/** A cached record, and whether it was used since it last came round (CLOCK). */
interface Slot {
  record: ObjectRecord;
  referenced: boolean;
}

/**
 * Replacement is CLOCK (second chance), not strict LRU: a hit only sets a
 * flag. Moving the entry to the end of the Map on every hit (delete + set)
 * cost 30 µs per hit on a hot key — V8 keeps re-compacting the table — and
 * the export's root directory is read by nearly every operation.
 */
export class ObjectCache {
  /** In insertion order; eviction looks from the oldest, giving referenced ones a second chance. */
  private readonly records = new Map<ObjectId, Slot>();
  private gen = 0;

  /** `capacity`: most records kept (store.objectCacheEntries); 0 keeps none. */
  constructor(readonly capacity: number) {}

  /** Commits that wrote, so far. */
  get generation(): number {
    return this.gen;
  }

  get size(): number {
    return this.records.size;
  }

  /** The committed record of `id`, if cached. Records are shared: never change one. */
  get(id: ObjectId): ObjectRecord | undefined {
    const slot = this.records.get(id);
    if (slot === undefined) return undefined;
    slot.referenced = true;
    return slot.record;
  }

  /** Keeps `record`, which must be what is committed now. */
  remember(record: ObjectRecord): void {
    if (this.capacity === 0) return;
    const slot = this.records.get(record.id);
    if (slot !== undefined) {
      slot.record = record;
      slot.referenced = true;
      return;
    }
    // Room first: the new record must not be the one evicted.
    if (this.records.size >= this.capacity) this.evictOne();
    this.records.set(record.id, { record, referenced: false });
  }

  /**
   * A write transaction committed: its object changes (null = deleted) are
   * now the committed state, and the generation moves on.
   */
  committed(changes: ReadonlyMap<ObjectId, ObjectRecord | null>): void {
    this.gen++;
    for (const [id, record] of changes) {
      if (record === null) this.records.delete(id);
      else this.remember(record);
    }
  }

  /** Drops the oldest record not used since it came round; used ones go to the back, unflagged. */
  private evictOne(): void {
    for (const [id, slot] of this.records) {
      this.records.delete(id);
      if (!slot.referenced) return;
      slot.referenced = false;
      this.records.set(id, slot);
    }
  }
}

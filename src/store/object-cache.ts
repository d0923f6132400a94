// The SQL stores' cache of decoded object records and directory entries, as
// last committed.
//
// Every NFS operation reads the objects it touches (PUTFH's handle, GETATTR,
// ACCESS, the directory of a LOOKUP…), and a COMPOUND reads the same object
// several times, each in its own read transaction: without a cache each read
// is a SELECT plus decoding the row, and it was the largest single cost of an
// OPEN with create (a profile of the kernel-client benchmark, issue 10).
//
// It is valid only because one process writes the database: SQLite's data
// directory is locked (data-dir.ts); PostgreSQL's store is written only by
// the holder of its lease (pg-lease.ts), and uses the cache only while the
// lease is surely still its own. Every write goes through the store's one
// write transaction at a time, which hands its object changes to committed()
// once the database has committed them.
//
// Entries (a directory's name → child) are cached as found: LOOKUP of a name
// that is there, PUTFH/LOOKUP walks, REMOVE and RENAME find theirs without a
// SELECT. A name a commit removed is cached as absent (null); PostgreSQL's
// store also caches names it found absent, so an OPEN that creates asks the
// database once, not in each of its transactions (SQLite's SELECT is a
// function call, not a round trip: it does not).
//
// Whole directory listings (dir-listings.ts) are kept beside them for
// READDIR, assembled from the pages it read; a commit that changes an entry
// drops its directory's listing.
//
// `generation` counts the commits that wrote. A read-only transaction records
// it when it starts; while it is unchanged, the cache and the database hold
// the same committed state, so the transaction may mix cache hits with its
// own SELECTs (sqlite-metadata.ts).

import { DirListings } from "./dir-listings.js";
import type { EntryRecord, ObjectId, ObjectRecord } from "./metadata.js";

/**
 * Thrown inside a lazy view that already used what it read (from the cache,
 * or PostgreSQL's first statement run alone) and then, at a SELECT, finds a
 * commit came since: its snapshot could no longer match what it read, so the
 * store runs it again.
 */
export class ViewRestart extends Error {
  override readonly name = "ViewRestart";
}

/** A cached value, and whether it was used since it last came round (CLOCK). */
interface Slot<V> {
  value: V;
  referenced: boolean;
}

/**
 * A bounded map whose replacement is CLOCK (second chance), not strict LRU: a
 * hit only sets a flag. Moving the entry to the end of the Map on every hit
 * (delete + set) cost 30 µs per hit on a hot key — V8 keeps re-compacting the
 * table — and the export's root directory is read by nearly every operation.
 */
class ClockMap<K, V> {
  /** In insertion order; eviction looks from the oldest, giving referenced ones a second chance. */
  private readonly slots = new Map<K, Slot<V>>();

  /** `capacity`: most values kept; 0 keeps none. */
  constructor(private readonly capacity: number) {}

  get size(): number {
    return this.slots.size;
  }

  get(key: K): V | undefined {
    const slot = this.slots.get(key);
    if (slot === undefined) return undefined;
    slot.referenced = true;
    return slot.value;
  }

  set(key: K, value: V): void {
    if (this.capacity === 0) return;
    const slot = this.slots.get(key);
    if (slot !== undefined) {
      slot.value = value;
      slot.referenced = true;
      return;
    }
    // Room first: the new value must not be the one evicted.
    if (this.slots.size >= this.capacity) this.evictOne();
    this.slots.set(key, { value, referenced: false });
  }

  delete(key: K): void {
    this.slots.delete(key);
  }

  /** Drops the oldest value not used since it came round; used ones go to the back, unflagged. */
  private evictOne(): void {
    for (const [key, slot] of this.slots) {
      this.slots.delete(key);
      if (!slot.referenced) return;
      slot.referenced = false;
      this.slots.set(key, slot);
    }
  }
}

const MAX_SAFE_ID = BigInt(Number.MAX_SAFE_INTEGER);

/**
 * The records' key of object `id`: the id as a number while it is a safe
 * integer, as every id in practice is (they count up from 1). A Map hashes a
 * bigint key in a call out to the runtime: with number keys a cached record
 * costs about a quarter of the lookup, and READDIR looks up one per entry.
 * A larger id stays a bigint, which no number key equals.
 */
function recordKey(id: ObjectId): number | ObjectId {
  return id <= MAX_SAFE_ID ? Number(id) : id;
}

/** The cache key of entry `name` of directory `dir` (ids are decimal, so the first "/" splits it). */
export function entryKey(dir: ObjectId, name: string): string {
  return `${dir}/${name}`;
}

/** The directory of an entryKey(). */
function dirOfKey(key: string): ObjectId {
  return BigInt(key.slice(0, key.indexOf("/")));
}

export class ObjectCache {
  /** By recordKey(id). */
  private readonly records: ClockMap<number | ObjectId, ObjectRecord>;
  /** null: the name is not in the directory. */
  private readonly entries: ClockMap<string, EntryRecord | null>;
  /** Whole directories' names, for READDIR (dir-listings.ts); kept and dropped with the entries. */
  readonly listings: DirListings;
  private gen = 0;

  /**
   * `capacity`: most records kept, and most entries (store.objectCacheEntries),
   * and as many names in directory listings; 0 keeps none.
   */
  constructor(readonly capacity: number) {
    this.records = new ClockMap(capacity);
    this.entries = new ClockMap(capacity);
    this.listings = new DirListings(capacity);
  }

  /** Commits that wrote, so far. */
  get generation(): number {
    return this.gen;
  }

  /** Object records kept. */
  get size(): number {
    return this.records.size;
  }

  /** Directory entries kept. */
  get entryCount(): number {
    return this.entries.size;
  }

  /** The committed record of `id`, if cached. Records are shared: never change one. */
  get(id: ObjectId): ObjectRecord | undefined {
    return this.records.get(recordKey(id));
  }

  /** Keeps `record`, which must be what is committed now. */
  remember(record: ObjectRecord): void {
    this.records.set(recordKey(record.id), record);
  }

  /**
   * The committed entry `name` of `dir` if cached, null if cached as absent
   * (undefined says nothing about whether it exists).
   */
  entry(dir: ObjectId, name: string): EntryRecord | null | undefined {
    return this.entries.get(entryKey(dir, name));
  }

  /** Keeps that `dir` has no entry `name`, which must be so in what is committed now. */
  rememberAbsent(dir: ObjectId, name: string): void {
    this.entries.set(entryKey(dir, name), null);
  }

  /** Keeps `entry`, which must be what is committed now. */
  rememberEntry(entry: EntryRecord): void {
    this.entries.set(entryKey(entry.dir, entry.name), entry);
  }

  /**
   * Drops these objects and entries (by entryKey), and the generation moves
   * on: a commit that changes them is under way (PostgreSQL: a view's
   * snapshot may include it before committed() runs), or one ended with its
   * outcome unknown.
   */
  forget(ids: Iterable<ObjectId>, keys: Iterable<string>): void {
    this.gen++;
    for (const id of ids) this.records.delete(recordKey(id));
    for (const key of keys) {
      this.entries.delete(key);
      this.listings.drop(dirOfKey(key));
    }
  }

  /**
   * A write transaction committed: its object and entry changes (null =
   * deleted; entries by entryKey) are now the committed state, and the
   * generation moves on.
   */
  committed(
    changes: ReadonlyMap<ObjectId, ObjectRecord | null>,
    entryChanges: ReadonlyMap<string, EntryRecord | null> = new Map(),
  ): void {
    this.gen++;
    for (const [id, record] of changes) {
      if (record === null) this.records.delete(recordKey(id));
      else this.records.set(recordKey(id), record);
    }
    for (const [key, entry] of entryChanges) {
      this.entries.set(key, entry);
      this.listings.drop(dirOfKey(key));
    }
  }
}

// The SQLite store's counters: object ids and change values, handed out from
// blocks reserved in the meta table, and the number of objects.
//
// Each used to be an UPDATE … RETURNING per use (a create took an id and
// three change values, and counted the object), so every write transaction
// rewrote the meta table's page: another page in the WAL and in every
// checkpoint. Now the meta table holds a ceiling (every value up to it may
// have been handed out) raised by COUNTER_BLOCK in the transaction that needs
// more, so most transactions never touch it. After a crash the counters
// resume above the ceiling: values are skipped, never repeated — ids must
// never be reused, change values must only grow (RFC 8881 §5.8.1.4). A store
// written before this keeps working: its last value reads as a ceiling.
//
// Change values are also handed out outside any transaction, for the size and
// times an UNSTABLE4 WRITE leaves held in memory (held-attributes.ts): only
// values under a ceiling already on stable storage, so that a crash cannot
// hand them out again, and never again after a rollback (takeOutside).
//
// The object count is counted once at open (SELECT count(*)) and then kept in
// memory: one process owns the database (data-dir.ts).

import type { ObjectId } from "./metadata.js";

/** Values reserved at a time. */
export const COUNTER_BLOCK = 1024n;

const COUNTER_KEYS = ["last_id", "change"] as const;
export type CounterKey = (typeof COUNTER_KEYS)[number];

/** One counter: values below `ceiling` + 1 are reserved in the store. */
interface Counter {
  next: bigint;
  ceiling: bigint;
}

export class StoreCounters {
  /** Ceilings raised so far (see `reservations`). */
  private raised = 0;
  private readonly counters: Record<CounterKey, Counter>;
  /** Objects as of the last commit. */
  private committedObjects: bigint;
  /** The open write transaction's: the counters at its start, and objects it added (or removed). */
  private atStart: Record<CounterKey, Counter> | null = null;
  private objectsDelta = 0n;
  /** A savepoint's (a later member of a batch of transactions): the counters at its start. */
  private atMark: { counters: Record<CounterKey, Counter>; objectsDelta: bigint } | null = null;
  /** Ceilings known to be on stable storage: takeOutside() hands out values up to them. */
  private readonly durableCeilings: Record<CounterKey, bigint>;
  /** Values below these went out through takeOutside(): a rollback never hands them out again. */
  private readonly floors: Record<CounterKey, bigint>;

  /**
   * `stored`: the meta table's values (ceilings); `objects`: the count of
   * objects; `reserve`: stores a new ceiling, inside the open write transaction.
   */
  constructor(
    stored: Record<CounterKey, bigint>,
    objects: bigint,
    private readonly reserve: (key: CounterKey, ceiling: bigint) => void,
  ) {
    this.counters = {
      last_id: { next: stored.last_id + 1n, ceiling: stored.last_id },
      change: { next: stored.change + 1n, ceiling: stored.change },
    };
    this.committedObjects = objects;
    // Read from the database at open: on disk (SQLite recovers its log at open).
    this.durableCeilings = { ...stored };
    this.floors = { last_id: 0n, change: 0n };
  }

  /** A write transaction began. */
  begin(): void {
    this.atStart = this.snapshot();
    this.objectsDelta = 0n;
  }

  /** It committed: its reservations and object count stand. */
  commit(): void {
    this.committedObjects += this.objectsDelta;
    this.end();
  }

  /** It rolled back, and its reservations with it: hand out those values again. */
  rollback(): void {
    if (this.atStart !== null) this.restore(this.atStart);
    this.end();
  }

  /** A savepoint inside the write transaction began: restoreMark() goes back to here. */
  mark(): void {
    this.atMark = { counters: this.snapshot(), objectsDelta: this.objectsDelta };
  }

  /** The savepoint was released: its reservations and counts join the transaction's. */
  unmark(): void {
    this.atMark = null;
  }

  /** It was rolled back, and its reservations with it: hand out those values again. */
  restoreMark(): void {
    if (this.atMark === null) return;
    this.restore(this.atMark.counters);
    this.objectsDelta = this.atMark.objectsDelta;
    this.atMark = null;
  }

  /** The next value of `key`, reserving a block first when none is left. */
  take(key: CounterKey): bigint {
    const c = this.counters[key];
    if (c.next > c.ceiling) {
      const ceiling = c.next - 1n + COUNTER_BLOCK;
      this.reserve(key, ceiling);
      c.ceiling = ceiling;
      this.raised++;
    }
    return c.next++;
  }

  /**
   * The next value of `key` for use outside any transaction (one may be open:
   * its rollback keeps this value taken), or null when it would need a
   * ceiling not yet on stable storage; a transaction's take() raises it.
   */
  takeOutside(key: CounterKey): bigint | null {
    const c = this.counters[key];
    if (c.next > this.durableCeilings[key]) return null;
    const value = c.next++;
    this.floors[key] = c.next;
    return value;
  }

  /** The ceilings now (a COMMIT notes them; ceilingsDurable() once it is on stable storage). */
  ceilings(): Record<CounterKey, bigint> {
    return { last_id: this.counters.last_id.ceiling, change: this.counters.change.ceiling };
  }

  /** A COMMIT holding `ceilings` (as ceilings() returned them) is on stable storage. */
  ceilingsDurable(ceilings: Record<CounterKey, bigint>): void {
    for (const key of COUNTER_KEYS)
      if (ceilings[key] > this.durableCeilings[key]) this.durableCeilings[key] = ceilings[key];
  }

  newObjectId(): ObjectId {
    return this.take("last_id");
  }

  /** The open write transaction added (1) or removed (-1) an object. */
  counted(delta: bigint): void {
    this.objectsDelta += delta;
  }

  /** Objects as the caller sees them: its own changes included when `inWrite`. */
  objects(inWrite: boolean): bigint {
    return this.committedObjects + (inWrite ? this.objectsDelta : 0n);
  }

  /**
   * Ceilings raised so far (rolled back ones included): a transaction that
   * raised one must be durable before anything it handed out is shown, or a
   * crash could hand those values out again.
   */
  get reservations(): number {
    return this.raised;
  }

  private restore(saved: Record<CounterKey, Counter>): void {
    for (const key of COUNTER_KEYS) {
      const floor = this.floors[key];
      const back = saved[key];
      this.counters[key] = { next: back.next > floor ? back.next : floor, ceiling: back.ceiling };
    }
  }

  private snapshot(): Record<CounterKey, Counter> {
    return { last_id: { ...this.counters.last_id }, change: { ...this.counters.change } };
  }

  private end(): void {
    this.atStart = null;
    this.atMark = null;
    this.objectsDelta = 0n;
  }
}

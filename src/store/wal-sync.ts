// Group commit for the SQLite store's write-ahead log: SQLite commits with
// synchronous=NORMAL (it writes the transaction's frames to the WAL but does
// not fsync), and the store makes them durable here, with fdatasync of the
// WAL file on the libuv thread pool, before it lets anyone act on them.
//
// Why not synchronous=FULL: better-sqlite3 is synchronous, so FULL's fsync
// inside COMMIT blocks the event loop — every other request waits, reads
// included, and each commit pays its own fsync. Here one fdatasync covers
// every commit made before it started (group commit), and the event loop
// serves other requests meanwhile. The guarantee is FULL's: a transaction is
// reported done only once its frames are on stable storage (the WAL is
// append-only between checkpoints, so syncing it up to the end covers every
// earlier commit; SQLite itself syncs the WAL before a checkpoint and the
// database after one, also under NORMAL).
//
// A commit that nobody else is waiting behind (no other transaction queued)
// is synced in place instead, on the event loop's thread: the hand-off to a
// pool thread and back (a futex wake there, an eventfd write and an epoll
// wake-up here) costs more than the fdatasync itself on this kind of machine,
// and there is no later commit to share the sync with. Measured with a
// client-library loop of OPEN-create, CLOSE, DELEGRETURN, REMOVE
// (2026-12-03): 12% less time and server CPU per file. A slow disk must not
// stall the event loop, so syncs go back to the pool while the moving
// average of in-place syncs exceeds `inlineSyncMaxMs` (0: always the pool).
//
// A failed fdatasync leaves the file's state unknown (a retry may report
// success for pages that were dropped), so it is fatal: every later wait
// fails with the same error and the store must be reopened (PostgreSQL's
// answer to the same problem).

import { fdatasyncSync } from "node:fs";
import { open, type FileHandle } from "node:fs/promises";

/** Weight of the newest in-place sync in the moving average of their durations. */
const INLINE_SYNC_AVERAGE_WEIGHT = 0.125;

export class WalSync {
  /** Write transactions committed to the WAL (not necessarily durable), counted from open. */
  private committed = 0;
  /** The last commit that readers must see durable (committedOne's `required`). */
  private required = 0;
  /** Commits known to be on stable storage. */
  private synced = 0;
  private inFlight: Promise<void> | null = null;
  private file: FileHandle | null = null;
  private failure: Error | null = null;

  /** Moving average of in-place fdatasync durations, ms. */
  private inlineSyncMs = 0;
  /** fdatasync calls made so far, in place and on the thread pool. */
  readonly syncs = { inPlace: 0, pool: 0 };

  /**
   * `walPath`: the database's -wal file; it exists while any connection has
   * the database open. `inlineSyncMaxMs`: see the top of this file.
   */
  constructor(
    private readonly walPath: string,
    private readonly inlineSyncMaxMs: number,
  ) {}

  /**
   * Notes a COMMIT that wrote to the WAL; returns its number for durable().
   * `required`: whoever sees its changes must wait for them to be durable
   * (false only for the metadata of UNSTABLE4 WRITEs: see lastRequired).
   */
  committedOne(required = true): number {
    this.committed++;
    if (required) this.required = this.committed;
    return this.committed;
  }

  /** The number of the last commit (durable() of it covers everything committed so far). */
  get lastCommit(): number {
    return this.committed;
  }

  /**
   * The number of the last commit a reader must not act on before it is
   * durable. Commits after it hold only what an UNSTABLE4 WRITE changed (a
   * size, times, a change value below a ceiling already committed as
   * required): state the client keeps until COMMIT and sends again after a
   * restart, like the data itself, so a reply may show it before it is on
   * disk — as any server answers GETATTR from its page cache.
   */
  get lastRequired(): number {
    return this.required;
  }

  /**
   * Resolves once commit `upTo` (and so every earlier one) is on stable
   * storage. `alone`: no other transaction is waiting to commit, so no later
   * commit could share this sync: it may run in place.
   */
  async durable(upTo: number, alone = false): Promise<void> {
    if (alone && this.synced < upTo) this.syncInPlace();
    while (this.synced < upTo) {
      if (this.failure !== null) throw this.failure;
      // One fdatasync at a time; it covers every commit made before it starts.
      this.inFlight ??= this.sync(this.committed).finally(() => {
        this.inFlight = null;
      });
      await this.inFlight;
    }
    if (this.failure !== null) throw this.failure;
  }

  /** Waits for the sync in progress, then closes the WAL file. */
  async close(): Promise<void> {
    await this.durable(this.committed).catch(() => undefined);
    await this.file?.close();
    this.file = null;
  }

  /** fdatasync on this thread, when no pool sync is running and the disk has been quick. */
  private syncInPlace(): void {
    const f = this.file;
    if (f === null || this.inFlight !== null || this.failure !== null) return;
    if (this.inlineSyncMaxMs <= 0) return;
    if (this.inlineSyncMs > this.inlineSyncMaxMs) {
      // Decays while syncs go to the pool, so a disk that was slow once is tried again.
      this.inlineSyncMs *= 1 - INLINE_SYNC_AVERAGE_WEIGHT;
      return;
    }
    const target = this.committed;
    const start = performance.now();
    this.syncs.inPlace++;
    try {
      fdatasyncSync(f.fd);
      this.synced = Math.max(this.synced, target);
    } catch (e) {
      this.failure = e instanceof Error ? e : new Error(String(e));
    }
    const took = performance.now() - start;
    this.inlineSyncMs += (took - this.inlineSyncMs) * INLINE_SYNC_AVERAGE_WEIGHT;
  }

  private async sync(target: number): Promise<void> {
    try {
      this.file ??= await open(this.walPath, "r");
      this.syncs.pool++;
      await this.file.datasync();
      this.synced = Math.max(this.synced, target);
    } catch (e) {
      this.failure = e instanceof Error ? e : new Error(String(e));
    }
  }
}

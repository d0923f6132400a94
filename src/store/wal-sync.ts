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
// A failed fdatasync leaves the file's state unknown (a retry may report
// success for pages that were dropped), so it is fatal: every later wait
// fails with the same error and the store must be reopened (PostgreSQL's
// answer to the same problem).

import { open, type FileHandle } from "node:fs/promises";

export class WalSync {
  /** Write transactions committed to the WAL (not necessarily durable), counted from open. */
  private committed = 0;
  /** Commits known to be on stable storage. */
  private synced = 0;
  private inFlight: Promise<void> | null = null;
  private file: FileHandle | null = null;
  private failure: Error | null = null;

  /** `walPath`: the database's -wal file; it exists while any connection has the database open. */
  constructor(private readonly walPath: string) {}

  /** Notes a COMMIT that wrote to the WAL; returns its number for durable(). */
  committedOne(): number {
    return ++this.committed;
  }

  /** The number of the last commit (durable() of it covers everything committed so far). */
  get lastCommit(): number {
    return this.committed;
  }

  /** Resolves once commit `upTo` (and so every earlier one) is on stable storage. */
  async durable(upTo: number): Promise<void> {
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

  private async sync(target: number): Promise<void> {
    try {
      this.file ??= await open(this.walPath, "r");
      await this.file.datasync();
      this.synced = Math.max(this.synced, target);
    } catch (e) {
      this.failure = e instanceof Error ? e : new Error(String(e));
    }
  }
}

// The embedded MetadataStore: one SQLite database file (better-sqlite3).
//
// - WAL journal: readers do not block the writer, and a commit appends to the
//   log instead of rewriting pages in place.
// - Durable before done: a namespace operation the server has answered must
//   survive a power loss, as NFS requires of CREATE, REMOVE, RENAME, SETATTR…
//   (RFC 8881 §18: these are not "unstable" like WRITE data). SQLite commits
//   with synchronous=NORMAL and the store then waits for an fdatasync of the
//   WAL (wal-sync.ts: group commit, off the event loop) before a transaction's
//   promise resolves — the guarantee of synchronous=FULL without blocking
//   every other request behind each commit's fsync.
// - One transaction per namespace operation, queued (better-sqlite3 is
//   synchronous; an await inside one never lets another interleave). Those
//   queued back to back, or asked for in one turn of the event loop, share
//   one SQL transaction (WriteBatch below: BEGIN IMMEDIATE, a SAVEPOINT per
//   later member, one COMMIT): the write lock is taken at the start, so it
//   never fails half-way on a lock upgrade, and one COMMIT and one set of
//   WAL frames serve every member.
// - Operations that only read (GETATTR, LOOKUP, READDIR, READ…) run on a
//   second, read-only connection in a deferred transaction: WAL gives each a
//   snapshot of the last commit, so they never wait behind a write
//   transaction (which may be waiting for payload I/O) and never see one half
//   done. They are queued among themselves for the same reason as writes.
// - Decoded object records are cached (object-cache.ts): a read answered from
//   the cache needs no SQL at all, and a view opens its SQL transaction only
//   at its first miss — or runs again if a commit came before that miss.
//   READDIR of a directory listed before reads its names from the cache too.

import Database from "better-sqlite3";
import { randomBytes } from "node:crypto";
import { statSync } from "node:fs";
import { FIRST_COOKIE } from "../fs/backend.js";
import {
  ROOT_ID,
  STORE_ID_BYTES,
  ReadOnlyTransactionError,
  type EntryRecord,
  type ListedEntry,
  type MetadataStore,
  type MetadataTx,
  type TransactOptions,
  type ViewOptions,
  type ObjectId,
  type ObjectRecord,
  type StoreIdentity,
  type XattrKeyRecord,
} from "./metadata.js";
import type { ClientRecoveryRecord, ClientRecoveryStore } from "./recovery.js";
import {
  CorruptStoreError,
  ENTRY_COLUMNS,
  OBJECT_COLUMNS,
  big,
  blobOrNull,
  clientFromRow,
  columns,
  entryFromRow,
  objectFromRow,
  objectToRow,
  text,
} from "./sql-rows.js";
import type { ListedName } from "./dir-listings.js";
import { ObjectCache, ViewRestart, entryKey } from "./object-cache.js";
import { DEFAULT_STORE_SETTINGS } from "./settings.js";
import { StoreCounters, type CounterKey } from "./sqlite-counters.js";
import { RESTART_FRAMES, WalCheckpointer } from "./wal-checkpointer.js";
import { WalSync } from "./wal-sync.js";

/**
 * The schema as a list of migrations: entry i takes a database from version i
 * to i + 1 (SQLite's user_version). Opening a store applies the ones it lacks,
 * each in its own transaction, so an older data directory is upgraded in
 * place and a crash mid-upgrade leaves a whole version. Append; never edit one
 * that has shipped. A database newer than this list is refused.
 */
const MIGRATIONS: readonly string[] = [
  `
CREATE TABLE meta (key TEXT PRIMARY KEY, value) WITHOUT ROWID;
CREATE TABLE objects (
  id INTEGER PRIMARY KEY, type INTEGER NOT NULL, mode INTEGER NOT NULL,
  uid INTEGER NOT NULL, gid INTEGER NOT NULL, nlink INTEGER NOT NULL, size INTEGER NOT NULL,
  atime_s INTEGER NOT NULL, atime_ns INTEGER NOT NULL, mtime_s INTEGER NOT NULL, mtime_ns INTEGER NOT NULL,
  ctime_s INTEGER NOT NULL, ctime_ns INTEGER NOT NULL, btime_s INTEGER NOT NULL, btime_ns INTEGER NOT NULL,
  change INTEGER NOT NULL, rdev_major INTEGER NOT NULL, rdev_minor INTEGER NOT NULL,
  target BLOB, create_verifier BLOB, parent INTEGER, payload TEXT);
CREATE INDEX objects_orphans ON objects (nlink) WHERE nlink = 0;
CREATE TABLE entries (
  dir INTEGER NOT NULL, name TEXT NOT NULL, cookie INTEGER NOT NULL, child INTEGER NOT NULL,
  PRIMARY KEY (dir, name)) WITHOUT ROWID;
CREATE UNIQUE INDEX entries_by_cookie ON entries (dir, cookie);
CREATE INDEX entries_by_child ON entries (child);
-- The last cookie each directory handed out: cookies are never reused, even after removals.
CREATE TABLE dir_cookies (dir INTEGER PRIMARY KEY, last INTEGER NOT NULL);
INSERT INTO meta (key, value) VALUES ('last_id', 0), ('change', 0), ('objects', 0);
`,
  // (Since 2026-12-02 'last_id' and 'change' hold reservation ceilings and
  // 'objects' is no longer kept: sqlite-counters.ts. No schema change.)
  // 1: extended attributes (RFC 8276), deleted with their object (deleteObject; not a
  // foreign key: putObject's REPLACE would cascade). Values reach 64 KiB, so a rowid
  // table: WITHOUT ROWID suits small rows only.
  `
CREATE TABLE xattrs (
  object INTEGER NOT NULL, name TEXT NOT NULL, cookie INTEGER NOT NULL, value BLOB NOT NULL,
  UNIQUE (object, name));
CREATE UNIQUE INDEX xattrs_by_cookie ON xattrs (object, cookie);
-- The last LISTXATTRS cookie each object handed out: never reused, even after removals.
CREATE TABLE xattr_cookies (object INTEGER PRIMARY KEY, last INTEGER NOT NULL);
`,
  // 2: client recovery records (recovery.ts, RFC 8881 §8.4.2.1): one per client owner.
  `
CREATE TABLE clients (
  owner_id BLOB PRIMARY KEY, principal TEXT NOT NULL, recorded_at INTEGER NOT NULL) WITHOUT ROWID;
`,
  // 3: the cookie index covers READDIR's listing (it holds dir, cookie and
  // name as the table's key, and now child): a page of entries is read from
  // the index alone, without a search of the table per entry (1.4 µs → 0.9 µs
  // per entry). Cookies stay unique per directory: dir_cookies hands each out once.
  `
DROP INDEX entries_by_cookie;
CREATE UNIQUE INDEX entries_by_cookie ON entries (dir, cookie, child);
`,
];
const SCHEMA_VERSION = MIGRATIONS.length;

/** READDIR's page of a directory: served from the cookie index alone (migration 3). */
export const LIST_ENTRIES_SQL = `SELECT ${ENTRY_COLUMNS} FROM entries WHERE dir = ? AND cookie > ? ORDER BY cookie LIMIT ?`;

/**
 * READDIR's page with the children's ids, for listEntriesWithObjects(): the
 * same covering index; `dir` is known, so not read (one bigint less per row).
 */
export const LIST_PAGE_SQL = `SELECT name, cookie, child FROM entries WHERE dir = ? AND cookie > ? ORDER BY cookie LIMIT ?`;

/**
 * Pages the WAL file is grown to when the store opens: the longest log in
 * steady state — RESTART_FRAMES, when the writer finishes a checkpoint itself
 * (wal-checkpointer.ts), and half as many again written meanwhile — so the
 * log wraps inside space the file already has. A commit that grows the file
 * makes its fdatasync commit the filesystem's journal too (the new size); one
 * that overwrites does not — about half the cost of each sync, measured on
 * ext4. SQLite deletes the WAL when the last connection closes, so every open
 * pays this once (12 MiB written with 4 KiB pages).
 */
const WAL_RESERVE_PAGES = RESTART_FRAMES + RESTART_FRAMES / 2;

/** SQLite's own wal_autocheckpoint default, used if the checkpoint worker fails. */
const AUTOCHECKPOINT_PAGES = 1000;

type Statement = Database.Statement<unknown[], unknown>;

/** Tunables of SqliteMetadataStore. */
export interface SqliteStoreOptions {
  /** Decoded object records, and as many directory entries, kept in memory (object-cache.ts); 0 turns the cache off. */
  readonly objectCacheEntries: number;
  /** The slowest (moving average, ms) an fdatasync of the log may be and still run on the event loop's thread (wal-sync.ts); 0: never. */
  readonly inlineSyncMaxMs: number;
  /** Transactions (queued back to back, or started in one turn of the event loop) that share one SQL transaction at most (WriteBatch); 1: each its own. */
  readonly batchTransactions: number;
}

export const SQLITE_STORE_DEFAULTS: SqliteStoreOptions = {
  objectCacheEntries: DEFAULT_STORE_SETTINGS.objectCacheEntries,
  inlineSyncMaxMs: DEFAULT_STORE_SETTINGS.inlineSyncMaxMs,
  batchTransactions: DEFAULT_STORE_SETTINGS.batchTransactions,
};

export class SqliteMetadataStore implements MetadataStore {
  readonly kind = "sqlite";
  readonly identity: StoreIdentity;
  private readonly db: Database.Database;
  readonly clients: ClientRecoveryStore;
  private readonly tx: SqliteTx;
  /** Rows changed so far by this connection (SQLite's total_changes()): did a transaction write? */
  private readonly totalChanges: Statement;
  private readonly wal: WalSync;
  private readonly cache: ObjectCache;
  private readonly counters: StoreCounters;
  private readonly checkpointer: WalCheckpointer;
  /** Why checkpoints went back to the main thread, or null while the worker runs them. */
  checkpointFallback: string | null = null;
  /** The read-only connection of view(), and its statements. */
  private readonly reader: Database.Database;
  private readonly readTx: SqliteTx;
  /** The tail of the transaction queue. */
  private queue: Promise<unknown> = Promise.resolve();
  /** The SQL transaction queued transactions join (see WriteBatch); null between batches. */
  private batch: WriteBatch | null = null;
  /** Transactions one SQL transaction holds at most (store.batchTransactions). */
  private readonly maxBatchTransactions: number;
  /** Transactions asked for whose work has not started yet. */
  private waitingTransactions = 0;
  /** A transaction's work is running (the queue runs one at a time). */
  private transactionRunning = false;
  /** The tail of view()'s queue. */
  private readQueue: Promise<unknown> = Promise.resolve();

  private constructor(db: Database.Database, file: string, options: SqliteStoreOptions) {
    this.db = db;
    this.identity = { storeId: this.initialise(), rootId: ROOT_ID };
    this.reserveWal(`${file}-wal`);
    // Not FULL from here on: commits are made durable by WalSync before anyone is told (see above).
    db.pragma("synchronous = NORMAL");
    this.cache = new ObjectCache(options.objectCacheEntries);
    this.counters = this.loadCounters();
    this.tx = new SqliteTx(db, this.cache, this.counters, "write");
    this.totalChanges = db.prepare("SELECT total_changes()").raw();
    this.wal = new WalSync(`${file}-wal`, options.inlineSyncMaxMs);
    this.maxBatchTransactions = Math.max(1, options.batchTransactions);
    this.reader = new Database(file, { readonly: true });
    this.reader.defaultSafeIntegers(true);
    this.readTx = new SqliteTx(this.reader, this.cache, this.counters, "read");
    this.clients = new SqliteClientRecovery(db, (work) => this.transact(async () => work()));
    // Last, once nothing above can fail: checkpoints run on a worker
    // (wal-checkpointer.ts); if it fails, on this connection again.
    db.pragma("wal_autocheckpoint = 0");
    this.checkpointer = new WalCheckpointer(file, (reason) => {
      db.pragma(`wal_autocheckpoint = ${AUTOCHECKPOINT_PAGES}`);
      this.checkpointFallback = reason;
      process.emitWarning(`${reason}; the SQLite store checkpoints on the main thread instead`);
    });
  }

  /** Opens (creating if needed) the database at `file`. */
  static open(file: string, options: Partial<SqliteStoreOptions> = {}): SqliteMetadataStore {
    const db = new Database(file);
    try {
      db.defaultSafeIntegers(true);
      db.pragma("journal_mode = WAL");
      // Schema upgrades at open commit with FULL; the constructor then switches to NORMAL.
      db.pragma("synchronous = FULL");
      return new SqliteMetadataStore(db, file, { ...SQLITE_STORE_DEFAULTS, ...options });
    } catch (e) {
      db.close();
      throw e;
    }
  }

  /** Object records in the cache now (for tests). */
  get cachedObjects(): number {
    return this.cache.size;
  }

  /** fdatasync calls of the WAL so far, in place and on the thread pool (for tests and diagnostics). */
  get walSyncs(): { readonly inPlace: number; readonly pool: number } {
    return { ...this.wal.syncs };
  }

  /** COMMITs that wrote, counted from open (for tests and diagnostics: a batch of transactions is one). */
  get commits(): number {
    return this.wal.lastCommit;
  }

  /** SQL snapshots views opened, counted from open: a view answered from the cache alone opens none (for tests and diagnostics). */
  get viewSnapshots(): number {
    return this.readTx.snapshots;
  }

  /** Directory entries in the cache now (for tests). */
  get cachedEntries(): number {
    return this.cache.entryCount;
  }

  transact<T>(work: (tx: MetadataTx) => Promise<T>, options?: TransactOptions): Promise<T> {
    this.waitingTransactions++;
    const run = async (): Promise<{ result: T; batch: WriteBatch; durable: boolean }> => {
      this.waitingTransactions--;
      this.transactionRunning = true;
      const batch = this.batch ?? this.openBatch();
      // The first of a batch needs no savepoint: if it fails, the whole SQL
      // transaction (only its own changes) is rolled back.
      const nested = batch.members > 0;
      batch.members++;
      try {
        if (nested) this.tx.beginNested();
        const changesBefore = this.changes();
        const reservationsBefore = this.counters.reservations;
        const result = await work(this.tx);
        if (this.changes() !== changesBefore) batch.wrote = true;
        // Not durable only if asked, and if it raised no counter's ceiling
        // (values above a ceiling not yet durable could come again after a crash).
        const durable =
          options?.durable !== false || this.counters.reservations !== reservationsBefore;
        if (durable) batch.required = true;
        if (nested) this.tx.releaseNested();
        return { result, batch, durable };
      } catch (e) {
        this.undo(batch, nested, e);
        throw e;
      } finally {
        this.transactionRunning = false;
        // Full: commit now. Otherwise another transaction waiting joins it, or
        // one that arrives in this turn of the event loop.
        if (this.batch === batch) {
          if (batch.members >= this.maxBatchTransactions) this.commitBatch(batch);
          else if (this.waitingTransactions === 0) this.commitAfterThisTurn(batch);
        }
      }
    };
    const ran = this.queue.then(run, run);
    this.queue = ran.catch(() => undefined);
    return ran.then(async ({ result, batch, durable }) => {
      // A transaction that wrote waits for its batch's frames; one that only
      // read waits for those it may have seen (nothing is acted on before it
      // is durable). With no transaction waiting, nothing could share the
      // sync: it may run in place.
      const commit = await batch.committed;
      if (durable) {
        await this.wal.durable(commit, this.waitingTransactions === 0);
        if (batch.ceilings !== null) this.counters.ceilingsDurable(batch.ceilings);
      }
      return result;
    });
  }

  /** Opens the SQL transaction that the next transactions join (BEGIN IMMEDIATE). */
  private openBatch(): WriteBatch {
    this.checkpointer.finishOnWriter(() => this.db.pragma("wal_checkpoint(PASSIVE)"));
    this.tx.beginWrite();
    this.batch = new WriteBatch();
    return this.batch;
  }

  /**
   * COMMITs the batch once the event loop has run the callbacks of every
   * socket that was readable in this turn (setImmediate runs after the poll
   * phase): requests that arrived together share one COMMIT and one sync,
   * though each ran its transaction as soon as it was read (a request's
   * store work often awaits nothing, so no other transaction ever waits
   * behind it). Costs the batch's first member one turn of the loop.
   */
  private commitAfterThisTurn(batch: WriteBatch): void {
    if (batch.commitScheduled) return;
    batch.commitScheduled = true;
    setImmediate(() => {
      batch.commitScheduled = false;
      // A member still running, or one queued, commits it when it ends.
      if (this.batch === batch && !this.transactionRunning && this.waitingTransactions === 0)
        this.commitBatch(batch);
    });
  }

  /** COMMITs the batch: every member's changes stand, or (COMMIT failed) none. */
  private commitBatch(batch: WriteBatch): void {
    this.batch = null;
    try {
      this.tx.commitWrite();
    } catch (e) {
      this.tx.rollbackWrite();
      batch.fail(e);
      return;
    }
    if (batch.wrote) this.checkpointer.committed();
    batch.ceilings = this.counters.ceilings();
    batch.succeed(batch.wrote ? this.wal.committedOne(batch.required) : this.wal.lastRequired);
  }

  /**
   * A member failed: its savepoint is rolled back, and the members before it
   * stand. If SQLite rolled back the whole transaction (an I/O error, a full
   * disk) or this was the first member, the batch ends without a commit.
   */
  private undo(batch: WriteBatch, nested: boolean, error: unknown): void {
    if (nested && this.db.inTransaction) {
      try {
        this.tx.rollbackNested();
        if (this.db.inTransaction) return;
      } catch {
        // Fall through: end the whole batch.
      }
    }
    this.batch = null;
    this.tx.rollbackWrite();
    batch.fail(error);
  }

  changeOutsideTransaction(): bigint | null {
    return this.counters.takeOutside("change");
  }

  async sync(): Promise<void> {
    // Every transaction queued before this call has committed once the queue
    // has passed it and no batch it joined is still open; then one sync covers them all.
    await this.settled();
    await this.wal.durable(this.wal.lastCommit);
  }

  /** Resolves once the queue has passed every transaction asked for so far and their batch ended. */
  private async settled(): Promise<void> {
    for (;;) {
      await this.queue;
      const open = this.batch;
      if (open === null) return;
      await open.committed.catch(() => undefined);
    }
  }

  view<T>(work: (tx: MetadataTx) => Promise<T>, options?: ViewOptions): Promise<T> {
    const run = async (): Promise<{ result: T; seen: number }> => {
      // First lazily (no SQL transaction unless the cache misses); if a commit
      // lands before the first SELECT, once more with the snapshot taken at once.
      for (let eager = false; ; eager = true) {
        this.readTx.startView(eager);
        try {
          const result = await work(this.readTx);
          return { result, seen: this.wal.lastRequired };
        } catch (e) {
          if (!eager && e instanceof ViewRestart) continue;
          throw e;
        } finally {
          this.readTx.endView();
        }
      }
    };
    const done = this.readQueue.then(run, run);
    this.readQueue = done.catch(() => undefined);
    // What it saw may include commits whose sync is still running: nothing is
    // acted on before it is durable (save an UNSTABLE4 WRITE's: WalSync.lastRequired).
    return done.then(async ({ result, seen }) => {
      if (options?.unsynced !== true) await this.wal.durable(seen);
      return result;
    });
  }

  async close(): Promise<void> {
    await this.settled();
    await this.readQueue;
    await this.checkpointer.close();
    await this.wal.close();
    this.reader.close();
    this.db.close();
  }

  private changes(): bigint {
    return big(columns(this.totalChanges.get())[0]);
  }

  /**
   * Grows the WAL file to WAL_RESERVE_PAGES pages (if it is smaller) by
   * writing a scratch table of that size, dropping it and checkpointing: the
   * next commit restarts the log at its start, inside the grown file. The
   * database keeps the freed pages for later rows.
   */
  private reserveWal(walPath: string): void {
    const pageSize = Number(big(this.db.pragma("page_size", { simple: true })));
    const want = WAL_RESERVE_PAGES * pageSize;
    let size = 0;
    try {
      size = statSync(walPath).size;
    } catch {
      // Not there yet: SQLite creates it with the first write.
    }
    if (size >= want) return;
    this.db.exec("DROP TABLE IF EXISTS wal_reserve; CREATE TABLE wal_reserve (b BLOB)");
    this.db.prepare("INSERT INTO wal_reserve VALUES (zeroblob(?))").run(want);
    this.db.exec("DROP TABLE wal_reserve");
    this.db.pragma("wal_checkpoint(PASSIVE)");
  }

  /** The counters' ceilings from the meta table, and the objects counted (sqlite-counters.ts). */
  private loadCounters(): StoreCounters {
    const stored = (key: CounterKey): bigint =>
      big(columns(this.db.prepare("SELECT value FROM meta WHERE key = ?").raw().get(key))[0]);
    const objects = big(columns(this.db.prepare("SELECT count(*) FROM objects").raw().get())[0]);
    const reserve = this.db.prepare("UPDATE meta SET value = ? WHERE key = ?");
    return new StoreCounters(
      { last_id: stored("last_id"), change: stored("change") },
      objects,
      (key, ceiling) => reserve.run(ceiling, key),
    );
  }

  /** Creates or upgrades the schema (MIGRATIONS); returns the store id. */
  private initialise(): Uint8Array {
    const version = Number(big(this.db.pragma("user_version", { simple: true })));
    if (version > SCHEMA_VERSION)
      throw new CorruptStoreError(
        `metadata schema version ${version}, this server knows up to ${SCHEMA_VERSION}`,
      );
    for (let v = version; v < SCHEMA_VERSION; v++)
      this.db.transaction(() => {
        this.db.exec(MIGRATIONS[v] ?? "");
        if (v === 0)
          this.db
            .prepare("INSERT INTO meta (key, value) VALUES ('store_id', ?)")
            .run(randomBytes(STORE_ID_BYTES));
        this.db.pragma(`user_version = ${v + 1}`);
      })();
    const row = this.db.prepare("SELECT value FROM meta WHERE key = 'store_id'").raw().get();
    const id = blobOrNull(columns(row)[0]);
    if (id === null || id.length !== STORE_ID_BYTES) throw new CorruptStoreError("bad store id");
    return id;
  }
}

/**
 * The clients table. Each write is its own transaction on the store's queue
 * (so it never lands inside a namespace operation's open transaction), and
 * like every transaction its promise resolves once the WAL is synced (WalSync).
 */
class SqliteClientRecovery implements ClientRecoveryStore {
  private readonly s: Record<"list" | "add" | "remove", Statement>;

  constructor(
    db: Database.Database,
    private readonly inTransaction: <T>(work: () => T) => Promise<T>,
  ) {
    this.s = {
      list: db.prepare("SELECT owner_id, principal, recorded_at FROM clients").raw(),
      add: db.prepare("REPLACE INTO clients (owner_id, principal, recorded_at) VALUES (?, ?, ?)"),
      remove: db.prepare("DELETE FROM clients WHERE owner_id = ?"),
    };
  }

  list(): Promise<ClientRecoveryRecord[]> {
    return this.inTransaction(() => this.s.list.all().map(clientFromRow));
  }

  async add(record: ClientRecoveryRecord): Promise<void> {
    await this.inTransaction(() =>
      this.s.add.run(
        Buffer.from(record.ownerId),
        record.principal,
        BigInt(Math.floor(record.recordedAt)),
      ),
    );
  }

  async remove(ownerId: Uint8Array): Promise<void> {
    await this.inTransaction(() => this.s.remove.run(Buffer.from(ownerId)));
  }
}

/**
 * Transactions queued back to back, or asked for in one turn of the event
 * loop, share one SQL transaction (group commit one level up from WalSync's):
 * the first opens it with BEGIN IMMEDIATE, each later one runs inside a
 * SAVEPOINT (so its failure undoes only its own changes). The
 * `batchTransactions`-th member COMMITs it, or else the end of the turn in
 * which the last member ended with none waiting (commitAfterThisTurn). One
 * BEGIN, one COMMIT and one set of WAL frames serve them all: creates in one
 * directory touch the same few pages, which the log then holds once instead
 * of once per create. Every member's promise resolves after that COMMIT (and
 * its sync), as it would after its own, so nothing is answered before it is
 * durable; a member waits at most for the work of the members queued behind
 * it and the rest of that turn.
 */
class WriteBatch {
  /** Transactions that joined, the failed ones included. */
  members = 0;
  /** Whether any member changed a row (the COMMIT then adds frames to the log). */
  wrote = false;
  /** Whether any member must be durable before it is answered (WalSync.lastRequired). */
  required = false;
  /** A COMMIT after this turn of the event loop is scheduled (commitAfterThisTurn). */
  commitScheduled = false;
  /** The counters' ceilings as committed (sqlite-counters.ts), once the COMMIT succeeded. */
  ceilings: Record<CounterKey, bigint> | null = null;
  /** The WalSync number of the COMMIT (or of the last one, if nothing was written). */
  readonly committed: Promise<number>;
  succeed!: (commit: number) => void;
  fail!: (error: unknown) => void;

  constructor() {
    this.committed = new Promise<number>((resolve, reject) => {
      this.succeed = resolve;
      this.fail = reject;
    });
    // A batch whose only member failed has nobody waiting on it.
    this.committed.catch(() => undefined);
  }
}

/** The statements of one store, run inside the transaction transact() opened. */
class SqliteTx implements MetadataTx {
  private readonly s: Record<
    | "getObject"
    | "putObject"
    | "createObject"
    | "deleteObject"
    | "deleteCookies"
    | "getEntry"
    | "nextCookie"
    | "addEntry"
    | "removeEntry"
    | "list"
    | "listPage"
    | "before"
    | "after"
    | "lastCookie"
    | "anyEntry"
    | "namesOf"
    | "orphans"
    | "getXattr"
    | "replaceXattr"
    | "nextXattrCookie"
    | "addXattr"
    | "removeXattr"
    | "listXattrs"
    | "lastXattrCookie"
    | "xattrBytes"
    | "deleteXattrs"
    | "deleteXattrCookies",
    Statement
  >;

  /** The write transaction's object changes, not yet committed (null: deleted). */
  private readonly pending = new Map<ObjectId, ObjectRecord | null>();
  /** Its entry changes, by entryKey (null: removed), for the cache at commit. */
  private readonly pendingEntries = new Map<string, EntryRecord | null>();
  /**
   * While a nested transaction (a savepoint) runs: what `pending` and
   * `pendingEntries` held for each key it changed before it did (undefined:
   * nothing), to put back if it rolls back.
   */
  private nested: {
    readonly objects: Map<ObjectId, ObjectRecord | null | undefined>;
    readonly entries: Map<string, EntryRecord | null | undefined>;
  } | null = null;
  /** A view's cache generation when it started (role "read"). */
  private epoch = 0;
  /** Whether the SQL transaction is open (for role "write": from beginWrite() to its end). */
  private begun = false;
  /** SQL snapshots views opened, counted from open (role "read"; for tests and diagnostics). */
  private opened = 0;
  /** BEGIN (IMMEDIATE for the writer: it takes the write lock at once), COMMIT, ROLLBACK and a batch member's savepoint. */
  private readonly control: Record<
    "begin" | "commit" | "rollback" | "savepoint" | "release" | "rollbackTo",
    Statement
  >;

  /**
   * `role` "write": the store's write transaction (beginWrite … commitWrite or
   * rollbackWrite), its object changes kept until commit; "read": a view's, on
   * the read-only connection, which opens its own transaction at the first
   * statement the cache cannot spare it.
   */
  constructor(
    private readonly db: Database.Database,
    private readonly cache: ObjectCache,
    private readonly counters: StoreCounters,
    private readonly role: "write" | "read",
  ) {
    this.control = {
      begin: db.prepare(role === "write" ? "BEGIN IMMEDIATE" : "BEGIN"),
      commit: db.prepare("COMMIT"),
      rollback: db.prepare("ROLLBACK"),
      savepoint: db.prepare("SAVEPOINT member"),
      release: db.prepare("RELEASE member"),
      rollbackTo: db.prepare("ROLLBACK TO member"),
    };
    const p = (sql: string): Statement => db.prepare(sql).raw();
    const q = (sql: string): Statement => db.prepare(sql);
    const placeholders = OBJECT_COLUMNS.split(",")
      .map(() => "?")
      .join(", ");
    this.s = {
      getObject: p(`SELECT ${OBJECT_COLUMNS} FROM objects WHERE id = ?`),
      createObject: q(`INSERT INTO objects (${OBJECT_COLUMNS}) VALUES (${placeholders})`),
      putObject: q(`REPLACE INTO objects (${OBJECT_COLUMNS}) VALUES (${placeholders})`),
      deleteObject: q("DELETE FROM objects WHERE id = ?"),
      deleteCookies: q("DELETE FROM dir_cookies WHERE dir = ?"),
      getEntry: p(`SELECT ${ENTRY_COLUMNS} FROM entries WHERE dir = ? AND name = ?`),
      nextCookie: p(
        `INSERT INTO dir_cookies (dir, last) VALUES (?, ${FIRST_COOKIE})
         ON CONFLICT (dir) DO UPDATE SET last = last + 1 RETURNING last`,
      ),
      addEntry: q("INSERT INTO entries (dir, name, cookie, child) VALUES (?, ?, ?, ?)"),
      removeEntry: q("DELETE FROM entries WHERE dir = ? AND name = ?"),
      list: p(LIST_ENTRIES_SQL),
      listPage: p(LIST_PAGE_SQL),
      before: p(
        `SELECT ${ENTRY_COLUMNS} FROM entries WHERE dir = ? AND cookie < ? ORDER BY cookie DESC LIMIT 1`,
      ),
      after: p("SELECT 1 FROM entries WHERE dir = ? AND cookie > ? LIMIT 1"),
      lastCookie: p("SELECT last FROM dir_cookies WHERE dir = ?"),
      anyEntry: p("SELECT 1 FROM entries WHERE dir = ? LIMIT 1"),
      namesOf: p(`SELECT ${ENTRY_COLUMNS} FROM entries WHERE child = ? ORDER BY dir, cookie`),
      orphans: p(`SELECT ${OBJECT_COLUMNS} FROM objects WHERE nlink = 0`),
      getXattr: p("SELECT value FROM xattrs WHERE object = ? AND name = ?"),
      replaceXattr: q("UPDATE xattrs SET value = ? WHERE object = ? AND name = ?"),
      nextXattrCookie: p(
        `INSERT INTO xattr_cookies (object, last) VALUES (?, 1)
         ON CONFLICT (object) DO UPDATE SET last = last + 1 RETURNING last`,
      ),
      addXattr: q("INSERT INTO xattrs (object, name, cookie, value) VALUES (?, ?, ?, ?)"),
      removeXattr: q("DELETE FROM xattrs WHERE object = ? AND name = ?"),
      listXattrs: p(
        "SELECT name, cookie FROM xattrs WHERE object = ? AND cookie > ? ORDER BY cookie LIMIT ?",
      ),
      lastXattrCookie: p("SELECT last FROM xattr_cookies WHERE object = ?"),
      xattrBytes: p(
        `SELECT coalesce(sum(length(CAST(name AS BLOB)) + length(value)), 0)
         FROM xattrs WHERE object = ?`,
      ),
      deleteXattrs: q("DELETE FROM xattrs WHERE object = ?"),
      deleteXattrCookies: q("DELETE FROM xattr_cookies WHERE object = ?"),
    };
  }

  /** SQL snapshots views opened so far (role "read"). */
  get snapshots(): number {
    return this.opened;
  }

  /** Opens the write transaction (role "write"). */
  beginWrite(): void {
    this.control.begin.run();
    this.begun = true;
    this.pending.clear();
    this.pendingEntries.clear();
    this.counters.begin();
  }

  /** Commits it: its counters and object changes become the committed state. */
  commitWrite(): void {
    this.control.commit.run();
    this.begun = false;
    this.counters.commit();
    this.cache.committed(this.pending, this.pendingEntries);
    this.pending.clear();
    this.pendingEntries.clear();
  }

  /** A later member of a batch starts (WriteBatch): its changes can be undone alone. */
  beginNested(): void {
    this.control.savepoint.run();
    this.nested = { objects: new Map(), entries: new Map() };
    this.counters.mark();
  }

  /** It succeeded: its changes join the batch's. */
  releaseNested(): void {
    this.control.release.run();
    this.nested = null;
    this.counters.unmark();
  }

  /** It failed: its rows, pending records and reservations are undone; the batch's stay. */
  rollbackNested(): void {
    const undo = this.nested;
    this.nested = null;
    if (undo !== null) {
      putBack(this.pending, undo.objects);
      putBack(this.pendingEntries, undo.entries);
    }
    this.counters.restoreMark();
    this.control.rollbackTo.run();
    this.control.release.run();
  }

  /** Rolls it back, with its reservations, when it failed or its COMMIT did. */
  rollbackWrite(): void {
    this.nested = null;
    this.pending.clear();
    this.pendingEntries.clear();
    this.begun = false;
    if (this.db.inTransaction) this.control.rollback.run();
    // After COMMIT succeeded nothing is left to undo (counters.rollback() is then a no-op).
    this.counters.rollback();
  }

  /** A view starts; `eager`: open its snapshot now instead of at the first cache miss. */
  startView(eager: boolean): void {
    this.epoch = this.cache.generation;
    this.begun = false;
    if (eager) this.sql();
  }

  endView(): void {
    if (this.begun) this.control.commit.run();
    this.begun = false;
  }

  private setPending(id: ObjectId, record: ObjectRecord | null): void {
    setNoting(this.pending, this.nested?.objects, id, record);
  }

  private setPendingEntry(key: string, entry: EntryRecord | null): void {
    setNoting(this.pendingEntries, this.nested?.entries, key, entry);
  }

  /** Before each change: only the write transaction makes any. */
  private writable(): void {
    if (this.role === "read") throw new ReadOnlyTransactionError();
  }

  /** Before each statement: a view opens its snapshot now, unless a commit came since it started. */
  private sql(): void {
    if (this.begun) return;
    if (this.cache.generation !== this.epoch) throw new ViewRestart();
    this.control.begin.run();
    this.begun = true;
    if (this.role === "read") this.opened++;
  }

  /** Whether the cache holds this transaction's committed state (a view's: only until the next commit). */
  private get cacheCurrent(): boolean {
    return this.role === "write" || this.cache.generation === this.epoch;
  }

  async newObjectId(): Promise<ObjectId> {
    this.writable();
    return this.counters.newObjectId();
  }

  async nextChange(): Promise<bigint> {
    this.writable();
    return this.counters.take("change");
  }

  async getObject(id: ObjectId): Promise<ObjectRecord | null> {
    return this.objectNow(id);
  }

  private objectNow(id: ObjectId): ObjectRecord | null {
    // A view never has pending objects: skip hashing the bigint id for nothing.
    if (this.pending.size > 0) {
      const mine = this.pending.get(id);
      if (mine !== undefined) return mine;
    }
    if (this.cacheCurrent) {
      const cached = this.cache.get(id);
      if (cached !== undefined) return cached;
    }
    this.sql();
    const row = this.s.getObject.get(id);
    if (row === undefined) return null;
    const record = objectFromRow(row);
    // Not changed by this transaction (not pending): the row is the committed state.
    if (this.cacheCurrent) this.cache.remember(record);
    return record;
  }

  async createObject(record: ObjectRecord): Promise<void> {
    this.writable();
    this.s.createObject.run(...objectToRow(record));
    this.counters.counted(1n);
    this.setPending(record.id, record);
  }

  async putObject(record: ObjectRecord): Promise<void> {
    this.writable();
    this.s.putObject.run(...objectToRow(record));
    this.setPending(record.id, record);
  }

  async deleteObject(id: ObjectId): Promise<void> {
    this.writable();
    if (this.s.deleteObject.run(id).changes > 0) this.counters.counted(-1n);
    this.s.deleteCookies.run(id);
    this.s.deleteXattrs.run(id);
    this.s.deleteXattrCookies.run(id);
    this.setPending(id, null);
  }

  async getEntry(dir: ObjectId, name: string): Promise<EntryRecord | null> {
    if (this.pendingEntries.size > 0) {
      const mine = this.pendingEntries.get(entryKey(dir, name));
      if (mine !== undefined) return mine;
    }
    if (this.cacheCurrent) {
      const cached = this.cache.entry(dir, name);
      if (cached !== undefined) return cached;
    }
    this.sql();
    const row = this.s.getEntry.get(dir, name);
    if (row === undefined) return null;
    const entry = entryFromRow(row);
    // Not changed by this transaction (not pending): the row is the committed state.
    if (this.cacheCurrent) this.cache.rememberEntry(entry);
    return entry;
  }

  async addEntry(dir: ObjectId, name: string, child: ObjectId): Promise<bigint> {
    this.writable();
    const cookie = big(columns(this.s.nextCookie.get(dir))[0]);
    this.s.addEntry.run(dir, name, cookie, child);
    this.setPendingEntry(entryKey(dir, name), { dir, name, cookie, child });
    return cookie;
  }

  async removeEntry(dir: ObjectId, name: string): Promise<void> {
    this.writable();
    this.s.removeEntry.run(dir, name);
    this.setPendingEntry(entryKey(dir, name), null);
  }

  async listEntries(dir: ObjectId, after: bigint, limit: number): Promise<EntryRecord[]> {
    this.sql();
    return this.s.list.all(dir, after, limit).map(entryFromRow);
  }

  async listEntriesWithObjects(
    dir: ObjectId,
    after: bigint,
    limit: number,
  ): Promise<ListedEntry[]> {
    // A view may use and extend the cached listing (dir-listings.ts); the
    // write transaction does not: its own entry changes are not in it.
    const cached = this.role === "read" && this.cacheCurrent;
    const names =
      (cached ? this.cache.listings.page(dir, after, limit) : undefined) ??
      this.readNames(dir, after, limit, cached);
    const page = new Array<ListedEntry>(names.length);
    for (let i = 0; i < names.length; i++) {
      const { name, cookie, child } = names[i]!;
      page[i] = { name, cookie, child, object: this.objectNow(child) };
    }
    return page;
  }

  /** listEntriesWithObjects()' names from SQL; `remember`: they are the committed state, for the cache. */
  private readNames(dir: ObjectId, after: bigint, limit: number, remember: boolean): ListedName[] {
    this.sql();
    const names = this.s.listPage.all(dir, after, limit).map((row): ListedName => {
      const c = columns(row);
      return { name: text(c[0]), cookie: big(c[1]), child: big(c[2]) };
    });
    // Still true after sql(): it throws rather than begin a snapshot newer than the cache.
    if (remember) this.cache.listings.read(dir, after, limit, names);
    return names;
  }

  async entryBefore(dir: ObjectId, cookie: bigint): Promise<EntryRecord | null> {
    this.sql();
    const row = this.s.before.get(dir, cookie);
    return row === undefined ? null : entryFromRow(row);
  }

  async hasEntryAfter(dir: ObjectId, cookie: bigint): Promise<boolean> {
    this.sql();
    return this.s.after.get(dir, cookie) !== undefined;
  }

  async cookieIssued(dir: ObjectId, cookie: bigint): Promise<boolean> {
    // Each READDIR after the first page checks its cookie: a view finds it in
    // the cached listing it resumes in, with no SQL snapshot (its BEGIN, SELECT
    // and COMMIT were a tenth of the server's CPU for a 10,000-entry listing).
    // A listing holding a name is dropped by any commit that changes the
    // directory's entries, so the directory still exists; and a directory
    // never takes a cookie back.
    if (this.role === "read" && this.cache.listings.holds(dir, cookie)) return true;
    this.sql();
    const row = this.s.lastCookie.get(dir);
    return row !== undefined && cookie >= FIRST_COOKIE && cookie <= big(columns(row)[0]);
  }

  async isEmpty(dir: ObjectId): Promise<boolean> {
    this.sql();
    return this.s.anyEntry.get(dir) === undefined;
  }

  async namesOf(child: ObjectId): Promise<EntryRecord[]> {
    this.sql();
    return this.s.namesOf.all(child).map(entryFromRow);
  }

  async getXattr(object: ObjectId, name: string): Promise<Uint8Array | null> {
    this.sql();
    const row = this.s.getXattr.get(object, name);
    return row === undefined ? null : (blobOrNull(columns(row)[0]) ?? new Uint8Array(0));
  }

  async setXattr(object: ObjectId, name: string, value: Uint8Array): Promise<void> {
    this.writable();
    // SQLite copies a bound blob, so `value` may be a view into a receive buffer.
    if (this.s.replaceXattr.run(value, object, name).changes > 0) return;
    const cookie = big(columns(this.s.nextXattrCookie.get(object))[0]);
    this.s.addXattr.run(object, name, cookie, value);
  }

  async removeXattr(object: ObjectId, name: string): Promise<void> {
    this.writable();
    this.s.removeXattr.run(object, name);
  }

  async listXattrs(object: ObjectId, after: bigint, limit: number): Promise<XattrKeyRecord[]> {
    this.sql();
    return this.s.listXattrs.all(object, after, limit).map((row) => {
      const c = columns(row);
      return { name: text(c[0]), cookie: big(c[1]) };
    });
  }

  async xattrCookieIssued(object: ObjectId, cookie: bigint): Promise<boolean> {
    this.sql();
    const row = this.s.lastXattrCookie.get(object);
    return row !== undefined && cookie >= 1n && cookie <= big(columns(row)[0]);
  }

  async xattrBytes(object: ObjectId): Promise<number> {
    this.sql();
    return Number(big(columns(this.s.xattrBytes.get(object))[0]));
  }

  async objectCount(): Promise<bigint> {
    return this.counters.objects(this.role === "write");
  }

  async orphans(): Promise<ObjectRecord[]> {
    this.sql();
    return this.s.orphans.all().map(objectFromRow);
  }
}

/**
 * Sets `key` in `map`, first noting in `before` (a savepoint's undo record,
 * when one is open) what the key held when the savepoint began.
 */
function setNoting<K, V>(
  map: Map<K, V>,
  before: Map<K, V | undefined> | undefined,
  key: K,
  value: V,
): void {
  if (before !== undefined && !before.has(key)) before.set(key, map.get(key));
  map.set(key, value);
}

/** Puts back into `map` what `before` says each key held (undefined: nothing). */
function putBack<K, V>(map: Map<K, V>, before: Map<K, V | undefined>): void {
  for (const [key, value] of before) {
    if (value === undefined) map.delete(key);
    else map.set(key, value);
  }
}

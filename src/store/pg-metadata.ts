// The PostgreSQL MetadataStore (issue 11): the namespace, attributes,
// cookies, extended attributes and client recovery records in a database
// that several server processes can reach.
//
// - Schema: versioned migrations (pg-schema.ts) applied at open under an
//   advisory lock, so servers starting together upgrade once.
// - One transaction per namespace operation, one at a time in a process (the
//   interface's promise: see serializable()), SERIALIZABLE: PostgreSQL aborts
//   (SQLSTATE 40001, or 40P01 for a deadlock) whichever of two concurrent
//   transactions would make the outcome differ from some serial order — a
//   RENAME racing a REMOVE or a second RENAME, from this process or another,
//   never leaves a cycle, a lost entry or a directory with entries removed.
//   The aborted one runs again from the start (maxAttempts in all); past
//   that the operation answers NFS4ERR_DELAY and the client retries.
// - Durable before done: synchronous_commit is on for this store's sessions,
//   so COMMIT returns once the commit record is flushed to disk.
// - Views run REPEATABLE READ READ ONLY: one snapshot, no locks taken.
// - Decoded object records and entries found by name are cached
//   (object-cache.ts) while the lease is surely this server's (only its
//   holder writes): a view answered from the cache takes no connection and
//   runs no SQL. Its first cache miss runs alone, outside a transaction (one
//   round trip, not three), when no commit is under way; a second begins the
//   transaction. If a commit started since the view did (or since its first
//   statement), a view that already used what it read runs again without the
//   cache. A commit forgets what it changes before its COMMIT is
//   sent (a view's snapshot may see it before the reply comes back) and
//   caches the new records once it returns.
// - Ids, change values and cookies never repeat: ids and change values come
//   from sequences (never rolled back), SEQUENCE_BLOCK at a time per
//   statement, handed out in order by the one writer (a restart skips what
//   was reserved and unused: values are skipped, never repeated, and change
//   values only grow, RFC 8881 §5.8.1.4); cookies from per-directory rows.
// - Handles and fileids have the SQLite store's form (store id + object id).

import { randomBytes, randomUUID } from "node:crypto";
import { hostname } from "node:os";
import pg from "pg";
import { nfsstat4 } from "../../generated/nfs4/index.js";
import { FIRST_COOKIE, FsError } from "../fs/backend.js";
import {
  ROOT_ID,
  STORE_ID_BYTES,
  ReadOnlyTransactionError,
  type EntryRecord,
  type ListedEntry,
  type MetadataStore,
  type MetadataTx,
  type ObjectId,
  type ObjectRecord,
  type StoreIdentity,
  type TransactOptions,
  type XattrKeyRecord,
} from "./metadata.js";
import { ObjectCache, ViewRestart, entryKey } from "./object-cache.js";
import { StoreLease } from "./pg-lease.js";
import { migrate, OBJECT_COUNT_SHARDS } from "./pg-schema.js";
import type { ClientRecoveryRecord, ClientRecoveryStore } from "./recovery.js";
import { DEFAULT_STORE_SETTINGS } from "./settings.js";
import {
  CorruptStoreError,
  ENTRY_COLUMNS,
  OBJECT_COLUMNS,
  big,
  blobOrNull,
  clientFromRow,
  columns,
  entryFromRow,
  int,
  objectFromRow,
  objectToRow,
  text,
} from "./sql-rows.js";

export interface PgStoreOptions {
  /** Connections the store keeps to the database at most. */
  readonly poolSize: number;
  /** Runs of a transaction PostgreSQL aborts for a conflict, before NFS4ERR_DELAY. */
  readonly maxAttempts: number;
  /** Milliseconds to wait for a connection to the database before the operation fails. */
  readonly connectTimeoutMs: number;
  /** The serving lease (pg-lease.ts): its length, and whether to wait for it as a standby. */
  readonly leaseSec: number;
  readonly standby: boolean;
  /**
   * Who holds the lease: the same name takes a lease it held at once (a
   * restart after a crash); "" (the default): a name of this open alone.
   */
  readonly leaseHolder: string;
  /** Called if another server took the store over: this one must stop serving. */
  readonly onLeaseLost: (why: string) => void;
  /**
   * Object records, and as many entries, kept in memory (store.objectCacheEntries);
   * 0: none (tests of two stores writing one database at once need none).
   */
  readonly objectCacheEntries: number;
}

export const PG_STORE_DEFAULTS: PgStoreOptions = {
  poolSize: DEFAULT_STORE_SETTINGS.postgresPoolSize,
  maxAttempts: 10,
  connectTimeoutMs: 10_000,
  leaseSec: DEFAULT_STORE_SETTINGS.postgresLeaseSec,
  standby: false,
  leaseHolder: "",
  onLeaseLost: () => undefined,
  objectCacheEntries: DEFAULT_STORE_SETTINGS.objectCacheEntries,
};

/** int2, int4, int8 and numeric (sums): every integer the store reads is a bigint (sql-rows.ts). */
const INTEGER_TYPES = new Set<number>([21, 23, 20, 1700]);
const parseInteger = (value: string): bigint => BigInt(value);

const BEGIN_WRITE = "BEGIN ISOLATION LEVEL SERIALIZABLE";
const BEGIN_VIEW = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY";

/** The longest wait before a transaction aborted for a conflict runs again, ms. */
const MAX_RETRY_WAIT_MS = 200;

/** SQLSTATEs after which a transaction may simply run again. */
const RETRYABLE = new Set(["40001", "40P01"]);

/** A storage failure of PostgreSQL as the NFS status the operation answers (RFC 8881 §15.1). */
export function pgFailure(e: unknown): unknown {
  if (e instanceof FsError || !(e instanceof Error) || !("code" in e)) return e;
  const code = e.code;
  if (typeof code !== "string") return e;
  const status =
    code === "53100"
      ? nfsstat4.NFS4ERR_NOSPC
      : RETRYABLE.has(code) ||
          code.startsWith("08") || // connection exception
          code.startsWith("53") || // insufficient resources (connections, memory)
          code.startsWith("57P") || // shutting down, restarting, not accepting connections
          code === "ECONNREFUSED" ||
          code === "ECONNRESET"
        ? nfsstat4.NFS4ERR_DELAY
        : /^[0-9A-Z]{5}$/.test(code)
          ? nfsstat4.NFS4ERR_IO
          : undefined;
  return status === undefined ? e : new FsError(status, `PostgreSQL ${code}: ${e.message}`);
}

export class PgMetadataStore implements MetadataStore {
  readonly kind = "postgres";
  readonly identity: StoreIdentity;
  readonly clients: ClientRecoveryStore;
  private closed = false;
  /** The tail of the write transactions' queue (serializable()). */
  private writeQueue: Promise<unknown> = Promise.resolve();
  private readonly cache: ObjectCache;
  private readonly writer: WriterState = {
    ids: new Reserved(),
    changes: new Reserved(),
    objects: null,
    committing: 0,
  };

  private constructor(
    private readonly pool: pg.Pool,
    storeId: Uint8Array,
    private readonly options: PgStoreOptions,
    private readonly lease: StoreLease,
  ) {
    this.identity = { storeId, rootId: ROOT_ID };
    this.clients = new PgClientRecovery((work) => this.serializable(work));
    this.cache = new ObjectCache(options.objectCacheEntries);
  }

  /**
   * Connects to the database at `url`, creating or upgrading the schema.
   * Fails (with the server's message) when the database cannot be reached or
   * the credentials are refused: a bad URL is an error at start, not at the
   * first request.
   */
  static async open(url: string, options: Partial<PgStoreOptions> = {}): Promise<PgMetadataStore> {
    const o = { ...PG_STORE_DEFAULTS, ...options };
    const pool = new pg.Pool({
      connectionString: url,
      max: o.poolSize,
      connectionTimeoutMillis: o.connectTimeoutMs,
      types: {
        getTypeParser: (oid, format) =>
          INTEGER_TYPES.has(oid) ? parseInteger : pg.types.getTypeParser(oid, format),
      },
      // Whatever the server's default: a commit is durable before it is acknowledged.
      options: "-c synchronous_commit=on",
    });
    // An idle connection the server drops is an event, not a crash: the pool replaces it.
    pool.on("error", () => undefined);
    try {
      const client = await pool.connect();
      let storeId: Uint8Array;
      try {
        storeId = await migrate(client, () => randomBytes(STORE_ID_BYTES));
      } finally {
        client.release();
      }
      if (storeId.length !== STORE_ID_BYTES) throw new CorruptStoreError("bad store id");
      const holder =
        o.leaseHolder || `${hostname()} pid ${process.pid} (${randomUUID().slice(0, 8)})`;
      const lease = await StoreLease.acquire(pool, holder, {
        ttlSec: o.leaseSec,
        standby: o.standby,
        onLost: o.onLeaseLost,
      });
      return new PgMetadataStore(pool, storeId, o, lease);
    } catch (e) {
      await pool.end().catch(() => undefined);
      throw e;
    }
  }

  /** Object records in the cache now (for tests). */
  get cachedObjects(): number {
    return this.cache.size;
  }

  /** Every commit is durable when it returns (PostgreSQL's synchronous_commit): `options` change nothing. */
  transact<T>(work: (tx: MetadataTx) => Promise<T>, _options?: TransactOptions): Promise<T> {
    let tx: PgTx | null = null;
    return this.serializable(
      (client) => {
        // A new one per attempt: an aborted attempt's changes never reach the cache.
        tx = new PgTx(
          { client: async () => client },
          "write",
          this.pool,
          this.cache,
          this.cacheUsable(),
          this.writer,
        );
        return work(tx);
      },
      {
        before: () => tx?.committing(),
        after: (committed) => tx?.ended(committed),
      },
    );
  }

  /** Nothing to do: every commit was durable when transact() returned. */
  async sync(): Promise<void> {}

  async view<T>(work: (tx: MetadataTx) => Promise<T>): Promise<T> {
    // First with the cache; without it if a commit overtook the view (ViewRestart).
    for (let cached = true; ; cached = false) {
      if (this.closed) throw new Error("the PostgreSQL store is closed");
      const connection = new ViewConnection(this.pool);
      const tx = new PgTx(
        connection,
        "read",
        this.pool,
        this.cache,
        cached && this.cacheUsable(),
        this.writer,
      );
      try {
        const result = await work(tx);
        await connection.end(true);
        return result;
      } catch (e) {
        await connection.end(false);
        if (cached && e instanceof ViewRestart) continue;
        throw pgFailure(e);
      }
    }
  }

  /**
   * Whether reads may use the cache: while what it holds is surely still what
   * is committed (pg-lease.ts). Writes keep it up to date whether or not.
   */
  private cacheUsable(): boolean {
    return this.cache.capacity > 0 && this.lease.surelyHeld;
  }

  /**
   * Runs `work` in a SERIALIZABLE transaction, again when PostgreSQL aborts
   * it for a conflict. It commits only while this server holds the lease.
   */
  private serializable<T>(
    work: (client: pg.ClientBase) => Promise<T>,
    commit?: CommitHooks,
  ): Promise<T> {
    // One write transaction at a time in this process, as the interface
    // promises (metadata.ts): StoreFileSystem changes payloads inside its
    // transactions (WRITE's data, a hole's truncation), and two of one file
    // interleaving would let an attempt PostgreSQL then aborts cut data the
    // other had written and committed. Only one server writes (the lease).
    const run = (): Promise<T> => this.attempts(work, commit);
    const done = this.writeQueue.then(run, run);
    this.writeQueue = done.catch(() => undefined);
    return done;
  }

  private async attempts<T>(
    work: (client: pg.ClientBase) => Promise<T>,
    commit?: CommitHooks,
  ): Promise<T> {
    const fenced = async (client: pg.ClientBase): Promise<T> => {
      const result = await work(client);
      await this.lease.check(client);
      return result;
    };
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.inTransaction(BEGIN_WRITE, fenced, commit);
      } catch (e) {
        if (!isRetryable(e) || attempt >= this.options.maxAttempts) throw pgFailure(e);
        // Both sides of a conflict retrying at once would likely collide
        // again: random, growing waits, up to longer than a transaction
        // takes on a loaded machine (in CI, a conflict outlasted ten retries
        // whose waits stopped growing at 50 ms). Nine waits: 0.85 s at most.
        await sleep(Math.random() * Math.min(MAX_RETRY_WAIT_MS, 2 ** (attempt + 1)));
      }
    }
  }

  /** Runs `work` in one transaction on a connection of its own. */
  private async inTransaction<T>(
    begin: string,
    work: (client: pg.ClientBase) => Promise<T>,
    commit?: CommitHooks,
  ): Promise<T> {
    if (this.closed) throw new Error("the PostgreSQL store is closed");
    const client = await this.pool.connect();
    let broken = false;
    try {
      await client.query(begin);
      try {
        const result = await work(client);
        commit?.before();
        try {
          await client.query("COMMIT");
        } catch (e) {
          // Committed or not: unknown (the connection may have failed after the server committed).
          commit?.after(false);
          throw e;
        }
        commit?.after(true);
        return result;
      } catch (e) {
        await client.query("ROLLBACK").catch(() => {
          broken = true;
        });
        throw e;
      }
    } catch (e) {
      // A failure that is not an answer or a conflict may have left the connection unusable.
      if (!(e instanceof FsError) && !(e instanceof ReadOnlyTransactionError) && !isRetryable(e))
        broken = true;
      throw e;
    } finally {
      // A connection whose state is unknown is closed rather than reused.
      client.release(broken);
    }
  }

  /** Gives up the lease (a standby takes over at once) and closes the connections. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.lease.release();
    await this.pool.end();
  }
}

/** Sequence values taken by one statement, and handed out one by one. */
const SEQUENCE_BLOCK = 64;

/** Values of a sequence reserved and not yet handed out, in order. */
class Reserved {
  private values: bigint[] = [];
  private used = 0;

  /** The next value; `reserve` takes SEQUENCE_BLOCK more when none is left. */
  async take(reserve: (n: number) => Promise<unknown[][]>): Promise<bigint> {
    if (this.used === this.values.length) {
      const rows = await reserve(SEQUENCE_BLOCK);
      // Handed out smallest first, whatever order the rows came in.
      this.values = rows.map((row) => big(columns(row)[0])).sort((a, b) => (a < b ? -1 : 1));
      this.used = 0;
    }
    return this.values[this.used++]!;
  }
}

/** What the one writer keeps of the store between transactions. */
interface WriterState {
  /** Reserved object ids and change values. */
  readonly ids: Reserved;
  readonly changes: Reserved;
  /**
   * The committed number of objects, once a write transaction read it while
   * the cache was usable (then kept up by each commit); null: ask the database.
   */
  objects: bigint | null;
  /** COMMITs sent and not yet returned (0 or 1: writes run one at a time). */
  committing: number;
}

/** What a write transaction does about its COMMIT (the cache's side of it). */
interface CommitHooks {
  /** Just before COMMIT is sent. */
  before(): void;
  /** Once it returned: `committed` false when it failed (the outcome is then unknown). */
  after(committed: boolean): void;
}

/**
 * A view's connection and transaction, taken at its first statement: a view
 * the cache answers whole needs neither.
 */
class ViewConnection implements Session {
  private taken: Promise<pg.PoolClient> | null = null;
  private began: Promise<void> | null = null;

  constructor(private readonly pool: pg.Pool) {}

  /** The connection; with `transaction`, inside the view's transaction (begun once). */
  async client(transaction: boolean): Promise<pg.ClientBase> {
    this.taken ??= this.pool.connect();
    const client = await this.taken;
    if (transaction) {
      this.began ??= client.query(BEGIN_VIEW).then(() => undefined);
      await this.began;
    }
    return client;
  }

  /** Ends the transaction (if one began) and gives the connection back. */
  async end(ok: boolean): Promise<void> {
    if (this.taken === null) return;
    let client: pg.PoolClient;
    try {
      client = await this.taken;
    } catch {
      return; // never connected
    }
    let broken = false;
    // A read-only transaction changes nothing: COMMIT and ROLLBACK only end it.
    if (this.began !== null)
      await this.began
        .then(() => client.query(ok ? "COMMIT" : "ROLLBACK"))
        .catch(() => {
          broken = true;
        });
    client.release(broken);
  }
}

/** Where a transaction's statements go: a write's connection, or a view's (ViewConnection). */
interface Session {
  /** The connection, inside the transaction when `transaction` (a write's always is). */
  client(transaction: boolean): Promise<pg.ClientBase>;
}

/**
 * The row of object_counts a create or delete counts in, one of
 * OBJECT_COUNT_SHARDS picked at random: concurrent creates rarely update the
 * same row (which would abort one of them).
 */
function countShard(): number {
  return Math.floor(Math.random() * OBJECT_COUNT_SHARDS);
}

function isRetryable(e: unknown): boolean {
  return e instanceof Error && "code" in e && typeof e.code === "string" && RETRYABLE.has(e.code);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Rows of `sql` as arrays of column values, from a statement prepared once per connection. */
async function query(
  client: pg.ClientBase,
  name: string,
  sql: string,
  values: readonly unknown[],
): Promise<unknown[][]> {
  const r = await client.query<unknown[]>({
    name,
    text: sql,
    values: values.map(param),
    rowMode: "array",
  });
  return r.rows;
}

/** A parameter as pg sends it: bytes as a Buffer over the same memory (pg copies it into the message). */
function param(v: unknown): unknown {
  return v instanceof Uint8Array && !Buffer.isBuffer(v)
    ? Buffer.from(v.buffer, v.byteOffset, v.byteLength)
    : v;
}

const OBJECT_COLUMN_COUNT = OBJECT_COLUMNS.split(",").length;
const PLACEHOLDERS = OBJECT_COLUMNS.split(",")
  .map((_, i) => `$${i + 1}`)
  .join(", ");

const SQL = {
  getObject: `SELECT ${OBJECT_COLUMNS} FROM objects WHERE id = $1`,
  getObjects: `SELECT ${OBJECT_COLUMNS} FROM objects WHERE id = ANY($1::bigint[])`,
  // Counted in the same statement: shard $${OBJECT_COLUMN_COUNT + 1} (countShard()).
  createObject: `WITH counted AS (UPDATE object_counts SET n = n + 1 WHERE shard = $${OBJECT_COLUMN_COUNT + 1})
    INSERT INTO objects (${OBJECT_COLUMNS}) VALUES (${PLACEHOLDERS})`,
  putObject: `UPDATE objects SET (${OBJECT_COLUMNS}) = (${PLACEHOLDERS}) WHERE id = $1`,
  // With what belongs to it, and counted (shard $2), in one statement (each
  // WITH … DELETE runs whether or not it is read); answers how many went (0 or 1).
  deleteObject: `WITH cookies AS (DELETE FROM dir_cookies WHERE dir = $1),
    xattrs AS (DELETE FROM xattrs WHERE object = $1),
    xattr_cookies AS (DELETE FROM xattr_cookies WHERE object = $1),
    gone AS (DELETE FROM objects WHERE id = $1 RETURNING 1)
    UPDATE object_counts SET n = n - (SELECT count(*) FROM gone) WHERE shard = $2
    RETURNING (SELECT count(*) FROM gone)`,
  reserveIds: "SELECT nextval('object_ids') FROM generate_series(1, $1)",
  reserveChanges: "SELECT nextval('change_values') FROM generate_series(1, $1)",
  getEntry: `SELECT ${ENTRY_COLUMNS} FROM entries WHERE dir = $1 AND name = $2`,
  // The directory's next cookie and the entry, in one statement.
  addEntry: `WITH issued AS (INSERT INTO dir_cookies (dir, last) VALUES ($1, ${FIRST_COOKIE})
      ON CONFLICT (dir) DO UPDATE SET last = dir_cookies.last + 1 RETURNING last)
    INSERT INTO entries (dir, name, cookie, child) SELECT $1, $2::text, last, $3::bigint FROM issued
    RETURNING cookie`,
  removeEntry: "DELETE FROM entries WHERE dir = $1 AND name = $2",
  list: `SELECT ${ENTRY_COLUMNS} FROM entries WHERE dir = $1 AND cookie > $2 ORDER BY cookie LIMIT $3`,
  before: `SELECT ${ENTRY_COLUMNS} FROM entries WHERE dir = $1 AND cookie < $2 ORDER BY cookie DESC LIMIT 1`,
  after: "SELECT 1 FROM entries WHERE dir = $1 AND cookie > $2 LIMIT 1",
  lastCookie: "SELECT last FROM dir_cookies WHERE dir = $1",
  anyEntry: "SELECT 1 FROM entries WHERE dir = $1 LIMIT 1",
  namesOf: `SELECT ${ENTRY_COLUMNS} FROM entries WHERE child = $1 ORDER BY dir, cookie`,
  orphans: `SELECT ${OBJECT_COLUMNS} FROM objects WHERE nlink = 0`,
  getXattr: "SELECT value FROM xattrs WHERE object = $1 AND name = $2",
  replaceXattr: "UPDATE xattrs SET value = $3 WHERE object = $1 AND name = $2",
  nextXattrCookie: `INSERT INTO xattr_cookies (object, last) VALUES ($1, 1)
    ON CONFLICT (object) DO UPDATE SET last = xattr_cookies.last + 1 RETURNING last`,
  addXattr: "INSERT INTO xattrs (object, name, cookie, value) VALUES ($1, $2, $3, $4)",
  removeXattr: "DELETE FROM xattrs WHERE object = $1 AND name = $2",
  listXattrs:
    "SELECT name, cookie FROM xattrs WHERE object = $1 AND cookie > $2 ORDER BY cookie LIMIT $3",
  lastXattrCookie: "SELECT last FROM xattr_cookies WHERE object = $1",
  xattrBytes:
    "SELECT coalesce(sum(octet_length(name) + octet_length(value)), 0) FROM xattrs WHERE object = $1",
  objectCount: "SELECT coalesce(sum(n), 0) FROM object_counts",
} as const;

type Statement = keyof typeof SQL;

/**
 * The statements of one transaction, on the connection `connect` gives (a
 * view's at its first statement). A write's changes reach the store's
 * `cache` once it committed; reads use the cache while `useCache` (a view's:
 * only while no commit came since it started).
 */
class PgTx implements MetadataTx {
  /** Objects this transaction made less those it deleted. */
  private counted = 0n;
  /** Its object changes (null: deleted), for the cache at commit. */
  private readonly pending = new Map<ObjectId, ObjectRecord | null>();
  /** Its entry changes by entryKey (null: removed). */
  private readonly pendingEntries = new Map<string, EntryRecord | null>();
  /** The cache's generation when it started (a view's test of whether a commit came since). */
  private readonly epoch: number;
  /** Whether a view answered anything from the cache. */
  private usedCache = false;
  /** Whether a view's snapshot was taken (its first statement ran). */
  private snapshotTaken = false;
  /** The cache's generation when a view's first statement, run alone, was sent; else null. */
  private aloneAt: number | null = null;

  constructor(
    private readonly session: Session,
    private readonly role: "write" | "read",
    private readonly pool: pg.Pool,
    private readonly cache: ObjectCache,
    private useCache: boolean,
    private readonly writer: WriterState,
  ) {
    this.epoch = cache.generation;
  }

  private async run(statement: Statement, ...values: unknown[]): Promise<unknown[][]> {
    if (this.role === "write")
      return query(await this.session.client(true), statement, SQL[statement], values);
    // A view's first statement runs alone, outside any transaction, when no
    // commit is under way and only this process writes (the cache is
    // usable): most views need no second. A second begins the transaction;
    // its snapshot matches the first's unless a commit began since (any that
    // landed between them did), and then the view runs again.
    const first = !this.snapshotTaken;
    const alone = first && this.useCache && this.writer.committing === 0;
    const generation = this.cache.generation;
    const rows = await query(await this.session.client(!alone), statement, SQL[statement], values);
    if (alone) this.aloneAt = generation;
    else if (this.aloneAt !== null && this.cache.generation !== this.aloneAt) {
      throw new ViewRestart();
    }
    if (first) {
      // The snapshot was taken by this statement: if a commit began since the
      // view did, the snapshot may hold it, and the cache hits already used may not.
      this.snapshotTaken = true;
      if (this.useCache && this.cache.generation !== this.epoch) {
        if (this.usedCache) throw new ViewRestart();
        this.useCache = false;
      }
    }
    return rows;
  }

  /** The cache, while it holds this transaction's committed state (a view's: until a commit). */
  private current(): ObjectCache | null {
    const c = this.cache;
    return this.useCache && (this.role === "write" || c.generation === this.epoch) ? c : null;
  }

  /** A write's COMMIT is about to be sent: what it changes leaves the cache now. */
  committing(): void {
    this.writer.committing++;
    this.cache.forget(this.pending.keys(), this.pendingEntries.keys());
  }

  /** Its COMMIT returned: the changes are the committed state (or, failed, unknown: forgotten). */
  ended(committed: boolean): void {
    this.writer.committing--;
    if (committed) {
      this.cache.committed(this.pending, this.pendingEntries);
      if (this.writer.objects !== null) this.writer.objects += this.counted;
    } else {
      this.cache.forget(this.pending.keys(), this.pendingEntries.keys());
      this.writer.objects = null;
    }
  }

  private async one(statement: Statement, ...values: unknown[]): Promise<unknown[] | null> {
    return (await this.run(statement, ...values))[0] ?? null;
  }

  private writable(): void {
    if (this.role === "read") throw new ReadOnlyTransactionError();
  }

  async newObjectId(): Promise<ObjectId> {
    this.writable();
    return this.writer.ids.take((n) => this.run("reserveIds", n));
  }

  async nextChange(): Promise<bigint> {
    this.writable();
    return this.writer.changes.take((n) => this.run("reserveChanges", n));
  }

  /** getObject() of each id, in order, with one query for those not cached (listEntriesWithObjects). */
  private async getObjects(ids: readonly ObjectId[]): Promise<(ObjectRecord | null)[]> {
    const found = new Map<ObjectId, ObjectRecord | null>();
    const missing: ObjectId[] = [];
    for (const id of ids) {
      const known = this.known(id);
      if (known !== undefined) found.set(id, known);
      else missing.push(id);
    }
    if (missing.length > 0) {
      // One round trip for the page (a READDIR of 1000 entries made 1000).
      for (const row of await this.run("getObjects", missing.map(String))) {
        const record = objectFromRow(row);
        found.set(record.id, record);
        // Not changed by this transaction (not pending): the row is the committed state.
        this.current()?.remember(record);
      }
    }
    return ids.map((id) => found.get(id) ?? null);
  }

  /**
   * This transaction's own version of `id` (null: deleted by it), else the
   * cached committed one; undefined: ask the database.
   */
  private known(id: ObjectId): ObjectRecord | null | undefined {
    const mine = this.pending.get(id);
    if (mine !== undefined) return mine;
    const hit = this.current()?.get(id);
    if (hit !== undefined) this.usedCache = true;
    return hit;
  }

  async getObject(id: ObjectId): Promise<ObjectRecord | null> {
    const known = this.known(id);
    if (known !== undefined) return known;
    const row = await this.one("getObject", id);
    if (row === null) return null;
    const record = objectFromRow(row);
    // Not changed by this transaction (not pending): the row is the committed state.
    this.current()?.remember(record);
    return record;
  }

  async createObject(record: ObjectRecord): Promise<void> {
    this.writable();
    await this.run("createObject", ...objectToRow(record), countShard());
    this.counted += 1n;
    this.pending.set(record.id, record);
  }

  async putObject(record: ObjectRecord): Promise<void> {
    this.writable();
    await this.run("putObject", ...objectToRow(record));
    this.pending.set(record.id, record);
  }

  async deleteObject(id: ObjectId): Promise<void> {
    this.writable();
    const gone = big(columns(await this.one("deleteObject", id, countShard()))[0]);
    this.pending.set(id, null);
    this.counted -= gone;
  }

  async getEntry(dir: ObjectId, name: string): Promise<EntryRecord | null> {
    if (this.pendingEntries.size > 0) {
      const mine = this.pendingEntries.get(entryKey(dir, name));
      if (mine !== undefined) return mine;
    }
    const hit = this.current()?.entry(dir, name);
    if (hit !== undefined) {
      this.usedCache = true;
      return hit;
    }
    const row = await this.one("getEntry", dir, name);
    if (row === null) {
      this.current()?.rememberAbsent(dir, name);
      return null;
    }
    const entry = entryFromRow(row);
    // Not changed by this transaction (not pending): the row is the committed state.
    this.current()?.rememberEntry(entry);
    return entry;
  }

  async addEntry(dir: ObjectId, name: string, child: ObjectId): Promise<bigint> {
    this.writable();
    const cookie = big(columns(await this.one("addEntry", dir, name, child))[0]);
    this.pendingEntries.set(entryKey(dir, name), { dir, name, cookie, child });
    return cookie;
  }

  async removeEntry(dir: ObjectId, name: string): Promise<void> {
    this.writable();
    await this.run("removeEntry", dir, name);
    this.pendingEntries.set(entryKey(dir, name), null);
  }

  async listEntries(dir: ObjectId, after: bigint, limit: number): Promise<EntryRecord[]> {
    return (await this.run("list", dir, after, limit)).map(entryFromRow);
  }

  async listEntriesWithObjects(
    dir: ObjectId,
    after: bigint,
    limit: number,
  ): Promise<ListedEntry[]> {
    const entries = await this.listEntries(dir, after, limit);
    const objects = await this.getObjects(entries.map((e) => e.child));
    return entries.map((e, i) => ({
      name: e.name,
      cookie: e.cookie,
      child: e.child,
      object: objects[i] ?? null,
    }));
  }

  async entryBefore(dir: ObjectId, cookie: bigint): Promise<EntryRecord | null> {
    const row = await this.one("before", dir, cookie);
    return row === null ? null : entryFromRow(row);
  }

  async hasEntryAfter(dir: ObjectId, cookie: bigint): Promise<boolean> {
    return (await this.one("after", dir, cookie)) !== null;
  }

  async cookieIssued(dir: ObjectId, cookie: bigint): Promise<boolean> {
    const row = await this.one("lastCookie", dir);
    return row !== null && cookie >= FIRST_COOKIE && cookie <= big(columns(row)[0]);
  }

  async isEmpty(dir: ObjectId): Promise<boolean> {
    return (await this.one("anyEntry", dir)) === null;
  }

  async namesOf(child: ObjectId): Promise<EntryRecord[]> {
    return (await this.run("namesOf", child)).map(entryFromRow);
  }

  async getXattr(object: ObjectId, name: string): Promise<Uint8Array | null> {
    const row = await this.one("getXattr", object, name);
    return row === null ? null : (blobOrNull(columns(row)[0]) ?? new Uint8Array(0));
  }

  async setXattr(object: ObjectId, name: string, value: Uint8Array): Promise<void> {
    this.writable();
    const r = await (
      await this.session.client(true)
    ).query({
      name: "replaceXattr",
      text: SQL.replaceXattr,
      values: [object, name, param(value)],
    });
    if ((r.rowCount ?? 0) > 0) return;
    const cookie = big(columns(await this.one("nextXattrCookie", object))[0]);
    await this.run("addXattr", object, name, cookie, value);
  }

  async removeXattr(object: ObjectId, name: string): Promise<void> {
    this.writable();
    await this.run("removeXattr", object, name);
  }

  async listXattrs(object: ObjectId, after: bigint, limit: number): Promise<XattrKeyRecord[]> {
    return (await this.run("listXattrs", object, after, limit)).map((row) => {
      const c = columns(row);
      return { name: text(c[0]), cookie: big(c[1]) };
    });
  }

  async xattrCookieIssued(object: ObjectId, cookie: bigint): Promise<boolean> {
    const row = await this.one("lastXattrCookie", object);
    return row !== null && cookie >= 1n && cookie <= big(columns(row)[0]);
  }

  async xattrBytes(object: ObjectId): Promise<number> {
    return int(columns(await this.one("xattrBytes", object))[0]);
  }

  /**
   * The committed count is read outside this transaction, from the latest
   * commits: reading every count row inside a SERIALIZABLE transaction would
   * make it conflict with every concurrent create and delete. Like any count
   * under concurrency it may miss objects being made at this moment (maxFiles
   * is approximate by those); this transaction's own creates and deletes are
   * added in. While the cache is usable (only this process writes), the
   * count a write transaction read is kept and kept up by each commit.
   */
  async objectCount(): Promise<bigint> {
    const known = this.useCache ? this.writer.objects : null;
    if (known !== null) return known + this.counted;
    const r = await this.pool.query<unknown[]>({ text: SQL.objectCount, rowMode: "array" });
    const committed = big(columns(r.rows[0])[0]);
    // A view's read may race a commit under way: only a write's (none is then) is kept.
    if (this.role === "write" && this.useCache) this.writer.objects = committed;
    return committed + this.counted;
  }

  async orphans(): Promise<ObjectRecord[]> {
    return (await this.run("orphans")).map(objectFromRow);
  }
}

/**
 * The clients table. Each write is a transaction of its own (never inside a
 * namespace operation's), durable when its promise resolves.
 */
class PgClientRecovery implements ClientRecoveryStore {
  constructor(
    private readonly inTransaction: <T>(work: (c: pg.ClientBase) => Promise<T>) => Promise<T>,
  ) {}

  list(): Promise<ClientRecoveryRecord[]> {
    return this.inTransaction(async (c) =>
      (
        await query(c, "listClients", "SELECT owner_id, principal, recorded_at FROM clients", [])
      ).map(clientFromRow),
    );
  }

  async add(record: ClientRecoveryRecord): Promise<void> {
    await this.inTransaction((c) =>
      query(
        c,
        "addClient",
        `INSERT INTO clients (owner_id, principal, recorded_at) VALUES ($1, $2, $3)
         ON CONFLICT (owner_id) DO UPDATE SET principal = $2, recorded_at = $3`,
        [record.ownerId, record.principal, BigInt(Math.floor(record.recordedAt))],
      ),
    );
  }

  async remove(ownerId: Uint8Array): Promise<void> {
    await this.inTransaction((c) =>
      query(c, "removeClient", "DELETE FROM clients WHERE owner_id = $1", [ownerId]),
    );
  }
}

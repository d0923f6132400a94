// The PostgreSQL metadata store (src/store/pg-metadata.ts) on a throwaway
// cluster (test/support/postgres.ts): the backend conformance suite, as on
// memory and SQLite, and what only a shared database shows.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { nfsstat4 } from "../../generated/nfs4/index.js";
import { FsError, type CreateAttributes, type FileSystem } from "../../src/fs/backend.js";
import { LocalPayloadStore } from "../../src/store/local-payload.js";
import {
  ROOT_ID,
  ReadOnlyTransactionError,
  type MetadataTx,
  type ObjectId,
} from "../../src/store/metadata.js";
import { PgMetadataStore, pgFailure } from "../../src/store/pg-metadata.js";
import { StoreFileSystem } from "../../src/store/store-fs.js";
import { describeBackendConformance } from "../fs/conformance.js";
import { checkListEntriesWithObjects } from "./listed-entries.js";
import { postgresMissing, startPostgres, type PostgresCluster } from "../support/postgres.js";

const missing = postgresMissing();
if (missing !== null) {
  // CI installs PostgreSQL (.ci/run) and sets DFS_REQUIRE_SERVICES: there this is a failure.
  if (process.env["DFS_REQUIRE_SERVICES"] === "1") throw new Error(`PostgreSQL tests: ${missing}`);
  console.warn(`\n*** SKIPPING the PostgreSQL store tests: ${missing} ***\n`);
}

const ATTRS: CreateAttributes = { mode: 0o644, uid: 0, gid: 0 };
const enc = new TextEncoder();

/**
 * `op` as a client runs it: again while the server answers NFS4ERR_DELAY (RFC
 * 8881 §15.1.1.3), which a store gives when a conflict outlasts its retries
 * (on a loaded machine, two transactions can abort each other a few times).
 */
async function asClient<T>(op: () => Promise<T>): Promise<T> {
  for (let tries = 1; ; tries++) {
    try {
      return await op();
    } catch (e) {
      if (!(e instanceof FsError) || e.status !== nfsstat4.NFS4ERR_DELAY || tries >= 20) throw e;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
}

describe.skipIf(missing !== null)("PostgreSQL store", () => {
  let cluster: PostgresCluster;
  const root = mkdtempSync(join(tmpdir(), "dfs-pg-test-"));
  let seq = 0;
  /** Every store open, with what reopens it. */
  const open = new Map<
    FileSystem,
    { store: StoreFileSystem; meta: PgMetadataStore; url: string; payloadDir: string }
  >();

  beforeAll(async () => {
    cluster = await startPostgres();
  });

  afterAll(async () => {
    await closeAll();
    cluster?.stop();
    rmSync(root, { recursive: true, force: true });
  });

  async function closeAll(): Promise<void> {
    for (const fs of [...open.keys()]) await close(fs);
  }

  async function close(fs: FileSystem): Promise<void> {
    const o = open.get(fs);
    if (o === undefined) throw new Error("not a store of this test");
    open.delete(fs);
    await o.store.close();
  }

  async function openAt(
    url: string,
    payloadDir: string,
    leaseHolder = "",
    objectCacheEntries = 1024,
  ): Promise<StoreFileSystem> {
    const meta = await PgMetadataStore.open(url, { poolSize: 4, leaseHolder, objectCacheEntries });
    const fs = await StoreFileSystem.open(meta, new LocalPayloadStore(payloadDir, 64));
    open.set(fs, { store: fs, meta, url, payloadDir });
    return fs;
  }

  /** A store over a database and payload directory of its own. */
  async function fresh(): Promise<StoreFileSystem> {
    const n = ++seq;
    return openAt(await cluster.createDatabase(`t${n}`), join(root, `p${n}`));
  }

  /** Two stores over one new database and payload directory, both holding its lease. */
  async function twoServers(): Promise<[StoreFileSystem, StoreFileSystem]> {
    const n = ++seq;
    const url = await cluster.createDatabase(`t${n}`);
    // No object cache: it is valid only while one process writes (the lease).
    const a = await openAt(url, join(root, `p${n}`), "shared", 0);
    return [a, await openAt(url, join(root, `p${n}`), "shared", 0)];
  }

  describeBackendConformance(
    "postgres",
    async () => {
      // Each test's store is done with once the next begins: keep the cluster's connections few.
      await closeAll();
      return fresh();
    },
    {
      restart: async (old) => {
        const o = open.get(old);
        if (o === undefined) throw new Error("not a store of this test");
        await close(old);
        return openAt(o.url, o.payloadDir);
      },
      handlesSurviveRestart: true,
    },
  );

  it("keeps names, data, cookies and change values across a restart; the store id too", async () => {
    let fs = await fresh();
    const { url, payloadDir, meta } = open.get(fs)!;
    const storeId = meta.identity.storeId;
    const exp = (await fs.lookup(await fs.root(), "export")).handle;
    for (const n of ["a", "b", "c"]) {
      const f = await fs.create(exp, n, { kind: "guarded" }, ATTRS);
      await fs.write(f.handle, 0n, enc.encode(`data ${n}`), 2);
    }
    const page = await fs.readdir(exp, 0n, new Uint8Array(8), { maxEntries: 1 });
    const changeBefore = (await fs.getattr(exp)).change;
    await close(fs);
    fs = await openAt(url, payloadDir);
    expect(open.get(fs)!.meta.identity.storeId).toEqual(storeId);
    const rest = await fs.readdir(exp, page.entries[0]!.cookie, page.verifier, { maxEntries: 10 });
    expect(rest.entries.map((e) => e.name)).toEqual(["b", "c"]);
    const c = await fs.lookup(exp, "c");
    expect(new TextDecoder().decode((await fs.read(c.handle, 0n, 100)).data)).toBe("data c");
    await fs.create(exp, "d", { kind: "guarded" }, ATTRS);
    expect((await fs.getattr(exp)).change).toBeGreaterThan(changeBefore);
  });

  it("two servers' stores over one database: a rename racing a remove of the same name leaves one outcome", async () => {
    // Two servers' stores over one database (test only: under one lease name,
    // so both hold it): transactions of two processes at once.
    const [a, b] = await twoServers();
    const exp = (await a.lookup(await a.root(), "export")).handle;
    for (let round = 0; round < 20; round++) {
      const d1 = (await a.mkdir(exp, `x${round}`, ATTRS)).handle;
      const d2 = (await a.mkdir(exp, `y${round}`, ATTRS)).handle;
      await a.create(d1, "f", { kind: "guarded" }, ATTRS);
      const outcomes = await Promise.allSettled([
        asClient(() => a.rename(d1, "f", d2, "g")),
        asClient(() => b.remove(d1, "f")),
      ]);
      const renamed = outcomes[0].status === "fulfilled";
      const removed = outcomes[1].status === "fulfilled";
      // Exactly one wins; the other finds the name gone.
      expect(renamed !== removed).toBe(true);
      for (const o of outcomes)
        if (o.status === "rejected")
          expect((o.reason as FsError).status, String(o.reason)).toBe(nfsstat4.NFS4ERR_NOENT);
      const inD1 = (await b.readdir(d1, 0n, new Uint8Array(8), { maxEntries: 10 })).entries;
      const inD2 = (await b.readdir(d2, 0n, new Uint8Array(8), { maxEntries: 10 })).entries;
      expect(inD1).toEqual([]);
      expect(inD2.map((e) => e.name)).toEqual(renamed ? ["g"] : []);
    }
  });

  it("two servers' stores over one database: crossed renames of two directories into each other never make a cycle", async () => {
    // Two servers' stores over one database (test only: under one lease name,
    // so both hold it): transactions of two processes at once.
    const [a, b] = await twoServers();
    const exp = (await a.lookup(await a.root(), "export")).handle;
    for (let round = 0; round < 20; round++) {
      const p = (await a.mkdir(exp, `p${round}`, ATTRS)).handle;
      const q = (await a.mkdir(exp, `q${round}`, ATTRS)).handle;
      const outcomes = await Promise.allSettled([
        asClient(() => a.rename(exp, `p${round}`, q, "p")),
        asClient(() => b.rename(exp, `q${round}`, p, "q")),
      ]);
      // Both cannot succeed: p inside q and q inside p would be a cycle cut off from the root.
      expect(outcomes.filter((o) => o.status === "fulfilled").length).toBe(1);
      for (const o of outcomes)
        if (o.status === "rejected")
          expect([nfsstat4.NFS4ERR_INVAL, nfsstat4.NFS4ERR_NOENT], String(o.reason)).toContain(
            (o.reason as FsError).status,
          );
    }
  });

  it("a removed object takes its extended attributes and cookies with it (one statement)", async () => {
    const fs = await fresh();
    const { url } = open.get(fs)!;
    const exp = (await fs.lookup(await fs.root(), "export")).handle;
    const d = await fs.mkdir(exp, "d", ATTRS);
    await fs.create(d.handle, "x", { kind: "guarded" }, ATTRS);
    await fs.remove(d.handle, "x");
    await fs.setxattr(d.handle, "user.a", enc.encode("1"), "either");
    const rows = async (): Promise<number[]> => {
      const c = new pg.Client({ connectionString: url });
      await c.connect();
      try {
        const r = await c.query<{ n: string }>(
          `SELECT count(*)::text AS n FROM xattrs UNION ALL SELECT count(*)::text FROM xattr_cookies
           UNION ALL SELECT count(*)::text FROM dir_cookies WHERE dir <> ${ROOT_ID}`,
        );
        return r.rows.map((row) => Number(row.n));
      } finally {
        await c.end();
      }
    };
    const before = await rows();
    expect(before.every((n) => n > 0)).toBe(true);
    await fs.remove(exp, "d");
    const after = await rows();
    expect(after[0]).toBe(0);
    expect(after[1]).toBe(0);
    // The export directory's cookies stay; d's went.
    expect(after[2]).toBe(before[2]! - 1);
  });

  it("counts objects (statfs), with the transaction's own in", async () => {
    const a = await fresh();
    const b = a;
    const exp = (await a.lookup(await a.root(), "export")).handle;
    const before = (await b.statfs(exp)).filesFree;
    for (let i = 0; i < 5; i++) await a.create(exp, `n${i}`, { kind: "guarded" }, ATTRS);
    expect((await b.statfs(exp)).filesFree).toBe(before - 5n);
    await a.remove(exp, "n0");
    expect((await b.statfs(exp)).filesFree).toBe(before - 4n);
  });

  it("one server at a time: a second is refused, naming the holder; a standby takes over when the first stops", async () => {
    const fs = await fresh();
    const { url } = open.get(fs)!;
    await expect(PgMetadataStore.open(url)).rejects.toThrow(
      /served by .* pid \d+ .*postgresRole "standby"/,
    );
    let tookOver = false;
    const standby = PgMetadataStore.open(url, { standby: true, leaseSec: 3 }).then((s) => {
      tookOver = true;
      return s;
    });
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(tookOver).toBe(false);
    await close(fs);
    const second = await standby;
    await second.transact(async (tx) => tx.newObjectId());
    await second.close();
  });

  it("a server whose lease lapsed commits nothing more and is told to stop; a standby takes over", async () => {
    const n = ++seq;
    const url = await cluster.createDatabase(`lease${n}`);
    const lost: string[] = [];
    const first = await PgMetadataStore.open(url, {
      leaseSec: 3,
      onLeaseLost: (why) => lost.push(why),
    });
    await first.transact(async (tx) => tx.newObjectId());
    // As if the first server had stalled past its lease.
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    await c.query("UPDATE store_lease SET expires_at = now() - interval '1 second'");
    await c.end();
    const second = await PgMetadataStore.open(url, { standby: true, leaseSec: 3 });
    const refused = await first.transact(async (tx) => tx.newObjectId()).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(FsError);
    expect((refused as FsError).status).toBe(nfsstat4.NFS4ERR_DELAY);
    // The renewal the refusal started finds the lease taken.
    for (let i = 0; i < 100 && lost.length === 0; i++)
      await new Promise((resolve) => setTimeout(resolve, 50));
    expect(lost).toHaveLength(1);
    await second.transact(async (tx) => tx.newObjectId());
    await first.close();
    await second.close();
  });

  it("a renewal that ran late only delays commits: nobody took over, so the server goes on", async () => {
    const n = ++seq;
    const url = await cluster.createDatabase(`late${n}`);
    const lost: string[] = [];
    const store = await PgMetadataStore.open(url, {
      leaseSec: 30,
      onLeaseLost: (why) => lost.push(why),
    });
    // Less than a third of the lease left, as after renewals delayed by a loaded machine.
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    await c.query("UPDATE store_lease SET expires_at = now() + interval '2 seconds'");
    await c.end();
    const refused = await store.transact(async (tx) => tx.newObjectId()).catch((e: unknown) => e);
    expect((refused as FsError).status).toBe(nfsstat4.NFS4ERR_DELAY);
    // The refusal renewed the lease: the retry commits.
    let committed = false;
    for (let i = 0; i < 100 && !committed; i++) {
      committed = await store
        .transact(async (tx) => tx.newObjectId())
        .then(
          () => true,
          () => false,
        );
      if (!committed) await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(committed).toBe(true);
    expect(lost).toEqual([]);
    await store.close();
  });

  it("answers from its object cache while it holds the lease, and from the database once another server took over", async () => {
    const n = ++seq;
    const url = await cluster.createDatabase(`cache${n}`);
    const lost: string[] = [];
    const meta = await PgMetadataStore.open(url, {
      leaseSec: 3,
      onLeaseLost: (why) => lost.push(why),
    });
    const fs = await StoreFileSystem.open(meta, new LocalPayloadStore(join(root, `c${n}`), 64));
    const exp = (await fs.lookup(await fs.root(), "export")).handle;
    const f = await fs.create(exp, "f", { kind: "guarded" }, ATTRS);
    expect((await fs.getattr(f.handle)).mode).toBe(0o644);
    expect(meta.cachedObjects).toBeGreaterThan(0);
    // Behind the server's back (as no writer may while it holds the lease):
    // the cache, not the database, answers.
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    await c.query("UPDATE objects SET mode = 384 WHERE mode = 420");
    expect((await fs.getattr(f.handle)).mode).toBe(0o644);
    expect((await fs.lookup(exp, "f")).attrs.mode).toBe(0o644);
    // Another server takes the store over: this one stops trusting its cache
    // at once (and is told to stop).
    await c.query("UPDATE store_lease SET holder = 'another server'");
    await c.end();
    for (let i = 0; i < 100 && lost.length === 0; i++)
      await new Promise((resolve) => setTimeout(resolve, 50));
    expect(lost).toHaveLength(1);
    expect((await fs.getattr(f.handle)).mode).toBe(0o600);
    await fs.close();
  });

  /**
   * A view of `fs`'s store that reads `before`, then (its first run paused
   * while `fs` creates `name` in the export) `after`: its result and runs.
   */
  async function viewAcrossCreate<A, B>(
    fs: StoreFileSystem,
    name: string,
    before: (tx: MetadataTx, exportId: ObjectId) => Promise<A>,
    after: (tx: MetadataTx, exportId: ObjectId) => Promise<B>,
  ): Promise<{ runs: number; before: A; after: B }> {
    const { meta } = open.get(fs)!;
    const exp = (await fs.lookup(await fs.root(), "export")).handle;
    // The export's entry is cached by this view.
    const exportId = (await meta.view(async (tx) => tx.getEntry(ROOT_ID, "export")))!.child;
    let runs = 0;
    let release!: () => void;
    const paused = new Promise<void>((resolve) => (release = resolve));
    let reached!: () => void;
    const atPause = new Promise<void>((resolve) => (reached = resolve));
    const seen = meta.view(async (tx) => {
      runs++;
      const a = await before(tx, exportId);
      if (runs === 1) {
        reached();
        await paused;
      }
      return { before: a, after: await after(tx, exportId) };
    });
    await atPause;
    await fs.create(exp, name, { kind: "guarded" }, ATTRS);
    release();
    const result = await seen;
    return { runs, ...result };
  }

  it("a view that used the cache and then reads after a commit began runs again, without the cache", async () => {
    const r = await viewAcrossCreate(
      await fresh(),
      "b",
      // From the cache (viewAcrossCreate's lookup put the export's entry there).
      (tx) => tx.getEntry(ROOT_ID, "export"),
      // Not cached: a SELECT, whose snapshot includes the create.
      (tx, exportId) => tx.getEntry(exportId, "b"),
    );
    expect(r.runs).toBe(2);
    expect(r.after?.name).toBe("b");
  });

  it("a view's first statement runs alone; a second after a commit began makes the view run again", async () => {
    const fs = await fresh();
    const exp = (await fs.lookup(await fs.root(), "export")).handle;
    await fs.create(exp, "a", { kind: "guarded" }, ATTRS);
    const r = await viewAcrossCreate(
      fs,
      "b",
      // Not cached: a statement of its own, outside a transaction.
      (tx, exportId) => tx.getEntry(exportId, "zz"),
      // A second statement: the view's transaction begins after the create.
      async (tx, exportId) => (await tx.listEntries(exportId, 0n, 10)).map((e) => e.name),
    );
    expect(r.runs).toBe(2);
    expect(r.before).toBeNull();
    expect(r.after).toEqual(["a", "b"]);
  });

  it("lists a page of entries with their objects as getObject() finds them, a transaction's own changes first", async () => {
    await checkListEntriesWithObjects(open.get(await fresh())!.meta);
  });

  it("refuses a change inside view()", async () => {
    const fs = await fresh();
    const meta = open.get(fs)!.meta;
    await expect(meta.view((tx) => tx.newObjectId())).rejects.toThrow(ReadOnlyTransactionError);
  });

  it("keeps client recovery records", async () => {
    const fs = await fresh();
    const meta = open.get(fs)!.meta;
    const owner = enc.encode("client-1");
    await meta.clients.add({ ownerId: owner, principal: "uid:0", recordedAt: 1000 });
    await meta.clients.add({
      ownerId: enc.encode("client-2"),
      principal: "uid:1",
      recordedAt: 2000,
    });
    await meta.clients.remove(enc.encode("client-2"));
    expect(await meta.clients.list()).toEqual([
      { ownerId: new Uint8Array(owner), principal: "uid:0", recordedAt: 1000 },
    ]);
  });

  it("a bad URL or refused credentials fail at open with PostgreSQL's message", async () => {
    await expect(
      PgMetadataStore.open("postgres://dfs@127.0.0.1:1/nothing", { connectTimeoutMs: 2000 }),
    ).rejects.toThrow(/ECONNREFUSED|connect/);
    await expect(
      PgMetadataStore.open(cluster.url.replace(/\/postgres$/, "/no_such_database")),
    ).rejects.toThrow(/no_such_database/);
  });

  it("answers NFS4ERR_DELAY while the database is unreachable, NFS4ERR_NOSPC for a full disk", () => {
    const error = (code: string): Error => Object.assign(new Error(code), { code });
    const status = (e: unknown): number => (e instanceof FsError ? e.status : -1);
    expect(status(pgFailure(error("ECONNREFUSED")))).toBe(nfsstat4.NFS4ERR_DELAY);
    expect(status(pgFailure(error("57P01")))).toBe(nfsstat4.NFS4ERR_DELAY);
    expect(status(pgFailure(error("40001")))).toBe(nfsstat4.NFS4ERR_DELAY);
    expect(status(pgFailure(error("53100")))).toBe(nfsstat4.NFS4ERR_NOSPC);
    expect(status(pgFailure(error("23505")))).toBe(nfsstat4.NFS4ERR_IO);
    const bug = new TypeError("x");
    expect(pgFailure(bug)).toBe(bug);
  });

  it("upgrades nothing twice: a second open of the same database finds the schema current", async () => {
    const fs = await fresh();
    const { url } = open.get(fs)!;
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    try {
      const version = (await c.query("SELECT version FROM dfs_schema")).rows;
      expect(version).toHaveLength(1);
      await close(fs);
      const again = await PgMetadataStore.open(url);
      await again.close();
      expect((await c.query("SELECT version FROM dfs_schema")).rows).toEqual(version);
    } finally {
      await c.end();
    }
  });
});

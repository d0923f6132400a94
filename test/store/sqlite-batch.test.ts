// Transactions queued back to back share one SQL transaction (WriteBatch in
// sqlite-metadata.ts): one COMMIT and one WAL sync for all of them; a member
// that fails is undone alone (its rows, its records on their way to the
// cache, its counter reservations); each resolves only once its batch is
// committed and durable.

import { copyFileSync, existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { nfs_ftype4 } from "../../generated/nfs4/index.js";
import { ROOT_ID } from "../../src/store/metadata.js";
import { COUNTER_BLOCK } from "../../src/store/sqlite-counters.js";
import { SqliteMetadataStore } from "../../src/store/sqlite-metadata.js";
import { objectRecord } from "./records.js";

const root = mkdtempSync(join(tmpdir(), "dfs-sqlite-batch-test-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const total = (s: { inPlace: number; pool: number }): number => s.inPlace + s.pool;

/** A transaction creating a file named `name` in the root; its id. */
function createIn(store: SqliteMetadataStore, name: string): Promise<bigint> {
  return store.transact(async (tx) => {
    const id = await tx.newObjectId();
    await tx.createObject(objectRecord(id, { type: nfs_ftype4.NF4REG }));
    await tx.addEntry(ROOT_ID, name, id);
    return id;
  });
}

/** What a reader sees of `id` and of the root's entry `name`. */
function seen(store: SqliteMetadataStore, id: bigint, name: string) {
  return store.view(async (tx) => ({
    object: (await tx.getObject(id))?.id ?? null,
    entry: (await tx.getEntry(ROOT_ID, name))?.child ?? null,
  }));
}

describe("SQLite store: transactions batched into one SQL transaction", () => {
  it("share one COMMIT and one sync when queued together; each resolves committed and visible", async () => {
    const store = SqliteMetadataStore.open(join(root, "a.sqlite"));
    try {
      await createIn(store, "warm-up");
      const commits = store.commits;
      const syncs = total(store.walSyncs);
      const names = Array.from({ length: 10 }, (_, i) => `f${i}`);
      // Each checks, as it resolves, that a reader already sees it.
      const ids = await Promise.all(
        names.map((n) =>
          createIn(store, n).then(async (id) => {
            expect(await seen(store, id, n)).toEqual({ object: id, entry: id });
            return id;
          }),
        ),
      );
      expect(new Set(ids).size).toBe(10);
      expect(store.commits).toBe(commits + 1);
      expect(total(store.walSyncs)).toBe(syncs + 1);
      // One alone commits alone.
      await createIn(store, "alone");
      expect(store.commits).toBe(commits + 2);
    } finally {
      await store.close();
    }
  });

  it("share one COMMIT when started by separate callbacks of one turn of the event loop", async () => {
    const store = SqliteMetadataStore.open(join(root, "turn.sqlite"));
    try {
      await createIn(store, "warm-up");
      const commits = store.commits;
      // Like requests read from two sockets in one poll phase: the first
      // transaction has ended before the second is asked for.
      const created = await new Promise<Array<Promise<bigint>>>((resolve) => {
        const both: Array<Promise<bigint>> = [];
        setImmediate(() => both.push(createIn(store, "t1")));
        setImmediate(() => {
          both.push(createIn(store, "t2"));
          resolve(both);
        });
      });
      const ids = await Promise.all(created);
      expect(store.commits).toBe(commits + 1);
      for (const [i, id] of ids.entries())
        expect(await seen(store, id, `t${i + 1}`)).toEqual({ object: id, entry: id });
      // The next turn's transaction commits apart.
      await createIn(store, "later");
      expect(store.commits).toBe(commits + 2);
    } finally {
      await store.close();
    }
  });

  it("hold at most store.batchTransactions transactions", async () => {
    const store = SqliteMetadataStore.open(join(root, "b.sqlite"), { batchTransactions: 4 });
    try {
      const commits = store.commits;
      await Promise.all(Array.from({ length: 10 }, (_, i) => createIn(store, `g${i}`)));
      // The first runs at once and finds nine waiting: 4 + 4 + 2.
      expect(store.commits).toBe(commits + 3);
    } finally {
      await store.close();
    }
  });

  it("undo a failed member alone: its rows, its records (never cached) and its reservations; the others stand", async () => {
    const file = join(root, "c.sqlite");
    const store = SqliteMetadataStore.open(file);
    const failedIds: bigint[] = [];
    try {
      const before = await store.view((tx) => tx.objectCount());
      const a = createIn(store, "a");
      const b = store.transact(async (tx) => {
        // Past a whole block of ids: the meta row's new ceiling is rolled back too.
        for (let i = 0n; i <= COUNTER_BLOCK; i++) failedIds.push(await tx.newObjectId());
        const id = failedIds[0]!;
        await tx.createObject(objectRecord(id));
        await tx.addEntry(ROOT_ID, "b", id);
        // It changes a's record too (pending from the member before it): that change goes as well.
        const rootRecord = await tx.getObject(ROOT_ID);
        await tx.putObject({ ...rootRecord!, mode: 0o700 });
        throw new Error("give up");
      });
      const c = createIn(store, "c");
      const [ra, rb, rc] = await Promise.allSettled([a, b, c]);
      expect(ra.status).toBe("fulfilled");
      expect(rb).toMatchObject({ status: "rejected", reason: new Error("give up") });
      expect(rc.status).toBe("fulfilled");
      const aId = (ra as PromiseFulfilledResult<bigint>).value;
      const cId = (rc as PromiseFulfilledResult<bigint>).value;
      expect(await seen(store, aId, "a")).toEqual({ object: aId, entry: aId });
      expect(await seen(store, cId, "c")).toEqual({ object: cId, entry: cId });
      // b's values are handed out again: c took b's first id, which b's rows no longer hold.
      expect(cId).toBe(failedIds[0]);
      expect(await seen(store, failedIds[1]!, "b")).toEqual({ object: null, entry: null });
      expect((await store.view((tx) => tx.getObject(ROOT_ID)))?.mode).not.toBe(0o700);
      expect(await store.transact(async (tx) => (await tx.getObject(ROOT_ID))?.mode)).not.toBe(
        0o700,
      );
      expect(await store.view((tx) => tx.objectCount())).toBe(before + 2n);
    } finally {
      await store.close();
    }
    // The ceiling on disk matches what was handed out: after a restart no id comes twice.
    const copy = join(root, "c-copy.sqlite");
    copyFileSync(file, copy);
    if (existsSync(`${file}-wal`)) copyFileSync(`${file}-wal`, `${copy}-wal`);
    const reopened = SqliteMetadataStore.open(copy);
    try {
      const next = await createIn(reopened, "d");
      expect(next).toBeGreaterThan(failedIds[0]!);
      expect(await reopened.view((tx) => tx.objectCount())).toBeGreaterThan(0n);
    } finally {
      await reopened.close();
    }
  });

  it("let those queued behind a failed first member commit in the batch after it", async () => {
    const store = SqliteMetadataStore.open(join(root, "d.sqlite"));
    try {
      const first = store.transact(async (tx) => {
        const id = await tx.newObjectId();
        await tx.createObject(objectRecord(id));
        await tx.addEntry(ROOT_ID, "x", id);
        throw new Error("no");
      });
      const later = [createIn(store, "y"), createIn(store, "z")];
      await expect(first).rejects.toThrow("no");
      const [y, z] = await Promise.all(later);
      expect(await seen(store, y!, "y")).toEqual({ object: y, entry: y });
      expect(await seen(store, z!, "z")).toEqual({ object: z, entry: z });
      expect(await store.view((tx) => tx.getEntry(ROOT_ID, "x"))).toBeNull();
    } finally {
      await store.close();
    }
  });

  it("sync() waits for the batch its transactions joined, though one queued after it keeps that batch open", async () => {
    const store = SqliteMetadataStore.open(join(root, "e.sqlite"));
    try {
      const mk = () =>
        store.transact(
          async (tx) => {
            const id = await tx.newObjectId();
            await tx.createObject(objectRecord(id));
            return id;
          },
          { durable: false },
        );
      await store.sync();
      const commits = store.commits;
      const syncs = total(store.walSyncs);
      const before = [mk(), mk()];
      const synced = store.sync();
      // Queued after sync() was called, behind the other two: they stay in its open batch.
      const after = mk();
      await synced;
      expect(store.commits).toBe(commits + 1);
      expect(total(store.walSyncs)).toBe(syncs + 1);
      await Promise.all([...before, after]);
    } finally {
      await store.close();
    }
  });
});

// SqliteMetadataStore.transact(work, { durable: false }) — the metadata of an
// UNSTABLE4 WRITE — commits without syncing the WAL, and views show it without
// waiting for one; sync() (COMMIT) and the next durable transaction sync it.
// One that raises a counter's ceiling is made durable all the same. Counted by
// the store's WAL sync counter.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { nfs_ftype4, stable_how4 } from "../../generated/nfs4/index.js";
import { COUNTER_BLOCK } from "../../src/store/sqlite-counters.js";
import { SqliteMetadataStore } from "../../src/store/sqlite-metadata.js";
import { LocalPayloadStore } from "../../src/store/local-payload.js";
import { StoreFileSystem } from "../../src/store/store-fs.js";
import { objectRecord } from "./records.js";

const root = mkdtempSync(join(tmpdir(), "dfs-sqlite-durable-test-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const total = (s: { inPlace: number; pool: number }): number => s.inPlace + s.pool;

describe("SQLite transactions that need not be durable", () => {
  it("commit without a WAL sync, are shown by views without one; sync() then syncs them, once", async () => {
    const store = SqliteMetadataStore.open(join(root, "a.sqlite"));
    try {
      const mk = (durable: boolean) =>
        store.transact(
          async (tx) => {
            const id = await tx.newObjectId();
            await tx.createObject(objectRecord(id, { type: nfs_ftype4.NF4REG, mode: 0o644 }));
            return id;
          },
          { durable },
        );
      await mk(true);
      const before = total(store.walSyncs);
      const a = await mk(false);
      const b = await mk(false);
      expect(total(store.walSyncs)).toBe(before);
      // Committed all the same: a view sees both, and (as a server answers
      // GETATTR from its page cache) need not wait for them to be durable.
      const seen = await store.view(async (tx) => [await tx.getObject(a), await tx.getObject(b)]);
      expect(seen.map((o) => o?.id)).toEqual([a, b]);
      expect(total(store.walSyncs)).toBe(before);
      await mk(false);
      await store.sync();
      expect(total(store.walSyncs)).toBe(before + 1);
      // Nothing new committed: nothing to sync.
      await store.sync();
      expect(total(store.walSyncs)).toBe(before + 1);
    } finally {
      await store.close();
    }
  });

  it("one that raises a counter's ceiling is synced before it resolves", async () => {
    const store = SqliteMetadataStore.open(join(root, "b.sqlite"));
    try {
      // Takes change values; `n` past the block reserved so far raises the ceiling.
      const changes = (n: number) =>
        store.transact(
          async (tx) => {
            let last = 0n;
            for (let i = 0; i < n; i++) last = await tx.nextChange();
            return last;
          },
          { durable: false },
        );
      await store.transact(async (tx) => tx.nextChange());
      await store.sync();
      const before = total(store.walSyncs);
      await changes(1);
      expect(total(store.walSyncs)).toBe(before);
      // Past the block: values a crash could hand out again unless the new ceiling is on disk.
      await changes(Number(COUNTER_BLOCK) + 1);
      expect(total(store.walSyncs)).toBe(before + 1);
      await changes(1);
      expect(total(store.walSyncs)).toBe(before + 1);
      await store.view(async (tx) => tx.objectCount());
      expect(total(store.walSyncs)).toBe(before + 1);
    } finally {
      await store.close();
    }
  });

  it("a view asked not to wait for its sync sees a commit whose sync is still running; a plain one waits", async () => {
    // Syncs on the thread pool, so one is running while the views below start.
    const store = SqliteMetadataStore.open(join(root, "e.sqlite"), { inlineSyncMaxMs: 0 });
    try {
      const count = () => store.view(async (tx) => tx.objectCount(), { unsynced: true });
      const before = await count();
      let durable = false;
      const creating = store
        .transact(async (tx) => {
          await tx.createObject(objectRecord(await tx.newObjectId()));
        })
        .then(() => {
          durable = true;
        });
      // Its batch commits once this turn of the event loop is over.
      for (let i = 0; i < 2; i++) await new Promise((r) => setImmediate(r));
      expect(await count()).toBe(before + 1n);
      expect(durable).toBe(false);
      expect(await store.view(async (tx) => tx.objectCount())).toBe(before + 1n);
      expect(durable).toBe(true);
      await creating;
    } finally {
      await store.close();
    }
  });

  it("UNSTABLE4 WRITEs of the SQLite store wait for no WAL sync; COMMIT syncs the WAL", async () => {
    const meta = SqliteMetadataStore.open(join(root, "d.sqlite"));
    const fs = await StoreFileSystem.open(meta, new LocalPayloadStore(join(root, "d-data"), 8));
    try {
      const f = await fs.create(
        await fs.root(),
        "u",
        { kind: "guarded" },
        { mode: 0o644, uid: 0, gid: 0 },
      );
      const before = total(meta.walSyncs);
      for (let i = 0; i < 4; i++)
        await fs.write(f.handle, BigInt(i * 4), new Uint8Array(4).fill(i), stable_how4.UNSTABLE4);
      expect(total(meta.walSyncs)).toBe(before);
      await fs.commit(f.handle, 0n, 0);
      expect(total(meta.walSyncs)).toBe(before + 1);
      await fs.write(f.handle, 0n, new Uint8Array(4), stable_how4.FILE_SYNC4);
      expect(total(meta.walSyncs)).toBe(before + 2);
    } finally {
      await fs.close();
    }
  });
});

// SqliteMetadataStore.transact(work, { durable: false }) — the metadata of an
// UNSTABLE4 WRITE — commits without syncing the WAL; sync() (COMMIT) and the
// next durable transaction sync it. Counted by the store's WAL sync counter.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { nfs_ftype4, stable_how4 } from "../../generated/nfs4/index.js";
import { SqliteMetadataStore } from "../../src/store/sqlite-metadata.js";
import { LocalPayloadStore } from "../../src/store/local-payload.js";
import { StoreFileSystem } from "../../src/store/store-fs.js";
import { objectRecord } from "./records.js";

const root = mkdtempSync(join(tmpdir(), "dfs-sqlite-durable-test-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const total = (s: { inPlace: number; pool: number }): number => s.inPlace + s.pool;

describe("SQLite transactions that need not be durable", () => {
  it("commit without a WAL sync; sync() then syncs them, once", async () => {
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
      // Committed all the same: a view sees both (and, seeing them, waits for their sync).
      const seen = await store.view(async (tx) => [await tx.getObject(a), await tx.getObject(b)]);
      expect(seen.map((o) => o?.id)).toEqual([a, b]);
      const afterView = total(store.walSyncs);
      expect(afterView).toBe(before + 1);
      await mk(false);
      await store.sync();
      expect(total(store.walSyncs)).toBe(afterView + 1);
      // Nothing new committed: nothing to sync.
      await store.sync();
      expect(total(store.walSyncs)).toBe(afterView + 1);
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

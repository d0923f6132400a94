// SqliteMetadataStore's read-only transactions (view) beside its write
// transactions (transact): a read never waits for a write in progress and
// never sees it half done.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { nfs_ftype4 } from "../../generated/nfs4/index.js";
import { checkListEntriesWithObjects } from "./listed-entries.js";
import { objectRecord } from "./records.js";
import { ReadOnlyTransactionError } from "../../src/store/metadata.js";
import { SqliteMetadataStore } from "../../src/store/sqlite-metadata.js";

const root = mkdtempSync(join(tmpdir(), "dfs-sqlite-view-test-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe("SqliteMetadataStore view()", () => {
  it("reads the last commit while a write transaction is open, and its result once committed", async () => {
    const store = SqliteMetadataStore.open(join(root, "a.sqlite"));
    try {
      let release = (): void => undefined;
      const held = new Promise<void>((r) => (release = r));
      let written = (): void => undefined;
      const wrote = new Promise<void>((r) => (written = r));
      const writing = store.transact(async (tx) => {
        const id = await tx.newObjectId();
        await tx.createObject(objectRecord(id, { type: nfs_ftype4.NF4DIR, mode: 0o755, nlink: 2 }));
        written();
        // Stands for payload I/O inside a write transaction.
        await held;
        return id;
      });
      await wrote;
      // Not queued behind the open write transaction, and not seeing its rows.
      expect(await store.view((tx) => tx.objectCount())).toBe(0n);
      release();
      const id = await writing;
      expect(await store.view((tx) => tx.objectCount())).toBe(1n);
      expect((await store.view((tx) => tx.getObject(id)))?.type).toBe(nfs_ftype4.NF4DIR);
    } finally {
      await store.close();
    }
  });

  it("refuses to write", async () => {
    const store = SqliteMetadataStore.open(join(root, "b.sqlite"));
    try {
      await expect(store.view((tx) => tx.newObjectId())).rejects.toThrow(ReadOnlyTransactionError);
      await expect(store.view((tx) => tx.addEntry(1n, "x", 2n))).rejects.toThrow(
        ReadOnlyTransactionError,
      );
      // The store goes on working.
      expect(await store.transact((tx) => tx.newObjectId())).toBe(1n);
      expect(await store.view((tx) => tx.objectCount())).toBe(0n);
    } finally {
      await store.close();
    }
  });

  it("lists a page of entries with their objects as getObject() finds them, a write transaction's own changes first", async () => {
    for (const objectCacheEntries of [1024, 0]) {
      const store = SqliteMetadataStore.open(join(root, `list-${objectCacheEntries}.sqlite`), {
        objectCacheEntries,
      });
      try {
        await checkListEntriesWithObjects(store);
      } finally {
        await store.close();
      }
    }
  });
});

// Object ids and change values from reserved blocks (sqlite-counters.ts):
// never repeated after a restart or a crash, handed out again after a
// rollback, and the object count kept exact.

import { copyFileSync, existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { objectRecord } from "./records.js";
import { COUNTER_BLOCK } from "../../src/store/sqlite-counters.js";
import { SqliteMetadataStore } from "../../src/store/sqlite-metadata.js";

const root = mkdtempSync(join(tmpdir(), "dfs-counters-test-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** One transaction creating an object; its id and a change value. */
function create(store: SqliteMetadataStore): Promise<{ id: bigint; change: bigint }> {
  return store.transact(async (tx) => {
    const id = await tx.newObjectId();
    await tx.createObject(objectRecord(id));
    return { id, change: await tx.nextChange() };
  });
}

/** Copies the database as a crash would leave it on disk (the log included). */
function crashCopy(file: string, to: string): void {
  copyFileSync(file, to);
  if (existsSync(`${file}-wal`)) copyFileSync(`${file}-wal`, `${to}-wal`);
}

describe("SQLite store counters", () => {
  it("never hand out an id or a change value twice, across a clean restart and a crash", async () => {
    const file = join(root, "a.sqlite");
    let store = SqliteMetadataStore.open(file);
    const ids: bigint[] = [];
    const changes: bigint[] = [];
    // More than a block, so a reservation is made inside a transaction.
    for (let i = 0; i < Number(COUNTER_BLOCK) + 10; i++) {
      const r = await create(store);
      ids.push(r.id);
      changes.push(r.change);
    }
    await store.close();
    store = SqliteMetadataStore.open(file);
    const afterRestart = await create(store);
    expect(afterRestart.id).toBeGreaterThan(ids.at(-1)!);
    expect(afterRestart.change).toBeGreaterThan(changes.at(-1)!);
    ids.push(afterRestart.id);
    changes.push(afterRestart.change);
    const crashed = join(root, "a-crash.sqlite");
    crashCopy(file, crashed);
    await store.close();
    const recovered = SqliteMetadataStore.open(crashed);
    try {
      const r = await create(recovered);
      expect(r.id).toBeGreaterThan(ids.at(-1)!);
      expect(r.change).toBeGreaterThan(changes.at(-1)!);
      expect(await recovered.view((tx) => tx.objectCount())).toBe(BigInt(ids.length + 1));
    } finally {
      await recovered.close();
    }
    expect(new Set(ids).size).toBe(ids.length);
  });

  it("hand out a rolled-back transaction's values again, and count only committed objects", async () => {
    const store = SqliteMetadataStore.open(join(root, "b.sqlite"));
    try {
      const first = await create(store);
      let lost = 0n;
      await expect(
        store.transact(async (tx) => {
          // Past a whole block: the reservation is rolled back too.
          for (let i = 0n; i <= COUNTER_BLOCK; i++) lost = await tx.newObjectId();
          await tx.createObject(objectRecord(lost));
          expect(await tx.objectCount()).toBe(2n);
          throw new Error("give up");
        }),
      ).rejects.toThrow("give up");
      expect(lost).toBeGreaterThan(first.id + COUNTER_BLOCK - 1n);
      expect(await store.view((tx) => tx.objectCount())).toBe(1n);
      const next = await create(store);
      expect(next.id).toBe(first.id + 1n);
      expect(await store.transact((tx) => tx.objectCount())).toBe(2n);
      await store.transact((tx) => tx.deleteObject(next.id));
      expect(await store.view((tx) => tx.objectCount())).toBe(1n);
    } finally {
      await store.close();
    }
  });
});

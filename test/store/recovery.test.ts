// The client recovery store (store/recovery.ts): one contract, run on the
// SQLite store (records survive a reopen, and a write in the middle of a
// namespace transaction's await lands in its own transaction) and in memory.

import Database from "better-sqlite3";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { ClientRecoveryStore } from "../../src/store/recovery.js";
import { MemoryClientRecoveryStore } from "../../src/store/recovery.js";
import { SqliteMetadataStore } from "../../src/store/sqlite-metadata.js";

const root = mkdtempSync(join(tmpdir(), "dfs-recovery-test-"));
let seq = 0;
const toClose: SqliteMetadataStore[] = [];
afterAll(async () => {
  for (const s of toClose) await s.close().catch(() => undefined);
  rmSync(root, { recursive: true, force: true });
});

const enc = new TextEncoder();
const owner = (s: string): Uint8Array => enc.encode(s);

function describeRecoveryStore(name: string, make: () => ClientRecoveryStore): void {
  describe(`client recovery store: ${name}`, () => {
    it("starts empty; add, list, replace and remove by owner", async () => {
      const store = make();
      expect(await store.list()).toEqual([]);
      await store.add({ ownerId: owner("a"), principal: "sys:0", recordedAt: 1000 });
      await store.add({ ownerId: owner("b"), principal: "sys:1", recordedAt: 2000 });
      // The same owner again replaces its record.
      await store.add({ ownerId: owner("a"), principal: "sys:2", recordedAt: 3000 });
      const listed = (await store.list()).sort((x, y) => x.recordedAt - y.recordedAt);
      expect(listed).toEqual([
        { ownerId: owner("b"), principal: "sys:1", recordedAt: 2000 },
        { ownerId: owner("a"), principal: "sys:2", recordedAt: 3000 },
      ]);
      await store.remove(owner("a"));
      // Removing what is not there is no error.
      await store.remove(owner("zzz"));
      expect((await store.list()).map((r) => r.principal)).toEqual(["sys:1"]);
    });

    it("keeps copies: neither the caller's buffer nor a listed record aliases the store", async () => {
      const store = make();
      const id = owner("mutable");
      await store.add({ ownerId: id, principal: "p", recordedAt: 1 });
      id.fill(0);
      const [first] = await store.list();
      expect(first?.ownerId).toEqual(owner("mutable"));
      first?.ownerId.fill(0);
      expect((await store.list())[0]?.ownerId).toEqual(owner("mutable"));
    });

    it("binary owner IDs are kept byte for byte", async () => {
      const store = make();
      const id = new Uint8Array([0, 255, 1, 0, 128]);
      await store.add({ ownerId: id, principal: "", recordedAt: 0 });
      expect((await store.list())[0]?.ownerId).toEqual(id);
      await store.remove(new Uint8Array([0, 255, 1, 0, 128]));
      expect(await store.list()).toEqual([]);
    });
  });
}

function openSqlite(file: string): SqliteMetadataStore {
  const s = SqliteMetadataStore.open(file);
  toClose.push(s);
  return s;
}

describeRecoveryStore("sqlite", () => openSqlite(join(root, `m${++seq}.sqlite`)).clients);
describeRecoveryStore("memory", () => new MemoryClientRecoveryStore());

describe("client recovery records in SQLite", () => {
  it("survive closing and reopening the database", async () => {
    const file = join(root, `m${++seq}.sqlite`);
    const first = openSqlite(file);
    await first.clients.add({ ownerId: owner("kept"), principal: "sys:0", recordedAt: 42 });
    await first.close();
    const second = openSqlite(file);
    expect(await second.clients.list()).toEqual([
      { ownerId: owner("kept"), principal: "sys:0", recordedAt: 42 },
    ]);
  });

  it("a record written while a namespace transaction awaits is its own transaction", async () => {
    const store = openSqlite(join(root, `m${++seq}.sqlite`));
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    // A transaction that fails after an await: it rolls back, the record must not.
    const tx = store.transact(async () => {
      await held;
      throw new Error("rolled back");
    });
    const added = store.clients.add({ ownerId: owner("x"), principal: "p", recordedAt: 1 });
    release();
    await expect(tx).rejects.toThrow("rolled back");
    await added;
    expect((await store.clients.list()).map((r) => r.principal)).toEqual(["p"]);
  });

  it("upgrades a database made before the clients table (schema version 2)", async () => {
    const file = join(root, `m${++seq}.sqlite`);
    await openSqlite(file).close();
    // Take the database back to version 2: no clients table.
    const db = new Database(file);
    db.exec("DROP TABLE clients");
    db.pragma("user_version = 2");
    db.close();
    const reopened = openSqlite(file);
    expect(await reopened.clients.list()).toEqual([]);
    await reopened.clients.add({ ownerId: owner("new"), principal: "p", recordedAt: 1 });
    expect(await reopened.clients.list()).toHaveLength(1);
  });
});

// The SQLite store's object cache (object-cache.ts): reads answered from it
// — object records and directory entries — are the committed state, a
// rolled-back transaction leaves nothing in it, a view that mixed cache hits
// with a SELECT after a commit is run again, and the cache stays within its bound.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { objectRecord } from "./records.js";
import { ObjectCache, entryKey } from "../../src/store/object-cache.js";
import { SqliteMetadataStore, type SqliteStoreOptions } from "../../src/store/sqlite-metadata.js";

const root = mkdtempSync(join(tmpdir(), "dfs-object-cache-test-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let seq = 0;

async function withStore(
  options: Partial<SqliteStoreOptions>,
  body: (store: SqliteMetadataStore) => Promise<void>,
): Promise<void> {
  const store = SqliteMetadataStore.open(join(root, `s${++seq}.sqlite`), options);
  try {
    await body(store);
  } finally {
    await store.close();
  }
}

/** Creates a file object and an entry naming it in directory 1 (the ids are the store's). */
async function createFile(store: SqliteMetadataStore, name: string): Promise<bigint> {
  return store.transact(async (tx) => {
    const id = await tx.newObjectId();
    await tx.createObject(objectRecord(id));
    await tx.addEntry(1n, name, id);
    return id;
  });
}

describe("ObjectCache", () => {
  it("beyond its capacity drops the oldest record not used since it came round", () => {
    const cache = new ObjectCache(2);
    cache.remember(objectRecord(1n));
    cache.remember(objectRecord(2n));
    expect(cache.get(1n)?.id).toBe(1n); // 1 gets a second chance, 2 does not
    cache.remember(objectRecord(3n));
    expect(cache.size).toBe(2);
    expect(cache.get(2n)).toBeUndefined();
    expect(cache.get(1n)?.id).toBe(1n);
    // Every one used: the oldest goes after all had their second chance.
    cache.get(3n);
    cache.remember(objectRecord(4n));
    expect(cache.size).toBe(2);
    expect(cache.get(4n)?.id).toBe(4n);
  });

  it("keeps records of ids past 2^53 apart (they cannot be number keys) and from the safe ones", () => {
    const cache = new ObjectCache(10);
    const big = 2n ** 53n;
    // Number() would make 2^53 + 1 the same key as 2^53.
    for (const id of [big - 1n, big, big + 1n, big + 2n, 5n]) cache.remember(objectRecord(id));
    for (const id of [big - 1n, big, big + 1n, big + 2n, 5n]) expect(cache.get(id)?.id).toBe(id);
    cache.committed(new Map([[big + 1n, null]]));
    expect(cache.get(big + 1n)).toBeUndefined();
    expect(cache.get(big)?.id).toBe(big);
    expect(cache.get(big + 2n)?.id).toBe(big + 2n);
    cache.forget([5n, big - 1n], []);
    expect(cache.get(5n)).toBeUndefined();
    expect(cache.get(big - 1n)).toBeUndefined();
    expect(cache.size).toBe(2);
  });

  it("applies a commit's changes, deletions included, and counts the commit", () => {
    const cache = new ObjectCache(10);
    cache.remember(objectRecord(1n));
    cache.committed(
      new Map([
        [1n, null],
        [2n, objectRecord(2n, { mode: 0o600 })],
      ]),
    );
    expect(cache.generation).toBe(1);
    expect(cache.get(1n)).toBeUndefined();
    expect(cache.get(2n)?.mode).toBe(0o600);
  });

  it("keeps entries apart from records, by directory and name, and applies a commit's entry changes", () => {
    const cache = new ObjectCache(10);
    cache.rememberEntry({ dir: 1n, name: "a", cookie: 3n, child: 7n });
    cache.rememberEntry({ dir: 12n, name: "3", cookie: 3n, child: 8n });
    expect(cache.entry(1n, "a")?.child).toBe(7n);
    // "1" + "23" and "12" + "3" must not meet.
    expect(cache.entry(1n, "23")).toBeUndefined();
    expect(cache.get(7n)).toBeUndefined();
    cache.committed(
      new Map(),
      new Map([
        [entryKey(1n, "a"), null],
        [entryKey(1n, "b"), { dir: 1n, name: "b", cookie: 4n, child: 7n }],
      ]),
    );
    // Removed by the commit: known absent.
    expect(cache.entry(1n, "a")).toBeNull();
    expect(cache.entry(1n, "b")?.cookie).toBe(4n);
    expect(cache.entryCount).toBe(3);
    cache.rememberAbsent(1n, "c");
    expect(cache.entry(1n, "c")).toBeNull();
    // A change under way: forgotten, and the generation moves on.
    const gen = cache.generation;
    cache.forget([], [entryKey(1n, "b")]);
    expect(cache.entry(1n, "b")).toBeUndefined();
    expect(cache.generation).toBe(gen + 1);
  });
});

describe("SqliteMetadataStore with its object cache", () => {
  it("answers views and transactions with what was committed last", async () => {
    await withStore({}, async (store) => {
      const id = await createFile(store, "a");
      expect((await store.view((tx) => tx.getObject(id)))?.mode).toBe(0o644);
      await store.transact((tx) => tx.putObject(objectRecord(id, { mode: 0o600 })));
      expect((await store.view((tx) => tx.getObject(id)))?.mode).toBe(0o600);
      expect((await store.transact((tx) => tx.getObject(id)))?.mode).toBe(0o600);
      await store.transact((tx) => tx.deleteObject(id));
      expect(await store.view((tx) => tx.getObject(id))).toBeNull();
      expect(await store.transact((tx) => tx.getObject(id))).toBeNull();
    });
  });

  it("answers entries as SQLite would after adds, renames, removals and a rollback", async () => {
    await withStore({}, async (store) => {
      const id = await createFile(store, "a");
      const lookup = (name: string): Promise<bigint | null> =>
        store.view(async (tx) => (await tx.getEntry(1n, name))?.child ?? null);
      expect(await lookup("a")).toBe(id); // a SELECT, cached from here on
      expect(await lookup("a")).toBe(id);
      await store.transact(async (tx) => {
        await tx.removeEntry(1n, "a");
        // The transaction sees its own changes before they are committed…
        expect(await tx.getEntry(1n, "a")).toBeNull();
        await tx.addEntry(1n, "b", id);
        expect((await tx.getEntry(1n, "b"))?.child).toBe(id);
      });
      expect(await lookup("a")).toBeNull();
      expect(await lookup("b")).toBe(id);
      await expect(
        store.transact(async (tx) => {
          await tx.removeEntry(1n, "b");
          await tx.addEntry(1n, "c", id);
          throw new Error("give up");
        }),
      ).rejects.toThrow("give up");
      // …and nobody sees those of one that rolled back.
      expect(await lookup("b")).toBe(id);
      expect(await lookup("c")).toBeNull();
      expect((await store.transact((tx) => tx.getEntry(1n, "b")))?.child).toBe(id);
      await store.transact((tx) => tx.removeEntry(1n, "b"));
      expect(await lookup("b")).toBeNull();
      expect(await store.transact((tx) => tx.getEntry(1n, "b"))).toBeNull();
    });
  });

  it("checks a READDIR cookie inside a cached listing without an SQL snapshot, any other in SQL", async () => {
    await withStore({}, async (store) => {
      for (const n of ["a", "b", "c", "d"]) await createFile(store, n);
      const page = (after: bigint): Promise<string[]> =>
        store.view(async (tx) =>
          (await tx.listEntriesWithObjects(1n, after, 10)).map((e) => e.name),
        );
      const issued = (cookie: bigint): Promise<boolean> =>
        store.view((tx) => tx.cookieIssued(1n, cookie));
      const all = await store.view((tx) => tx.listEntries(1n, 0n, 10));
      expect(await page(0n)).toEqual(["a", "b", "c", "d"]); // read in SQL, kept from here on
      const before = store.viewSnapshots;
      // READDIR's next page: its cookie and its names, from the cache alone.
      expect(await issued(all[1]!.cookie)).toBe(true);
      expect(await page(all[1]!.cookie)).toEqual(["c", "d"]);
      expect(store.viewSnapshots).toBe(before);
      // A cookie the directory never handed out is looked up.
      expect(await issued(all[3]!.cookie + 1n)).toBe(false);
      expect(store.viewSnapshots).toBe(before + 1);
      // Its entry removed (the listing with it), "b"'s cookie was still handed out.
      await store.transact((tx) => tx.removeEntry(1n, "b"));
      expect(await issued(all[1]!.cookie)).toBe(true);
      expect(store.viewSnapshots).toBe(before + 2);
    });
  });

  it("keeps nothing of a transaction that rolled back", async () => {
    await withStore({}, async (store) => {
      const id = await createFile(store, "a");
      await expect(
        store.transact(async (tx) => {
          await tx.putObject(objectRecord(id, { mode: 0o600 }));
          // The transaction sees its own change…
          expect((await tx.getObject(id))?.mode).toBe(0o600);
          throw new Error("give up");
        }),
      ).rejects.toThrow("give up");
      // …nobody else ever does.
      expect((await store.view((tx) => tx.getObject(id)))?.mode).toBe(0o644);
      expect((await store.transact((tx) => tx.getObject(id)))?.mode).toBe(0o644);
    });
  });

  it("runs a view again when a commit lands between its cache hits and its first SELECT", async () => {
    await withStore({}, async (store) => {
      const id = await createFile(store, "a");
      await store.view((tx) => tx.getObject(id)); // cached now
      let runs = 0;
      let committed = (): void => undefined;
      const commitDone = new Promise<void>((r) => (committed = r));
      const seen = store.view(async (tx) => {
        runs++;
        const o = await tx.getObject(id);
        if (runs === 1) {
          // Another operation renames "a" to "b" and changes the object meanwhile.
          void store
            .transact(async (w) => {
              await w.removeEntry(1n, "a");
              await w.addEntry(1n, "b", id);
              await w.putObject(objectRecord(id, { mode: 0o600 }));
            })
            .then(committed);
          await commitDone;
        }
        // A SELECT: its snapshot must agree with the object read above.
        const a = await tx.getEntry(1n, "a");
        return { mode: o?.mode, named: a !== null };
      });
      const r = await seen;
      expect(runs).toBe(2);
      // Old object with old name, or new object without it: here the second run's.
      expect(r).toEqual({ mode: 0o600, named: false });
    });
  });

  it("stays within objectCacheEntries, and works with none", async () => {
    await withStore({ objectCacheEntries: 3 }, async (store) => {
      const ids: bigint[] = [];
      for (const n of ["a", "b", "c", "d", "e"]) ids.push(await createFile(store, n));
      for (const id of ids) expect((await store.view((tx) => tx.getObject(id)))?.id).toBe(id);
      expect(store.cachedObjects).toBe(3);
      for (const n of ["a", "b", "c", "d", "e"])
        expect(await store.view((tx) => tx.getEntry(1n, n))).not.toBeNull();
      expect(store.cachedEntries).toBe(3);
    });
    await withStore({ objectCacheEntries: 0 }, async (store) => {
      const id = await createFile(store, "a");
      await store.transact((tx) => tx.putObject(objectRecord(id, { mode: 0o600 })));
      expect((await store.view((tx) => tx.getObject(id)))?.mode).toBe(0o600);
      expect(store.cachedObjects).toBe(0);
    });
  });
});

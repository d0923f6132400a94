// MetadataTx.listEntriesWithObjects() against a metadata store (SQLite,
// PostgreSQL): every entry's object must be exactly what getObject() returns
// at that point — a write transaction's own uncommitted objects and entries
// first, then the cache, then the database — whether or not it was cached.

import { expect } from "vitest";
import { nfs_ftype4 } from "../../generated/nfs4/index.js";
import type { ListedEntry, MetadataStore, MetadataTx, ObjectId } from "../../src/store/metadata.js";
import { objectRecord } from "./records.js";

/** What the listing says of each entry: name, child, and the object's mode (null: none). */
function summary(page: readonly ListedEntry[]): [string, ObjectId, number | null][] {
  return page.map((e) => [e.name, e.child, e.object === null ? null : e.object.mode]);
}

/** The listing of `dir` through getObject(): what listEntriesWithObjects() must agree with. */
async function viaGetObject(
  tx: MetadataTx,
  dir: ObjectId,
  after: bigint,
  limit: number,
): Promise<ListedEntry[]> {
  const entries = await tx.listEntries(dir, after, limit);
  const out: ListedEntry[] = [];
  for (const e of entries)
    out.push({
      name: e.name,
      cookie: e.cookie,
      child: e.child,
      object: await tx.getObject(e.child),
    });
  return out;
}

/** Runs the checks on `store`. */
export async function checkListEntriesWithObjects(store: MetadataStore): Promise<void> {
  // A directory with four files a..d (d's entry names an id that has no object).
  const { dir, files, ghost } = await store.transact(async (tx) => {
    const dir = await tx.newObjectId();
    await tx.createObject(objectRecord(dir, { type: nfs_ftype4.NF4DIR, nlink: 2 }));
    const files: ObjectId[] = [];
    for (const name of ["a", "b", "c"]) {
      const id = await tx.newObjectId();
      await tx.createObject(objectRecord(id, { mode: 0o600 }));
      await tx.addEntry(dir, name, id);
      files.push(id);
    }
    const ghost = await tx.newObjectId();
    await tx.addEntry(dir, "d", ghost);
    return { dir, files, ghost };
  });
  const [a, b, c] = files as [ObjectId, ObjectId, ObjectId];

  // Committed, read twice: from the database, then (where the store caches) from the cache.
  for (let round = 0; round < 2; round++) {
    const page = await store.view((tx) => tx.listEntriesWithObjects(dir, 0n, 10));
    expect(summary(page)).toEqual([
      ["a", a, 0o600],
      ["b", b, 0o600],
      ["c", c, 0o600],
      ["d", ghost, null],
    ]);
    expect(page).toEqual(await store.view((tx) => viaGetObject(tx, dir, 0n, 10)));
  }

  // After a cookie, and up to a limit.
  const all = await store.view((tx) => tx.listEntriesWithObjects(dir, 0n, 10));
  const rest = await store.view((tx) => tx.listEntriesWithObjects(dir, all[0]!.cookie, 2));
  expect(rest.map((e) => e.name)).toEqual(["b", "c"]);
  expect(rest.map((e) => e.cookie)).toEqual([all[1]!.cookie, all[2]!.cookie]);

  // Inside a write transaction: its own changes, not what is committed (or cached).
  const inside = await store.transact(async (tx) => {
    await tx.putObject(objectRecord(a, { mode: 0o640 }));
    await tx.deleteObject(b);
    const e = await tx.newObjectId();
    await tx.createObject(objectRecord(e, { mode: 0o604 }));
    await tx.addEntry(dir, "e", e);
    await tx.removeEntry(dir, "c");
    const page = await tx.listEntriesWithObjects(dir, 0n, 10);
    expect(page).toEqual(await viaGetObject(tx, dir, 0n, 10));
    return { page, e };
  });
  expect(summary(inside.page)).toEqual([
    ["a", a, 0o640],
    ["b", b, null],
    ["d", ghost, null],
    ["e", inside.e, 0o604],
  ]);

  // Committed: later views see it, not the records cached before.
  const after = await store.view((tx) => tx.listEntriesWithObjects(dir, 0n, 10));
  expect(summary(after)).toEqual(summary(inside.page));

  // A transaction that rolled back leaves nothing behind in what later listings return.
  await expect(
    store.transact(async (tx) => {
      await tx.putObject(objectRecord(a, { mode: 0o400 }));
      expect((await tx.listEntriesWithObjects(dir, 0n, 1))[0]?.object?.mode).toBe(0o400);
      throw new Error("roll back");
    }),
  ).rejects.toThrow("roll back");
  const back = await store.view((tx) => tx.listEntriesWithObjects(dir, 0n, 1));
  expect(back[0]?.object?.mode).toBe(0o640);
}

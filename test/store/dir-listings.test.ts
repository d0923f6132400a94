import { describe, expect, it } from "vitest";
import { DirListings, type ListedName } from "../../src/store/dir-listings.js";
import { ObjectCache, entryKey } from "../../src/store/object-cache.js";

/** Names n0..n(count-1) with cookies 3, 4, … (the first cookie a directory hands out). */
function names(count: number): ListedName[] {
  return Array.from({ length: count }, (_, i) => ({
    name: `n${i}`,
    cookie: BigInt(i + 3),
    child: BigInt(100 + i),
  }));
}

/** Feeds `all` to `l` as READDIR reads it: pages of `ask` asking one more, each resuming at the last returned. */
function readAsReaddir(l: DirListings, dir: bigint, all: ListedName[], ask: number): void {
  let after = 0n;
  for (;;) {
    const from = all.findIndex((n) => n.cookie > after);
    const page = from < 0 ? [] : all.slice(from, from + ask + 1);
    l.read(dir, after, ask + 1, page);
    if (page.length <= ask) return;
    after = page[ask - 1]!.cookie;
  }
}

describe("DirListings", () => {
  it("serves a listing assembled from overlapping pages once it reaches the end, not before", () => {
    const l = new DirListings(100);
    const all = names(10);
    l.read(5n, 0n, 4, all.slice(0, 4));
    expect(l.page(5n, 0n, 10)).toBeUndefined();
    readAsReaddir(l, 5n, all, 3);
    expect(l.page(5n, 0n, 100)).toEqual(all);
    expect(l.size).toBe(10);
    // After a cookie, up to a limit; past the end, nothing.
    expect(l.page(5n, all[3]!.cookie, 2)).toEqual(all.slice(4, 6));
    expect(l.page(5n, all[9]!.cookie, 2)).toEqual([]);
    // An empty directory is a complete listing too.
    l.read(6n, 0n, 4, []);
    expect(l.page(6n, 0n, 4)).toEqual([]);
  });

  it("holds the cookies of the names it keeps, complete or not, and no others", () => {
    const l = new DirListings(100);
    const all = names(6);
    expect(l.holds(5n, all[0]!.cookie)).toBe(false);
    l.read(5n, 0n, 3, all.slice(0, 3));
    for (const n of all.slice(0, 3)) expect(l.holds(5n, n.cookie)).toBe(true);
    // Not yet read, between two it keeps, before the first, of another directory.
    expect(l.holds(5n, all[3]!.cookie)).toBe(false);
    expect(l.holds(5n, 0n)).toBe(false);
    expect(l.holds(6n, all[0]!.cookie)).toBe(false);
    readAsReaddir(l, 5n, all, 2);
    for (const n of all) expect(l.holds(5n, n.cookie)).toBe(true);
    expect(l.holds(5n, all[5]!.cookie + 1n)).toBe(false);
    l.drop(5n);
    expect(l.holds(5n, all[0]!.cookie)).toBe(false);
  });

  it("ignores a page that resumes at a cookie not in the listing", () => {
    const l = new DirListings(100);
    const all = names(6);
    l.read(5n, 0n, 3, all.slice(0, 3));
    // Not the cookie of a name it holds (a gap would go unnoticed).
    l.read(5n, 99n, 3, all.slice(4, 6));
    expect(l.page(5n, 0n, 10)).toBeUndefined();
    // A directory it holds nothing of.
    l.read(7n, all[1]!.cookie, 3, all.slice(2, 4));
    expect(l.page(7n, 0n, 10)).toBeUndefined();
    expect(l.size).toBe(3);
  });

  it("drops a listing, and the oldest ones beyond its budget of names", () => {
    const l = new DirListings(10);
    readAsReaddir(l, 1n, names(4), 2);
    readAsReaddir(l, 2n, names(4), 2);
    expect(l.size).toBe(8);
    readAsReaddir(l, 3n, names(4), 2);
    expect(l.page(1n, 0n, 10)).toBeUndefined();
    expect(l.page(2n, 0n, 10)).toHaveLength(4);
    expect(l.page(3n, 0n, 10)).toHaveLength(4);
    expect(l.size).toBe(8);
    // One larger than the whole budget is not kept.
    readAsReaddir(l, 4n, names(11), 20);
    expect(l.page(4n, 0n, 20)).toBeUndefined();
    expect(l.page(2n, 0n, 10)).toHaveLength(4);
    l.drop(2n);
    expect(l.page(2n, 0n, 10)).toBeUndefined();
    expect(l.size).toBe(4);
    // A budget of 0 keeps none.
    const none = new DirListings(0);
    none.read(1n, 0n, 10, names(3));
    expect(none.page(1n, 0n, 10)).toBeUndefined();
  });

  it("ObjectCache drops a directory's listing when a commit changes (or may have changed) one of its entries", () => {
    const cache = new ObjectCache(100);
    for (const dir of [1n, 2n, 12n]) cache.listings.read(dir, 0n, 10, names(3));
    cache.committed(new Map(), new Map([[entryKey(1n, "n0"), null]]));
    expect(cache.listings.page(1n, 0n, 10)).toBeUndefined();
    expect(cache.listings.page(2n, 0n, 10)).toHaveLength(3);
    // Object changes alone leave listings be: they hold names, not records.
    cache.committed(new Map([[2n, null]]));
    expect(cache.listings.page(2n, 0n, 10)).toHaveLength(3);
    // A name with "/" in the key's name part still belongs to directory 12.
    cache.forget([], [entryKey(12n, "a/b")]);
    expect(cache.listings.page(12n, 0n, 10)).toBeUndefined();
    expect(cache.listings.page(2n, 0n, 10)).toHaveLength(3);
  });
});

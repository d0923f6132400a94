// Whole directory listings (name, cookie, child in cookie order) as last
// committed, kept by the SQL stores' cache (object-cache.ts) so that READDIR
// of a directory listed before needs no SQL: a page of 10,000 entries cost
// 0.45 µs per entry in better-sqlite3 alone (making each row's array, string
// and bigints), a third of the SQLite store's READDIR.
//
// A listing is assembled from the pages READDIR reads anyway, in order: a
// page from the start begins it, a page that resumes inside it extends it,
// and a page shorter than asked completes it. Only a complete listing is
// served. Every commit that adds or removes an entry of a directory drops
// that directory's listing (ObjectCache.committed and forget); the store must
// pass only pages read from the committed state (its cache's generation
// unchanged since its snapshot began).
//
// Listings hold names only: the children's records still come from the
// object cache, whose attributes change without any entry changing.

import { firstAfterCookie } from "../fs/backend.js";
import type { ObjectId } from "./metadata.js";

/** One name of a directory listing. */
export interface ListedName {
  readonly name: string;
  readonly cookie: bigint;
  readonly child: ObjectId;
}

interface Listing {
  names: ListedName[];
  /** Whether `names` reaches the directory's end (only then is it served). */
  complete: boolean;
}

export class DirListings {
  /** In the order they were begun: the oldest is dropped first when over budget. */
  private readonly listings = new Map<ObjectId, Listing>();
  private held = 0;

  /** `budget`: most names kept over all listings; 0 keeps none. */
  constructor(private readonly budget: number) {}

  /** Names kept, over all listings. */
  get size(): number {
    return this.held;
  }

  /**
   * Up to `limit` names of `dir` with cookies above `after`, in cookie order,
   * if its whole listing is kept; undefined otherwise.
   */
  page(dir: ObjectId, after: bigint, limit: number): ListedName[] | undefined {
    const l = this.listings.get(dir);
    if (l === undefined || !l.complete) return undefined;
    const from = firstAfterCookie(l.names, after);
    return l.names.slice(from, from + limit);
  }

  /**
   * Whether a listing kept of `dir`, complete or not, has a name with
   * `cookie`: then the directory handed that cookie out (it never takes one
   * back), and a READDIR resuming at it needs no SQL to check it.
   */
  holds(dir: ObjectId, cookie: bigint): boolean {
    const names = this.listings.get(dir)?.names;
    return names !== undefined && pastCookie(names, cookie) >= 0;
  }

  /**
   * `names` are the committed names of `dir` with cookies above `after`, up to
   * `limit` of them: they begin its listing (after 0), or extend the one kept
   * if `after` is 0 or the cookie of a name in it.
   */
  read(dir: ObjectId, after: bigint, limit: number, names: readonly ListedName[]): void {
    if (this.budget === 0) return;
    let l = this.listings.get(dir);
    if (after === 0n) {
      this.drop(dir);
      l = { names: [], complete: false };
      this.listings.set(dir, l);
    } else {
      if (l === undefined) return;
      const from = pastCookie(l.names, after);
      if (from < 0) return;
      // Pages overlap (READDIR asks one more than it returns): the part from `after` is read again.
      this.held -= l.names.length - from;
      l.names.length = from;
    }
    for (const n of names) l.names.push(n);
    this.held += names.length;
    l.complete = names.length < limit;
    // One that alone exceeds the budget is not kept, and does not push out the others.
    if (l.names.length > this.budget) this.drop(dir);
    while (this.held > this.budget) {
      const oldest = this.listings.keys().next();
      if (oldest.done === true) break;
      this.drop(oldest.value);
    }
  }

  /** Forgets `dir`'s listing: its entries changed. */
  drop(dir: ObjectId): void {
    const l = this.listings.get(dir);
    if (l === undefined) return;
    this.held -= l.names.length;
    this.listings.delete(dir);
  }
}

/** The index just past the name with exactly `cookie` in `names` (cookie order), or -1 if none has it. */
function pastCookie(names: readonly ListedName[], cookie: bigint): number {
  const from = firstAfterCookie(names, cookie);
  return from > 0 && names[from - 1]!.cookie === cookie ? from : -1;
}

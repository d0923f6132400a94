// The entries of one in-memory directory, with stable READDIR cookies.
//
// Each entry gets the next cookie of its directory when it is added and keeps
// it until it is removed; cookies are never reused. Listing "after cookie c"
// is then simply "the live entries with a larger cookie", which stays correct
// however the directory changed since c was handed out — so the cookie
// verifier never has to change while the server runs.
//
// Slots are kept in cookie order (appends only), so resuming is a binary
// search. Removal leaves a tombstone; tombstones are compacted away once they
// outnumber the live entries (cookies are unaffected).

import { FIRST_COOKIE, firstAfterCookie } from "./backend.js";

interface Slot<T> {
  readonly cookie: bigint;
  readonly name: string;
  /** null once removed. */
  value: T | null;
}

/** Compaction is not worth it for small directories. */
const MIN_TOMBSTONES_TO_COMPACT = 32;

export class DirListing<T> {
  private readonly byName = new Map<string, Slot<T>>();
  private slots: Slot<T>[] = [];
  private tombstones = 0;
  private next = FIRST_COOKIE;

  get size(): number {
    return this.byName.size;
  }

  get(name: string): T | undefined {
    return this.byName.get(name)?.value ?? undefined;
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }

  /** Adds `name` (which must be absent) and returns its cookie. */
  add(name: string, value: T): bigint {
    if (this.byName.has(name)) throw new Error(`DirListing.add: "${name}" exists`);
    const slot: Slot<T> = { cookie: this.next++, name, value };
    this.slots.push(slot);
    this.byName.set(name, slot);
    return slot.cookie;
  }

  /** Removes `name` and returns what it named (undefined if absent). */
  remove(name: string): T | undefined {
    const slot = this.byName.get(name);
    if (slot === undefined) return undefined;
    this.byName.delete(name);
    const value = slot.value ?? undefined;
    slot.value = null;
    this.tombstones++;
    if (this.tombstones >= MIN_TOMBSTONES_TO_COMPACT && this.tombstones > this.byName.size) {
      this.slots = this.slots.filter((s) => s.value !== null);
      this.tombstones = 0;
    }
    return value;
  }

  /** The cookie of entry `name`, or undefined if there is none. */
  cookieOf(name: string): bigint | undefined {
    return this.byName.get(name)?.cookie;
  }

  /**
   * Where the live entry with `cookie` sits: the live entry just before it
   * (null if none) and whether any live entry follows it.
   */
  placeOf(cookie: bigint): { previous: { cookie: bigint; name: string } | null; last: boolean } {
    const slots = this.slots;
    const at = firstAfterCookie(slots, cookie) - 1;
    let previous: { cookie: bigint; name: string } | null = null;
    for (let i = at - 1; i >= 0; i--) {
      const s = slots[i]!;
      if (s.value !== null) {
        previous = { cookie: s.cookie, name: s.name };
        break;
      }
    }
    let last = true;
    for (let i = at + 1; i < slots.length; i++)
      if (slots[i]!.value !== null) {
        last = false;
        break;
      }
    return { previous, last };
  }

  /** True if `cookie` was handed out by this listing (whether or not its entry still exists). */
  issued(cookie: bigint): boolean {
    return cookie >= FIRST_COOKIE && cookie < this.next;
  }

  /** The live entries whose cookie is greater than `cookie`, in cookie order. */
  *after(cookie: bigint): Generator<{ cookie: bigint; name: string; value: T }> {
    const slots = this.slots;
    for (let i = firstAfterCookie(slots, cookie); i < slots.length; i++) {
      const s = slots[i]!;
      if (s.value !== null) yield { cookie: s.cookie, name: s.name, value: s.value };
    }
  }

  /** Every live entry, in cookie order. */
  values(): IterableIterator<T> {
    return (function* (slots: Map<string, Slot<T>>) {
      for (const s of slots.values()) if (s.value !== null) yield s.value;
    })(this.byName);
  }
}

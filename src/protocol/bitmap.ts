// bitmap4 helpers (RFC 8881 §3.3), shared by the server and the client
// library: attribute n is bit (n mod 32) of word floor(n / 32). Bitmaps from
// the wire may have any number of words, including trailing zero words; the
// ones we build have none.

import type { bitmap4 } from "../../generated/nfs4/index.js";

/** True when attribute `bit` is set in `bm`. */
export function hasBit(bm: bitmap4, bit: number): boolean {
  const word = bm[bit >>> 5];
  return word !== undefined && (word & (1 << (bit & 31))) !== 0;
}

/** A bitmap with exactly the given attributes set. */
export function bitmapOf(bits: Iterable<number>): bitmap4 {
  const out: number[] = [];
  for (const bit of bits) {
    const w = bit >>> 5;
    while (out.length <= w) out.push(0);
    out[w] = (out[w]! | (1 << (bit & 31))) >>> 0;
  }
  return out;
}

/** The attributes set in `bm`, ascending. */
export function bitsOf(bm: bitmap4): number[] {
  const out: number[] = [];
  for (let w = 0; w < bm.length; w++) {
    let word = bm[w]! >>> 0;
    while (word !== 0) {
      const low = 31 - Math.clz32(word & -word);
      out.push(w * 32 + low);
      word = (word & ~(1 << low)) >>> 0;
    }
  }
  return out;
}

/** The bits set in both, without trailing zero words. */
export function intersect(a: bitmap4, b: bitmap4): bitmap4 {
  const n = Math.min(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push((a[i]! & b[i]!) >>> 0);
  return trim(out);
}

/** The bits of `a` that are not in `b`, without trailing zero words. */
export function difference(a: bitmap4, b: bitmap4): bitmap4 {
  return trim(a.map((w, i) => (w & ~(b[i] ?? 0)) >>> 0));
}

/** True when both have the same words (trailing zero words count: trim() first to ignore them). */
export function sameWords(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** True when no bit is set. */
export function isEmpty(bm: bitmap4): boolean {
  return bm.every((w) => w === 0);
}

/** `bm` without trailing zero words (a new array). */
export function trim(bm: bitmap4): bitmap4 {
  let n = bm.length;
  while (n > 0 && bm[n - 1] === 0) n--;
  return bm.slice(0, n);
}

// A regular file's bytes in the memory store, in chunks of CHUNK_BYTES.
//
// Why chunks: a READ that lies within one chunk is answered with a view of
// that chunk instead of a copy (a 1 MiB copy is about a tenth of the server's
// CPU per 1 MiB READ, measured 2026-12-04), and the chunk is marked lent. A
// later change to a lent chunk first replaces it with a copy, so a view handed
// out — to a reply being written, or kept in the replay cache — never changes
// under its holder: copy-on-write, at most one chunk copy per chunk per read,
// never more than the copies the reads would have made. A chunk starts small
// and grows geometrically up to CHUNK_BYTES, so a small file costs its size,
// not a chunk; a hole (a chunk never written) costs nothing and reads as zeros.

import { ioBuffers } from "../xdr/io-buffers.js";

/** Bytes per chunk: the largest READ answered without a copy. */
export const CHUNK_BYTES = 1024 * 1024;

/**
 * A READ of at least this many bytes within one chunk gets a view; a smaller
 * one a copy (marking a chunk lent costs its next writer a chunk copy, which
 * a few KiB read does not save).
 */
export const VIEW_MIN_BYTES = 64 * 1024;

/**
 * A chunk cut to less than 1/SHRINK_FACTOR of its length (minus the slack) is
 * reallocated to fit; growth at most doubles a chunk, so the memory held stays
 * within twice the file's size plus a chunk's slack.
 */
const SHRINK_FACTOR = 2;
const SHRINK_SLACK = 64 * 1024;

export class FileData {
  // chunks[i] holds bytes [i × CHUNK_BYTES, i × CHUNK_BYTES + chunks[i].length):
  // bytes past its length, and whole missing chunks, are zeros.
  private chunks: (Uint8Array | undefined)[] = [];
  // lent[i]: a view of chunks[i] was handed out; change a copy, not it.
  private lent: boolean[] = [];

  /** Memory the chunks hold (for tests and diagnostics). */
  get capacity(): number {
    let total = 0;
    for (const c of this.chunks) total += c?.length ?? 0;
    return total;
  }

  /**
   * Bytes [start, end) of the file, which the caller has clipped to its size.
   * A view of one chunk (marked lent) or a copy in a buffer of the I/O pool,
   * which the connection gives back once the reply is written.
   */
  read(start: number, end: number): Uint8Array {
    const i = Math.floor(start / CHUNK_BYTES);
    const base = i * CHUNK_BYTES;
    const chunk = this.chunks[i];
    if (end - start >= VIEW_MIN_BYTES && chunk !== undefined && end - base <= chunk.length) {
      this.lent[i] = true;
      return chunk.subarray(start - base, end - base);
    }
    // Unzeroed: every byte is copied or filled below.
    const out = ioBuffers.take(end - start);
    for (let at = start; at < end;) {
      const k = Math.floor(at / CHUNK_BYTES);
      const from = at - k * CHUNK_BYTES;
      const to = Math.min(end, (k + 1) * CHUNK_BYTES) - k * CHUNK_BYTES;
      const c = this.chunks[k];
      const have = Math.min(to, c?.length ?? 0);
      if (c !== undefined && have > from) out.set(c.subarray(from, have), at - start);
      if (have < to) out.fill(0, at - start + Math.max(0, have - from), at - start + to - from);
      at += to - from;
    }
    return new Uint8Array(out.buffer, out.byteOffset, out.length);
  }

  /** Writes `data` at `offset` (the caller has checked the size limit and charged the space). */
  write(offset: number, data: Uint8Array): void {
    for (let done = 0; done < data.length;) {
      const at = offset + done;
      const k = Math.floor(at / CHUNK_BYTES);
      const from = at - k * CHUNK_BYTES;
      const n = Math.min(data.length - done, CHUNK_BYTES - from);
      this.writable(k, from + n).set(data.subarray(done, done + n), from);
      done += n;
    }
  }

  /** The file is cut to `size` bytes: what lay beyond reads as zeros if it grows again. */
  truncate(size: number): void {
    const kept = Math.ceil(size / CHUNK_BYTES);
    if (this.chunks.length > kept) {
      this.chunks.length = kept;
      this.lent.length = kept;
    }
    const k = Math.floor(size / CHUNK_BYTES);
    const c = this.chunks[k];
    const n = size - k * CHUNK_BYTES;
    if (c === undefined || c.length <= n) return;
    if (c.length > SHRINK_FACTOR * n + SHRINK_SLACK || this.lent[k] === true) {
      // A new chunk of its own (the lent one stays as its views saw it); the
      // bytes past n are zeros in it already. (n > 0: a cut at a chunk's
      // start dropped that chunk above.)
      this.chunks[k] = c.slice(0, n);
      this.lent[k] = false;
    } else {
      c.fill(0, n);
    }
  }

  /** Chunk `k`, at least `length` long, safe to change in place. */
  private writable(k: number, length: number): Uint8Array {
    const c = this.chunks[k];
    if (c !== undefined && c.length >= length && this.lent[k] !== true) return c;
    // Grow geometrically so a stream of appends copies O(n) bytes in total.
    const size =
      c === undefined
        ? length
        : c.length >= length
          ? c.length
          : Math.min(CHUNK_BYTES, Math.max(length, 2 * c.length));
    const fresh = new Uint8Array(size);
    if (c !== undefined) fresh.set(c);
    while (this.chunks.length < k) {
      this.chunks.push(undefined);
      this.lent.push(false);
    }
    this.chunks[k] = fresh;
    this.lent[k] = false;
    return fresh;
  }
}

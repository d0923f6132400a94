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
//
// A write of one whole chunk whose bytes arrived in a request buffer the
// server lends (xdr/io-buffers.ts) keeps them there instead of copying them:
// the file adopts that buffer as the chunk, and the chunk it replaces (unless
// lent) goes back to be the buffer of a later request. The buffer is up to
// ADOPT_MAX_BYTES, so such a chunk holds at most that much memory.

import { IoBufferPool, ioBuffers } from "../xdr/io-buffers.js";

/** Bytes per chunk: the largest READ answered without a copy. */
export const CHUNK_BYTES = 1024 * 1024;

/**
 * The largest buffer a whole-chunk write's bytes are kept in rather than
 * copied out of: a request record's (1 MiB of data plus the RPC and COMPOUND
 * around it, in a buffer of rpc.maxRecordSize: 1 MiB + 64 KiB by default).
 */
export const ADOPT_MAX_BYTES = CHUNK_BYTES + CHUNK_BYTES / 8;

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
    // The whole buffer: an adopted chunk's holds the rest of its request record too.
    for (const c of this.chunks) total += c?.buffer.byteLength ?? 0;
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
      const piece = data.subarray(done, done + n);
      if (n === CHUNK_BYTES && IoBufferPool.adoptLent(piece, ADOPT_MAX_BYTES))
        this.replace(k, piece);
      else this.writable(k, from + n).set(piece, from);
      done += n;
    }
  }

  /** Chunk `k` becomes `bytes`, which nobody else holds; the old one goes back to its pool if it can. */
  private replace(k: number, bytes: Uint8Array): void {
    this.drop(k);
    // A plain Uint8Array, not the Buffer it may be: a Buffer's slice() is a
    // view, and truncate() relies on slice() making a copy of its own.
    this.put(k, new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length));
  }

  /** `chunk` becomes chunk `k`, not lent (holes before it stay holes). */
  private put(k: number, chunk: Uint8Array): void {
    while (this.chunks.length < k) {
      this.chunks.push(undefined);
      this.lent.push(false);
    }
    this.chunks[k] = chunk;
    this.lent[k] = false;
  }

  /** Chunk `k` is no longer the file's: unless a view of it was lent, its buffer may serve again (if adopted). */
  private drop(k: number): void {
    const c = this.chunks[k];
    if (c !== undefined && this.lent[k] !== true) IoBufferPool.giveBackAdopted(c);
  }

  /** The file is cut to `size` bytes: what lay beyond reads as zeros if it grows again. */
  truncate(size: number): void {
    const kept = Math.ceil(size / CHUNK_BYTES);
    if (this.chunks.length > kept) {
      for (let k = kept; k < this.chunks.length; k++) this.drop(k);
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
      const cut = c.slice(0, n);
      this.drop(k);
      this.put(k, cut);
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
    this.put(k, fresh);
    return fresh;
  }
}

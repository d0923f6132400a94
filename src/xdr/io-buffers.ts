// Large buffers for file data on its way to a socket. The payload store takes
// one for a READ's data, the reply's XdrWriter references it (gatherFrom, no
// copy), and the connection's RecordWriter gives it back once the kernel has
// taken the whole reply (the write callback of its last chunk). A fresh 1 MiB
// Buffer per READ is external memory V8 answers with a full mark-compact every
// few dozen READs: measured with a client-library loop of 1 MiB READs
// (2026-12-03), reusing the buffers cut the server's CPU per READ from 2.8 to
// 1.6 ms.
//
// A buffer that never comes back (a reply that was never written, data that
// went elsewhere, such as COPY's) is simply garbage: the pool remembers lent
// buffers in a WeakSet, and only what it lent can be given back, once.
//
// The same class lends the buffers a server reads large request records into
// (rpc/server.ts), and there the bytes can go the other way: a store keeping a
// whole 1 MiB WRITE may adopt the record's buffer instead of copying the data
// out of it (adoptLent), and give it back once the file's bytes there are
// replaced (giveBackAdopted), so the next record arrives in it. That saves the
// copy: ~80 µs of the memory store's ~320 µs of CPU per 1 MiB WRITE at most
// (the copy skipped); ~9% measured, as the kernel then writes each request
// into a buffer the cache has long forgotten (BENCHMARKS.md, thirteenth pass). It is
// safe because nothing else ever writes into a record: the connection reads
// it, decodes views of it, and releases it once the call is answered; an
// adopted buffer is lent again only after both that release and its
// adopter's give-back. Stored data is still never a view into a buffer that
// is reused while it is stored.

import { Buffer } from "node:buffer";

/** The pool that lent each buffer of an adopting pool (see IoBufferPool.adoptLent), while it is lent. */
const lenders = new WeakMap<ArrayBuffer, IoBufferPool>();

/**
 * An adopted buffer. It serves again only once both sides are done with it:
 * its adopter gave it back, and its pool saw the release of the record that
 * arrived in it (which may come later: the call is still being answered). A
 * buffer lent again before that release would be freed by it while in use.
 */
interface Adoption {
  readonly pool: IoBufferPool;
  recordReleased: boolean;
  givenBack: boolean;
}
const adoptions = new WeakMap<ArrayBuffer, Adoption>();

export class IoBufferPool {
  private free: ArrayBuffer[] = [];
  private lent = new WeakSet<ArrayBuffer>();
  /** Buffers handed out, how many of those came from the free list, and how many were adopted (adoptLent). */
  readonly stats = { taken: 0, reused: 0, adopted: 0 };
  /** Buffers lent and not given back (one never given back stays counted). */
  private lentCount = 0;

  /**
   * `bufferBytes`: each pooled buffer's size; requests of more than it, or of
   * half of it or less, get a buffer of their own (a small read must not hold
   * a large buffer until its reply is written). `kept`: most free buffers kept.
   */
  constructor(
    private bufferBytes: number,
    private kept: number,
    /**
     * Whoever takes a buffer gives up every claim to the bytes it holds once
     * it hands them on, so their consumer may keep them (adoptLent()): true
     * only for the buffers a server reads request records into.
     */
    private readonly adoptable = false,
  ) {}

  /** Sets the sizes (a server's nfs.maxIoSize and nfs.readBuffersKept); drops free buffers of another size. */
  configure(bufferBytes: number, kept: number): void {
    if (bufferBytes !== this.bufferBytes) {
      this.free = [];
      this.lent = new WeakSet();
      this.lentCount = 0;
    }
    this.bufferBytes = bufferBytes;
    this.kept = kept;
    if (this.free.length > kept) this.free.length = kept;
  }

  /** The size of the pool's buffers: take(bufferSize) lends one (unless the pool keeps none). */
  get bufferSize(): number {
    return this.bufferBytes;
  }

  /** take(size) would lend one of the pool's buffers (not make one of its own). */
  lends(size: number): boolean {
    return size <= this.bufferBytes && size * 2 > this.bufferBytes && this.kept > 0;
  }

  /** `size` bytes, unzeroed: the caller writes before anyone reads. */
  take(size: number): Buffer {
    if (!this.lends(size)) return Buffer.allocUnsafe(size);
    this.stats.taken++;
    let ab = this.free.pop();
    if (ab === undefined) ab = new ArrayBuffer(this.bufferBytes);
    else this.stats.reused++;
    this.lent.add(ab);
    this.lentCount++;
    if (this.adoptable) lenders.set(ab, this);
    return Buffer.from(ab, 0, size);
  }

  /**
   * A buffer holding `size` bytes within the pool's means: a free one, or a new
   * one while the buffers lent and free number fewer than `kept`. Null when
   * take(size) would not lend or the pool is at its size: unlike take(), it
   * never makes the pool's memory grow past `kept` buffers.
   */
  takeKept(size: number): Buffer | null {
    if (!this.lends(size)) return null;
    if (this.free.length === 0 && this.lentCount >= this.kept) return null;
    return this.take(size);
  }

  /**
   * `chunk` has been written and nothing refers to its bytes any more: if it
   * lies in a buffer this pool lent, that buffer is free again. Anything else
   * (and a second release) is ignored.
   */
  release(chunk: Uint8Array): void {
    const ab = chunk.buffer;
    if (!(ab instanceof ArrayBuffer)) return;
    if (!this.lent.delete(ab)) {
      const a = adoptions.get(ab);
      if (a?.pool !== this || a.recordReleased) return;
      a.recordReleased = true;
      if (a.givenBack) this.reuse(ab);
      return;
    }
    this.lentCount--;
    lenders.delete(ab);
    if (this.free.length < this.kept) this.free.push(ab);
  }

  /** A lent buffer becomes its holder's (adoptLent); false if this pool no longer counts it lent. */
  private adopt(ab: ArrayBuffer): boolean {
    lenders.delete(ab);
    // Not lent any more (given back, or lent before configure() changed the size).
    if (!this.lent.delete(ab)) return false;
    this.lentCount--;
    this.stats.adopted++;
    adoptions.set(ab, { pool: this, recordReleased: false, givenBack: false });
    return true;
  }

  /** An adopted buffer nobody refers to any more: free again, if of this pool's size and there is room. */
  private reuse(ab: ArrayBuffer): void {
    adoptions.delete(ab);
    if (ab.byteLength === this.bufferBytes && this.free.length < this.kept) this.free.push(ab);
  }

  /**
   * `view`'s buffer, if an adopting pool lent it and it is at most `maxBytes`
   * long, now belongs to the caller (true), who hands it back with
   * giveBackAdopted() once nothing refers to it; until then the pool ignores
   * the release of the record it holds.
   */
  static adoptLent(view: Uint8Array, maxBytes: number): boolean {
    const ab = view.buffer;
    if (!(ab instanceof ArrayBuffer) || ab.byteLength > maxBytes) return false;
    return lenders.get(ab)?.adopt(ab) === true;
  }

  /** `view`'s buffer, if adopted, is no longer referenced by its adopter (a second call is ignored). */
  static giveBackAdopted(view: Uint8Array): void {
    const ab = view.buffer;
    if (!(ab instanceof ArrayBuffer)) return;
    const a = adoptions.get(ab);
    if (a === undefined || a.givenBack) return;
    a.givenBack = true;
    if (a.recordReleased) a.pool.reuse(ab);
  }

  /** Free buffers held now (for tests). */
  get freeCount(): number {
    return this.free.length;
  }
}

/** The process's pool: the stores take from it, the connections give back to it. */
export const ioBuffers = new IoBufferPool(1024 * 1024, 16);

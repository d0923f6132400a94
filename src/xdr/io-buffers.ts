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

import { Buffer } from "node:buffer";

export class IoBufferPool {
  private free: ArrayBuffer[] = [];
  private lent = new WeakSet<ArrayBuffer>();
  /** Buffers handed out, and how many of those came from the free list. */
  readonly stats = { taken: 0, reused: 0 };
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
    if (!(ab instanceof ArrayBuffer) || !this.lent.delete(ab)) return;
    this.lentCount--;
    if (this.free.length < this.kept) this.free.push(ab);
  }

  /** Free buffers held now (for tests). */
  get freeCount(): number {
    return this.free.length;
  }
}

/** The process's pool: the stores take from it, the connections give back to it. */
export const ioBuffers = new IoBufferPool(1024 * 1024, 16);

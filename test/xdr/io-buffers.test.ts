import { describe, expect, it } from "vitest";
import { IoBufferPool } from "../../src/xdr/io-buffers.js";

describe("IoBufferPool", () => {
  it("lends buffers for sizes over half its buffer size and reuses each once it comes back", () => {
    const pool = new IoBufferPool(1024, 2);
    const a = pool.take(1000);
    expect(a.length).toBe(1000);
    expect(a.buffer.byteLength).toBe(1024);
    pool.release(a);
    expect(pool.freeCount).toBe(1);
    const b = pool.take(600);
    expect(b.buffer).toBe(a.buffer);
    expect(pool.stats).toEqual({ taken: 2, reused: 1 });
  });

  it("takeKept lends a free buffer, or a new one only while it holds fewer than `kept`", () => {
    const pool = new IoBufferPool(1024, 2);
    expect(pool.takeKept(100)).toBeNull();
    const a = pool.takeKept(1000)!;
    const b = pool.takeKept(1000)!;
    expect(b.buffer).not.toBe(a.buffer);
    expect(pool.takeKept(1000)).toBeNull();
    pool.release(new Uint8Array(1024));
    expect(pool.takeKept(1000)).toBeNull();
    pool.release(a);
    const c = pool.takeKept(700)!;
    expect(c.length).toBe(700);
    expect(c.buffer).toBe(a.buffer);
    expect(pool.stats).toEqual({ taken: 3, reused: 1 });
  });

  it("gives small and oversized requests buffers of their own, and ignores what it did not lend", () => {
    const pool = new IoBufferPool(1024, 2);
    for (const size of [512, 10, 2048]) {
      const own = pool.take(size);
      expect(own.length).toBe(size);
      pool.release(own);
    }
    pool.release(new Uint8Array(1024));
    expect(pool.freeCount).toBe(0);
    expect(pool.stats.taken).toBe(0);
  });

  it("takes a buffer back once only, and keeps at most `kept`", () => {
    const pool = new IoBufferPool(1024, 2);
    const lent = [pool.take(1024), pool.take(1024), pool.take(1024)];
    pool.release(lent[0]!);
    pool.release(lent[0]!);
    expect(pool.freeCount).toBe(1);
    // A view of part of a lent buffer gives the whole buffer back.
    pool.release(lent[1]!.subarray(10, 20));
    pool.release(lent[2]!);
    expect(pool.freeCount).toBe(2);
    // The same buffer is never handed out twice at once.
    const again = [pool.take(1024), pool.take(1024), pool.take(1024)];
    expect(new Set(again.map((b) => b.buffer)).size).toBe(3);
  });

  it("drops its free buffers when the size changes, and lends none at kept 0", () => {
    const pool = new IoBufferPool(1024, 2);
    const a = pool.take(1024);
    pool.release(a);
    pool.configure(2048, 2);
    expect(pool.freeCount).toBe(0);
    // Lent before the change: not taken back.
    pool.release(pool.take(2048));
    pool.release(a);
    expect(pool.freeCount).toBe(1);
    pool.configure(2048, 0);
    expect(pool.freeCount).toBe(0);
    pool.release(pool.take(2048));
    expect(pool.freeCount).toBe(0);
  });
});

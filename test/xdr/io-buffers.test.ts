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
    expect(pool.stats).toEqual({ taken: 2, reused: 1, adopted: 0 });
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
    expect(pool.stats).toEqual({ taken: 3, reused: 1, adopted: 0 });
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

  describe("adoption (a store keeping a request's bytes where they arrived)", () => {
    it("is only for an adopting pool's lent buffers, at most maxBytes long, once", () => {
      const plain = new IoBufferPool(1024, 2);
      expect(IoBufferPool.adoptLent(plain.take(1024), 4096)).toBe(false);
      const pool = new IoBufferPool(1024, 2, true);
      const big = pool.take(1024);
      expect(IoBufferPool.adoptLent(big.subarray(100, 200), 1023)).toBe(false);
      expect(IoBufferPool.adoptLent(new Uint8Array(1024), 4096)).toBe(false);
      expect(IoBufferPool.adoptLent(big.subarray(100, 200), 1024)).toBe(true);
      expect(IoBufferPool.adoptLent(big, 1024)).toBe(false);
      // Given back before it was adopted: not adoptable any more.
      const back = pool.take(1024);
      pool.release(back);
      expect(IoBufferPool.adoptLent(back, 1024)).toBe(false);
      // Lent before configure() changed the size: that pool no longer counts it lent.
      const old = pool.take(1024);
      pool.configure(2048, 2);
      expect(IoBufferPool.adoptLent(old, 4096)).toBe(false);
      expect(pool.stats.adopted).toBe(1);
    });

    it("serves again only once the adopter gave it back and its record was released, in either order", () => {
      const pool = new IoBufferPool(1024, 4, true);
      for (const giveBackFirst of [false, true]) {
        const record = pool.take(1000);
        expect(IoBufferPool.adoptLent(record.subarray(10, 900), 1024)).toBe(true);
        const free = pool.freeCount;
        if (giveBackFirst) IoBufferPool.giveBackAdopted(record.subarray(10, 900));
        else pool.release(record);
        // Half done: the file still holds it, or the call that brought it is still being answered.
        expect(pool.freeCount).toBe(free);
        const meanwhile = pool.take(1000);
        expect(meanwhile.buffer).not.toBe(record.buffer);
        pool.release(meanwhile);
        if (giveBackFirst) pool.release(record);
        else IoBufferPool.giveBackAdopted(record.subarray(10, 900));
        const next = [pool.take(1000), pool.take(1000)];
        expect(next.map((b) => b.buffer)).toContain(record.buffer);
        for (const b of next) pool.release(b);
      }
    });

    it("ignores second calls and releases by another pool", () => {
      const pool = new IoBufferPool(1024, 4, true);
      const other = new IoBufferPool(1024, 4);
      const record = pool.take(1024);
      expect(IoBufferPool.adoptLent(record, 1024)).toBe(true);
      other.release(record);
      IoBufferPool.giveBackAdopted(record);
      IoBufferPool.giveBackAdopted(record);
      expect(pool.freeCount).toBe(0);
      expect(other.freeCount).toBe(0);
      pool.release(record);
      pool.release(record);
      expect(pool.freeCount).toBe(1);
      // Lent again: it is one buffer, handed out once.
      const a = pool.take(1024);
      const b = pool.take(1024);
      expect(a.buffer).toBe(record.buffer);
      expect(b.buffer).not.toBe(record.buffer);
      // The old record's views mean nothing now: giving it back again does not free the new loan.
      IoBufferPool.giveBackAdopted(record);
      expect(pool.freeCount).toBe(0);
    });
  });
});

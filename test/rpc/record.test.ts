import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  LAST_FRAGMENT,
  MIN_PLACED_READ,
  RecordAssembler,
  RecordError,
  STAGING_SIZE,
  frameRecord,
  recordMark,
} from "../../src/rpc/index.js";
import { IoBufferPool } from "../../src/xdr/io-buffers.js";

function mark(length: number, last: boolean): Uint8Array {
  const b = Buffer.alloc(4);
  b.writeUInt32BE((last ? LAST_FRAGMENT + length : length) >>> 0, 0);
  return b;
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  // A plain Uint8Array, so toEqual compares it with the records the assembler returns.
  return new Uint8Array(Buffer.concat(parts));
}

/** Plain-Uint8Array copies, so Buffer and Uint8Array results compare equal. */
function plain(records: readonly Uint8Array[]): Uint8Array[] {
  return records.map((r) => new Uint8Array(r));
}

/** The stream for `records`, each cut into fragments at the given sizes. */
function encodeStream(records: readonly { data: Uint8Array; cuts: number[] }[]): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const { data, cuts } of records) {
    let pos = 0;
    const sizes = [...cuts.map((c) => Math.min(c, data.length)), data.length].sort((a, b) => a - b);
    for (let i = 0; i < sizes.length; i++) {
      const end = sizes[i]!;
      const last = i === sizes.length - 1;
      parts.push(mark(end - pos, last), data.subarray(pos, end));
      pos = end;
    }
  }
  return concat(parts);
}

function drain(a: RecordAssembler): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let r = a.next(); r !== undefined; r = a.next()) out.push(r);
  return plain(out);
}

const bytes = (...b: number[]): Uint8Array => new Uint8Array(b);

/** Records of up to 300 bytes, each cut into up to 6 fragments. */
const recordArb = fc.uint8Array({ maxLength: 300 }).chain((data) =>
  fc.record({
    data: fc.constant(data),
    cuts: fc.array(fc.nat({ max: data.length }), { maxLength: 5 }),
  }),
);

/** Where `splits` (any naturals) cut a stream of `length` bytes into chunks, in order. */
function cutPoints(splits: readonly number[], length: number): number[] {
  return [...new Set(splits.map((s) => s % (length + 1)))].sort((x, y) => x - y);
}

/** `out` holds `records`' data, in order. */
function expectRecords(out: readonly Uint8Array[], records: readonly { data: Uint8Array }[]): void {
  expect(out.map((r) => Buffer.from(r).toString("hex"))).toEqual(
    records.map((r) => Buffer.from(r.data).toString("hex")),
  );
}

describe("record marking", () => {
  it("reassembles a single-fragment record, zero-copy when it lies in one chunk", () => {
    const a = new RecordAssembler(1024);
    const chunk = concat([mark(4, true), bytes(1, 2, 3, 4), mark(2, true), bytes(5, 6)]);
    a.push(chunk);
    const [r1, r2, r3] = [a.next(), a.next(), a.next()];
    expect(new Uint8Array(r1!)).toEqual(bytes(1, 2, 3, 4));
    expect(new Uint8Array(r2!)).toEqual(bytes(5, 6));
    expect(r3).toBeUndefined();
    // A view into the chunk, not a copy.
    expect(r1!.buffer).toBe(chunk.buffer);
    expect(r1!.byteOffset).toBe(chunk.byteOffset + 4);
  });

  it("is zero-copy even when the mark came in the previous chunk", () => {
    const a = new RecordAssembler(1024);
    a.push(mark(3, true).subarray(0, 2));
    a.push(mark(3, true).subarray(2));
    const data = bytes(7, 8, 9, 0xff);
    a.push(data);
    const r = a.next();
    expect(new Uint8Array(r!)).toEqual(bytes(7, 8, 9));
    expect(r!.buffer).toBe(data.buffer);
  });

  it("reassembles a multi-fragment record fed one byte at a time", () => {
    const a = new RecordAssembler(1024);
    const stream = concat([
      mark(2, false),
      bytes(1, 2),
      mark(3, false),
      bytes(3, 4, 5),
      mark(1, true),
      bytes(6),
    ]);
    for (let i = 0; i < stream.length; i++) {
      expect(a.next()).toBeUndefined();
      a.push(stream.subarray(i, i + 1));
    }
    expect(drain(a)).toEqual([bytes(1, 2, 3, 4, 5, 6)]);
    expect(a.buffered).toBe(0);
  });

  it("accepts zero-length fragments and empty records", () => {
    const a = new RecordAssembler(1024);
    a.push(concat([mark(0, false), mark(2, false), bytes(1, 2), mark(0, false), mark(0, true)]));
    a.push(mark(0, true));
    a.push(concat([mark(0, false), mark(1, true), bytes(9)]));
    expect(drain(a)).toEqual([bytes(1, 2), bytes(), bytes(9)]);
  });

  it("rejects an oversized fragment from its mark alone, before any data", () => {
    const a = new RecordAssembler(100);
    // Exactly the limit is fine.
    a.push(concat([mark(100, true), new Uint8Array(100)]));
    expect(drain(a)).toHaveLength(1);
    // A 2 GiB mark, with no data behind it.
    expect(() => a.push(bytes(0xff, 0xff, 0xff, 0xff))).toThrow(RecordError);
    expect(a.buffered).toBe(0);
    // The stream stays broken.
    expect(() => a.push(bytes(0))).toThrow(RecordError);
  });

  it("rejects an oversized mark split across chunks as soon as its last byte arrives", () => {
    const a = new RecordAssembler(100);
    a.push(bytes(0x80, 0, 0));
    let err: unknown;
    try {
      a.push(bytes(101));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(RecordError);
    expect((err as RecordError).announced).toBe(101);
    expect((err as RecordError).limit).toBe(100);
  });

  it("rejects fragments that add up to more than the limit, at the mark that crosses it", () => {
    const a = new RecordAssembler(100);
    a.push(concat([mark(60, false), new Uint8Array(60)]));
    expect(a.buffered).toBe(60);
    let err: unknown;
    try {
      a.push(mark(41, true));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(RecordError);
    expect((err as RecordError).announced).toBe(101);
    expect(a.buffered).toBe(0);
  });

  it("buffers a large record only as its bytes arrive", () => {
    const a = new RecordAssembler(1 << 20);
    a.push(concat([mark(1 << 20, true), new Uint8Array(10)]));
    expect(a.buffered).toBe(10);
    expect(a.pending).toBe(0);
  });

  it("frames records with one last-fragment mark", () => {
    const parts = frameRecord([bytes(1, 2), bytes(3)]);
    expect(concat(parts)).toEqual(bytes(0x80, 0, 0, 3, 1, 2, 3));
    expect(concat(frameRecord(bytes()))).toEqual(bytes(0x80, 0, 0, 0));
    expect(recordMark(0x7fffffff)).toBe(0xffffffff);
    expect(() => recordMark(0x80000000)).toThrow(RangeError);
    expect(() => recordMark(-1)).toThrow(RangeError);
  });

  it("reassembles any stream of records however it is split into chunks", () => {
    fc.assert(
      fc.property(
        fc.array(recordArb, { maxLength: 12 }),
        fc.array(fc.nat(), { maxLength: 20 }),
        (records, splits) => {
          const stream = encodeStream(records);
          const points = cutPoints(splits, stream.length);
          const a = new RecordAssembler(300);
          const out: Uint8Array[] = [];
          let pos = 0;
          for (const p of [...points, stream.length]) {
            a.push(stream.subarray(pos, p));
            out.push(...drain(a));
            pos = p;
          }
          expectRecords(out, records);
          expect(a.buffered).toBe(0);
        },
      ),
      { numRuns: 500 },
    );
  });

  describe("cost per byte", () => {
    const MiB = 1024 * 1024;
    /** A recognisable record, so a misplaced byte shows. */
    const record = (size: number): Uint8Array =>
      Uint8Array.from({ length: size }, (_, i) => (i * 7 + (i >>> 8)) & 0xff);

    it("copies each byte of a 1 MiB record in 8-byte fragments at most twice", () => {
      const data = record(MiB);
      const cuts = Array.from({ length: MiB / 8 - 1 }, (_, i) => (i + 1) * 8);
      const stream = encodeStream([{ data, cuts }]);
      const a = new RecordAssembler(MiB, MiB / 8);
      // Socket-sized chunks.
      let maxRetained = 0;
      for (let pos = 0; pos < stream.length; pos += 64 * 1024) {
        a.push(stream.subarray(pos, pos + 64 * 1024));
        maxRetained = Math.max(maxRetained, a.retained - 2 * a.buffered);
      }
      const [r] = drain(a);
      expect(Buffer.compare(r!, data)).toBe(0);
      // Once into staging, once into the joined record: not once per fragment
      // (the old accumulator regrew to the announced size on every fragment).
      expect(a.bytesCopied).toBeLessThanOrEqual(2 * MiB);
      expect(maxRetained).toBeLessThanOrEqual(2 * STAGING_SIZE);
    });

    it("keeps large pieces as views and copies them once, into an exact-size record", () => {
      const data = record(MiB);
      // A 1 MiB WRITE as one fragment, arriving in 64 KiB socket chunks (each
      // its own memory, as Node delivers them).
      const stream = encodeStream([{ data, cuts: [] }]);
      const a = new RecordAssembler(MiB + 64 * 1024);
      for (let pos = 0; pos < stream.length; pos += 64 * 1024) {
        a.push(Uint8Array.from(stream.subarray(pos, pos + 64 * 1024)));
      }
      const [r] = drain(a);
      expect(Buffer.compare(r!, data)).toBe(0);
      // The join, plus the last chunk's 4-byte tail (the mark shifted the data),
      // which is staged rather than kept as a view of a mostly unrelated chunk.
      expect(a.bytesCopied).toBe(MiB + 4);
      expect(r!.buffer.byteLength).toBe(MiB);
    });

    it("does not let a small fragment pin a whole socket chunk", () => {
      const a = new RecordAssembler(MiB, 1 << 20);
      // Each 8-byte fragment arrives in its own 64 KiB chunk of which it uses 12 bytes.
      for (let i = 0; i < 1000; i++) {
        const chunk = new Uint8Array(64 * 1024).subarray(0, 12);
        chunk.set(mark(8, false));
        a.push(chunk);
        expect(a.retained).toBeLessThanOrEqual(2 * a.buffered + 2 * STAGING_SIZE);
      }
      expect(a.buffered).toBe(8000);
      // Memory that would have been pinned by views: 1000 × 64 KiB.
      expect(a.retained).toBeLessThan(64 * 1024);
    });

    it("bounds memory whatever the mix of chunk and fragment sizes", () => {
      fc.assert(
        fc.property(
          fc.array(
            fc.record({ fragment: fc.integer({ min: 0, max: 20_000 }), slack: fc.nat(70_000) }),
            { minLength: 1, maxLength: 40 },
          ),
          (frags) => {
            const a = new RecordAssembler(MiB, 1000);
            let total = 0;
            for (const [i, f] of frags.entries()) {
              // The fragment in a chunk of its own with `slack` unused bytes after it.
              const chunk = new Uint8Array(4 + f.fragment + f.slack).subarray(0, 4 + f.fragment);
              chunk.set(mark(f.fragment, i === frags.length - 1));
              chunk.fill(i & 0xff, 4);
              a.push(chunk);
              total += f.fragment;
              if (i < frags.length - 1) {
                expect(a.retained).toBeLessThanOrEqual(2 * a.buffered + 2 * STAGING_SIZE);
              }
            }
            const [r] = drain(a);
            expect(r!.length).toBe(total);
            expect(a.bytesCopied).toBeLessThanOrEqual(2 * total);
            let at = 0;
            for (const [i, f] of frags.entries()) {
              expect(r!.subarray(at, at + f.fragment).every((b) => b === (i & 0xff))).toBe(true);
              at += f.fragment;
            }
          },
        ),
        { numRuns: 100 },
      );
    });
  });

  describe("fragments per record", () => {
    it("accepts a record of exactly maxFragmentsPerRecord fragments", () => {
      const a = new RecordAssembler(1024, 3);
      a.push(concat([mark(1, false), bytes(1), mark(1, false), bytes(2), mark(1, true), bytes(3)]));
      // The count starts again with each record.
      a.push(concat([mark(0, false), mark(0, false), mark(1, true), bytes(4)]));
      expect(drain(a)).toEqual([bytes(1, 2, 3), bytes(4)]);
    });

    it("rejects the fragment beyond the limit at its mark, empty fragments included", () => {
      const a = new RecordAssembler(1024, 3);
      a.push(concat([mark(0, false), mark(0, false), mark(0, false)]));
      let err: unknown;
      try {
        a.push(mark(1, true));
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(RecordError);
      expect((err as RecordError).kind).toBe("fragments");
      expect((err as RecordError).fragments).toBe(4);
      expect((err as RecordError).limit).toBe(3);
      expect(() => a.push(bytes(0))).toThrow(RecordError);
    });

    it("refuses a bad limit", () => {
      expect(() => new RecordAssembler(1024, 0)).toThrow(RangeError);
      expect(() => new RecordAssembler(1024, 1.5)).toThrow(RangeError);
    });
  });
});

describe("record marking with a request pool", () => {
  /** A record of `n` bytes as one fragment, fed in 64 KiB chunks (as a socket delivers it). */
  function feed(a: RecordAssembler, data: Uint8Array): void {
    const stream = concat([mark(data.length, true), data]);
    for (let at = 0; at < stream.length; at += 64 * 1024)
      a.push(stream.subarray(at, Math.min(stream.length, at + 64 * 1024)));
  }
  const filled = (n: number, v: number): Uint8Array => new Uint8Array(n).fill(v);

  it("joins a large record into a lent buffer, which serves the next one once released", () => {
    const pool = new IoBufferPool(1024 * 1024, 2);
    const a = new RecordAssembler(1024 * 1024, 1024, pool);
    feed(a, filled(1000 * 1024, 1));
    const first = a.next()!;
    expect(first.length).toBe(1000 * 1024);
    expect(first.every((b) => b === 1)).toBe(true);
    expect(pool.stats.taken).toBe(1);
    // Not released yet: the next record gets another buffer.
    feed(a, filled(900 * 1024, 2));
    const second = a.next()!;
    expect(second.buffer).not.toBe(first.buffer);
    expect(first.every((b) => b === 1)).toBe(true);
    a.release(first);
    expect(pool.freeCount).toBe(1);
    feed(a, filled(1024 * 1024, 3));
    const third = a.next()!;
    expect(third.buffer).toBe(first.buffer);
    expect(pool.stats.reused).toBe(1);
    expect(third.length).toBe(1024 * 1024);
    expect(third.every((b) => b === 3)).toBe(true);
    expect(second.every((b) => b === 2)).toBe(true);
  });

  it("never lends for records of half the pool's buffer or less, nor releases what it did not lend", () => {
    const pool = new IoBufferPool(1024 * 1024, 2);
    const a = new RecordAssembler(1024 * 1024, 1024, pool);
    feed(a, filled(512 * 1024, 4));
    const small = a.next()!;
    expect(small.every((b) => b === 4)).toBe(true);
    expect(pool.stats.taken).toBe(0);
    a.release(small);
    expect(pool.freeCount).toBe(0);
    // One fragment within one chunk: a view into the chunk, never lent.
    a.push(concat([mark(3, true), bytes(1, 2, 3)]));
    const view = a.next()!;
    a.release(view);
    expect(pool.freeCount).toBe(0);
  });
});

describe("record marking from a reused read buffer (copyChunks)", () => {
  /** Pushes `stream` cut at `points`, each piece from one buffer that is overwritten after each push. */
  function pushThroughOneBuffer(
    a: RecordAssembler,
    stream: Uint8Array,
    points: number[],
  ): Uint8Array[] {
    const shared = new Uint8Array(stream.length + 1);
    const out: Uint8Array[] = [];
    let pos = 0;
    for (const p of [...points, stream.length]) {
      const chunk = shared.subarray(0, p - pos);
      chunk.set(stream.subarray(pos, p));
      a.push(chunk);
      shared.fill(0xee);
      for (let r = a.next(); r !== undefined; r = a.next()) {
        out.push(new Uint8Array(r));
        a.release(r);
      }
      pos = p;
    }
    return out;
  }

  it("keeps nothing of a chunk once push() returns, however the stream is split", () => {
    fc.assert(
      fc.property(
        fc.array(recordArb, { maxLength: 12 }),
        fc.array(fc.nat(), { maxLength: 20 }),
        fc.boolean(),
        (records, splits, pooled) => {
          const stream = encodeStream(records);
          const points = cutPoints(splits, stream.length);
          // A pool lending for records of 201-400 bytes, so direct copies happen too.
          const pool = pooled ? new IoBufferPool(400, 2) : null;
          const a = new RecordAssembler(300, 1024, pool, { copyChunks: true });
          const out = pushThroughOneBuffer(a, stream, points);
          expectRecords(out, records);
          expect(a.buffered).toBe(0);
        },
      ),
      { numRuns: 500 },
    );
  });

  const MiB = 1024 * 1024;
  /** A record of almost 1 MiB as one fragment, and where a socket would cut it (64 KiB reads). */
  function largeRecord(): { data: Uint8Array; stream: Uint8Array; cuts: number[] } {
    const data = Uint8Array.from({ length: MiB - 100 }, (_, i) => (i * 13) & 0xff);
    const stream = concat([mark(data.length, true), data]);
    return { data, stream, cuts: Array.from({ length: 15 }, (_, i) => (i + 1) * 65536) };
  }

  it("copies a large single-fragment record straight into a pool buffer: one copy", () => {
    const pool = new IoBufferPool(MiB, 2);
    const a = new RecordAssembler(MiB, 1024, pool, { copyChunks: true });
    const { data, stream, cuts } = largeRecord();
    for (const reused of [0, 1]) {
      const before = a.bytesCopied;
      const [record] = pushThroughOneBuffer(a, stream, cuts);
      expect(Buffer.from(record!).equals(data)).toBe(true);
      expect(a.bytesCopied - before).toBe(data.length);
      expect(pool.stats).toEqual({ taken: 1 + reused, reused, adopted: 0 });
    }
  });

  it("names the rest of a large record as the next read's place; a read there is not copied", () => {
    const pool = new IoBufferPool(MiB, 2);
    const a = new RecordAssembler(MiB, 1024, pool, { copyChunks: true });
    const { data, stream } = largeRecord();
    expect(a.nextReadPlace()).toBeNull();
    // The first read (mark and 64 KiB) lands in the shared buffer and is copied.
    const shared = new Uint8Array(65536);
    shared.set(stream.subarray(0, 65536));
    a.push(shared);
    let pos = 65536;
    let placed = 0;
    // Then the socket reads where the assembler says, 200 KiB at most at a time,
    // until less than MIN_PLACED_READ is left.
    for (let place = a.nextReadPlace(); place !== null; place = a.nextReadPlace()) {
      expect(place.length).toBe(stream.length - pos);
      const n = Math.min(place.length, 200 * 1024);
      place.set(stream.subarray(pos, pos + n));
      a.push(place.subarray(0, n));
      pos += n;
      placed += n;
    }
    expect(stream.length - pos).toBeLessThan(MIN_PLACED_READ);
    expect(placed).toBeGreaterThan(MiB / 2);
    shared.set(stream.subarray(pos));
    a.push(shared.subarray(0, stream.length - pos));
    const record = a.next()!;
    expect(Buffer.from(record).equals(data)).toBe(true);
    expect(a.bytesCopied).toBe(data.length - placed);
    expect(a.nextReadPlace()).toBeNull();
  });

  it("moves a record into a pool buffer freed while it arrives, staged bytes and all", () => {
    // A pool of one buffer, lent to the request before.
    const pool = new IoBufferPool(MiB, 1);
    const a = new RecordAssembler(MiB, 1024, pool, { copyChunks: true });
    const { data, stream, cuts } = largeRecord();
    let at = 0;
    for (const c of [...cuts, stream.length]) {
      a.push(stream.subarray(at, c));
      at = c;
    }
    const earlier = a.next()!;
    // The earlier request is still being answered: the next one is staged...
    const before = a.bytesCopied;
    a.push(stream.subarray(0, cuts[0]));
    a.push(stream.subarray(cuts[0], cuts[1]));
    expect(pool.stats.taken).toBe(1);
    // ...until its buffer comes back; then the rest goes straight there.
    a.release(earlier);
    at = cuts[1]!;
    for (const c of [...cuts.slice(2), stream.length]) {
      a.push(stream.subarray(at, c));
      at = c;
    }
    const record = a.next()!;
    expect(record.buffer).toBe(earlier.buffer);
    expect(Buffer.from(record).equals(data)).toBe(true);
    // The two staged chunks were copied twice, everything else once.
    expect(a.bytesCopied - before).toBe(data.length + cuts[1]! - 4);
  });

  it("holds only about the bytes that arrived for an announced record when the pool is at its size", () => {
    const pool = new IoBufferPool(MiB, 1);
    const other = pool.take(MiB);
    const a = new RecordAssembler(MiB, 1024, pool, { copyChunks: true });
    a.push(concat([mark(MiB, true), new Uint8Array(10)]));
    expect(pool.stats.taken).toBe(1);
    expect(a.retained).toBeLessThanOrEqual(STAGING_SIZE);
    // Past half of the record, it moves into a new pool buffer: at most twice what arrived.
    a.push(new Uint8Array(MiB / 2 - 10));
    expect(pool.stats.taken).toBe(1);
    a.push(new Uint8Array(1));
    expect(pool.stats.taken).toBe(2);
    expect(a.retained).toBeLessThanOrEqual(2 * a.buffered + 2 * STAGING_SIZE);
    pool.release(other);
  });

  it("gives the pool back the buffers of a connection that closed", () => {
    const pool = new IoBufferPool(1000, 2);
    const a = new RecordAssembler(1000, 1024, pool, { copyChunks: true });
    // One complete record never taken, one in progress.
    a.push(concat([mark(600, true), new Uint8Array(600), mark(700, true), new Uint8Array(10)]));
    expect(pool.takeKept(600)).toBeNull();
    a.abandon();
    expect(pool.freeCount).toBe(2);
  });
});

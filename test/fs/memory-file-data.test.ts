// The memory store's file bytes (src/fs/memory-file-data.ts) against a plain
// array model: any sequence of writes, truncations and reads reads back what
// the model holds, and every view a read handed out still shows the bytes it
// showed then, whatever changed the file afterwards (copy-on-write).

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  ADOPT_MAX_BYTES,
  CHUNK_BYTES,
  FileData,
  VIEW_MIN_BYTES,
} from "../../src/fs/memory-file-data.js";
import { IoBufferPool } from "../../src/xdr/io-buffers.js";

const C = CHUNK_BYTES;

type Step =
  | {
      readonly kind: "write";
      readonly offset: number;
      readonly length: number;
      readonly fill: number;
    }
  | { readonly kind: "truncate"; readonly size: number }
  | { readonly kind: "read"; readonly start: number; readonly length: number };

/** Offsets near chunk boundaries, where the cases differ. */
const offsetArb = fc.oneof(
  fc.integer({ min: 0, max: 3 * C }),
  fc.integer({ min: 0, max: 256 }),
  fc.constantFrom(0, 1, C - 1, C, C + 1, 2 * C - VIEW_MIN_BYTES, 2 * C),
);
const lengthArb = fc.oneof(
  fc.integer({ min: 0, max: 64 }),
  fc.integer({ min: VIEW_MIN_BYTES, max: C + 4096 }),
  fc.constant(C),
);
const stepArb: fc.Arbitrary<Step> = fc.oneof(
  fc.record({
    kind: fc.constant("write" as const),
    offset: offsetArb,
    length: lengthArb,
    fill: fc.integer({ min: 1, max: 255 }),
  }),
  fc.record({ kind: fc.constant("truncate" as const), size: offsetArb }),
  fc.record({ kind: fc.constant("read" as const), start: offsetArb, length: lengthArb }),
);

/** Byte-for-byte equality, fast on MiBs (toEqual compares element by element). */
function same(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.length).equals(b);
}

/** The model grown to `size` bytes (zeros after what it held). */
function grow(model: Uint8Array, size: number): Uint8Array {
  if (size <= model.length) return model;
  const bigger = new Uint8Array(size);
  bigger.set(model);
  return bigger;
}

/**
 * Where a write's bytes come from: a plain array, or (like a WRITE's) the
 * middle of a request record a server's adopting pool lent, released once the
 * write is done, after which the pool's next loan is scribbled over as the
 * next record arriving in it would be.
 */
type Source = (length: number, fill: number, write: (bytes: Uint8Array) => void) => void;

const plainSource: Source = (length, fill, write) => write(new Uint8Array(length).fill(fill));

function recordSource(pool: IoBufferPool): Source {
  const HEADER = 200;
  return (length, fill, write) => {
    const record = pool.take(HEADER + length);
    record.fill(0x5a);
    const bytes = record.subarray(HEADER, HEADER + length).fill(fill);
    write(bytes);
    pool.release(record);
    const next = pool.take(pool.bufferSize);
    next.fill(0xee);
    pool.release(next);
  };
}

/** Runs `steps` on a FileData and a flat model side by side; every read and view must match. */
function checkAgainstModel(steps: readonly Step[], source: Source): void {
  const data = new FileData();
  let model: Uint8Array = new Uint8Array(0);
  const views: { view: Uint8Array; expected: Uint8Array }[] = [];
  for (const step of steps) {
    if (step.kind === "write") {
      source(step.length, step.fill, (bytes) => data.write(step.offset, bytes));
      model = grow(model, step.offset + step.length);
      model.fill(step.fill, step.offset, step.offset + step.length);
    } else if (step.kind === "truncate") {
      if (step.size < model.length) {
        data.truncate(step.size);
        model = model.slice(0, step.size);
      } else {
        model = grow(model, step.size);
      }
    } else {
      const start = Math.min(step.start, model.length);
      const end = Math.min(model.length, start + step.length);
      const got = data.read(start, end);
      expect(same(got, model.subarray(start, end)), `read [${start}, ${end})`).toBe(true);
      views.push({ view: got, expected: model.slice(start, end) });
    }
  }
  for (const { view, expected } of views) expect(same(view, expected)).toBe(true);
  expect(same(data.read(0, model.length), model), "whole file").toBe(true);
  // Memory held stays within twice the size plus a chunk's slack per chunk
  // (an adopted chunk's buffer counts whole).
  expect(data.capacity).toBeLessThanOrEqual(2 * model.length + 3 * 64 * 1024);
}

describe("FileData", () => {
  it("reads back what a flat model holds, and views handed out never change", () => {
    fc.assert(
      fc.property(fc.array(stepArb, { maxLength: 12 }), (steps) =>
        checkAgainstModel(steps, plainSource),
      ),
      { numRuns: 200 },
    );
  });

  it("the same with bytes that arrived in request buffers, which whole-chunk writes adopt", () => {
    const pool = new IoBufferPool(ADOPT_MAX_BYTES, 4, true);
    fc.assert(
      fc.property(fc.array(stepArb, { maxLength: 12 }), (steps) =>
        checkAgainstModel(steps, recordSource(pool)),
      ),
      { numRuns: 200 },
    );
    expect(pool.stats.adopted).toBeGreaterThan(0);
  });

  it("a whole-chunk write keeps a request buffer's bytes; the chunk it replaces serves again unless lent", () => {
    const pool = new IoBufferPool(ADOPT_MAX_BYTES, 4, true);
    const data = new FileData();
    const arrive = (fill: number, offset: number): ArrayBufferLike => {
      const record = pool.take(C + 100);
      data.write(offset, record.subarray(100, 100 + C).fill(fill));
      pool.release(record);
      return record.buffer;
    };
    const first = arrive(1, C);
    expect(data.read(C, 2 * C).buffer).toBe(first);
    expect(pool.stats.adopted).toBe(1);
    expect(data.capacity).toBe(ADOPT_MAX_BYTES);
    // `first` was lent to a READ (the view above): replaced, it does not go back to the pool.
    const second = arrive(2, C);
    expect(pool.freeCount).toBe(0);
    const view = data.read(C, C + VIEW_MIN_BYTES);
    expect(view.buffer).toBe(second);
    // Nor does `second`, lent to `view`.
    const third = arrive(3, C);
    expect(pool.freeCount).toBe(0);
    // `third` was never read: replaced, it goes back, and the next record arrives in it.
    arrive(4, C);
    expect(pool.freeCount).toBe(1);
    expect(pool.take(C).buffer).toBe(third);
    expect(view.every((b) => b === 2)).toBe(true);
    expect(data.read(C, 2 * C).every((b) => b === 4)).toBe(true);
    // Bytes of a plain array, or not a whole chunk, are copied.
    const plain = new Uint8Array(C).fill(5);
    data.write(0, plain);
    plain.fill(6);
    expect(data.read(0, C).every((b) => b === 5)).toBe(true);
    // Cut to a few bytes, an adopted chunk is copied out before its buffer goes back (the
    // record was a Buffer, whose slice() would have been a view of the buffer given back).
    arrive(7, 0);
    data.truncate(3);
    const next = pool.take(C);
    next.fill(0xee);
    expect([...data.read(0, 3)]).toEqual([7, 7, 7]);
  });

  it("a READ within one chunk is a view of it; one across chunks or a small one is a copy", () => {
    const data = new FileData();
    data.write(0, new Uint8Array(2 * C).fill(7));
    const within = data.read(C, 2 * C);
    const again = data.read(C, 2 * C);
    expect(within.buffer).toBe(again.buffer);
    const across = data.read(C - VIEW_MIN_BYTES, C + VIEW_MIN_BYTES);
    expect(across.buffer).not.toBe(within.buffer);
    const small = data.read(C, C + VIEW_MIN_BYTES - 1);
    expect(small.buffer).not.toBe(within.buffer);
  });

  it("a write to a lent chunk goes to a copy; to a chunk not lent, in place", () => {
    const data = new FileData();
    data.write(0, new Uint8Array(C).fill(1));
    const view = data.read(0, C);
    data.write(10, new Uint8Array([2]));
    expect(view[10]).toBe(1);
    const after = data.read(0, C);
    expect(after[10]).toBe(2);
    expect(after.buffer).not.toBe(view.buffer);
    // The copy is lent now too; once written again it is replaced, but a chunk
    // nobody has read since is changed in place.
    data.write(11, new Uint8Array([3]));
    const third = data.read(0, C);
    data.write(12, new Uint8Array([4]));
    data.write(13, new Uint8Array([5]));
    const fourth = data.read(0, C);
    expect([third[11], third[12], third[13]]).toEqual([3, 1, 1]);
    expect([fourth[11], fourth[12], fourth[13]]).toEqual([3, 4, 5]);
  });

  it("holes hold no memory and read as zeros; a cut gives memory back", () => {
    const data = new FileData();
    data.write(3 * C, new Uint8Array([9]));
    expect(data.capacity).toBe(1);
    const r = data.read(0, 3 * C + 1);
    expect(r.length).toBe(3 * C + 1);
    expect(r.subarray(0, 3 * C).every((b) => b === 0)).toBe(true);
    expect(r[3 * C]).toBe(9);
    data.write(0, new Uint8Array(C).fill(4));
    expect(data.capacity).toBe(C + 1);
    data.truncate(10);
    expect(data.capacity).toBeLessThanOrEqual(10);
    expect([...data.read(0, 12)]).toEqual([4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 0, 0]);
  });
});

// The memory store's file bytes (src/fs/memory-file-data.ts) against a plain
// array model: any sequence of writes, truncations and reads reads back what
// the model holds, and every view a read handed out still shows the bytes it
// showed then, whatever changed the file afterwards (copy-on-write).

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { CHUNK_BYTES, FileData, VIEW_MIN_BYTES } from "../../src/fs/memory-file-data.js";

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

describe("FileData", () => {
  it("reads back what a flat model holds, and views handed out never change", () => {
    fc.assert(
      fc.property(fc.array(stepArb, { maxLength: 12 }), (steps) => {
        const data = new FileData();
        let model: Uint8Array = new Uint8Array(0);
        const views: { view: Uint8Array; expected: Uint8Array }[] = [];
        for (const step of steps) {
          if (step.kind === "write") {
            const bytes = new Uint8Array(step.length).fill(step.fill);
            data.write(step.offset, bytes);
            model = grow(model, step.offset + step.length);
            model.set(bytes, step.offset);
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
        // Memory held stays within twice the size plus a chunk's slack per chunk.
        expect(data.capacity).toBeLessThanOrEqual(2 * model.length + 3 * 64 * 1024);
      }),
      { numRuns: 200 },
    );
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

// XdrWriter's gather mode: opaque data at or over `gatherFrom` bytes is
// referenced rather than copied, and finishGather() hands out the pieces to
// write in order. Whatever the pieces, the message must be byte-identical to
// what a copying writer produces.

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { XdrWriter } from "../../src/xdr/index.js";

const joined = (pieces: Uint8Array[]): number[] => pieces.flatMap((p) => [...p]);

describe("XdrWriter gather mode", () => {
  it("references large opaques, pads them inline, and keeps small ones in the buffer", () => {
    const w = new XdrWriter(64, { gatherFrom: 16 });
    const big = new Uint8Array(21).fill(7);
    w.writeUint(1);
    w.writeOpaqueVar(big, 100);
    w.writeOpaqueVar(new Uint8Array([1, 2, 3]), 100);
    const pieces = w.finishGather();
    expect(pieces).toHaveLength(3);
    expect(pieces[1]).toBe(big); // the caller's bytes themselves, not a copy
    expect([...pieces[0]!]).toEqual([0, 0, 0, 1, 0, 0, 0, 21]);
    expect([...pieces[2]!]).toEqual([0, 0, 0, 0, 0, 0, 3, 1, 2, 3, 0]);
    expect(w.length).toBe(8 + 21 + 3 + 8);
  });

  it("writes the same bytes as a copying writer, whatever the mix", () => {
    const op = fc.oneof(
      fc.record({
        kind: fc.constant("uint" as const),
        v: fc.integer({ min: 0, max: 2 ** 32 - 1 }),
      }),
      fc.record({ kind: fc.constant("opaque" as const), v: fc.uint8Array({ maxLength: 64 }) }),
      fc.record({
        kind: fc.constant("fixed" as const),
        v: fc.uint8Array({ minLength: 1, maxLength: 40 }),
      }),
    );
    fc.assert(
      fc.property(
        fc.array(op, { maxLength: 20 }),
        fc.integer({ min: 1, max: 32 }),
        (ops, threshold) => {
          const plain = new XdrWriter(8);
          const gather = new XdrWriter(8, { gatherFrom: threshold });
          for (const w of [plain, gather]) {
            const mark = w.reserve(4);
            for (const o of ops) {
              if (o.kind === "uint") w.writeUint(o.v);
              else if (o.kind === "opaque") w.writeOpaqueVar(o.v, 0xffffffff);
              else w.writeOpaqueFixed(o.v, o.v.length);
            }
            w.patchUint(mark, w.length);
          }
          expect(gather.length).toBe(plain.length);
          expect(joined(gather.finishGather())).toEqual([...plain.finish()]);
          expect([...gather.finish()]).toEqual([...plain.finish()]);
          expect([...gather.toBytes()]).toEqual([...plain.toBytes()]);
        },
      ),
    );
  });

  it("patches by message offset and refuses offsets inside referenced data", () => {
    const w = new XdrWriter(16, { gatherFrom: 8 });
    w.writeOpaqueVar(new Uint8Array(8), 100); // message bytes 0-11, 4-11 referenced
    const at = w.reserve(4);
    expect(at).toBe(12);
    w.patchUint(at, 0xdeadbeef);
    expect([...w.finish().subarray(12)]).toEqual([0xde, 0xad, 0xbe, 0xef]);
    expect(() => w.patchUint(4, 1)).toThrow(RangeError);
    w.reset();
    expect(w.length).toBe(0);
    expect(w.finishGather()).toHaveLength(1);
  });
});

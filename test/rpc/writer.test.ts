import { describe, expect, it } from "vitest";
import { COALESCE_BELOW, coalesce } from "../../src/rpc/writer.js";

const bytes = (n: number, fill: number): Uint8Array => new Uint8Array(n).fill(fill);
const joined = (pieces: readonly Uint8Array[]): number[] => pieces.flatMap((p) => [...p]);

describe("coalesce", () => {
  it("joins runs of small chunks and keeps large ones as they are, in order", () => {
    const big = bytes(COALESCE_BELOW, 9);
    const chunks = [bytes(4, 1), bytes(8, 2), big, bytes(12, 3), bytes(4, 4), bytes(1, 5)];
    const out = coalesce(chunks);
    expect(out.map((p) => p.length)).toEqual([12, COALESCE_BELOW, 17]);
    // Not copied: the very chunk.
    expect(out[1]).toBe(big);
    expect(joined(out)).toEqual(joined(chunks));
  });

  it("leaves a record with fewer than two small chunks alone", () => {
    const one = [bytes(40, 1)];
    expect(coalesce(one)).toBe(one);
    const mixed = [bytes(COALESCE_BELOW + 4, 1), bytes(8, 2)];
    expect(coalesce(mixed)).toBe(mixed);
  });

  it("copies: changing a chunk afterwards does not change what was joined", () => {
    const a = bytes(4, 1);
    const out = coalesce([a, bytes(4, 2)]);
    a.fill(7);
    expect(joined(out)).toEqual([1, 1, 1, 1, 2, 2, 2, 2]);
  });
});

import { describe, expect, it } from "vitest";
import { DIGEST_EDGE_BYTES, DIGEST_FULL_BYTES, requestDigest } from "../../src/state/slot-table.js";

function bytes(n: number): Uint8Array {
  return Uint8Array.from({ length: n }, (_, i) => (i * 31 + 7) & 0xff);
}

function flipped(b: Uint8Array, at: number): Uint8Array {
  const c = b.slice();
  c[at] = c[at]! ^ 0x01;
  return c;
}

describe("requestDigest", () => {
  it("sees a change anywhere in a request up to DIGEST_FULL_BYTES", () => {
    const b = bytes(DIGEST_FULL_BYTES + 8);
    const d = requestDigest(b, 8, b.length);
    expect(d.length).toBe(DIGEST_FULL_BYTES);
    for (const at of [8, 8 + DIGEST_EDGE_BYTES + 1, b.length / 2, b.length - 1])
      expect(requestDigest(flipped(b, at), 8, b.length)).not.toEqual(d);
    // Bytes before `start` (SEQUENCE's own arguments) are not part of it.
    expect(requestDigest(flipped(b, 3), 8, b.length)).toEqual(d);
  });

  it("sees a change in either edge of a larger request, and its length", () => {
    const b = bytes(1024 * 1024 + 200);
    const d = requestDigest(b, 100, b.length);
    expect(d.length).toBe(1024 * 1024 + 100);
    for (const at of [100, 100 + DIGEST_EDGE_BYTES - 1, b.length - DIGEST_EDGE_BYTES, b.length - 1])
      expect(requestDigest(flipped(b, at), 100, b.length)).not.toEqual(d);
    expect(requestDigest(b, 100, b.length - 1).length).toBe(d.length - 1);
  });

  it("does not read the middle of a larger request (the documented blind spot)", () => {
    const b = bytes(1024 * 1024);
    const d = requestDigest(b, 0, b.length);
    expect(requestDigest(flipped(b, DIGEST_EDGE_BYTES + 1), 0, b.length)).toEqual(d);
    expect(requestDigest(flipped(b, b.length / 2), 0, b.length)).toEqual(d);
  });
});

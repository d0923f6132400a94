// StateidTable.newOther (RFC 8881 §8.2): unique, carrying the instance, and
// with random bytes that differ from one stateid to the next, across refills
// of the random pool.

import { describe, expect, it } from "vitest";
import { StateidTable } from "../../src/state/stateid.js";

describe("StateidTable.newOther", () => {
  it("issues distinct values with fresh random bytes, past a pool refill", () => {
    const table = new StateidTable(0x01020304);
    const seen = new Set<string>();
    const randomParts = new Set<string>();
    for (let i = 0; i < 3000; i++) {
      const other = table.newOther();
      expect(other.length).toBe(12);
      expect([...other.subarray(0, 4)]).toEqual([1, 2, 3, 4]);
      seen.add(Buffer.from(other).toString("hex"));
      randomParts.add(Buffer.from(other.subarray(8)).toString("hex"));
    }
    expect(seen.size).toBe(3000);
    // 3000 draws of 32 random bits: a repeat is possible but rare; a stuck pool repeats at once.
    expect(randomParts.size).toBeGreaterThan(2990);
  });
});

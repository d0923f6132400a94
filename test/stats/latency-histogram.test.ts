// The typed-array histograms and the dense index the request path counts with.

import { describe, expect, it } from "vitest";
import { DenseIndex, LatencyHistograms } from "../../src/stats/latency-histogram.js";

describe("LatencyHistograms", () => {
  it("puts an observation in the first bucket whose bound it does not exceed, per row", () => {
    const h = new LatencyHistograms(2, [1, 2]);
    h.observe(0, 1); // le 1
    h.observe(0, 1.5); // le 2
    h.observe(0, 3); // +Inf
    h.observe(1, 0);
    expect(h.snapshot(0)).toEqual({ cumulative: [1, 2, 3], count: 3, sum: 5.5 });
    expect(h.snapshot(1)).toEqual({ cumulative: [1, 1, 1], count: 1, sum: 0 });
    expect(h.count(1)).toBe(1);
  });
});

describe("DenseIndex", () => {
  it("gives each listed number its row and everything else the `other` row", () => {
    const ix = new DenseIndex([10044, 3, 0, 3]);
    expect(ix.numbers).toEqual([0, 3, 10044, -1]);
    expect([ix.row(0), ix.row(3), ix.row(10044)]).toEqual([0, 1, 2]);
    for (const n of [1, 4, 10043, 10045, 99999, -1, 1.5]) expect(ix.row(n)).toBe(ix.other);
    expect(ix.size).toBe(4);
  });
});

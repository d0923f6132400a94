// The load generator's latency histogram: exact below 2·SUB_BUCKETS, within
// its stated precision above, bounded whatever is recorded.

import { describe, expect, it } from "vitest";
import {
  LatencyHistogram,
  MAX_VALUE,
  SUB_BUCKETS,
  bucketOf,
  bucketRange,
} from "../../src/bench/histogram.js";

describe("LatencyHistogram", () => {
  it("maps every value into the bucket whose range holds it", () => {
    for (const v of [0, 1, 255, 256, 257, 511, 512, 1000, 123_456, 2 ** 31, MAX_VALUE]) {
      const { low, width } = bucketRange(bucketOf(v));
      expect(v).toBeGreaterThanOrEqual(low);
      expect(v).toBeLessThan(low + width);
    }
    // Contiguous: the bucket after v's starts right after v's range.
    const { low, width } = bucketRange(bucketOf(1000));
    expect(bucketOf(low + width)).toBe(bucketOf(1000) + 1);
  });

  it("is exact for small values", () => {
    const h = new LatencyHistogram();
    for (const v of [5, 1, 3, 2, 4]) h.record(v);
    expect([h.quantile(0.5), h.quantile(0.99), h.quantile(0.2)]).toEqual([3, 5, 1]);
    expect([h.count, h.min, h.max, h.mean]).toEqual([5, 1, 5, 3]);
  });

  it("reports p50, p99 and p99.9 of 1..100000 within 1/SUB_BUCKETS", () => {
    const h = new LatencyHistogram();
    for (let v = 1; v <= 100_000; v++) h.record(v);
    for (const [q, want] of [
      [0.5, 50_000],
      [0.99, 99_000],
      [0.999, 99_900],
    ] as const) {
      expect(Math.abs(h.quantile(q) - want) / want).toBeLessThanOrEqual(1 / SUB_BUCKETS);
    }
    expect(h.quantile(1)).toBeLessThanOrEqual(100_000);
  });

  it("finds a slow tail among fast values", () => {
    const h = new LatencyHistogram();
    for (let i = 0; i < 990; i++) h.record(100);
    for (let i = 0; i < 10; i++) h.record(50_000);
    expect(h.quantile(0.5)).toBe(100);
    expect(h.quantile(0.99)).toBe(100);
    expect(Math.abs(h.quantile(0.999) - 50_000) / 50_000).toBeLessThan(0.01);
  });

  it("clamps negatives and huge values, and merges", () => {
    const a = new LatencyHistogram();
    a.record(-5);
    a.record(1e12);
    expect([a.min, a.max]).toEqual([0, MAX_VALUE]);
    const b = new LatencyHistogram();
    b.record(10);
    a.merge(b);
    expect(a.count).toBe(3);
    expect(a.quantile(0.5)).toBe(10);
    expect(new LatencyHistogram().quantile(0.5)).toBe(0);
  });
});

// A latency histogram with bounded memory: log-linear buckets (as HdrHistogram
// does). Values below 2·SUB_BUCKETS microseconds each have their own bucket;
// above, every power-of-two range is split into SUB_BUCKETS equal buckets, so a
// reported percentile is within 1/(2·SUB_BUCKETS) (0.4 %) of the true value.
// (src/stats/latency-histogram.ts has Prometheus's coarse 1-2.5-5 buckets, too
// coarse for percentiles.)

/** Buckets per power of two: the precision of the histogram. */
export const SUB_BUCKETS = 128;
/** The largest value recorded exactly as itself; larger ones count as this (about 71 minutes in µs). */
export const MAX_VALUE = 0xffffffff;

const SUB_BITS = Math.log2(SUB_BUCKETS);
/** Bits of the largest value held one bucket per value (2·SUB_BUCKETS − 1). */
const LINEAR_BITS = SUB_BITS + 1;
const BUCKETS = SUB_BUCKETS * (32 - LINEAR_BITS + 2);

function bitLength(v: number): number {
  return 32 - Math.clz32(v);
}

/** The bucket of integer value `v` (0 ≤ v ≤ MAX_VALUE). */
export function bucketOf(v: number): number {
  const shift = Math.max(0, bitLength(v) - LINEAR_BITS);
  // v >>> shift is in [SUB_BUCKETS, 2·SUB_BUCKETS) once shift > 0.
  return SUB_BUCKETS * shift + (v >>> shift);
}

/** The smallest value of bucket `i`, and how many values it holds. */
export function bucketRange(i: number): { readonly low: number; readonly width: number } {
  if (i < 2 * SUB_BUCKETS) return { low: i, width: 1 };
  const shift = Math.floor(i / SUB_BUCKETS) - 1;
  const mantissa = i - SUB_BUCKETS * shift;
  return { low: mantissa * 2 ** shift, width: 2 ** shift };
}

export class LatencyHistogram {
  private readonly counts = new Float64Array(BUCKETS);
  private n = 0;
  private sum = 0;
  private lowest = Infinity;
  private highest = 0;

  /** Records one value (microseconds; fractions are rounded, negatives count as 0). */
  record(us: number): void {
    const v = Math.min(MAX_VALUE, Math.max(0, Math.round(us)));
    this.counts[bucketOf(v)]!++;
    this.n++;
    this.sum += v;
    if (v < this.lowest) this.lowest = v;
    if (v > this.highest) this.highest = v;
  }

  /** Adds another histogram's values to this one. */
  merge(other: LatencyHistogram): void {
    for (let i = 0; i < BUCKETS; i++) this.counts[i]! += other.counts[i]!;
    this.n += other.n;
    this.sum += other.sum;
    this.lowest = Math.min(this.lowest, other.lowest);
    this.highest = Math.max(this.highest, other.highest);
  }

  get count(): number {
    return this.n;
  }

  get min(): number {
    return this.n === 0 ? 0 : this.lowest;
  }

  get max(): number {
    return this.highest;
  }

  get mean(): number {
    return this.n === 0 ? 0 : this.sum / this.n;
  }

  /**
   * The value at quantile `q` (0 < q ≤ 1): the middle of the bucket holding the
   * ⌈q·count⌉-th smallest value, kept within [min, max]. 0 when empty.
   */
  quantile(q: number): number {
    if (this.n === 0) return 0;
    const rank = Math.max(1, Math.ceil(q * this.n));
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.counts[i]!;
      if (seen >= rank) {
        const { low, width } = bucketRange(i);
        return Math.min(this.highest, Math.max(this.lowest, low + (width - 1) / 2));
      }
    }
    return this.highest;
  }
}

// Measurement and reporting shared by run.ts and codec.bench.ts: a small
// batch-timing loop (so the timer's own cost is not charged to sub-microsecond
// operations) and the results table with MB/s and the ratios.

import type { BenchMessage } from "./messages.js";

export type Variant = "generated" | "jsxdr" | "copy";
export const VARIANTS: readonly Variant[] = ["generated", "jsxdr", "copy"];

/** Ops/s of each variant of one message. */
export type Rates = Record<Variant, number>;

/** Keeps results alive so V8 cannot drop the work that produced them. */
export let sink: unknown;

/**
 * Runs `fn` for at least `ms` milliseconds and returns ops/s. The clock is read
 * once per batch; batches grow until one takes ≥ 1 ms.
 */
export function measure(fn: () => unknown, ms: number): number {
  let batch = 1;
  let ops = 0;
  const start = performance.now();
  let now = start;
  while (now - start < ms) {
    const t0 = now;
    for (let i = 0; i < batch; i++) sink = fn();
    ops += batch;
    now = performance.now();
    if (now - t0 < 1) batch *= 2;
  }
  return (ops * 1000) / (now - start);
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Decimal megabytes per second of `bytes`-byte messages at `opsPerSec`. */
export function mbPerSec(bytes: number, opsPerSec: number): number {
  return (bytes * opsPerSec) / 1e6;
}

function fmt(n: number, digits = 0): string {
  return n.toLocaleString("en-US", {
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  });
}

function ratio(n: number): string {
  return n >= 10 ? `${fmt(n, 1)}×` : `${fmt(n, 2)}×`;
}

export interface Row {
  readonly message: BenchMessage;
  readonly rates: Rates;
  /** Relative spread of each variant's samples, (max - min) / median, when known. */
  readonly spread?: Record<Variant, number>;
}

/**
 * The results as a Markdown table. "vs js-xdr" is generated ops/s ÷ js-xdr
 * ops/s (higher is better, goal ≥ 3); "vs copy" is copy ops/s ÷ generated
 * ops/s, i.e. how many times the floor's time encode+decode takes.
 */
export function table(rows: readonly Row[]): string {
  const out = [
    "| message | bytes | generated ops/s | generated MB/s | js-xdr ops/s | js-xdr MB/s | copy ops/s | copy MB/s | generated vs js-xdr | generated time vs copy |",
    "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
  ];
  for (const { message: m, rates: r } of rows) {
    const b = m.bytes.length;
    out.push(
      `| (${m.id}) ${m.title} | ${fmt(b)} | ${fmt(r.generated)} | ${fmt(mbPerSec(b, r.generated), 1)} | ` +
        `${fmt(r.jsxdr)} | ${fmt(mbPerSec(b, r.jsxdr), 1)} | ${fmt(r.copy)} | ${fmt(mbPerSec(b, r.copy), 1)} | ` +
        `${ratio(r.generated / r.jsxdr)} | ${ratio(r.copy / r.generated)} |`,
    );
  }
  return out.join("\n");
}

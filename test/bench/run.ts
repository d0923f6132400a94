// Standalone codec benchmark runner: `npx tsx test/bench/run.ts [options]`.
// Prints the BENCHMARKS.md table (ops/s, MB/s, generated ÷ js-xdr, time vs the
// copy floor). `npm run bench` runs the same messages under vitest bench.
//
// Each round measures every (message, variant) pair once, rotating the variant
// order, so drift on a shared machine hits all variants alike; the table shows
// the median over rounds.
//
// Options:
//   --rounds N      rounds after warm-up (default 15)
//   --ms N          milliseconds per measurement (default 200)
//   --only a,b      only these messages (a, b, c-args, c-res)
//   --variant V     only this variant (generated, jsxdr, copy): for profiling,
//                   e.g. node --cpu-prof --import tsx test/bench/run.ts --only b --variant generated
//   --split         also measure encode and decode separately (generated and js-xdr)
//   --json          also print the raw medians as JSON

import { parseArgs } from "node:util";
import type { Rates, Row, Variant } from "./harness.js";
import { VARIANTS, measure, median, table } from "./harness.js";
import { buildMessages } from "./messages.js";

const { values: opts } = parseArgs({
  options: {
    rounds: { type: "string", default: "15" },
    ms: { type: "string", default: "200" },
    only: { type: "string" },
    variant: { type: "string" },
    split: { type: "boolean", default: false },
    json: { type: "boolean", default: false },
  },
});

const rounds = Number(opts.rounds);
const ms = Number(opts.ms);
const only = opts.only?.split(",");
const variants: readonly Variant[] = opts.variant
  ? VARIANTS.filter((v) => v === opts.variant)
  : VARIANTS;
if (variants.length === 0) throw new Error(`unknown variant ${opts.variant}`);

const messages = buildMessages().filter((m) => !only || only.includes(m.id));
if (messages.length === 0) throw new Error(`no message matches --only ${opts.only}`);

const samples = new Map(
  messages.map((m) => [m.id, { generated: [], jsxdr: [], copy: [] } as Record<Variant, number[]>]),
);

// Warm-up: let every function reach its optimised tier before measuring.
for (const m of messages) for (const v of variants) measure(m[v], 300);

for (let round = 0; round < rounds; round++) {
  for (const m of messages) {
    for (let k = 0; k < variants.length; k++) {
      const v = variants[(round + k) % variants.length]!;
      samples.get(m.id)![v].push(measure(m[v], ms));
    }
  }
  process.stderr.write(`round ${round + 1}/${rounds}\r`);
}
process.stderr.write("\n");

const rows: Row[] = messages.map((m) => {
  const s = samples.get(m.id)!;
  const rates = {} as Rates;
  const spread = {} as Record<Variant, number>;
  for (const v of VARIANTS) {
    rates[v] = s[v].length ? median(s[v]) : NaN;
    spread[v] = s[v].length ? (Math.max(...s[v]) - Math.min(...s[v])) / rates[v] : NaN;
  }
  return { message: m, rates, spread };
});

console.log(table(rows));
console.log();
for (const r of rows) {
  const sp = variants.map((v) => `${v} ±${((r.spread![v] * 100) / 2).toFixed(1)}%`).join(", ");
  console.log(`(${r.message.id}) sample spread (half of max-min over median): ${sp}`);
}
if (opts.split) {
  // Same method, fewer rounds: this is for diagnosis, not for the headline table.
  const splitRounds = Math.max(3, Math.ceil(rounds / 2));
  console.log();
  console.log(
    "| message | encode: generated ops/s | js-xdr ops/s | ratio | decode: generated ops/s | js-xdr ops/s | ratio |",
  );
  console.log("|---|--:|--:|--:|--:|--:|--:|");
  for (const m of messages) {
    const r: Record<string, number[]> = { eg: [], ej: [], dg: [], dj: [] };
    for (const f of [
      m.encodeOnly.generated,
      m.encodeOnly.jsxdr,
      m.decodeOnly.generated,
      m.decodeOnly.jsxdr,
    ]) {
      measure(f, 300);
    }
    for (let i = 0; i < splitRounds; i++) {
      r.eg!.push(measure(m.encodeOnly.generated, ms));
      r.ej!.push(measure(m.encodeOnly.jsxdr, ms));
      r.dg!.push(measure(m.decodeOnly.generated, ms));
      r.dj!.push(measure(m.decodeOnly.jsxdr, ms));
    }
    const [eg, ej, dg, dj] = [r.eg!, r.ej!, r.dg!, r.dj!].map(median) as [
      number,
      number,
      number,
      number,
    ];
    const f = (n: number): string => Math.round(n).toLocaleString("en-US");
    console.log(
      `| (${m.id}) | ${f(eg)} | ${f(ej)} | ${(eg / ej).toFixed(2)}× | ${f(dg)} | ${f(dj)} | ${(dg / dj).toFixed(2)}× |`,
    );
  }
}
if (opts.json) {
  console.log(
    JSON.stringify(
      rows.map((r) => ({ id: r.message.id, bytes: r.message.bytes.length, ...r.rates })),
      null,
      2,
    ),
  );
}

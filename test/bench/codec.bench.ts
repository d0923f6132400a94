// Codec benchmark (`npm run bench`): encode+decode of four NFSv4.1 COMPOUND
// messages with the generated codec, the same messages with @stellar/js-xdr,
// and a plain copy of the same bytes as the floor. Building the messages checks
// that both codecs produce byte-identical encodings and throws otherwise.
//
// vitest prints ops/s per group; when every task has finished this file also
// prints the table with MB/s and the ratios (the same table as
// `npx tsx test/bench/run.ts`, which BENCHMARKS.md uses).

import type { BenchOptions, BenchTask } from "vitest";
import { bench, describe } from "vitest";
import type { Rates, Row, Variant } from "./harness.js";
import { VARIANTS, table } from "./harness.js";
import type { BenchMessage } from "./messages.js";
import { buildMessages } from "./messages.js";

const messages = buildMessages();

const LABELS: Record<Variant, string> = {
  generated: "generated codec: encode + decode",
  jsxdr: "@stellar/js-xdr: encode + decode",
  copy: "floor: copy of the message bytes",
};

const rates = new Map<BenchMessage, Partial<Rates>>();

function record(m: BenchMessage, v: Variant, task: BenchTask): void {
  const hz = task.result?.hz;
  if (hz === undefined) return;
  const r = rates.get(m) ?? {};
  r[v] = hz;
  rates.set(m, r);
  const done = messages.every((x) => VARIANTS.every((y) => rates.get(x)?.[y] !== undefined));
  if (!done) return;
  const rows: Row[] = messages.map((x) => ({ message: x, rates: rates.get(x) as Rates }));
  console.log(
    `\nCodec benchmark (vitest bench / tinybench ops/s; MB/s = message bytes × ops/s):\n`,
  );
  console.log(table(rows));
}

function options(m: BenchMessage, v: Variant): BenchOptions {
  return {
    time: 1000,
    warmupTime: 300,
    // tinybench calls setup before the measured run; its "complete" event
    // fires once the task's result (hz) is final.
    setup: (task, mode) => {
      if (mode !== "run") return;
      task.addEventListener("complete", () => record(m, v, task), { once: true });
    },
  };
}

for (const m of messages) {
  describe(`(${m.id}) ${m.title}: ${m.bytes.length} bytes`, () => {
    // The closures return their result (so the work cannot be optimised away);
    // tinybench ignores return values.
    for (const v of VARIANTS) bench(LABELS[v], m[v] as () => void, options(m, v));
  });
}

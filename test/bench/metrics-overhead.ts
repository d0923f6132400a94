// What the metrics cost per request (`npm run build && npx tsx
// test/bench/metrics-overhead.ts`): a `dfs serve` child (memory store) without
// and with `metrics.listen`, alternating, each driven over loopback with
// COMPOUND(SEQUENCE, PUTROOTFH, LOOKUP, GETATTR) 16 at a time; the figure is
// the child's own CPU time (/proc/PID/stat utime + stime) per COMPOUND, so the
// client's work does not dilute it. Then, without the network, the
// instrumentation's parts: a clock read, counting an operation, one store call
// through the timing wrapper against the backend called directly. Numbers
// only; no verdict (the machine's noise decides how close they can be read).

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FATTR4_CHANGE, FATTR4_SIZE, FATTR4_TYPE } from "../../generated/nfs4/index.js";
import { NfsClient, ops } from "../../src/client/index.js";
import { MemoryFileSystem } from "../../src/fs/memory.js";
import { StoreLatency, TimedFileSystem } from "../../src/fs/timed.js";
import { OperationMetrics } from "../../src/nfs/op-metrics.js";
import { bitmapOf } from "../../src/protocol/bitmap.js";
import { startDfs, stopProcess } from "../support/dfs-process.js";
import { freePort } from "../support/ports.js";

const COMPOUNDS = Number(process.env.COMPOUNDS ?? 20_000);
const ROUNDS = Number(process.env.ROUNDS ?? 4);
const IN_FLIGHT = 16;
const TICK_NS = 1e9 / 100; // USER_HZ: /proc/PID/stat counts CPU in 1/100 s

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

function cpuNs(pid: number): number {
  // Fields after the command name (which may hold spaces): utime is the 14th field, stime the 15th.
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) * TICK_NS;
}

/** The child's CPU per COMPOUND, in ns. */
async function serverNsPerCompound(metrics: boolean, dir: string): Promise<number> {
  const port = await freePort();
  const config = join(dir, `cfg-${metrics}.json`);
  const metricsPort = await freePort();
  writeFileSync(
    config,
    JSON.stringify({
      listen: [`127.0.0.1:${port}`],
      store: { backend: "memory" },
      logLevel: "warn",
      ...(metrics ? { metrics: { listen: `127.0.0.1:${metricsPort}` } } : {}),
    }),
  );
  const dfs = startDfs(["bin/dfs.js", "serve", "--config", config]);
  await dfs.serving;
  const pid = dfs.child.pid!;
  const client = await NfsClient.connect({ host: "127.0.0.1", port });
  try {
    await client.exchangeId(`bench-${process.pid}-${Date.now()}`);
    const session = await client.createSession();
    const attrs = ops.getattr(bitmapOf([FATTR4_TYPE, FATTR4_SIZE, FATTR4_CHANGE]));
    const request = [ops.putrootfh(), ops.lookup("export"), attrs];
    const run = async (n: number): Promise<void> => {
      for (let done = 0; done < n; done += IN_FLIGHT)
        await Promise.all(Array.from({ length: IN_FLIGHT }, () => session.compound(request)));
    };
    await run(5_000); // warm-up: the JIT settles
    const before = cpuNs(pid);
    await run(COMPOUNDS);
    return (cpuNs(pid) - before) / COMPOUNDS;
  } finally {
    client.destroy();
    await stopProcess(dfs.child, "SIGTERM");
  }
}

function nsPer(n: number, body: () => void): number {
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) body();
  return Number(process.hrtime.bigint() - t0) / n;
}

async function nsPerAsync(n: number, body: () => Promise<unknown>): Promise<number> {
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) await body();
  return Number(process.hrtime.bigint() - t0) / n;
}

const dir = mkdtempSync(join(tmpdir(), "dfs-metrics-bench-"));
const off: number[] = [];
const on: number[] = [];
try {
  for (let r = 0; r < ROUNDS; r++) {
    off.push(await serverNsPerCompound(false, dir));
    on.push(await serverNsPerCompound(true, dir));
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
const fmt = (xs: number[]): string => xs.map((x) => (x / 1000).toFixed(1)).join(" ");
console.log(
  `server CPU per COMPOUND(SEQUENCE, PUTROOTFH, LOOKUP, GETATTR), ${IN_FLIGHT} in flight, ${COMPOUNDS} per run:`,
);
console.log(`  metrics off: median ${(median(off) / 1000).toFixed(1)} µs  (runs: ${fmt(off)})`);
console.log(`  metrics on:  median ${(median(on) / 1000).toFixed(1)} µs  (runs: ${fmt(on)})`);
console.log(`  difference: ${(((median(on) - median(off)) / median(off)) * 100).toFixed(1)}%`);

let sink = 0;
const clock = nsPer(5_000_000, () => {
  sink += performance.now();
});
const m = new OperationMetrics();
const count = nsPer(5_000_000, () => {
  m.result(9, 0);
  m.took(9, 0.004);
});
console.log(
  `\nperformance.now(): ${clock.toFixed(0)} ns; counting one operation (result + took): ${count.toFixed(0)} ns`,
);
const fs = new MemoryFileSystem();
const root = await fs.root();
const timed = new TimedFileSystem(fs, "memory", new StoreLatency());
for (let i = 0; i < 3; i++) {
  const direct = await nsPerAsync(500_000, () => fs.getattr(root));
  const wrapped = await nsPerAsync(500_000, () => timed.getattr(root));
  console.log(
    `memory getattr: direct ${direct.toFixed(0)} ns, through TimedFileSystem ${wrapped.toFixed(0)} ns (+${(wrapped - direct).toFixed(0)} ns)`,
  );
}
if (sink === 0) console.log("");

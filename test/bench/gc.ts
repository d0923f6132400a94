// What the server's garbage costs under load: a `dfs serve` child run with
// node's --trace-gc-nvp while the load generator (dfsctl bench's runner) drives
// it, and from V8's own lines, per operation: bytes allocated in the young
// generation, bytes its scavenges promoted to the old one, scavenge pauses and
// full mark-compacts.
//
// Promotion is the figure to watch. A request's objects should die young; what
// survives two scavenges is copied twice and then left for a mark-compact.
// Commit d22bddc found COMPOUND's per-request state promoting 7-10% of all
// allocation (src/nfs/compound-state.ts): this benchmark shows such a thing at
// once, where a CPU profile spreads it over "(garbage collector)".
//
//   npm run bench:gc [-- --workload getattr --backend memory --duration 5
//                       --sessions 2 --connections 2 --inflight 8 --files N
//                       --file-size MiB --checkout DIR]
//
// It builds the checkout (npm run build) and runs its bin/dfs.js, as `npm start` does.

import { parseArgs } from "node:util";
import { runBench } from "../../src/bench/runner.js";
import { isWorkload } from "../../src/bench/workloads.js";
import { buildServer, ServerProcess } from "./server-process.js";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** One --trace-gc-nvp line's figures (V8 prints one per collection). */
export interface GcEvent {
  readonly kind: "scavenge" | "mark-compact" | "other";
  readonly pauseMs: number;
  readonly allocated: number;
  readonly promoted: number;
}

/** The GC event a --trace-gc-nvp line reports, or null for any other line. */
export function parseGcLine(line: string): GcEvent | null {
  const gc = / gc=(\S+)/.exec(line);
  if (gc === null) return null;
  const field = (name: string): number => {
    const m = new RegExp(`[ \\t]${name}=([0-9.]+)`).exec(line);
    return m === null ? 0 : Number(m[1]);
  };
  const kind = gc[1] === "s" ? "scavenge" : gc[1] === "mc" ? "mark-compact" : "other";
  return {
    kind,
    pauseMs: field("pause"),
    allocated: field("allocated"),
    promoted: field("promoted"),
  };
}

/** The sums over a run's events. */
export interface GcTotals {
  scavenges: number;
  markCompacts: number;
  scavengePauseMs: number;
  allocated: number;
  promoted: number;
}

export function emptyTotals(): GcTotals {
  return { scavenges: 0, markCompacts: 0, scavengePauseMs: 0, allocated: 0, promoted: 0 };
}

export function addEvent(t: GcTotals, e: GcEvent): void {
  if (e.kind === "scavenge") {
    t.scavenges++;
    t.scavengePauseMs += e.pauseMs;
    t.allocated += e.allocated;
    t.promoted += e.promoted;
  } else if (e.kind === "mark-compact") {
    t.markCompacts++;
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      workload: { type: "string", default: "getattr" },
      backend: { type: "string", default: "memory" },
      duration: { type: "string", default: "5" },
      warmup: { type: "string", default: "2" },
      sessions: { type: "string", default: "2" },
      connections: { type: "string", default: "2" },
      inflight: { type: "string", default: "8" },
      files: { type: "string", default: "1000" },
      "file-size": { type: "string", default: "64" },
      checkout: { type: "string" },
    },
    strict: true,
  });
  const workload = values.workload;
  if (!isWorkload(workload)) throw new Error(`--workload: no workload ${workload}`);
  if (values.backend !== "memory" && values.backend !== "sqlite")
    throw new Error("--backend must be memory or sqlite");
  const int = (name: string, text: string): number => {
    const n = Number(text);
    if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer`);
    return n;
  };

  // What `npm start` runs: the compiled server.
  buildServer(values.checkout);
  const dataDir = mkdtempSync(join(tmpdir(), "dfs-bench-gc-"));
  let totals = emptyTotals();
  let partial = "";
  const server = await ServerProcess.start(
    { store: { backend: values.backend, dataDir } },
    {
      compiled: true,
      checkout: values.checkout,
      nodeArgs: ["--trace-gc-nvp"],
      onStdout: (text) => {
        const lines = (partial + text).split("\n");
        partial = lines.pop() ?? "";
        for (const line of lines) {
          const e = parseGcLine(line);
          if (e !== null) addEvent(totals, e);
        }
      },
    },
  );
  try {
    const load = {
      host: "127.0.0.1",
      port: server.port,
      path: "/export",
      workload,
      sessions: int("sessions", values.sessions),
      connections: int("connections", values.connections),
      inflight: int("inflight", values.inflight),
      files: int("files", values.files),
      fileSize: int("file-size", values["file-size"]) * 1024 * 1024,
      serverPid: server.child.pid!,
    };
    // A first run warms the JIT; only the second one's collections count.
    await runBench({ ...load, durationSec: int("warmup", values.warmup) });
    totals = emptyTotals();
    const r = await runBench({ ...load, durationSec: int("duration", values.duration) });
    const ops = r.operations;
    console.log(
      `${workload} on ${values.backend}${values.checkout === undefined ? "" : ` (${values.checkout})`}: ` +
        `${ops} operations, ${r.opsPerSec.toFixed(0)} ops/s, server ${r.serverCpu?.usPerOp.toFixed(1)} µs CPU/op`,
    );
    console.log(
      `allocated in the young generation: ${(totals.allocated / ops / 1024).toFixed(1)} KiB/op`,
    );
    console.log(
      `promoted by scavenges:             ${(totals.promoted / ops).toFixed(0)} B/op ` +
        `(${((100 * totals.promoted) / Math.max(1, totals.allocated)).toFixed(2)}% of it)`,
    );
    console.log(
      `scavenges: ${totals.scavenges}, pauses ${((1000 * totals.scavengePauseMs) / ops).toFixed(1)} ms per 1000 ops; ` +
        `mark-compacts: ${totals.markCompacts}`,
    );
  } finally {
    await server.terminate();
  }
}

if (process.argv[1]?.endsWith("gc.ts")) {
  main().catch((e: unknown) => {
    console.error(e instanceof Error ? e.message : e);
    process.exitCode = 1;
  });
}

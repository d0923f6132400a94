// The long fuzz run: `npm run fuzz -- [--records N] [--seed S] [options]`.
// Starts `dfs serve` as a child process on a loopback port, fuzzes it over TCP
// (test/fuzz/driver.ts), samples the server's RSS from /proc, and prints
// records, rate, SYSTEM_ERR count and peak RSS. Exits non-zero on any failure:
// a SYSTEM_ERR or otherwise bad reply, a hang, a closed connection, the server
// dying, or its RSS passing --max-rss-mb.
//
// Options:
//   --records N       records to send (default 1000000)
//   --seed S          the seed (default: random, printed first)
//   --only I          send only record I of the seed (a reproducer; needs --seed)
//   --concurrency K   slots in flight at once (default 8)
//   --timeout-ms T    a reply later than this is a hang (default 10000)
//   --max-seconds M   stop after this long whatever the count (default 3600)
//   --max-rss-mb R    fail if the server's RSS ever exceeds this (default 2560: the
//                     idle server is ~100 MB, the memory filesystem stores up to its
//                     1 GiB capacity densely in buffers up to twice the data, and
//                     nfs.replayCacheBudget is 256 MiB)
//   --port P          fuzz a server already listening on 127.0.0.1:P instead

import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import type { FuzzStats } from "./driver.js";
import { Fuzzer, describeFailure, opName, statusName } from "./driver.js";

const { values: opts } = parseArgs({
  options: {
    records: { type: "string", default: "1000000" },
    seed: { type: "string" },
    only: { type: "string" },
    concurrency: { type: "string", default: "8" },
    "timeout-ms": { type: "string", default: "10000" },
    "max-seconds": { type: "string", default: "3600" },
    "max-rss-mb": { type: "string", default: "2560" },
    port: { type: "string" },
  },
});

const seed = opts.seed !== undefined ? Number(opts.seed) >>> 0 : (Math.random() * 2 ** 32) >>> 0;
const records = Number(opts.records);
const maxRssMb = Number(opts["max-rss-mb"]);
const maxSeconds = Number(opts["max-seconds"]);
console.log(`fuzz: seed ${seed}, ${records} records`);

interface Server {
  readonly port: number;
  readonly child: ChildProcess | null;
  /** Error-level log lines of the server (the first few) and how many there were. */
  readonly errors: string[];
  errorCount: number;
  exited: string | null;
}

/** Starts `dfs serve` on 127.0.0.1, an OS-chosen port; resolves once it listens. */
function startServer(): Promise<Server> {
  const dir = mkdtempSync(join(tmpdir(), "dfs-fuzz-"));
  const config = join(dir, "config.json");
  // Only errors: a warning per disallowed status would slow the server down.
  writeFileSync(
    config,
    JSON.stringify({
      listen: ["127.0.0.1:0"],
      logLevel: "error",
      store: { backend: "memory" },
    }),
  );
  const child = spawn(
    process.execPath,
    ["--import", "tsx", "src/cli/dfs.ts", "serve", "--config", config],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  return new Promise((resolve, reject) => {
    let buffered = "";
    let server: Server | null = null;
    child.stdout!.setEncoding("utf8");
    child.stdout!.on("data", (chunk: string) => {
      buffered += chunk;
      let nl: number;
      while ((nl = buffered.indexOf("\n")) >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        const listening = /serving NFSv4\.1 on 127\.0\.0\.1:(\d+)/.exec(line);
        if (listening && !server) {
          server = { port: Number(listening[1]), child, errors: [], errorCount: 0, exited: null };
          rmSync(dir, { recursive: true, force: true });
          resolve(server);
        } else if (server && line.startsWith("{")) {
          server.errorCount++;
          if (server.errors.length < 10) server.errors.push(line.slice(0, 2000));
        }
      }
    });
    child.once("exit", (code, signal) => {
      if (server) server.exited = `exit code ${code}, signal ${signal}`;
      else reject(new Error(`dfs serve exited before listening (${code ?? signal})`));
    });
  });
}

/** The resident set size of process `pid` in bytes, from /proc (0 if unreadable). */
function rssOf(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

const MB = 1024 * 1024;
const server: Server =
  opts.port !== undefined
    ? { port: Number(opts.port), child: null, errors: [], errorCount: 0, exited: null }
    : await startServer();
const pid = server.child?.pid;

function line(s: FuzzStats): string {
  const rate = s.records / (s.elapsedMs / 1000);
  return (
    `${s.records} records, ${rate.toFixed(0)}/s, SYSTEM_ERR ${s.systemErr}, ` +
    `GARBAGE_ARGS ${s.garbageArgs}, sessions ${s.sessions}, failures ${s.failures.length}` +
    (pid !== undefined
      ? `, server RSS ${(rssOf(pid) / MB).toFixed(0)} MB (peak ${(peakRss / MB).toFixed(0)})`
      : "")
  );
}

const fuzzer = new Fuzzer({
  port: server.port,
  seed,
  records,
  concurrency: Number(opts.concurrency),
  replyTimeoutMs: Number(opts["timeout-ms"]),
  ...(opts.only !== undefined ? { only: Number(opts.only) } : {}),
  progressEveryMs: 10_000,
  onProgress: (s) => {
    console.log(`fuzz: ${line(s)}`);
    if (s.elapsedMs > maxSeconds * 1000) fuzzer.stop("the --max-seconds limit");
  },
});

let peakRss = 0;
let rssAfterWarmup = 0;
const sampler = setInterval(() => {
  if (pid === undefined) return;
  const rss = rssOf(pid);
  peakRss = Math.max(peakRss, rss);
  if (rssAfterWarmup === 0 && fuzzer.stats.records >= records / 10) rssAfterWarmup = rss;
}, 250);

let stats: FuzzStats;
try {
  stats = await fuzzer.run();
} finally {
  clearInterval(sampler);
}
if (pid !== undefined) peakRss = Math.max(peakRss, rssOf(pid));
const endRss = pid !== undefined ? rssOf(pid) : 0;

const problems: string[] = stats.failures.map(describeFailure);
if (server.exited !== null) problems.push(`the server died: ${server.exited}`);
if (peakRss > maxRssMb * MB)
  problems.push(`server RSS peaked at ${(peakRss / MB).toFixed(0)} MB > ${maxRssMb} MB`);

console.log(`fuzz: done: ${line(stats)}`);
if (stats.stoppedBy) console.log(`fuzz: stopped early: ${stats.stoppedBy}`);
console.log(
  `fuzz: seed ${seed}; elapsed ${(stats.elapsedMs / 1000).toFixed(1)} s; retries sent ${stats.replays} (${stats.replaysChecked} replays compared); ` +
    `server RSS after 10% ${(rssAfterWarmup / MB).toFixed(0)} MB, at end ${(endRss / MB).toFixed(0)} MB, peak ${(peakRss / MB).toFixed(0)} MB`,
);
const top = [...stats.statuses].sort((a, b) => b[1] - a[1]).slice(0, 12);
console.log(`fuzz: COMPOUND statuses: ${top.map(([k, v]) => `${statusName(k)} ${v}`).join(", ")}`);
const ok = [...stats.succeeded].sort((a, b) => b[1] - a[1]);
console.log(
  `fuzz: NFS4_OK results by operation (${ok.length} operations): ${ok.map(([k, v]) => `${opName(k)} ${v}`).join(", ")}`,
);
console.log(
  `fuzz: sessions lost: ${[...stats.lostSessions].map(([k, v]) => `${k} ${v}`).join(", ") || "none"}`,
);
if (stats.serverFaults.size > 0)
  console.log(
    `fuzz: NFS4ERR_SERVERFAULT results (an operation threw): ${[...stats.serverFaults]
      .map(([op, f]) => `${op} ×${f.count} (first: --seed ${seed} --only ${f.record})`)
      .join(", ")}`,
  );
if (server.errorCount > 0) {
  console.log(`fuzz: the server logged ${server.errorCount} errors; the first:`);
  for (const e of server.errors) console.log(`  ${e}`);
}
server.child?.kill("SIGTERM");
if (problems.length > 0) {
  console.log(`fuzz: FAILED (${problems.length}):`);
  for (const p of problems) console.log(`  ${p}`);
  process.exitCode = 1;
} else console.log("fuzz: passed");

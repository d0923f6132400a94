// Kernel-client benchmark (issue 10): the real Linux NFSv4.1 client in qemu
// (shared/kclient/run.sh) runs the same workload (kernel.workload.sh) against
// `dfs serve` on the SQLite store and against NFS-Ganesha with FSAL VFS
// (shared/peers/ganesha.sh), in one run, rounds interleaved (the order
// alternates each round) so drift in the machine's load hits both alike.
// With --scale-out, also against dfs on PostgreSQL + S3 (issue 11): a
// throwaway PostgreSQL cluster and RADOS Gateway (test/support), whose own
// counters give each phase's SQL statements and S3 requests
// (store-counters.ts).
//
//   npm run bench:kernel [-- --rounds 3 --kernel 6.1 --scale-out --json]
//
// Phases (guest monotonic clock, one boot per server per round): 64 MiB
// sequential write + sync, 64 MiB read after drop_caches, create / stat /
// ls -l / remove of 1000 files, mkdir / rmdir of 200 directories. The table
// shows the median per phase per server and dfs ÷ Ganesha (below 1: we are
// faster). Both servers keep their data in fresh directories under --dir, on
// the same filesystem. Before the rounds, each server serves --warmup guest
// runs that are not in the medians: V8 optimises dfs's request paths over its
// first tens of thousands of requests (a serial churn loop costs 2.5× the CPU
// per step in its first seconds as after ~20 s; with --no-opt it stays at the
// first level), so without them the first round measured a server still being
// optimised. Their figures are printed apart, as the cold-start cost. Needs
// the shared tools directory (../shared by default): it is not part of
// `npm test`.

import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { KERNELS, runGuest } from "../interop/guest.js";
import { Ganesha } from "./ganesha.js";
import { PhaseSnapshots, ScaleOut, printStoreWork } from "./kernel-scale-out.js";
import { ServerProcess, buildServer, cpuSecondsOf } from "./server-process.js";
import type { StoreWork } from "./store-counters.js";

const USAGE = `usage: npm run bench:kernel -- [options]

  --rounds N               rounds; each boots the guest once per server (default 3)
  --warmup N               guest runs per server before the rounds, not in the medians (default 1):
                           a fresh dfs runs its first tens of thousands of requests on
                           unoptimised JavaScript; their figures are printed apart (cold runs)
  --phases all|namespace   every phase (default), or all but the 64 MiB write and read
                           (namespace: the 1000 files, the 200 directories, the 300 small files)
  --store sqlite|memory    dfs's store: the default SQLite store (default), or memory
  --kernel 6.1|6.12|META   the client kernel (default 6.1; or a Debian linux-image meta package)
  --vers 4.1|4.2           NFS minor version (default 4.1)
  --port N                 dfs's port; Ganesha gets N + 1 (default 21540)
  --scale-out              also dfs on PostgreSQL + S3 ("scaleout", port N + 3): a throwaway
                           PostgreSQL cluster (under --dir) and RADOS Gateway (memstore), with
                           the SQL statements and S3 requests of each phase counted
  --only dfs|scaleout|ganesha
                           run one server only (e.g. to profile dfs)
  --baseline DIR           also run dfs from another checkout (e.g. main before a change) as
                           "base", on port N + 2, interleaved with the others
  --dfs-config JSON        merged into the config of dfs (and base), e.g.
                           '{"nfs":{"delegationPolicy":"none"}}' (default: default settings)
  --cpu-prof               write a V8 CPU profile of the dfs processes into --out
  --shared DIR             the shared tools directory with kclient/run.sh and peers/ganesha.sh
                           (default $DITTOFS_SHARED or ../shared next to the project)
  --dir DIR                parent of the servers' data directories (default /var/tmp)
  --out DIR                where logs go (default a new directory under --dir)
  --json                   print the results as JSON too
  --verbose                echo the whole guest console`;

/** The phases the workload times, in order, with what each does. */
const ALL_PHASES: readonly (readonly [string, string])[] = [
  ["write_64MiB", "64 MiB sequential write (dd bs=1M) + sync"],
  ["read_64MiB", "64 MiB sequential read after drop_caches"],
  ["create_1000", "create 1000 empty files"],
  ["stat_1000", "stat 1000 files after drop_caches"],
  ["ls_l_1000", "ls -l of the 1000 files after drop_caches"],
  ["remove_1000", "remove the 1000 files"],
  ["mkdir_200", "mkdir 200 directories"],
  ["rmdir_200", "rmdir the 200 directories"],
  ["write_300", "write 300 small files (echo > f: a write-only open each)"],
  ["read_300", "read the 300 files back"],
];

/** The phases --phases namespace leaves out (the 64 MiB file). */
const DATA_PHASES: ReadonlySet<string> = new Set(["write_64MiB", "read_64MiB"]);

/** The guest's whole run (boot, mount, workload, umount) at most, seconds (TCG is slow). */
const GUEST_TIMEOUT_SEC = 900;

type Server = "dfs" | "scaleout" | "ganesha" | "base";
const SERVERS: readonly Server[] = ["dfs", "scaleout", "ganesha", "base"];
const isServer = (s: string): s is Server => (SERVERS as readonly string[]).includes(s);

interface RunResult {
  readonly server: Server;
  readonly round: number;
  /** Seconds per phase, from the guest's KCLIENT-PHASE lines. */
  readonly phases: Record<string, number>;
  /** The server's CPU time (user + system) over the guest run, seconds. */
  readonly serverCpuSec: number;
  /** The mount options the kernel settled on (rsize, wsize, …). */
  readonly mountOptions: string;
  /** The RPCs each phase cost, by operation (from the guest's KBENCH-OPS lines). */
  readonly rpcs: Record<string, Record<string, number>>;
  /** The client-side round-trip milliseconds of those RPCs, summed by operation (KBENCH-RTT). */
  readonly rttMs: Record<string, Record<string, number>>;
  /** scaleout: what each phase cost PostgreSQL and the S3 service. */
  readonly store?: Record<string, StoreWork>;
}

interface Options {
  readonly rounds: number;
  readonly warmup: number;
  readonly phases: "all" | "namespace";
  readonly store: "sqlite" | "memory";
  readonly kernelMeta: string;
  readonly vers: string;
  readonly port: number;
  readonly only: Server | null;
  readonly scaleOut: boolean;
  readonly dir: string;
  readonly baseline: string | null;
  readonly dfsConfig: Record<string, unknown>;
  readonly cpuProf: boolean;
  readonly shared: string;
  readonly out: string;
  readonly json: boolean;
  readonly verbose: boolean;
}

function parse(argv: readonly string[]): Options | null {
  const here = dirname(fileURLToPath(import.meta.url));
  const { values } = parseArgs({
    args: [...argv],
    options: {
      rounds: { type: "string", default: "3" },
      warmup: { type: "string", default: "1" },
      phases: { type: "string", default: "all" },
      store: { type: "string", default: "sqlite" },
      kernel: { type: "string", default: "6.1" },
      vers: { type: "string", default: "4.1" },
      port: { type: "string", default: "21540" },
      only: { type: "string" },
      "scale-out": { type: "boolean", default: false },
      baseline: { type: "string" },
      "dfs-config": { type: "string", default: "{}" },
      "cpu-prof": { type: "boolean", default: false },
      shared: {
        type: "string",
        default: process.env["DITTOFS_SHARED"] ?? resolve(here, "..", "..", "..", "shared"),
      },
      dir: { type: "string", default: "/var/tmp" },
      out: { type: "string" },
      json: { type: "boolean", default: false },
      verbose: { type: "boolean", default: false },
      help: { type: "boolean", default: false },
    },
    strict: true,
  });
  if (values.help) return null;
  const rounds = Number(values.rounds);
  const warmup = Number(values.warmup);
  const port = Number(values.port);
  if (!Number.isInteger(rounds) || rounds < 1)
    throw new Error("--rounds must be a positive integer");
  if (!Number.isInteger(warmup) || warmup < 0)
    throw new Error("--warmup must be a non-negative integer");
  if (!Number.isInteger(port) || port < 1 || port > 65534) throw new Error("bad --port");
  if (values.phases !== "all" && values.phases !== "namespace")
    throw new Error("--phases must be all or namespace");
  if (values.store !== "sqlite" && values.store !== "memory")
    throw new Error("--store must be sqlite or memory");
  if (values.only !== undefined && (!isServer(values.only) || values.only === "base"))
    throw new Error("--only must be dfs, scaleout or ganesha");
  mkdirSync(values.dir, { recursive: true });
  return {
    rounds,
    warmup,
    phases: values.phases,
    store: values.store,
    kernelMeta: KERNELS[values.kernel] ?? values.kernel,
    vers: values.vers,
    port,
    only: values.only !== undefined && isServer(values.only) ? values.only : null,
    scaleOut: values["scale-out"] || values.only === "scaleout",
    dir: values.dir,
    baseline: values.baseline === undefined ? null : resolve(values.baseline),
    dfsConfig: parseConfig(values["dfs-config"]),
    cpuProf: values["cpu-prof"],
    shared: resolve(values.shared),
    out: values.out ?? mkdtempSync(join(values.dir, "kbench-")),
    json: values.json,
    verbose: values.verbose,
  };
}

function parseConfig(text: string): Record<string, unknown> {
  const v: unknown = JSON.parse(text);
  if (typeof v !== "object" || v === null || Array.isArray(v))
    throw new Error("--dfs-config must be a JSON object");
  return Object.fromEntries(Object.entries(v));
}

/** Fails with a clear message when the shared tools are not there. */
function checkShared(shared: string): void {
  for (const tool of ["kclient/run.sh", "peers/ganesha.sh"])
    if (!existsSync(join(shared, tool)))
      throw new Error(
        `${join(shared, tool)} not found: this benchmark needs the shared tools directory ` +
          `(kclient/run.sh, peers/ganesha.sh); pass --shared DIR or set DITTOFS_SHARED`,
      );
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Per-phase differences of the cumulative per-operation counters on `KBENCH-<tag>` lines. */
class PhaseCounters {
  readonly byPhase: Record<string, Record<string, number>> = {};
  private before: Record<string, number> = {};

  constructor(private readonly tag: string) {}

  /** Takes `line` if it is one of ours. */
  take(line: string): void {
    const m = new RegExp(`^KBENCH-${this.tag} (\\S+)(.*)$`).exec(line);
    if (m === null) return;
    const now: Record<string, number> = {};
    for (const kv of m[2]!.trim().split(/\s+/)) {
      const [op, n] = kv.split("=");
      if (op !== undefined && n !== undefined && op !== "") now[op] = Number(n);
    }
    const delta: Record<string, number> = {};
    for (const [op, n] of Object.entries(now))
      if (n - (this.before[op] ?? 0) > 0) delta[op] = n - (this.before[op] ?? 0);
    if (m[1] !== "start") this.byPhase[m[1]!] = delta;
    this.before = now;
  }
}

/** The KCLIENT-PHASE figures, the mount line, the RPCs and their RTTs per phase of one guest console log. */
function parseConsole(text: string): {
  phases: Record<string, number>;
  mountOptions: string;
  rpcs: Record<string, Record<string, number>>;
  rttMs: Record<string, Record<string, number>>;
} {
  const phases: Record<string, number> = {};
  const rpcs = new PhaseCounters("OPS");
  const rtts = new PhaseCounters("RTT");
  let mountOptions = "";
  for (const raw of text.split("\n")) {
    const line = raw.replace(/\r$/, "");
    const p = /^KCLIENT-PHASE (\S+) rc=(\d+) secs=([\d.]+)/.exec(line);
    if (p) {
      if (p[2] !== "0") throw new Error(`phase ${p[1]} failed (rc=${p[2]})`);
      phases[p[1]!] = Number(p[3]);
    }
    const m = /^KCLIENT-PROCMOUNTS \S+ \S+ \S+ (\S+)/.exec(line);
    if (m) mountOptions = m[1]!;
    rpcs.take(line);
    rtts.take(line);
  }
  return { phases, mountOptions, rpcs: rpcs.byPhase, rttMs: rtts.byPhase };
}

async function main(argv: readonly string[]): Promise<number> {
  const o = parse(argv);
  if (o === null) {
    console.log(USAGE);
    return 0;
  }
  checkShared(o.shared);
  mkdirSync(o.out, { recursive: true });
  const t0 = Date.now();
  const log = (line: string): void =>
    console.log(`[${((Date.now() - t0) / 1000).toFixed(1).padStart(6)}s] ${line}`);
  const here = dirname(fileURLToPath(import.meta.url));
  const script = join(here, "kernel.workload.sh");
  const phases = ALL_PHASES.filter(([phase]) => o.phases === "all" || !DATA_PHASES.has(phase));
  // The guest gets one file: --phases namespace is a line before the script.
  const workload = o.phases === "all" ? script : join(o.out, "kernel.workload.sh");
  if (o.phases !== "all")
    writeFileSync(workload, `KBENCH_PHASES=${o.phases}\n${readFileSync(script, "utf8")}`);
  const servers: Server[] =
    o.only !== null ? [o.only] : o.scaleOut ? ["dfs", "scaleout", "ganesha"] : ["dfs", "ganesha"];
  if (o.baseline !== null) servers.push("base");
  const portOf: Record<Server, number> = {
    dfs: o.port,
    ganesha: o.port + 1,
    base: o.port + 2,
    scaleout: o.port + 3,
  };
  if (Object.keys(o.dfsConfig).length > 0) log(`dfs config: ${JSON.stringify(o.dfsConfig)}`);
  log(`logs and data in ${o.out}; load average ${readFileSync("/proc/loadavg", "utf8").trim()}`);

  const dataDir = join(o.out, "dfs-data");
  // dfs and base: the default SQLite store in a data directory of their own, or --store memory.
  const storeConfig = (dir: string): Record<string, string> =>
    o.store === "memory" ? { backend: "memory" } : { backend: "sqlite", dataDir: dir };
  const storeName = (dir: string): string =>
    o.store === "memory" ? "memory store" : `SQLite store in ${dir}`;
  let dfs: ServerProcess | null = null;
  let base: ServerProcess | null = null;
  let scaleOut: ScaleOut | null = null;
  const ganesha = new Ganesha(
    join(o.shared, "peers", "ganesha.sh"),
    o.port + 1,
    join(o.out, "ganesha"),
  );
  const results: RunResult[] = [];
  /** The --warmup runs, apart: not in the medians. */
  const warmups: RunResult[] = [];
  try {
    // The servers run compiled, as `npm start` runs them (tsx would add its own helpers).
    // --cpu-prof: a profile of each dfs process (not base) in --out.
    const nodeArgs = o.cpuProf ? ["--cpu-prof", `--cpu-prof-dir=${join(o.out, "cpu-prof")}`] : [];
    if (servers.includes("dfs") || servers.includes("scaleout")) {
      log("compiling dfs (npm run build)");
      buildServer();
    }
    if (o.baseline !== null) {
      log(`compiling base (npm run build in ${o.baseline})`);
      buildServer(o.baseline);
    }
    if (servers.includes("dfs")) {
      dfs = await ServerProcess.start(
        { ...o.dfsConfig, store: storeConfig(dataDir), logLevel: "warn" },
        {
          port: o.port,
          nodeArgs,
          compiled: true,
        },
      );
      log(`dfs (${storeName(dataDir)}) on 127.0.0.1:${dfs.port}, pid ${dfs.child.pid}`);
    }
    if (o.baseline !== null) {
      const baseDir = join(o.out, "base-data");
      base = await ServerProcess.start(
        { ...o.dfsConfig, store: storeConfig(baseDir), logLevel: "warn" },
        { port: portOf.base, checkout: o.baseline, compiled: true },
      );
      log(`base: dfs of ${o.baseline} (${storeName(baseDir)}) on 127.0.0.1:${base.port}`);
    }
    if (servers.includes("scaleout")) {
      scaleOut = await ScaleOut.start(o, portOf.scaleout, nodeArgs);
      log(
        `scaleout: dfs on PostgreSQL + S3 on 127.0.0.1:${portOf.scaleout} (${scaleOut.describe})`,
      );
    }
    if (servers.includes("ganesha")) {
      await ganesha.start();
      log(`ganesha (FSAL VFS) on 127.0.0.1:${o.port + 1}, pid ${ganesha.pid()}`);
    }
    /** One guest run against `server`; `label` names it in the log and its console file. */
    const runOn = async (server: Server, label: string): Promise<Omit<RunResult, "round">> => {
      const port = portOf[server];
      const pid =
        server === "dfs"
          ? dfs!.child.pid!
          : server === "base"
            ? base!.child.pid!
            : server === "scaleout"
              ? scaleOut!.dfs.child.pid!
              : ganesha.pid();
      const counters = server === "scaleout" ? scaleOut!.counters : null;
      const snapshots = new PhaseSnapshots(counters);
      const consoleLog = join(o.out, `${server}-${label.replace(/ /g, "")}.console.log`);
      log(`${label}: ${server}`);
      const cpu0 = cpuSecondsOf(pid);
      const rc = await runGuest(
        {
          shared: o.shared,
          kernelMeta: o.kernelMeta,
          exportPath: "/export",
          vers: o.vers,
          timeoutSec: GUEST_TIMEOUT_SEC,
          verbose: o.verbose,
          echo: /^(kbench:|run\.sh:|KCLIENT-(RESULT|ERROR|PHASE)|KBENCH-OPS)/,
        },
        port,
        workload,
        consoleLog,
        (line) => {
          // A phase's KBENCH-OPS line (printed as it ends): the engines' counters now.
          const m = /^ {2}\| KBENCH-OPS (\S+)/.exec(line);
          if (m === null) log(line);
          else snapshots.take(m[1]!);
        },
      );
      const serverCpuSec = cpuSecondsOf(pid) - cpu0;
      if (rc !== 0)
        throw new Error(
          `${server} ${label}: guest run failed (run.sh exit ${rc}); see ${consoleLog}`,
        );
      const parsed = parseConsole(readFileSync(consoleLog, "utf8"));
      for (const [phase] of phases)
        if (parsed.phases[phase] === undefined)
          throw new Error(`${server} ${label}: no figure for ${phase}`);
      const store = await snapshots.work();
      return { server, serverCpuSec, ...parsed, ...(store ? { store } : {}) };
    };
    // Unmeasured first: each server's first runs (dfs's JavaScript is not optimised yet).
    for (let run = 1; run <= o.warmup; run++)
      for (const server of servers)
        warmups.push({ round: run, ...(await runOn(server, `warm-up ${run}`)) });
    for (let round = 1; round <= o.rounds; round++) {
      const order = round % 2 === 1 ? servers : [...servers].reverse();
      for (const server of order)
        results.push({ round, ...(await runOn(server, `round ${round}`)) });
    }
  } finally {
    await dfs?.terminate();
    await base?.terminate();
    await scaleOut?.stop();
    if (servers.includes("ganesha")) await ganesha.stop();
  }

  const med = (server: Server, phase: string): number =>
    median(results.filter((r) => r.server === server).map((r) => r.phases[phase]!));
  const medCpu = (server: Server): number =>
    median(results.filter((r) => r.server === server).map((r) => r.serverCpuSec));
  const fmt = (x: number): string => x.toFixed(3);
  console.log(
    `\n=== kernel client (${o.kernelMeta}, NFSv${o.vers}): median of ${o.rounds} round(s) after ${o.warmup} warm-up run(s) each, seconds`,
  );
  for (const s of servers)
    console.log(`${s} mount: ${results.find((r) => r.server === s)?.mountOptions ?? "?"}`);
  // Each dfs server against Ganesha, when Ganesha ran.
  const compared = servers.includes("ganesha") ? servers.filter((s) => s !== "ganesha") : [];
  const ratioHeads = compared.map((s) => ` ${s} ÷ ganesha |`).join("");
  console.log(`\n| phase | ${servers.join(" s | ")} s |${ratioHeads}`);
  console.log(`|---|${servers.map(() => "--:|").join("")}${compared.map(() => "--:|").join("")}`);
  let worse = 0;
  for (const [phase, what] of phases) {
    const cells = servers.map((s) => fmt(med(s, phase)));
    const ratios = compared.map((s) => med(s, phase) / med("ganesha", phase));
    if (compared.includes("dfs") && med("dfs", phase) > med("ganesha", phase)) worse++;
    const ratio = ratios.map((r) => ` ${r.toFixed(2)}× |`).join("");
    console.log(`| ${phase} (${what}) | ${cells.join(" | ")} |${ratio}`);
  }
  const cpuRatios = compared.map((s) => ` ${(medCpu(s) / medCpu("ganesha")).toFixed(2)}× |`);
  console.log(
    `| server CPU per guest run (user + sys) | ${servers.map((s) => fmt(medCpu(s))).join(" | ")} |${cpuRatios.join("")}`,
  );
  if (warmups.length > 0) printColdRuns(warmups, servers, compared, phases);
  console.log(
    `\nRPCs per phase (last round: a dfs server started for the run has warmed up by then; all` +
      ` operations the client sent during the phase, and the mean client-side round trip of each, ms):`,
  );
  for (const [phase] of phases)
    for (const s of servers) {
      const last = results.filter((x) => x.server === s).at(-1);
      const r = last?.rpcs[phase];
      if (r === undefined) continue;
      const total = Object.values(r).reduce((a, b) => a + b, 0);
      const rtt = last?.rttMs[phase] ?? {};
      const list = Object.entries(r)
        .sort((a, b) => b[1] - a[1])
        .map(([op, n]) => `${op} ${n} (${((rtt[op] ?? 0) / n).toFixed(2)})`)
        .join(", ");
      console.log(`  ${phase.padEnd(12)} ${s.padEnd(8)} ${String(total).padStart(5)}: ${list}`);
    }
  if (servers.includes("scaleout")) printStoreWork(results, phases);
  console.log(`\nload average at the end: ${readFileSync("/proc/loadavg", "utf8").trim()}`);
  if (compared.includes("dfs"))
    console.log(`phases where dfs is slower than Ganesha: ${worse} of ${phases.length}`);
  const report = { options: o, results, warmups };
  if (o.json) console.log(JSON.stringify(report, null, 2));
  writeFileSync(join(o.out, "results.json"), JSON.stringify(report, null, 2));
  return 0;
}

/**
 * The first warm-up run of each server, phase by phase: what a freshly started
 * server costs (dfs's hot paths are still interpreted or baseline-compiled).
 */
function printColdRuns(
  warmups: readonly RunResult[],
  servers: readonly Server[],
  compared: readonly Server[],
  phases: readonly (readonly [string, string])[],
): void {
  const first = (s: Server): RunResult | undefined => warmups.find((r) => r.server === s);
  console.log(`\nCold runs (each server's first warm-up run, not in the medians above), seconds:`);
  console.log(
    `\n| phase | ${servers.join(" s | ")} s |${compared.map((s) => ` ${s} ÷ ganesha |`).join("")}`,
  );
  console.log(`|---|${servers.map(() => "--:|").join("")}${compared.map(() => "--:|").join("")}`);
  const cell = (x: number | undefined): string => (x === undefined ? "?" : x.toFixed(3));
  const ratio = (a: number | undefined, b: number | undefined): string =>
    a === undefined || b === undefined ? " ? |" : ` ${(a / b).toFixed(2)}× |`;
  for (const [phase] of phases) {
    const v = (s: Server): number | undefined => first(s)?.phases[phase];
    console.log(
      `| ${phase} | ${servers.map((s) => cell(v(s))).join(" | ")} |${compared.map((s) => ratio(v(s), v("ganesha"))).join("")}`,
    );
  }
  const cpu = (s: Server): number | undefined => first(s)?.serverCpuSec;
  console.log(
    `| server CPU (user + sys) | ${servers.map((s) => cell(cpu(s))).join(" | ")} |${compared.map((s) => ratio(cpu(s), cpu("ganesha"))).join("")}`,
  );
}

process.exitCode = await main(process.argv.slice(2)).catch((e: unknown) => {
  console.error(`bench:kernel: ${e instanceof Error ? e.message : String(e)}\n\n${USAGE}`);
  return 2;
});

// dfs against NFS-Ganesha under the project's own load generator (issue 13):
// `dfsctl bench` (the compiled CLI of this checkout) runs every workload
// against dfs on SQLite ("dfs"), dfs on the memory store ("dfs-mem"),
// NFS-Ganesha with FSAL VFS and with FSAL MEM (shared/peers/ganesha.sh), and
// optionally dfs of another checkout ("base"), all on loopback, in one run;
// the server order alternates each round so drift in the machine's load hits
// all alike. Prints (and with --out writes) a markdown table per workload of
// the medians and the ratios dfs-mem ÷ ganesha-mem and dfs ÷ ganesha-vfs.
//
//   npm run build && npm run bench:peers [-- --rounds 3 --duration 5 --out DIR]
//
// Needs the shared tools directory (../shared by default): it is not part of
// `npm test`. The pure logic (options, tables) is in peers-report.ts.

import { execFileSync, spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from "node:fs";
import { createServer } from "node:net";
import { cpus } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { Ganesha } from "./ganesha.js";
import type { PeerRun, PeerServer, PeersOptions } from "./peers-report.js";
import {
  PEERS_USAGE,
  PeersUsageError,
  allClean,
  benchArgs,
  parsePeersArgs,
  portOf,
  reportOf,
  serverOrder,
  shellLine,
  summaryTable,
  workloadTable,
} from "./peers-report.js";
import { ServerProcess, buildServer } from "./server-process.js";

const here = dirname(fileURLToPath(import.meta.url));
/** The checkout being measured: its dist/ serves dfs and dfs-mem and runs the load generator. */
const root = resolve(here, "..", "..");

/** A bench run longer than its duration by this much has hung (setup of 10,000 files included). */
const RUN_MARGIN_SEC = 300;
/** How much of a run's stderr is kept for the report. */
const STDERR_TAIL_CHARS = 4000;

/** The servers of the run, each stopped once whatever happens. */
class Servers {
  readonly dfs = new Map<PeerServer, ServerProcess>();
  readonly ganesha = new Map<PeerServer, Ganesha>();

  pid(server: PeerServer): number {
    const g = this.ganesha.get(server);
    if (g !== undefined) return g.pid();
    const pid = this.dfs.get(server)?.child.pid;
    if (pid === undefined) throw new Error(`${server} is not running`);
    return pid;
  }

  async stopAll(): Promise<void> {
    for (const [, g] of this.ganesha) await g.stop();
    this.ganesha.clear();
    for (const [, d] of this.dfs) await d.terminate();
    this.dfs.clear();
  }
}

/** Fails with a clear message when `port` on 127.0.0.1 is taken (ganesha.sh would not notice). */
function checkPortFree(port: number, server: string): Promise<void> {
  return new Promise((done, fail) => {
    const probe = createServer();
    probe.once("error", () =>
      fail(new Error(`127.0.0.1:${port} (for ${server}) is in use; choose another --port`)),
    );
    probe.listen(port, "127.0.0.1", () => probe.close(() => done()));
  });
}

function gitDescribe(checkout: string): string {
  try {
    const commit = execFileSync("git", ["rev-parse", "--short=12", "HEAD"], {
      cwd: checkout,
      encoding: "utf8",
    }).trim();
    const dirty =
      execFileSync("git", ["status", "--porcelain", "--untracked-files=no"], {
        cwd: checkout,
        encoding: "utf8",
      }).trim() !== "";
    return dirty ? `${commit} + uncommitted changes` : commit;
  } catch {
    return "unknown (not a git checkout?)";
  }
}

function ganeshaVersion(): string {
  const r = spawnSync("ganesha.nfsd", ["-v"], { encoding: "utf8" });
  return /Release = (\S+)/.exec(`${r.stdout}${r.stderr}`)?.[1] ?? "unknown version";
}

/** Runs dfsctl bench; its outcome (never throws for a failed run). */
function runBenchCli(
  args: readonly string[],
  timeoutSec: number,
  track: (child: ChildProcess | null) => void,
  log: (line: string) => void,
): Promise<Pick<PeerRun, "exitCode" | "signal" | "report" | "stderr">> {
  return new Promise((done) => {
    const child = spawn(process.execPath, ["bin/dfsctl.js", "bench", ...args], {
      cwd: root,
      stdio: ["ignore", "pipe", "pipe"],
    });
    track(child);
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString("utf8")));
    child.stderr.on("data", (c: Buffer) => {
      const text = c.toString("utf8");
      stderr = (stderr + text).slice(-STDERR_TAIL_CHARS);
      for (const line of text.split("\n")) if (line.trim() !== "") log(`  | ${line}`);
    });
    const timer = setTimeout(() => {
      log(`  | no end after ${timeoutSec} s: stopping it`);
      child.kill("SIGTERM");
    }, timeoutSec * 1000);
    child.once("error", (e) => {
      clearTimeout(timer);
      track(null);
      done({ exitCode: null, signal: null, report: null, stderr: e.message });
    });
    child.once("close", (code, signal) => {
      clearTimeout(timer);
      track(null);
      done({ exitCode: code, signal, report: reportOf(stdout), stderr });
    });
  });
}

async function startServers(
  o: PeersOptions,
  runDir: string,
  servers: Servers,
  log: (line: string) => void,
): Promise<Record<string, string>> {
  const described: Record<string, string> = {};
  for (const s of o.servers) await checkPortFree(portOf(o.port, s), s);
  // Asked before any server runs: these block the event loop (see ganesha.ts on signals).
  const version = ganeshaVersion();
  const baseCommit = o.baseline === null ? "" : gitDescribe(o.baseline);
  const config = (store: object) => ({ store, logLevel: "warn" });
  if (o.servers.includes("dfs")) {
    const dataDir = join(runDir, "dfs-data");
    servers.dfs.set(
      "dfs",
      await ServerProcess.start(config({ backend: "sqlite", dataDir }), {
        port: portOf(o.port, "dfs"),
        checkout: root,
        compiled: true,
      }),
    );
    described["dfs"] = `dfs, SQLite store in ${dataDir}`;
  }
  if (o.servers.includes("dfs-mem")) {
    servers.dfs.set(
      "dfs-mem",
      await ServerProcess.start(config({ backend: "memory" }), {
        port: portOf(o.port, "dfs-mem"),
        checkout: root,
        compiled: true,
      }),
    );
    described["dfs-mem"] = "dfs, memory store";
  }
  if (o.baseline !== null && o.servers.includes("base")) {
    const dataDir = join(runDir, "base-data");
    servers.dfs.set(
      "base",
      await ServerProcess.start(config({ backend: "sqlite", dataDir }), {
        port: portOf(o.port, "base"),
        checkout: o.baseline,
        compiled: true,
      }),
    );
    described["base"] = `dfs of ${o.baseline} (${baseCommit}), SQLite store`;
  }
  for (const [s, fsal] of [
    ["ganesha-vfs", "VFS"],
    ["ganesha-mem", "MEM"],
  ] as const) {
    if (!o.servers.includes(s)) continue;
    const g = new Ganesha(
      join(o.shared, "peers", "ganesha.sh"),
      portOf(o.port, s),
      join(runDir, s),
      fsal,
    );
    // Registered first: a start that fails half-way is still stopped.
    servers.ganesha.set(s, g);
    await g.start();
    described[s] = `NFS-Ganesha ${version}, FSAL ${fsal}, state in ${g.state}`;
  }
  for (const s of o.servers)
    log(`${s} on 127.0.0.1:${portOf(o.port, s)}, pid ${servers.pid(s)}: ${described[s]}`);
  return described;
}

async function main(argv: readonly string[]): Promise<number> {
  const o = parsePeersArgs(argv, {
    shared: process.env["DITTOFS_SHARED"] ?? resolve(root, "..", "shared"),
  });
  if (o === null) {
    console.log(PEERS_USAGE);
    return 0;
  }
  const script = join(o.shared, "peers", "ganesha.sh");
  if (o.servers.some((s) => s.startsWith("ganesha")) && !existsSync(script))
    throw new PeersUsageError(
      `${script} not found: pass --shared DIR or set DITTOFS_SHARED (the shared tools directory)`,
    );
  mkdirSync(o.dir, { recursive: true });
  const runDir = mkdtempSync(join(o.dir, "peers-"));
  const t0 = Date.now();
  const log = (line: string): void =>
    console.log(`[${((Date.now() - t0) / 1000).toFixed(1).padStart(6)}s] ${line}`);

  const header = [
    "## dfs and NFS-Ganesha under dfsctl bench",
    "",
    `- command: \`${shellLine(["npm", "run", "bench:peers", ...(argv.length > 0 ? ["--", ...argv] : [])])}\``,
    `- date: ${new Date().toISOString()}`,
    `- commit: ${gitDescribe(root)}${o.baseline === null ? "" : `; base: ${o.baseline} at ${gitDescribe(o.baseline)}`}`,
    `- node ${process.version}, nproc ${cpus().length}, load average at start ${readFileSync("/proc/loadavg", "utf8").trim()}`,
    `- ${o.rounds} round(s), ${o.durationSec} s per run, server order alternating each round; ` +
      "medians over the clean runs; CPU from /proc/PID/stat (all threads), util. = CPU s per wall s",
  ];
  console.log(header.join("\n"));
  log(`run directory ${runDir}`);

  const servers = new Servers();
  let current: ChildProcess | null = null;
  let interrupted: string | null = null;
  // Ctrl-C ends the run but never the stopping of the servers: a second
  // signal (npm relays the terminal's SIGINT once more) changes nothing.
  const onSignal = (signal: NodeJS.Signals): void => {
    if (interrupted !== null) return;
    interrupted = signal;
    log(`${signal}: stopping the run and the servers`);
    current?.kill("SIGTERM");
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);

  const runs: PeerRun[] = [];
  const described: Record<string, string> = {};
  try {
    log("compiling (npm run build)");
    buildServer(root);
    if (o.baseline !== null && o.servers.includes("base")) {
      log(`compiling base (npm run build in ${o.baseline})`);
      buildServer(o.baseline);
    }
    Object.assign(described, await startServers(o, runDir, servers, log));
    for (let round = 1; round <= o.rounds && interrupted === null; round++)
      for (const workload of o.workloads)
        for (const server of serverOrder(o.servers, round)) {
          if (interrupted !== null) break;
          const args = benchArgs({
            port: portOf(o.port, server),
            workload,
            load: o.loads[workload],
            durationSec: o.durationSec,
            serverPid: servers.pid(server),
          });
          log(`round ${round}, ${workload}, ${server}: dfsctl bench ${shellLine(args)}`);
          const outcome = await runBenchCli(
            args,
            o.durationSec + RUN_MARGIN_SEC,
            (c) => (current = c),
            log,
          );
          if (interrupted !== null) break;
          const run: PeerRun = { server, workload, round, args, ...outcome };
          runs.push(run);
          const r = run.report;
          log(
            `  exit ${run.exitCode ?? run.signal}` +
              (r === null
                ? ", no report"
                : `, ${r.opsPerSec} ops/s, server ${r.serverCpu?.usPerOp ?? "?"} µs/op, ` +
                  `client util. ${r.clientCpu.utilisation}, errors ${r.errors}`),
          );
        }
  } finally {
    log("stopping the servers");
    await servers.stopAll();
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
  if (interrupted !== null) {
    log(`interrupted; the run's directory stays: ${runDir}`);
    return 130;
  }

  const tables = [
    header.join("\n"),
    "",
    "Servers (all on 127.0.0.1, the load generator on the same host):",
    "",
    ...o.servers.map((s) => `- ${s}: ${described[s] ?? "?"}`),
    "",
    ...o.workloads.flatMap((w) => [
      workloadTable(w, o.loads[w], o.durationSec, o.servers, runs),
      "",
    ]),
  ];
  const summary = summaryTable(o.workloads, o.servers, runs);
  if (summary !== null)
    tables.push(
      "### Summary (CPU/op below 1: dfs is cheaper; ops/s above 1: faster)",
      "",
      summary,
      "",
    );
  tables.push(`load average at the end: ${readFileSync("/proc/loadavg", "utf8").trim()}`);
  const markdown = tables.join("\n");
  console.log(`\n${markdown}`);
  if (o.out !== null) {
    mkdirSync(o.out, { recursive: true });
    writeFileSync(join(o.out, "peers.md"), `${markdown}\n`);
    writeFileSync(
      join(o.out, "runs.json"),
      `${JSON.stringify({ argv, options: o, servers: described, runs }, null, 2)}\n`,
    );
    log(`wrote ${join(o.out, "peers.md")} and ${join(o.out, "runs.json")}`);
  }
  const clean = allClean(runs);
  if (clean && !o.keep) rmSync(runDir, { recursive: true, force: true });
  else log(`the run's directory stays: ${runDir}`);
  return clean ? 0 : 1;
}

process.exitCode = await main(process.argv.slice(2)).catch((e: unknown) => {
  console.error(`bench:peers: ${e instanceof Error ? e.message : String(e)}`);
  if (e instanceof PeersUsageError) console.error(`\n${PEERS_USAGE}`);
  return 2;
});

// The pure part of `npm run bench:peers` (peers.ts): its options, the load
// each workload gets, the order of the servers in each round, and the tables
// built from the load generator's JSON reports. No processes, no files: what
// is here is unit-tested in peers.test.ts without NFS-Ganesha.

import { resolve } from "node:path";
import { parseArgs } from "node:util";
import type { BenchReport } from "../../src/bench/runner.js";
import type { WorkloadName } from "../../src/bench/workloads.js";
import { WORKLOADS, isWorkload } from "../../src/bench/workloads.js";

/** dfsctl bench flags --load may set (each takes a value). */
export const LOAD_FLAGS = [
  "sessions",
  "connections",
  "inflight",
  "files",
  "file-size",
  "uid",
  "gid",
] as const;
type LoadFlag = (typeof LOAD_FLAGS)[number];
const isLoadFlag = (s: string): s is LoadFlag => (LOAD_FLAGS as readonly string[]).includes(s);

const LOAD_FLAGS_TEXT = LOAD_FLAGS.map((f) => `--${f}`).join(", ");

export const PEERS_USAGE = `usage: npm run bench:peers -- [options]

Runs \`dfsctl bench\` (the compiled CLI of this checkout) against dfs on SQLite
("dfs"), dfs on the memory store ("dfs-mem"), NFS-Ganesha FSAL VFS
("ganesha-vfs") and FSAL MEM ("ganesha-mem"), every workload against every
server in each round, the server order alternating each round; prints a table
per workload of the medians (ops/s, server CPU µs/op, CPU utilisation of the
server and of the load generator) and the ratios dfs-mem ÷ ganesha-mem and
dfs ÷ ganesha-vfs.

  --workloads W,W,...      (default ${WORKLOADS.join(",")})
  --duration SEC           each bench run (default 5)
  --rounds N               (default 3)
  --load 'W:ARGS'          the load of workload W instead of its default, e.g.
                           'readdir:--inflight 2 --files 5000'; ARGS are dfsctl bench
                           flags among ${LOAD_FLAGS_TEXT}, each with a value, and
                           replace the default's flag of the same name (repeatable)
  --only S,S,...           servers among dfs, dfs-mem, ganesha-vfs, ganesha-mem (and base)
  --baseline DIR           also dfs from another checkout (SQLite) as "base", e.g. main
                           before a change (the load generator stays this checkout's)
  --port N                 dfs's port; dfs-mem N+1, ganesha-vfs N+2, ganesha-mem N+3,
                           base N+4 (default 21560)
  --shared DIR             the shared tools directory with peers/ganesha.sh
                           (default $DITTOFS_SHARED or ../shared next to the project)
  --dir DIR                parent of the run's directory: server data, Ganesha state and
                           logs (default /var/tmp); removed at the end when every run
                           succeeded, unless --keep
  --keep                   keep the run's directory
  --out DIR                also write the tables (peers.md) and every run's raw JSON
                           report (runs.json) there`;

export const SERVERS = ["dfs", "dfs-mem", "ganesha-vfs", "ganesha-mem", "base"] as const;
export type PeerServer = (typeof SERVERS)[number];
const isServer = (s: string): s is PeerServer => (SERVERS as readonly string[]).includes(s);

/** The comparisons each table ends with: numerator ÷ denominator. */
export const RATIOS: readonly (readonly [PeerServer, PeerServer])[] = [
  ["dfs-mem", "ganesha-mem"],
  ["dfs", "ganesha-vfs"],
  ["dfs", "base"],
];

/** A workload's load: dfsctl bench flag → value, in a fixed order. */
export type Load = Readonly<Partial<Record<LoadFlag, string>>>;

const SMALL_OPS: Load = { sessions: "2", connections: "2", inflight: "8" };
/**
 * Defaults. write and read use a 1 MiB file: Ganesha MEM keeps at most
 * 1 MiB + 64 KiB per file (ganesha.sh's MEM Inode_Size), and every server gets
 * the same load.
 */
export const DEFAULT_LOADS: Readonly<Record<WorkloadName, Load>> = {
  getattr: SMALL_OPS,
  lookup: SMALL_OPS,
  churn: SMALL_OPS,
  mixed: SMALL_OPS,
  write: { sessions: "1", connections: "1", inflight: "4", "file-size": "1" },
  read: { sessions: "1", connections: "1", inflight: "4", "file-size": "1" },
  readdir: { inflight: "1", files: "10000" },
};

export const DEFAULT_PORT = 21560;
export const DEFAULT_DURATION_SEC = 5;
export const DEFAULT_ROUNDS = 3;

export interface PeersOptions {
  readonly workloads: readonly WorkloadName[];
  readonly durationSec: number;
  readonly rounds: number;
  readonly loads: Readonly<Record<WorkloadName, Load>>;
  /** The servers, in the order of odd rounds. */
  readonly servers: readonly PeerServer[];
  readonly baseline: string | null;
  readonly port: number;
  readonly shared: string;
  readonly dir: string;
  readonly keep: boolean;
  readonly out: string | null;
}

export class PeersUsageError extends Error {}

function positiveInt(text: string, what: string, max: number): number {
  if (!/^\d+$/.test(text) || Number(text) < 1 || Number(text) > max)
    throw new PeersUsageError(`${what} must be an integer from 1 to ${max}`);
  return Number(text);
}

function list(text: string): string[] {
  return text
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
}

/** `W:--flag value --flag value`: the workload and the flags it sets. */
export function parseLoad(text: string): { workload: WorkloadName; load: Load } {
  const colon = text.indexOf(":");
  const name = colon < 0 ? text : text.slice(0, colon);
  if (!isWorkload(name))
    throw new PeersUsageError(
      `--load ${text}: not WORKLOAD:ARGS with a workload among ${WORKLOADS.join(", ")}`,
    );
  const tokens = (colon < 0 ? "" : text.slice(colon + 1))
    .trim()
    .split(/\s+/)
    .filter((t) => t !== "");
  const load: Partial<Record<LoadFlag, string>> = {};
  for (let i = 0; i < tokens.length; i += 2) {
    const flag = tokens[i]!.replace(/^--/, "");
    const value = tokens[i + 1];
    if (!tokens[i]!.startsWith("--") || !isLoadFlag(flag))
      throw new PeersUsageError(`--load ${text}: ${tokens[i]} is not one of ${LOAD_FLAGS_TEXT}`);
    if (value === undefined || !/^\d+$/.test(value))
      throw new PeersUsageError(`--load ${text}: ${tokens[i]} needs an integer value`);
    load[flag] = value;
  }
  return { workload: name, load };
}

/** The command line of bench:peers, or null for --help. */
export function parsePeersArgs(
  argv: readonly string[],
  defaults: { readonly shared: string },
): PeersOptions | null {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        workloads: { type: "string" },
        duration: { type: "string" },
        rounds: { type: "string" },
        load: { type: "string", multiple: true },
        only: { type: "string" },
        baseline: { type: "string" },
        port: { type: "string" },
        shared: { type: "string" },
        dir: { type: "string" },
        keep: { type: "boolean" },
        out: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (e) {
    throw new PeersUsageError(e instanceof Error ? e.message : String(e));
  }
  if (values.help === true) return null;
  const workloads = values.workloads === undefined ? [...WORKLOADS] : list(values.workloads);
  for (const w of workloads)
    if (!isWorkload(w))
      throw new PeersUsageError(`unknown workload ${w} (among ${WORKLOADS.join(", ")})`);
  if (workloads.length === 0) throw new PeersUsageError("--workloads names none");
  const loads: Record<WorkloadName, Load> = { ...DEFAULT_LOADS };
  for (const text of values.load ?? []) {
    const { workload, load } = parseLoad(text);
    loads[workload] = { ...loads[workload], ...load };
  }
  const baseline = values.baseline === undefined ? null : resolve(values.baseline);
  const all: PeerServer[] = ["dfs", "dfs-mem", "ganesha-vfs", "ganesha-mem"];
  if (baseline !== null) all.push("base");
  let servers = all;
  if (values.only !== undefined) {
    const only = list(values.only);
    for (const s of only) {
      if (!isServer(s)) throw new PeersUsageError(`--only: unknown server ${s}`);
      if (s === "base" && baseline === null)
        throw new PeersUsageError("--only base needs --baseline DIR");
    }
    servers = all.filter((s) => only.includes(s));
    if (servers.length === 0) throw new PeersUsageError("--only names no server");
  }
  return {
    workloads: workloads.filter(isWorkload),
    durationSec: positiveInt(values.duration ?? String(DEFAULT_DURATION_SEC), "--duration", 3600),
    rounds: positiveInt(values.rounds ?? String(DEFAULT_ROUNDS), "--rounds", 1000),
    loads,
    servers,
    baseline,
    port: positiveInt(values.port ?? String(DEFAULT_PORT), "--port", 65535 - 4),
    shared: resolve(values.shared ?? defaults.shared),
    dir: resolve(values.dir ?? "/var/tmp"),
    keep: values.keep === true,
    out: values.out === undefined ? null : resolve(values.out),
  };
}

/** Each server's port: dfs at --port, the others after it in SERVERS order. */
export function portOf(base: number, server: PeerServer): number {
  return base + SERVERS.indexOf(server);
}

/** Round `round` (from 1): the servers forward in odd rounds, reversed in even ones. */
export function serverOrder(servers: readonly PeerServer[], round: number): PeerServer[] {
  return round % 2 === 1 ? [...servers] : [...servers].reverse();
}

/** A workload's load as dfsctl bench flags. */
export function loadArgs(load: Load): string[] {
  return LOAD_FLAGS.flatMap((f) => (load[f] === undefined ? [] : [`--${f}`, load[f]]));
}

/** The dfsctl bench arguments of one run (after `bench`). */
export function benchArgs(o: {
  port: number;
  workload: WorkloadName;
  load: Load;
  durationSec: number;
  serverPid: number;
}): string[] {
  return [
    `127.0.0.1:${o.port}:/export`,
    "--workload",
    o.workload,
    ...loadArgs(o.load),
    "--duration",
    String(o.durationSec),
    "--json",
    "--server-pid",
    String(o.serverPid),
  ];
}

/** One dfsctl bench run and what came of it. */
export interface PeerRun {
  readonly server: PeerServer;
  readonly workload: WorkloadName;
  readonly round: number;
  readonly args: readonly string[];
  /** Its exit status, or null when a signal ended it. */
  readonly exitCode: number | null;
  readonly signal: string | null;
  /** The JSON report it printed, or null (none, or not a report). */
  readonly report: BenchReport | null;
  /** The end of what it printed on stderr. */
  readonly stderr: string;
}

/** Whether `x` looks like dfsctl bench's JSON report (the fields the tables use). */
export function isBenchReport(x: unknown): x is BenchReport {
  if (typeof x !== "object" || x === null) return false;
  const r = x as Record<string, unknown>;
  const cpu = r["clientCpu"];
  return (
    typeof r["opsPerSec"] === "number" &&
    typeof r["errors"] === "number" &&
    typeof r["operations"] === "number" &&
    typeof cpu === "object" &&
    cpu !== null &&
    (r["serverCpu"] === null || typeof r["serverCpu"] === "object")
  );
}

/** The JSON report in a run's standard output, or null. */
export function reportOf(stdout: string): BenchReport | null {
  try {
    const x: unknown = JSON.parse(stdout);
    return isBenchReport(x) ? x : null;
  } catch {
    return null;
  }
}

/** Why a run does not count, or null when it ran cleanly (exit 0, no errors, not stopped). */
export function failureOf(run: PeerRun): string | null {
  const r = run.report;
  const lastLine =
    run.stderr
      .trim()
      .split("\n")
      .filter((l) => !/^dfsctl bench: warning:/.test(l))
      .at(-1) ?? "";
  if (run.exitCode !== 0 || r === null || r.errors > 0 || r.aborted !== null) {
    const how =
      run.exitCode === null ? `killed by ${run.signal ?? "a signal"}` : `exit ${run.exitCode}`;
    const parts = [how];
    if (r === null) parts.push("no report");
    else {
      if (r.errors > 0) {
        const bad = Object.entries(r.statuses)
          .filter(([k]) => k !== "NFS4_OK")
          .map(([k, v]) => `${k} ${v}`)
          .join(", ");
        parts.push(`${r.errors} of ${r.operations} operations failed (${bad})`);
      }
      if (r.aborted !== null) parts.push(`stopped: ${r.aborted}`);
    }
    if (lastLine !== "" && (r === null || run.exitCode !== 1)) parts.push(lastLine);
    return parts.join("; ");
  }
  return null;
}

export function median(xs: readonly number[]): number | null {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** One server's figures for one workload: medians over its clean runs. */
export interface Summary {
  readonly server: PeerServer;
  readonly runs: number;
  readonly ok: number;
  readonly opsPerSec: number | null;
  readonly mbPerSec: number | null;
  readonly serverUsPerOp: number | null;
  readonly serverUtilisation: number | null;
  readonly clientUtilisation: number | null;
  /** "round N: why" of each failed run. */
  readonly failures: readonly string[];
}

export function summarise(
  runs: readonly PeerRun[],
  workload: WorkloadName,
  server: PeerServer,
): Summary {
  const mine = runs.filter((r) => r.workload === workload && r.server === server);
  const failures: string[] = [];
  const good: BenchReport[] = [];
  for (const run of mine) {
    const why = failureOf(run);
    if (why !== null) failures.push(`round ${run.round}: ${why}`);
    else if (run.report !== null) good.push(run.report);
  }
  const med = (f: (r: BenchReport) => number | undefined): number | null =>
    median(good.map(f).filter((x): x is number => x !== undefined));
  return {
    server,
    runs: mine.length,
    ok: good.length,
    opsPerSec: med((r) => r.opsPerSec),
    mbPerSec: med((r) => r.mbPerSec),
    serverUsPerOp: med((r) => r.serverCpu?.usPerOp),
    serverUtilisation: med((r) => r.serverCpu?.utilisation),
    clientUtilisation: med((r) => r.clientCpu.utilisation),
    failures,
  };
}

/** a ÷ b, or null when either is unknown or b is 0. */
export function ratio(a: number | null, b: number | null): number | null {
  return a === null || b === null || b === 0 ? null : a / b;
}

const cell = (x: number | null, digits: number): string => (x === null ? "—" : x.toFixed(digits));
const times = (x: number | null): string => (x === null ? "—" : `${x.toFixed(2)}×`);

/** The servers' rows and the ratios of one workload, as markdown. */
export function workloadTable(
  workload: WorkloadName,
  load: Load,
  durationSec: number,
  servers: readonly PeerServer[],
  runs: readonly PeerRun[],
): string {
  const sums = servers.map((s) => summarise(runs, workload, s));
  const io = workload === "write" || workload === "read";
  const lines = [
    `### ${workload} (\`${[...loadArgs(load), "--duration", String(durationSec)].join(" ")}\`)`,
    "",
    `| server | ops/s |${io ? " MB/s |" : ""} server CPU µs/op | server CPU util. | client CPU util. | runs |`,
    `|---|--:|${io ? "--:|" : ""}--:|--:|--:|---|`,
  ];
  for (const s of sums) {
    const runsCell = s.ok === s.runs ? `${s.ok}/${s.runs} ok` : `**${s.ok}/${s.runs} ok**`;
    lines.push(
      `| ${s.server} | ${cell(s.opsPerSec, 0)} |${io ? ` ${cell(s.mbPerSec, 1)} |` : ""} ` +
        `${cell(s.serverUsPerOp, 1)} | ${cell(s.serverUtilisation, 2)} | ` +
        `${cell(s.clientUtilisation, 2)} | ${runsCell} |`,
    );
  }
  const pairs = RATIOS.filter(([a, b]) => servers.includes(a) && servers.includes(b));
  if (pairs.length > 0) {
    lines.push("", "| ratio | server CPU µs/op | ops/s |", "|---|--:|--:|");
    const by = (s: PeerServer) => sums.find((x) => x.server === s)!;
    for (const [a, b] of pairs)
      lines.push(
        `| ${a} ÷ ${b} | ${times(ratio(by(a).serverUsPerOp, by(b).serverUsPerOp))} | ` +
          `${times(ratio(by(a).opsPerSec, by(b).opsPerSec))} |`,
      );
  }
  const failures = sums.flatMap((s) => s.failures.map((f) => `- FAILED ${s.server} ${f}`));
  if (failures.length > 0) lines.push("", ...failures);
  return lines.join("\n");
}

/** One row per workload: each ratio's CPU µs/op and ops/s. */
export function summaryTable(
  workloads: readonly WorkloadName[],
  servers: readonly PeerServer[],
  runs: readonly PeerRun[],
): string | null {
  const pairs = RATIOS.filter(([a, b]) => servers.includes(a) && servers.includes(b));
  if (pairs.length === 0) return null;
  const lines = [
    `| workload |${pairs.map(([a, b]) => ` ${a} ÷ ${b} CPU/op | ${a} ÷ ${b} ops/s |`).join("")}`,
    `|---|${pairs.map(() => "--:|--:|").join("")}`,
  ];
  for (const w of workloads) {
    const cells = pairs.map(([a, b]) => {
      const x = summarise(runs, w, a);
      const y = summarise(runs, w, b);
      return ` ${times(ratio(x.serverUsPerOp, y.serverUsPerOp))} | ${times(ratio(x.opsPerSec, y.opsPerSec))} |`;
    });
    lines.push(`| ${w} |${cells.join("")}`);
  }
  return lines.join("\n");
}

/** Whether every run ran cleanly. */
export function allClean(runs: readonly PeerRun[]): boolean {
  return runs.every((r) => failureOf(r) === null);
}

/** `args` as one shell command line (single-quoted where needed). */
export function shellLine(args: readonly string[]): string {
  return args
    .map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`))
    .join(" ");
}

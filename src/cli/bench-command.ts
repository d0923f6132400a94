// `dfsctl bench HOST[:PORT]:/path`: a load generator for any NFSv4.1 server
// (src/bench). Prints a progress line a second on stderr (when it is a
// terminal, or with --progress), then a table, or JSON with --json.

import { UsageError, integerOption } from "./usage.js";
import { parseArgs } from "node:util";
import type { BenchOptions, BenchReport } from "../bench/runner.js";
import { BenchSetupError, runBench } from "../bench/runner.js";
import {
  DEFAULT_FILE_SIZE,
  DEFAULT_LOOKUP_FILES,
  DEFAULT_READDIR_ENTRIES,
  IO_BYTES,
  WORKLOADS,
  isWorkload,
} from "../bench/workloads.js";
import { formatPairs, formatTable } from "./table.js";
import { parseTarget } from "./watch-command.js";

/** Limits of the options: beyond them a run is a mistake, not a benchmark. */
export const MAX_SESSIONS = 256;
export const MAX_CONNECTIONS = 64;
export const MAX_INFLIGHT = 1024;
/** A minute between requests: longer is a lease's worth of idling, not a load. */
export const MAX_THINK_MS = 60_000;
export const MAX_FILES = 1_000_000;
export const MAX_FILE_SIZE = 16 * 1024 * IO_BYTES;
export const DEFAULT_DURATION_SEC = 10;
/** The largest uid and gid AUTH_SYS carries (unsigned int, RFC 5531 appendix A). */
export const MAX_ID = 2 ** 32 - 1;

export const BENCH_USAGE = `usage: dfsctl bench [options] HOST[:PORT]:/path

Loads an NFSv4.1 server with one workload and reports ops/s, MB/s, latency
percentiles, COMPOUND statuses and CPU time. Works in a new directory it makes
under /path (which must be writable) and removes it afterwards.

  --workload W         ${WORKLOADS.join(", ")} (default getattr):
                       getattr  PUTFH + GETATTR of /path
                       lookup   LOOKUP + GETATTR over --files names
                       churn    OPEN create + WRITE 4 KiB + CLOSE, REMOVE (3 COMPOUNDs)
                       write    WRITE 1 MiB UNSTABLE, sequential; COMMIT at each end of file
                       read     READ 1 MiB, sequential over a file written first
                       readdir  a whole READDIR listing of a directory of --files entries
                       mixed    of every 10 operations: 6 getattr, 3 lookup, 1 churn
  --sessions N         sessions (default 1, at most ${MAX_SESSIONS})
  --connections M      TCP connections, every session bound to all (default 1, at most ${MAX_CONNECTIONS})
  --inflight S         requests in flight per session (default 1, at most ${MAX_INFLIGHT})
  --think MS           each request slot pauses MS ms after every reply before it sends
                       again (default 0): a client that works between requests, as the
                       applications behind a kernel client do; not counted in the latency
  --duration SEC       run this long (default ${DEFAULT_DURATION_SEC} unless --count)
  --count N            run exactly N operations instead
  --files K            names for lookup (default ${DEFAULT_LOOKUP_FILES}), entries for readdir (default ${DEFAULT_READDIR_ENTRIES})
  --file-size MIB      the write/read file, MiB (default ${DEFAULT_FILE_SIZE / IO_BYTES})
  --server-pid PID     the server's pid on this host: report its CPU time per operation
  --uid N, --gid N     the AUTH_SYS uid and gid of every call (default 0 and 0);
                       that identity must be allowed to write in /path
  --json               print the report as JSON
  --progress           a progress line a second on stderr even when it is not a terminal

An operation is one step of the workload (churn: three COMPOUNDs; readdir: as
many READDIRs as the listing takes). write and read give each session its own
file. Client CPU utilisation near 1.0 means the load generator itself (one
Node.js thread) was the bottleneck. A warning goes to stderr (and into the
report's warnings) when --inflight exceeds the slots the server granted.

Exit status: 0 done without errors, 1 some operations failed (or the run
stopped on a transport failure), 2 bad usage, 3 the server could not be
reached or the run could not be set up.`;

export const EXIT_OK = 0;
export const EXIT_ERRORS = 1;
export const EXIT_USAGE = 2;
export const EXIT_UNREACHABLE = 3;

export interface BenchIo {
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
  /** Whether progress lines are wanted without --progress: default stderr is a terminal. */
  readonly progressByDefault?: boolean;
}

/** Parses the command line into run options, or throws UsageError. */
export function parseBenchArgs(args: readonly string[]): {
  options: Omit<BenchOptions, "onProgress"> | "help";
  json: boolean;
  progress: boolean;
} {
  const { values, positionals } = parseArgs({
    args: [...args],
    options: {
      workload: { type: "string" },
      sessions: { type: "string" },
      connections: { type: "string" },
      inflight: { type: "string" },
      think: { type: "string" },
      duration: { type: "string" },
      count: { type: "string" },
      files: { type: "string" },
      "file-size": { type: "string" },
      "server-pid": { type: "string" },
      uid: { type: "string" },
      gid: { type: "string" },
      json: { type: "boolean" },
      progress: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
    allowPositionals: true,
    strict: true,
  });
  const json = values.json === true;
  const progress = values.progress === true;
  if (values.help === true) return { options: "help", json, progress };
  if (positionals.length !== 1) throw new UsageError("give one HOST[:PORT]:/path");
  const target = parseTarget(positionals[0]!);
  if (target === null) throw new UsageError(`not HOST[:PORT]:/path: ${positionals[0]}`);
  const workload = values.workload ?? "getattr";
  if (!isWorkload(workload))
    throw new UsageError(`unknown workload ${workload} (one of ${WORKLOADS.join(", ")})`);
  if (values.duration !== undefined && values.count !== undefined)
    throw new UsageError("give --duration or --count, not both");
  const countN = integerOption(values.count, "--count", 1, Number.MAX_SAFE_INTEGER);
  const durationSec = integerOption(values.duration, "--duration", 1, 24 * 3600);
  const fileSizeMiB = integerOption(
    values["file-size"],
    "--file-size",
    1,
    MAX_FILE_SIZE / IO_BYTES,
  );
  const files =
    integerOption(values.files, "--files", 1, MAX_FILES) ??
    (workload === "readdir" ? DEFAULT_READDIR_ENTRIES : DEFAULT_LOOKUP_FILES);
  const serverPid = integerOption(values["server-pid"], "--server-pid", 1, 2 ** 22);
  const thinkMs = integerOption(values.think, "--think", 0, MAX_THINK_MS);
  const uid = integerOption(values.uid, "--uid", 0, MAX_ID);
  const gid = integerOption(values.gid, "--gid", 0, MAX_ID);
  return {
    json,
    progress,
    options: {
      host: target.host,
      port: target.port,
      path: target.path,
      workload,
      sessions: integerOption(values.sessions, "--sessions", 1, MAX_SESSIONS) ?? 1,
      connections: integerOption(values.connections, "--connections", 1, MAX_CONNECTIONS) ?? 1,
      inflight: integerOption(values.inflight, "--inflight", 1, MAX_INFLIGHT) ?? 1,
      ...(thinkMs === undefined ? {} : { thinkMs }),
      ...(countN === undefined ? { durationSec: durationSec ?? DEFAULT_DURATION_SEC } : {}),
      ...(countN === undefined ? {} : { count: countN }),
      files,
      fileSize: (fileSizeMiB ?? DEFAULT_FILE_SIZE / IO_BYTES) * IO_BYTES,
      ...(serverPid === undefined ? {} : { serverPid }),
      // Either one alone keeps the other at the client library's default, 0.
      ...(uid === undefined && gid === undefined ? {} : { cred: { uid: uid ?? 0, gid: gid ?? 0 } }),
    },
  };
}

/** The report as a table and key/value lines. */
export function formatReport(r: BenchReport): string {
  const cpu = (c: BenchReport["clientCpu"]) =>
    `${c.seconds} s, ${c.usPerOp} µs/op, utilisation ${c.utilisation}`;
  return [
    formatPairs([
      ["workload", r.workload],
      ["server", `${r.server}:${r.path}`],
      [
        "sessions",
        `${r.sessions} over ${r.connections} connection(s), ${r.inflight} in flight each` +
          (r.thinkMs > 0 ? `, ${r.thinkMs} ms pause after each reply` : ""),
      ],
      ["slots", `granted ${r.slotsGranted.join(",")}; highest used ${r.highestSlotUsed.join(",")}`],
      ["duration", `${r.seconds} s`],
    ]),
    "",
    formatTable(
      ["ops", "compounds", "errors", "ops/s", "MB/s", "p50 ms", "p99 ms", "p99.9 ms", "max ms"],
      [
        [
          r.operations,
          r.compounds,
          r.errors,
          r.opsPerSec,
          r.mbPerSec,
          r.latencyMs.p50,
          r.latencyMs.p99,
          r.latencyMs.p999,
          r.latencyMs.max,
        ],
      ],
    ),
    "",
    formatTable(
      ["status", "compounds"],
      Object.entries(r.statuses).map(([k, v]) => [k, v]),
    ),
    "",
    formatPairs([
      ["client cpu", cpu(r.clientCpu)],
      ["server cpu", r.serverCpu === null ? "- (give --server-pid)" : cpu(r.serverCpu)],
      ...(r.aborted === null ? [] : ([["stopped", r.aborted]] as const)),
      ...r.warnings.map((w) => ["warning", w] as const),
    ]),
  ].join("\n");
}

export async function benchCommand(
  args: readonly string[],
  io: BenchIo = {
    out: (l) => console.log(l),
    err: (l) => console.error(l),
    progressByDefault: process.stderr.isTTY,
  },
): Promise<number> {
  let parsed: ReturnType<typeof parseBenchArgs>;
  try {
    parsed = parseBenchArgs(args);
  } catch (e) {
    io.err(`dfsctl bench: ${e instanceof Error ? e.message : String(e)}\n\n${BENCH_USAGE}`);
    return EXIT_USAGE;
  }
  if (parsed.options === "help") {
    io.out(BENCH_USAGE);
    return EXIT_OK;
  }
  const wantProgress = parsed.progress || io.progressByDefault === true;
  let report: BenchReport;
  try {
    report = await runBench({
      ...parsed.options,
      onWarning: (line: string) => io.err(`dfsctl bench: warning: ${line}`),
      ...(wantProgress ? { onProgress: (line: string) => io.err(line) } : {}),
    });
  } catch (e) {
    io.err(`dfsctl bench: ${e instanceof Error ? e.message : String(e)}`);
    return e instanceof BenchSetupError ? EXIT_UNREACHABLE : EXIT_ERRORS;
  }
  io.out(parsed.json ? JSON.stringify(report, null, 2) : formatReport(report));
  return exitStatusOf(report);
}

/** 0 when every operation succeeded, 1 when some failed or the run stopped early. */
export function exitStatusOf(report: BenchReport): number {
  return report.errors === 0 && report.aborted === null ? EXIT_OK : EXIT_ERRORS;
}

// The load generator's run: one client (one client ID) with N sessions over M
// TCP connections, each session bound to every connection and sending on them
// in turn (as Linux's nconnect does), S requests in flight per session on
// distinct slots; for a duration or a count of operations. Collects ops/s,
// MB/s, latency percentiles, COMPOUND statuses, and CPU time of the client and,
// given its pid, the server.

import { nfs_opnum4, nfsstat4, nfsstat4_names } from "../../generated/nfs4/index.js";
import type { ClientSession, SessionReply, SysCredential } from "../client/index.js";
import { NfsClient, ops, resultOf } from "../client/index.js";
import { ownCpuSeconds, processCpuSeconds } from "./cpu.js";
import { LatencyHistogram } from "./histogram.js";
import type { Send, Workload, WorkloadName } from "./workloads.js";
import { makeWorkload } from "./workloads.js";

export interface BenchOptions {
  readonly host: string;
  readonly port: number;
  /** The directory to work in ("/export"); the run makes its own directory inside. */
  readonly path: string;
  readonly workload: WorkloadName;
  readonly sessions: number;
  readonly connections: number;
  /** Requests in flight per session. */
  readonly inflight: number;
  /**
   * Milliseconds each request slot pauses after every reply before it sends
   * again (the step's next COMPOUND or the next step): a client that works
   * between its requests, as the applications behind a kernel client do, so
   * the server meets each request after a pause. Not counted in the latency.
   * Default 0.
   */
  readonly thinkMs?: number;
  /** How a pause is taken (tests count them); default a timer. */
  readonly pause?: (ms: number) => Promise<void>;
  /** Exactly one of duration (seconds) and count (operations). */
  readonly durationSec?: number;
  readonly count?: number;
  readonly files: number;
  readonly fileSize: number;
  /** The server's pid on this host, for its CPU time. */
  readonly serverPid?: number;
  /** The AUTH_SYS identity of every call (default the client library's: uid 0, gid 0). */
  readonly cred?: SysCredential;
  /** Told each warning (also in the report's `warnings`) as soon as it is known. */
  readonly onWarning?: (line: string) => void;
  /** Told a progress line about every progressIntervalMs. */
  readonly onProgress?: (line: string) => void;
  readonly progressIntervalMs?: number;
  readonly timeoutMs?: number;
}

export interface CpuReport {
  readonly seconds: number;
  /** CPU microseconds per operation. */
  readonly usPerOp: number;
  /** CPU seconds per wall-clock second (1.0: one core busy all the time). */
  readonly utilisation: number;
}

export interface BenchReport {
  readonly workload: WorkloadName;
  readonly server: string;
  readonly path: string;
  readonly sessions: number;
  readonly connections: number;
  readonly inflight: number;
  /** The pause after each reply, ms (BenchOptions.thinkMs). */
  readonly thinkMs: number;
  /** The fore-channel slots each session was granted (ca_maxrequests). */
  readonly slotsGranted: readonly number[];
  /** The highest slot ID each session used. */
  readonly highestSlotUsed: readonly number[];
  /** What made the figures less than they seem (e.g. requests queued for want of slots). */
  readonly warnings: readonly string[];
  readonly seconds: number;
  readonly operations: number;
  readonly compounds: number;
  /** Operations with a COMPOUND that failed or no reply. */
  readonly errors: number;
  readonly opsPerSec: number;
  readonly bytes: number;
  readonly mbPerSec: number;
  /** Latency of one operation, milliseconds. */
  readonly latencyMs: {
    readonly p50: number;
    readonly p99: number;
    readonly p999: number;
    readonly min: number;
    readonly max: number;
    readonly mean: number;
  };
  /** COMPOUND statuses by name, and failures without a reply by error class ("transport:…"). */
  readonly statuses: Readonly<Record<string, number>>;
  /** Why the run stopped before its end (a transport failure), or null. */
  readonly aborted: string | null;
  readonly clientCpu: CpuReport;
  readonly serverCpu: (CpuReport & { readonly pid: number }) | null;
}

const DEFAULT_TIMEOUT_MS = 30_000;
/** Fore-channel slots asked for when --inflight is smaller (the client library's default). */
export const DEFAULT_SLOTS_ASKED = 64;
const DEFAULT_PROGRESS_MS = 1000;

/** Raised when the server cannot be reached or the run cannot be set up. */
export class BenchSetupError extends Error {}

function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

async function resolveDir(session: ClientSession, path: string): Promise<Uint8Array> {
  const names = path.split("/").filter((n) => n !== "");
  const reply = await session.compound([
    ops.putrootfh(),
    ...names.map((n) => ops.lookup(n)),
    ops.getfh(),
  ]);
  const fh = resultOf(reply.resarray.at(-1), nfs_opnum4.OP_GETFH);
  if (reply.status !== nfsstat4.NFS4_OK || fh?.status !== nfsstat4.NFS4_OK)
    throw new BenchSetupError(`${path}: ${nfsstat4_names[reply.status] ?? reply.status}`);
  return new Uint8Array(fh.resok4.object);
}

async function makeDir(session: ClientSession, parent: Uint8Array, name: string) {
  const reply = await session.compound([ops.putfh(parent), ops.mkdir(name), ops.getfh()]);
  const fh = resultOf(reply.resarray.at(-1), nfs_opnum4.OP_GETFH);
  if (reply.status !== nfsstat4.NFS4_OK || fh?.status !== nfsstat4.NFS4_OK)
    throw new BenchSetupError(
      `making ${name}: ${nfsstat4_names[reply.status] ?? reply.status} (is the export writable?)`,
    );
  return new Uint8Array(fh.resok4.object);
}

const round = (x: number, digits: number): number => Number(x.toFixed(digits));

const sleep = (ms: number): Promise<void> => new Promise((done) => setTimeout(done, ms));

export async function runBench(options: BenchOptions): Promise<BenchReport> {
  if ((options.durationSec === undefined) === (options.count === undefined))
    throw new Error("runBench: give exactly one of durationSec and count");
  let client: NfsClient;
  try {
    client = await NfsClient.connect({
      host: options.host,
      port: options.port,
      timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      tag: "dfsctl-bench",
      ...(options.cred === undefined ? {} : { cred: options.cred }),
    });
  } catch (e) {
    throw new BenchSetupError(`cannot connect to ${options.host}:${options.port}: ${messageOf(e)}`);
  }
  try {
    return await run(client, options);
  } finally {
    await client.close();
  }
}

async function run(client: NfsClient, options: BenchOptions): Promise<BenchReport> {
  const sessions: ClientSession[] = [];
  try {
    await openSessions(client, options, sessions);
    return await runIn(sessions, options);
  } finally {
    // Whatever failed, the server keeps no state of ours until the lease ends.
    for (const s of sessions) await s.destroy().catch(() => {});
    await client.destroyClientId().catch(() => {});
  }
}

/** The client's connections and sessions; each session made is pushed onto `into` at once. */
async function openSessions(
  client: NfsClient,
  options: BenchOptions,
  into: ClientSession[],
): Promise<void> {
  try {
    for (let i = 1; i < options.connections; i++) await client.addConnection();
    const conns = client.connections;
    await client.exchangeId(`dfsctl-bench-${process.pid}-${Date.now()}`);
    for (let i = 0; i < options.sessions; i++) {
      const home = conns[i % conns.length]!;
      // Enough slots for --inflight requests at once; the server may grant fewer.
      const s = await client.createSession({
        conn: home,
        flags: 0,
        fore: { ca_maxrequests: Math.max(DEFAULT_SLOTS_ASKED, options.inflight) },
      });
      into.push(s);
      for (const c of conns) if (c !== home) await s.bindConnection(c);
    }
    // RFC 8881 §18.51.3: no OPEN before RECLAIM_COMPLETE.
    const rc = await into[0]!.compound([ops.reclaimComplete()]);
    if (rc.status !== nfsstat4.NFS4_OK && rc.status !== nfsstat4.NFS4ERR_COMPLETE_ALREADY)
      throw new BenchSetupError(`RECLAIM_COMPLETE: ${nfsstat4_names[rc.status] ?? rc.status}`);
  } catch (e) {
    if (e instanceof BenchSetupError) throw e;
    throw new BenchSetupError(`setting up sessions: ${messageOf(e)}`);
  }
}

/** The run's directory and workload set up, measured, and removed again. */
async function runIn(sessions: ClientSession[], options: BenchOptions): Promise<BenchReport> {
  const setup = sessions[0]!;
  const exportFh = await resolveDir(setup, options.path);
  const dirName = `dfsctl-bench-${process.pid}-${Date.now()}`;
  const dirFh = await makeDir(setup, exportFh, dirName);
  const workload = makeWorkload(options.workload, {
    session: setup,
    exportFh,
    dirFh,
    files: options.files,
    fileSize: options.fileSize,
    sessions: sessions.length,
  });
  try {
    try {
      await workload.setup();
    } catch (e) {
      throw new BenchSetupError(`setting up ${options.workload}: ${messageOf(e)}`);
    }
    return await measure(options, sessions, workload);
  } finally {
    await workload.cleanup().catch(() => {});
    await setup.compound([ops.putfh(exportFh), ops.remove(dirName)]).catch(() => {});
  }
}

/**
 * The measured part of a run: `workload` (already set up) stepped over
 * `sessions` as `options` says; the report.
 */
export async function measure(
  options: Omit<BenchOptions, "files" | "fileSize">,
  sessions: readonly ClientSession[],
  workload: Workload,
): Promise<BenchReport> {
  const slotsGranted = sessions.map((s) => s.fore.ca_maxrequests);
  const warnings = slotWarnings(options.inflight, slotsGranted);
  for (const w of warnings) options.onWarning?.(w);
  const histogram = new LatencyHistogram();
  const statuses = new Map<string, number>();
  const highest = sessions.map(() => -1);
  let operations = 0;
  let compounds = 0;
  let errors = 0;
  let bytes = 0;
  let next = 0;
  let aborted: string | null = null;
  const count = (key: string) => statuses.set(key, (statuses.get(key) ?? 0) + 1);

  const started = process.hrtime.bigint();
  const elapsedSec = () => Number(process.hrtime.bigint() - started) / 1e9;
  const deadline = options.durationSec;
  const more = (): boolean =>
    aborted === null && (deadline === undefined ? next < options.count! : elapsedSec() < deadline);
  const cpu0 = ownCpuSeconds();
  const server0 = options.serverPid === undefined ? 0 : processCpuSeconds(options.serverPid);

  const thinkMs = options.thinkMs ?? 0;
  const pause = options.pause ?? sleep;
  const worker = async (session: ClientSession, s: number): Promise<void> => {
    // A step's replies are the step's alone until it returns (workloads keep
    // none of their bytes): then their buffers can receive other replies.
    const replies: SessionReply[] = [];
    /** Nanoseconds of this step spent in --think pauses (not latency). */
    let paused = 0n;
    const send: Send = async (argops) => {
      const reply = await session.compound(argops);
      if (reply.slotid > highest[s]!) highest[s] = reply.slotid;
      replies.push(reply);
      if (thinkMs > 0) {
        const p0 = process.hrtime.bigint();
        await pause(thinkMs);
        paused += process.hrtime.bigint() - p0;
      }
      return reply;
    };
    while (more()) {
      const index = next++;
      paused = 0n;
      const t0 = process.hrtime.bigint();
      try {
        const r = await workload.step(send, index, s).finally(() => {
          for (const reply of replies) reply.conn.releaseReply(reply.bytes);
          replies.length = 0;
        });
        histogram.record(Number(process.hrtime.bigint() - t0 - paused) / 1000);
        operations++;
        compounds += r.statuses.length;
        bytes += r.bytes;
        for (const st of r.statuses) count(nfsstat4_names[st] ?? `status ${st}`);
        if (r.statuses.some((st) => st !== nfsstat4.NFS4_OK)) errors++;
      } catch (e) {
        // No reply (or no usable one): the connection is gone or the server
        // stopped answering; stop rather than spin on failures.
        operations++;
        errors++;
        count(`transport:${e instanceof Error ? e.name : "error"}`);
        aborted ??= messageOf(e);
      }
    }
  };

  let lastOps = 0;
  let lastAt = 0;
  const progress =
    options.onProgress === undefined
      ? undefined
      : setInterval(() => {
          const t = elapsedSec();
          const rate = (operations - lastOps) / Math.max(1e-9, t - lastAt);
          lastOps = operations;
          lastAt = t;
          options.onProgress!(
            `${t.toFixed(0)}s  ops ${operations}  ops/s ${rate.toFixed(0)}  errors ${errors}`,
          );
        }, options.progressIntervalMs ?? DEFAULT_PROGRESS_MS);
  try {
    await Promise.all(
      sessions.flatMap((session, s) =>
        Array.from({ length: options.inflight }, () => worker(session, s)),
      ),
    );
  } finally {
    if (progress !== undefined) clearInterval(progress);
  }
  const seconds = elapsedSec();
  const clientCpuSec = ownCpuSeconds() - cpu0;
  const cpuReport = (sec: number): CpuReport => ({
    seconds: round(sec, 3),
    usPerOp: operations === 0 ? 0 : round((sec * 1e6) / operations, 1),
    utilisation: round(sec / seconds, 3),
  });
  const ms = (us: number) => round(us / 1000, 3);
  return {
    workload: options.workload,
    server: `${options.host}:${options.port}`,
    path: options.path,
    sessions: sessions.length,
    connections: options.connections,
    inflight: options.inflight,
    thinkMs,
    slotsGranted,
    highestSlotUsed: highest,
    warnings,
    seconds: round(seconds, 3),
    operations,
    compounds,
    errors,
    opsPerSec: round(operations / seconds, 1),
    bytes,
    mbPerSec: round(bytes / 1e6 / seconds, 2),
    latencyMs: {
      p50: ms(histogram.quantile(0.5)),
      p99: ms(histogram.quantile(0.99)),
      p999: ms(histogram.quantile(0.999)),
      min: ms(histogram.min),
      max: ms(histogram.max),
      mean: ms(histogram.mean),
    },
    statuses: Object.fromEntries([...statuses].sort((a, b) => b[1] - a[1])),
    aborted,
    clientCpu: cpuReport(clientCpuSec),
    serverCpu:
      options.serverPid === undefined
        ? null
        : {
            pid: options.serverPid,
            ...cpuReport(processCpuSeconds(options.serverPid) - server0),
          },
  };
}

/**
 * The warning when `inflight` requests per session exceed the slots a session
 * was granted: the client then queues the rest (RFC 8881 §2.10.6.1: one
 * request per slot at a time), so the server never sees `inflight` at once.
 */
export function slotWarnings(inflight: number, slotsGranted: readonly number[]): string[] {
  const fewest = Math.min(...slotsGranted);
  if (slotsGranted.length === 0 || inflight <= fewest) return [];
  return [
    `--inflight ${inflight} exceeds the ${fewest} slot(s) the server granted ` +
      `(granted ${slotsGranted.join(",")}): the client queues the rest, ` +
      `so at most ${fewest} request(s) per session reach the server at once`,
  ];
}

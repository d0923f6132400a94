// Directory-notification benchmark (issue 9): what a watcher costs a client
// that fills a directory, and how fast the watcher hears of it.
//
// A `dfs serve` child (memory backend, default settings) serves two client
// library clients in this process:
//   - the changer creates N files in a fresh directory /export/bench-K, each
//     with one COMPOUND: SEQUENCE, PUTFH dir, OPEN (create, UNCHECKED4, share
//     access BOTH | WANT_NO_DELEG), CLOSE of the current stateid (RFC 8881
//     §16.2.3.1.2), with up to --inflight COMPOUNDs in flight on distinct
//     slots;
//   - in configuration B only, the watcher holds a directory delegation on
//     that directory with NOTIFY4_ADD_ENTRY and child attributes (§18.39),
//     answers every CB_NOTIFY (§20.4) NFS4_OK and checks that each name
//     arrives exactly once, in the server's cookie order (notify-watcher.ts).
// Rounds interleave A (no watcher) and B (watcher) so drift affects both.
// The run fails when a notification is missing, duplicated or out of order,
// or the watcher's delegation is recalled. Loopback only; bounded by a
// deadline per round and one for the whole run.
//
//   npm run bench:notify [-- --creates 10000 --inflight 8 --rounds 3 --warmup 1000 --json]

import { parseArgs } from "node:util";
import {
  FATTR4_FILEID,
  FATTR4_MODE,
  FATTR4_SIZE,
  FATTR4_TIME_MODIFY,
  OPEN4_SHARE_ACCESS_BOTH,
  OPEN4_SHARE_ACCESS_WANT_NO_DELEG,
  OPEN4_SHARE_DENY_NONE,
  nfs_ftype4,
  nfs_opnum4,
  nfsstat4,
  nfsstat4_names,
  type nfs_argop4,
  type stateid4,
} from "../../generated/nfs4/index.js";
import { NfsClient, ops, resultOf, type ClientSession } from "../../src/client/index.js";
import { NotifyWatcher } from "./notify-watcher.js";
import { ServerProcess } from "./server-process.js";

/** The child attributes the watcher asks for: what `ls -l` of a new file would want. */
const CHILD_ATTRIBUTES = [FATTR4_SIZE, FATTR4_FILEID, FATTR4_MODE, FATTR4_TIME_MODIFY];
/** RFC 8881 §16.2.3.1.2: the stateid that stands for the COMPOUND's current stateid. */
const CURRENT_STATEID: stateid4 = { seqid: 1, other: new Uint8Array(12) };
/** How long the watcher may take to hear the last entry after the last create's reply. */
const NOTIFY_DEADLINE_MS = 60_000;

type Config = "A" | "B";

interface Options {
  readonly creates: number;
  readonly inflight: number;
  readonly rounds: number;
  readonly warmup: number;
  readonly json: boolean;
  readonly timeoutSec: number;
}

/** The figures of a round, or their medians over the rounds. */
interface Figures {
  /** The changer's creates per second: N / (last create's reply − first create sent). */
  readonly createsPerSec: number;
  /** The server's CPU time (user + sys) per create over the round, µs. */
  readonly serverCpuUsPerCreate: number;
  /** B only: N / (last notification received − first create sent). */
  readonly notificationsPerSec?: number;
  /** B only: CB_NOTIFY operations the watcher received. */
  readonly cbNotifyCalls?: number;
  /** B only: changes per CB_NOTIFY. */
  readonly changesPerCall?: number;
  /** B only: last notification received − last create's reply, ms. */
  readonly lagMs?: number;
}

interface RoundResult extends Figures {
  readonly config: Config;
  readonly round: number;
}

/** Medians over the rounds of one configuration, and the rounds. */
interface Summary extends Figures {
  readonly config: Config;
  readonly rounds: readonly RoundResult[];
}

// --- the clients ------------------------------------------------------------------------

/** A client with its own client ID and session (RECLAIM_COMPLETE done). */
async function connect(
  port: number,
  role: string,
  slots: number,
  watcher?: NotifyWatcher,
): Promise<{ client: NfsClient; session: ClientSession }> {
  const client = await NfsClient.connect({
    host: "127.0.0.1",
    port,
    ...(watcher === undefined ? {} : { onCallback: watcher.handler }),
  });
  await client.exchangeId(`bench-notify-${role}-${process.pid}`);
  // Enough fore-channel slots for every COMPOUND in flight, each on its own slot.
  const session = await client.createSession({ fore: { ca_maxrequests: slots } });
  if (session.fore.ca_maxrequests < slots)
    throw new Error(`${role}: ${slots} slots asked, ${session.fore.ca_maxrequests} granted`);
  check(`${role} RECLAIM_COMPLETE`, (await session.compound([ops.reclaimComplete()])).status);
  return { client, session };
}

function check(what: string, status: nfsstat4): void {
  if (status !== nfsstat4.NFS4_OK)
    throw new Error(`${what} failed: ${nfsstat4_names[status] ?? status}`);
}

/** Makes /export/NAME; its filehandle. */
async function mkdir(session: ClientSession, name: string): Promise<Uint8Array> {
  const create: nfs_argop4 = {
    argop: nfs_opnum4.OP_CREATE,
    opcreate: {
      objtype: { type: nfs_ftype4.NF4DIR },
      objname: ops.bytesOf(name),
      createattrs: { attrmask: [], attr_vals: new Uint8Array(0) },
    },
  };
  const r = await session.compound([ops.putrootfh(), ops.lookup("export"), create, ops.getfh()]);
  check(`CREATE ${name}`, r.status);
  const fh = resultOf(r.resarray[3], nfs_opnum4.OP_GETFH);
  if (fh?.status !== nfsstat4.NFS4_OK) throw new Error("GETFH failed");
  return new Uint8Array(fh.resok4.object);
}

function fileName(i: number): string {
  return `f-${String(i).padStart(6, "0")}`;
}

/**
 * Creates `n` files in `dir`, `inflight` COMPOUNDs at a time (each worker
 * its own open-owner, so no two opens wait on one owner). Returns the time
 * the first was sent and the time the last reply came, performance.now() ms.
 */
async function createFiles(
  session: ClientSession,
  dir: Uint8Array,
  n: number,
  inflight: number,
): Promise<{ start: number; end: number }> {
  let next = 0;
  const worker = async (lane: number): Promise<void> => {
    const owner = ops.bytesOf(`changer-${lane}`);
    while (next < n) {
      const name = fileName(next++);
      const r = await session.compound([
        ops.putfh(dir),
        ops.open(
          name,
          owner,
          OPEN4_SHARE_ACCESS_BOTH | OPEN4_SHARE_ACCESS_WANT_NO_DELEG,
          OPEN4_SHARE_DENY_NONE,
          ops.openHow(true),
        ),
        ops.close(CURRENT_STATEID),
      ]);
      check(`OPEN+CLOSE ${name}`, r.status);
    }
  };
  const start = performance.now();
  await Promise.all(Array.from({ length: inflight }, (_, lane) => worker(lane)));
  return { start, end: performance.now() };
}

// --- a round ------------------------------------------------------------------------------

interface Bench {
  readonly server: ServerProcess;
  readonly changer: ClientSession;
  readonly watcher: NotifyWatcher;
  readonly options: Options;
  dirs: number;
}

/** One round of configuration `config` with `n` creates into a fresh directory. */
async function runRound(b: Bench, config: Config, round: number, n: number): Promise<RoundResult> {
  const dir = await mkdir(b.changer, `bench-${++b.dirs}`);
  const names = new Set(Array.from({ length: n }, (_, i) => fileName(i)));
  if (config === "B") await b.watcher.watch(dir, CHILD_ATTRIBUTES, names);
  const cpuBefore = b.server.cpuSeconds();
  const { start, end } = await createFiles(b.changer, dir, n, b.options.inflight);
  const createsPerSec = n / ((end - start) / 1000);
  if (config === "A") {
    const cpu = b.server.cpuSeconds() - cpuBefore;
    return { config, round, createsPerSec, serverCpuUsPerCreate: (cpu / n) * 1e6 };
  }
  let cpu = 0;
  const heard = await b.watcher.end(NOTIFY_DEADLINE_MS, () => {
    cpu = b.server.cpuSeconds() - cpuBefore;
  });
  if (heard.errors.length > 0 || heard.lastAt === null)
    throw new Error(
      `round ${round} (B): the watcher's check failed:\n  ${heard.errors.join("\n  ")}`,
    );
  return {
    config,
    round,
    createsPerSec,
    serverCpuUsPerCreate: (cpu / n) * 1e6,
    notificationsPerSec: n / ((heard.lastAt - start) / 1000),
    cbNotifyCalls: heard.calls,
    changesPerCall: heard.changes / heard.calls,
    lagMs: heard.lastAt - end,
  };
}

// --- reporting ----------------------------------------------------------------------------

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

function summarize(config: Config, rounds: readonly RoundResult[]): Summary {
  const of = (pick: (r: RoundResult) => number | undefined): number =>
    median(rounds.map((r) => pick(r) ?? NaN));
  const base = {
    config,
    createsPerSec: of((r) => r.createsPerSec),
    serverCpuUsPerCreate: of((r) => r.serverCpuUsPerCreate),
    rounds,
  };
  if (config === "A") return base;
  return {
    ...base,
    notificationsPerSec: of((r) => r.notificationsPerSec),
    cbNotifyCalls: of((r) => r.cbNotifyCalls),
    changesPerCall: of((r) => r.changesPerCall),
    lagMs: of((r) => r.lagMs),
  };
}

const int = (x: number): string => Math.round(x).toString();
const one = (x: number): string => x.toFixed(1);

/** The table's columns after the configuration: a heading, the figure, its format. */
const COLUMNS: readonly [string, (f: Figures) => number | undefined, (x: number) => string][] = [
  ["creates/s", (f) => f.createsPerSec, int],
  ["notifications/s", (f) => f.notificationsPerSec, int],
  ["CB_NOTIFY calls", (f) => f.cbNotifyCalls, int],
  ["changes/call", (f) => f.changesPerCall, one],
  ["watcher lag (ms)", (f) => f.lagMs, one],
  ["server CPU/create (µs)", (f) => f.serverCpuUsPerCreate, one],
];

/** A markdown table: per configuration and column, the median and then each round's figure. */
function printTable(options: Options, a: Summary, b: Summary): void {
  console.log(
    `${options.creates} creates × ${options.rounds} rounds per configuration, ` +
      `${options.inflight} in flight; each cell: median (round 1, round 2, …)`,
  );
  console.log("");
  console.log(`| configuration | ${COLUMNS.map(([h]) => h).join(" | ")} |`);
  console.log(`| --- |${COLUMNS.map(() => " ---: |").join("")}`);
  for (const s of [a, b]) {
    const cells = COLUMNS.map(([, pick, format]) => {
      const m = pick(s);
      if (m === undefined) return "–";
      return `${format(m)} (${s.rounds.map((r) => format(pick(r) ?? NaN)).join(", ")})`;
    });
    const label = s.config === "A" ? "A: no watcher" : "B: watcher";
    console.log(`| ${label} | ${cells.join(" | ")} |`);
  }
  const cost = 1 - b.createsPerSec / a.createsPerSec;
  const cpu = b.serverCpuUsPerCreate / a.serverCpuUsPerCreate;
  console.log("");
  console.log(
    `With a watcher the changer's create rate is ${Math.abs(cost * 100).toFixed(1)}% ` +
      `${cost >= 0 ? "lower" : "higher"} ` +
      `(medians), and the server spends ${cpu.toFixed(2)}× the CPU per create.`,
  );
}

// --- main ---------------------------------------------------------------------------------

function parseOptions(): Options {
  const { values } = parseArgs({
    options: {
      creates: { type: "string", default: "10000" },
      inflight: { type: "string", default: "8" },
      rounds: { type: "string", default: "3" },
      warmup: { type: "string", default: "1000" },
      "timeout-s": { type: "string", default: "900" },
      json: { type: "boolean", default: false },
    },
  });
  const positive = (name: string, v: string, min: number): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be an integer ≥ ${min}`);
    return n;
  };
  const options: Options = {
    creates: positive("creates", values.creates, 1),
    inflight: positive("inflight", values.inflight, 1),
    rounds: positive("rounds", values.rounds, 1),
    warmup: positive("warmup", values.warmup, 0),
    timeoutSec: positive("timeout-s", values["timeout-s"], 1),
    json: values.json,
  };
  // The session's slot table (ca_maxrequests) is granted up to nfs.maxSlotsPerSession (64).
  if (options.inflight > 64) throw new Error("--inflight must be at most 64");
  return options;
}

async function main(): Promise<void> {
  const options = parseOptions();
  // The whole run is bounded: a hang is a failure, not a wait.
  const bound = setTimeout(() => {
    console.error(`bench:notify: not done within ${options.timeoutSec} s`);
    process.exit(1);
  }, options.timeoutSec * 1000);
  bound.unref();
  const server = await ServerProcess.start({});
  const clients: NfsClient[] = [];
  try {
    const changer = await connect(server.port, "changer", options.inflight);
    const watcher = new NotifyWatcher();
    const watching = await connect(server.port, "watcher", 1, watcher);
    watcher.attach(watching.session);
    clients.push(changer.client, watching.client);
    const b: Bench = { server, changer: changer.session, watcher, options, dirs: 0 };
    // Warm-up (not reported): the JIT of both processes, the server's first CB_NOTIFYs.
    if (options.warmup > 0) {
      await runRound(b, "A", 0, options.warmup);
      await runRound(b, "B", 0, options.warmup);
    }
    const results: RoundResult[] = [];
    for (let round = 1; round <= options.rounds; round++)
      for (const config of ["A", "B"] as const) {
        results.push(await runRound(b, config, round, options.creates));
        if (server.child.exitCode !== null) throw new Error("the server died");
      }
    const a = summarize(
      "A",
      results.filter((r) => r.config === "A"),
    );
    const w = summarize(
      "B",
      results.filter((r) => r.config === "B"),
    );
    if (options.json) console.log(JSON.stringify({ options, results: [a, w] }, null, 2));
    else printTable(options, a, w);
  } finally {
    for (const c of clients) c.destroy();
    await server.stop();
    clearTimeout(bound);
  }
}

try {
  await main();
} catch (e) {
  console.error(`bench:notify FAILED: ${e instanceof Error ? e.message : String(e)}`);
  process.exitCode = 1;
}

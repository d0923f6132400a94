// Delegations between the real Linux kernel client and a second client, both
// directions (issue 8): `npm run interop:kernel-deleg -- [options]`.
//
//   A. READ delegation: the kernel opens and reads a file the host created (a
//      read delegation); the host's client opens it for writing, which recalls
//      the delegation (the host retries NFS4ERR_DELAY until the kernel returns
//      it) and writes; the kernel reads again and must see the host's data.
//      Done with the kernel's file held open during the recall, and closed.
//   B. WRITE delegation: the kernel writes a file through a read-write open
//      and closes it (Linux keeps the write delegation); the host's OPEN
//      recalls it, the host must read the kernel's data, then writes its own;
//      the kernel must read the host's data.
//
// The kernel runs in qemu (shared/kclient/run.sh) with
// test/interop/kernel-delegation.workload.sh; the host's side is this
// process: the project's client library, and a small HTTP control server on
// loopback that the guest calls (as 10.0.2.2:PORT) at each step. The NFS
// server is ours, in-process (memory backend), unless --server names one
// already listening on loopback, e.g. knfsd (shared/peers/knfsd.sh start PORT).
// Exit 0 only if every step passed; prints a summary either way.

import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { pino } from "pino";
import type { Logger } from "pino";
import { OPEN4_SHARE_ACCESS_BOTH, OPEN4_SHARE_ACCESS_WRITE } from "../../generated/nfs4/index.js";
import type { ClientSession, OpenFile } from "../../src/client/index.js";
import {
  NfsClient,
  closeFile,
  failureOf,
  openFile,
  ops,
  readFile,
  recallingCallbackHandler,
  returnDelegation,
  truncateFile,
  writeFile,
} from "../../src/client/index.js";
import { NfsServer } from "../../src/nfs/server.js";
import { KERNELS, mountstats, runGuest } from "./guest.js";

const USAGE = `usage: npm run interop:kernel-deleg -- [options]

  --kernel 6.1|6.12|META   the client kernel (default 6.1; or a Debian linux-image meta package)
  --server [HOST:]PORT     an NFS server already listening on loopback (default: ours, in-process)
  --export PATH            the exported path to mount (default /export)
  --vers 4.1|4.2           NFS minor version (default 4.1)
  --shared DIR             the shared tools directory with kclient/run.sh
                           (default $DITTOFS_SHARED or /work/shared)
  --out DIR                where logs go (default a new directory under the system temp dir)
  --log-level LEVEL        our in-process server's pino level, logged to OUT/server.log (default info)
  --trace                  also trace the kernel client's session events (KCLIENT_TRACE)
  --verbose                echo the whole guest console`;

/** The lease of the in-process server, seconds: short, so an unreturned delegation is revoked soon. */
const LEASE_SEC = 15;
/** How often the host's client renews its lease with a lone SEQUENCE, ms. */
const RENEW_MS = 5_000;
/** The guest's whole run (boot, mount, steps, umount) at most, seconds. */
const GUEST_TIMEOUT_SEC = 300;
/** Kernel tracepoints that show delegations granted, recalled and returned. */
const DELEG_TRACE =
  "nfs4:nfs4_set_delegation nfs4:nfs4_cb_recall nfs4:nfs4_delegreturn_exit nfs4:nfs4_open_file";
/** run.sh's "default" trace set, spelled out so it can be combined with DELEG_TRACE. */
const SESSION_TRACE =
  "nfs4:nfs4_exchange_id nfs4:nfs4_create_session nfs4:nfs4_sequence_done nfs4:nfs4_destroy_session nfs4:nfs4_cb_sequence";

interface Options {
  readonly kernelMeta: string;
  readonly server: { readonly host: string; readonly port: number } | null;
  readonly exportPath: string;
  readonly vers: string;
  readonly shared: string;
  readonly out: string;
  readonly logLevel: string;
  readonly trace: boolean;
  readonly verbose: boolean;
}

function parseOptions(argv: readonly string[]): Options {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      kernel: { type: "string", default: "6.1" },
      server: { type: "string" },
      export: { type: "string", default: "/export" },
      vers: { type: "string", default: "4.1" },
      shared: { type: "string", default: process.env["DITTOFS_SHARED"] ?? "/work/shared" },
      out: { type: "string" },
      "log-level": { type: "string", default: "info" },
      trace: { type: "boolean", default: false },
      verbose: { type: "boolean", default: false },
      help: { type: "boolean", default: false },
    },
    strict: true,
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  let server: Options["server"] = null;
  if (values.server !== undefined) {
    const m = /^(?:([^:]+):)?(\d+)$/.exec(values.server);
    const host = m?.[1] ?? "127.0.0.1";
    // The guest reaches the host's loopback only (qemu user networking).
    if (m === null || !["127.0.0.1", "localhost"].includes(host))
      throw new Error(`--server must be [127.0.0.1:]PORT, got '${values.server}'`);
    server = { host: "127.0.0.1", port: Number(m[2]) };
  }
  if (!["4.1", "4.2"].includes(values.vers)) throw new Error("--vers must be 4.1 or 4.2");
  return {
    kernelMeta: KERNELS[values.kernel] ?? values.kernel,
    server,
    exportPath: values.export,
    vers: values.vers,
    shared: values.shared,
    out: values.out ?? mkdtempSync(join(tmpdir(), "kdeleg-")),
    logLevel: values["log-level"],
    trace: values.trace,
    verbose: values.verbose,
  };
}

/** What the host's client did in one step. */
interface HostStep {
  /** NFS4ERR_DELAY answers to its OPEN: the server was recalling a delegation. */
  delays: number;
  /** What it read before writing (step B). */
  read?: string;
  ms: number;
  error?: string;
}

/** Everything the run learned, for the verdict. */
interface Observations {
  kernel?: string;
  readonly host: Map<string, HostStep>;
  /** "step.key" → what the guest reported. */
  readonly guest: Map<string, string>;
  recalls: number;
  returnedByHost: number;
  done: boolean;
}

const text = new TextDecoder();
const utf8 = new TextEncoder();

/** The host's client: one session whose back channel answers CB_RECALL with a DELEGRETURN. */
class HostClient {
  private session: ClientSession | null = null;
  private renewTimer: NodeJS.Timeout | null = null;

  private constructor(
    readonly client: NfsClient,
    private readonly log: (line: string) => void,
  ) {}

  static async start(
    host: string,
    port: number,
    obs: Observations,
    log: (line: string) => void,
  ): Promise<HostClient> {
    let self: HostClient | null = null;
    const client = await NfsClient.connect({
      host,
      port,
      timeoutMs: 60_000,
      tag: "kdeleg-host",
      // It asks for no delegation (WANT_NO_DELEG), but returns any it is recalled.
      onCallback: recallingCallbackHandler((recall) => {
        obs.recalls++;
        const s = self?.session;
        if (s)
          returnDelegation(s, recall.fh, recall.stateid).then(
            () => obs.returnedByHost++,
            (e: unknown) => log(`host: DELEGRETURN failed: ${String(e)}`),
          );
      }),
    });
    self = new HostClient(client, log);
    await client.exchangeId(`kdeleg-host-${randomBytes(6).toString("hex")}`);
    const session = await client.createSession();
    const rc = await session.compound([ops.reclaimComplete()]);
    const err = failureOf(rc.res);
    if (err) throw err;
    self.session = session;
    self.renewTimer = setInterval(() => {
      session.sequenceOnly().catch((e: unknown) => log(`host: renew failed: ${String(e)}`));
    }, RENEW_MS);
    return self;
  }

  private get s(): ClientSession {
    if (this.session === null) throw new Error("host client not started");
    return this.session;
  }

  /** Creates (or truncates by overwriting) `path` with `data`. */
  async create(path: string, data: string): Promise<HostStep> {
    return this.step(path, OPEN4_SHARE_ACCESS_WRITE, true, data, false);
  }

  /**
   * Opens `path` for `access` (recalling a conflicting delegation: OPEN is
   * retried while the server answers NFS4ERR_DELAY), reads it first if
   * `readFirst`, replaces its content with `data` and closes it.
   */
  async step(
    path: string,
    access: number,
    create: boolean,
    data: string,
    readFirst: boolean,
  ): Promise<HostStep> {
    const t0 = performance.now();
    const f: OpenFile = await openFile(this.s, path, { access, create, owner: "kdeleg-host" });
    const out: HostStep = { delays: f.delays, ms: 0 };
    try {
      if (readFirst) out.read = text.decode(await readFile(this.s, f));
      await truncateFile(this.s, f);
      await writeFile(this.s, f, utf8.encode(data));
    } finally {
      await closeFile(this.s, f);
    }
    out.ms = Math.round(performance.now() - t0);
    this.log(
      `host: ${path}: OPEN after ${f.delays} DELAY${out.read === undefined ? "" : `, read '${out.read}'`}, wrote '${data}' (${out.ms} ms)`,
    );
    return out;
  }

  async close(): Promise<void> {
    if (this.renewTimer) clearInterval(this.renewTimer);
    try {
      await this.session?.destroy();
      await this.client.destroyClientId();
    } catch {
      // The server may already have dropped us; nothing to clean up then.
    }
    await this.client.close();
  }
}

/** The control server the guest calls: each endpoint answers once the host has done its part. */
function controlServer(
  hc: HostClient,
  exportPath: string,
  obs: Observations,
  log: (line: string) => void,
): Server {
  const handle = async (url: URL): Promise<string> => {
    const q = (k: string): string => {
      const v = url.searchParams.get(k);
      if (v === null || v === "") throw new Error(`missing ${k}`);
      return v;
    };
    switch (url.pathname) {
      case "/hello":
        obs.kernel = q("kernel");
        log(`guest: kernel ${obs.kernel} mounted, run ${url.searchParams.get("run") ?? "?"}`);
        return "hello";
      case "/create":
        await hc.create(`${exportPath}/${q("name")}`, q("data"));
        return "created";
      case "/write":
      case "/readwrite": {
        const step = q("step");
        const both = url.pathname === "/readwrite";
        try {
          const r = await hc.step(
            `${exportPath}/${q("name")}`,
            both ? OPEN4_SHARE_ACCESS_BOTH : OPEN4_SHARE_ACCESS_WRITE,
            false,
            q("data"),
            both,
          );
          obs.host.set(step, r);
          return `delays=${r.delays}${r.read === undefined ? "" : ` read=${r.read}`}`;
        } catch (e) {
          obs.host.set(step, { delays: 0, ms: 0, error: String(e) });
          throw e;
        }
      }
      case "/report":
        obs.guest.set(q("key"), url.searchParams.get("value") ?? "");
        log(`guest: ${q("key")} = ${url.searchParams.get("value") ?? ""}`);
        return "ok";
      case "/done":
        obs.done = true;
        return "bye";
      default:
        throw new Error(`no endpoint ${url.pathname}`);
    }
  };
  return createServer((req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? "/", "http://guest");
    handle(url).then(
      (body) => res.writeHead(200, { "content-type": "text/plain" }).end(`${body}\n`),
      (e: unknown) => {
        log(`control: ${url.pathname} failed: ${String(e)}`);
        res.writeHead(500, { "content-type": "text/plain" }).end(`${String(e)}\n`);
      },
    );
  });
}

/** The verdict of each check: [description, passed, what was seen]. */
function verdict(
  obs: Observations,
  guestRc: number,
  traced: readonly string[],
): [string, boolean, string][] {
  const checks: [string, boolean, string][] = [];
  // The kernel's nfs4_set_delegation tracepoint: the delegations it was granted.
  const granted = traced.flatMap((l) => /nfs4_set_delegation: fmode=(\S+)/.exec(l)?.[1] ?? []);
  checks.push([
    "kernel was granted read delegations (A: 2) and a write delegation (B: 1)",
    granted.filter((m) => m === "READ").length >= 2 && granted.includes("READ|WRITE"),
    `nfs4_set_delegation fmode: ${granted.join(", ") || "(none)"}`,
  ]);
  const g = (k: string): string => obs.guest.get(k) ?? "(not reported)";
  const host = (step: string): HostStep | undefined => obs.host.get(step);
  checks.push([
    "guest run passed (mount, workload, umount)",
    guestRc === 0,
    `run.sh exit ${guestRc}`,
  ]);
  for (const how of ["open", "closed"]) {
    const s = `a_${how}`;
    const h = host(s);
    const name = `A read delegation, kernel file ${how === "open" ? "held open" : "closed"}`;
    checks.push([
      `${name}: kernel read the host's first data`,
      g(`${s}.before`) === "host-v1",
      g(`${s}.before`),
    ]);
    checks.push([
      `${name}: host OPEN for write recalled it (DELAY until returned)`,
      h !== undefined && h.error === undefined && h.delays > 0,
      h === undefined ? "no host step" : (h.error ?? `${h.delays} DELAY, ${h.ms} ms`),
    ]);
    checks.push([
      `${name}: kernel sent DELEGRETURN`,
      Number(g(`${s}.delegreturns`)) >= 1,
      g(`${s}.delegreturns`),
    ]);
    checks.push([
      `${name}: kernel then read the host's new data`,
      g(`${s}.after`) === "host-v2",
      g(`${s}.after`),
    ]);
  }
  const b = host("b");
  checks.push([
    "B write delegation: host OPEN recalled it (DELAY until returned)",
    b !== undefined && b.error === undefined && b.delays > 0,
    b === undefined ? "no host step" : (b.error ?? `${b.delays} DELAY, ${b.ms} ms`),
  ]);
  checks.push([
    "B write delegation: kernel sent DELEGRETURN",
    Number(g("b.delegreturns")) >= 1,
    g("b.delegreturns"),
  ]);
  checks.push([
    "B write delegation: host read the kernel's data",
    b?.read === "kernel-w1",
    b?.read ?? "(nothing)",
  ]);
  checks.push([
    "B write delegation: kernel then read the host's data",
    g("b.after") === "host-w2",
    g("b.after"),
  ]);
  return checks;
}

async function main(argv: readonly string[]): Promise<number> {
  let options: Options;
  try {
    options = parseOptions(argv);
  } catch (e) {
    console.error(`kernel-delegation: ${(e as Error).message}\n\n${USAGE}`);
    return 2;
  }
  mkdirSync(options.out, { recursive: true });
  const t0 = Date.now();
  const log = (line: string): void =>
    console.log(`[${((Date.now() - t0) / 1000).toFixed(1).padStart(6)}s] ${line}`);
  const obs: Observations = {
    host: new Map(),
    guest: new Map(),
    recalls: 0,
    returnedByHost: 0,
    done: false,
  };

  let server: NfsServer | null = null;
  let serverLog: Logger | null = null;
  let nfsPort: number;
  let serverName: string;
  if (options.server) {
    nfsPort = options.server.port;
    serverName = `external server on 127.0.0.1:${nfsPort}`;
  } else {
    serverLog = pino(
      { level: options.logLevel },
      pino.destination({ dest: join(options.out, "server.log"), sync: true, append: false }),
    );
    server = new NfsServer({ settings: { leaseTimeSec: LEASE_SEC }, logger: serverLog });
    const [bound] = await server.listen([{ host: "127.0.0.1", port: 0 }]);
    nfsPort = bound!.port;
    serverName = `DittoFS-TS in-process on 127.0.0.1:${nfsPort} (lease ${LEASE_SEC} s, delegations ${server.settings.delegationPolicy})`;
  }
  log(`server: ${serverName}; logs in ${options.out}`);

  let hc: HostClient | null = null;
  let control: Server | null = null;
  let guestRc = 3;
  let consoleLog = "";
  try {
    hc = await HostClient.start("127.0.0.1", nfsPort, obs, log);
    control = controlServer(hc, options.exportPath, obs, log);
    await new Promise<void>((r) => control!.listen(0, "127.0.0.1", r));
    const ctlPort = (control.address() as AddressInfo).port;
    const here = dirname(fileURLToPath(import.meta.url));
    const workload = join(options.out, "workload.sh");
    writeFileSync(
      workload,
      `KDELEG_CTL=http://10.0.2.2:${ctlPort}\n${readFileSync(join(here, "kernel-delegation.workload.sh"), "utf8")}`,
    );
    log(
      `guest: booting ${options.kernelMeta}, NFSv${options.vers}, control on 127.0.0.1:${ctlPort}`,
    );
    const runLog = join(options.out, "console.log");
    guestRc = await runGuest(
      {
        shared: options.shared,
        kernelMeta: options.kernelMeta,
        exportPath: options.exportPath,
        vers: options.vers,
        timeoutSec: GUEST_TIMEOUT_SEC,
        trace: options.trace ? `${SESSION_TRACE} ${DELEG_TRACE}` : DELEG_TRACE,
        verbose: options.verbose,
        echo: /^(kdeleg:|run\.sh:|KCLIENT-(PHASE|RESULT|ERROR|BOOT))/,
      },
      nfsPort,
      workload,
      runLog,
      log,
    );
    consoleLog = readFileSync(runLog, "utf8");
  } catch (e) {
    log(`setup failed: ${String(e)}`);
  } finally {
    await hc?.close();
    if (control) await new Promise<void>((r) => control!.close(() => r()));
  }

  const stats = mountstats(consoleLog);
  const traced = consoleLog
    .split("\n")
    .filter((l) => /nfs4_(set_delegation|cb_recall|delegreturn_exit):/.test(l))
    .map((l) => l.replace(/\r$/, "").replace(/^KCLIENT-TRACE\s*/, ""));
  const checks = verdict(obs, guestRc, traced);
  const passed = checks.every(([, ok]) => ok);
  console.log(
    `\n=== kernel client delegations: ${obs.kernel ?? options.kernelMeta} against ${serverName}`,
  );
  for (const [what, ok, seen] of checks) console.log(`${ok ? "PASS" : "FAIL"}  ${what}: ${seen}`);
  const st = (op: string): string => String(stats.get(op) ?? "?");
  console.log(
    `kernel mountstats: OPEN=${st("OPEN")} OPEN_NOATTR=${st("OPEN_NOATTR")} CLOSE=${st("CLOSE")} DELEGRETURN=${st("DELEGRETURN")} WRITE=${st("WRITE")} READ=${st("READ")}`,
  );
  for (const l of traced) console.log(`kernel trace: ${l}`);
  console.log(
    `host client: CB_COMPOUNDs received ${hc?.client.callbacksReceived ?? 0}, CB_RECALLs ${obs.recalls}`,
  );
  if (server) {
    const d = server.delegations.stats;
    console.log(
      `our server: delegations granted=${d.granted} recalled (CB_RECALL sent)=${d.recalled} returned=${d.returned} revoked=${d.revoked}`,
    );
    await server.close();
    serverLog?.flush();
  }
  console.log(`logs: ${options.out} (console.log${server ? ", server.log" : ""})`);
  console.log(`RESULT: ${passed ? "PASS" : "FAIL"}`);
  return passed ? 0 : 1;
}

process.exitCode = await main(process.argv.slice(2));

// The Linux kernel client across a server crash (issue 10, "Done when"):
// `npm run interop:kernel-reclaim -- [--server dfs|ganesha] [options]`.
//
// The guest (kernel-reclaim.workload.sh, hard mount) keeps a file open and a
// lock held and has a 32 MiB write in flight when the server is killed with
// SIGKILL; the server is started again on the same data, and then:
// - a second client (this process, the project's client library), which had
//   state before the crash, gets NFS4ERR_GRACE for a new OPEN while the
//   server is in grace, then sends RECLAIM_COMPLETE;
// - once grace is over, that client's LOCKT of the guest's locked file is
//   NFS4ERR_DENIED: the kernel reclaimed its lock (it was DENIED before the
//   crash too);
// - the guest's write completes, it writes through the file it kept open
//   (its open was reclaimed), and every byte checks out.
// With --server ganesha the same test runs against NFS-Ganesha VFS
// (../shared/peers/ganesha.sh, with its grace period turned on), the
// reference. Exit 0 only if every check passed.

import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import {
  OPEN4_SHARE_ACCESS_WRITE,
  nfs_lock_type4,
  nfs_opnum4,
  nfsstat4,
  nfsstat4_names,
} from "../../generated/nfs4/index.js";
import type { ClientSession } from "../../src/client/index.js";
import { NfsClient, NfsError, closeFile, openFile, ops, statusOf } from "../../src/client/index.js";
import { KERNELS, runGuest, type GuestRun, missingPrerequisite } from "./guest.js";

const USAGE = `usage: npm run interop:kernel-reclaim -- [options]

  --server dfs|ganesha     the server under test (default dfs: node bin/dfs.js on a SQLite
                           data directory; ganesha: NFS-Ganesha VFS with a grace period)
  --kernel 6.1|6.12|META   the client kernel (default 6.1)
  --vers 4.1|4.2           NFS minor version (default 4.1)
  --port P                 the server's port (default 21492)
  --shared DIR             the shared tools directory (default $DITTOFS_SHARED or /work/shared)
  --out DIR                logs and server data (default a new directory under the system temp dir)
  --verbose                echo the whole guest console`;

const GUEST_TIMEOUT_SEC = 900;
/** How long the second client keeps trying to open once the server is back, ms. */
const GRACE_WAIT_MS = 300_000;
const here = dirname(fileURLToPath(import.meta.url));
const project = resolve(here, "..", "..");
const HOST_OWNER = "kernel-reclaim-host";

/** A server that can be started, killed with SIGKILL and started again on the same data. */
interface ServerUnderTest {
  readonly name: string;
  start(): Promise<void>;
  kill(): Promise<void>;
  stop(): Promise<void>;
}

function dfsServer(out: string, port: number, log: (l: string) => void): ServerUnderTest {
  let child: ChildProcess | null = null;
  const logFile = join(out, "dfs.log");
  return {
    name: "DittoFS-TS (SQLite store)",
    start: () =>
      new Promise((resolvePromise, reject) => {
        const c = spawn(
          process.execPath,
          [join(project, "bin", "dfs.js"), "serve", "--listen", `127.0.0.1:${port}`],
          { cwd: out, stdio: ["ignore", "pipe", "pipe"] },
        );
        child = c;
        let seen = "";
        c.stdout.on("data", (chunk: Buffer) => {
          const text = chunk.toString("utf8");
          writeFileSync(logFile, text, { flag: "a" });
          for (const line of text.split("\n"))
            if (/grace|reclaim/i.test(line)) log(`  dfs: ${line.slice(0, 300)}`);
          if (!seen.includes("dfs: serving")) {
            seen += text;
            if (seen.includes("dfs: serving")) resolvePromise();
          }
        });
        c.stderr.on("data", (chunk: Buffer) => log(`  dfs stderr: ${chunk.toString("utf8")}`));
        c.on("exit", (code, signal) => {
          if (!seen.includes("dfs: serving")) reject(new Error(`dfs exited (${code ?? signal})`));
        });
      }),
    kill: () => signalChild(child, "SIGKILL"),
    stop: () => signalChild(child, "SIGTERM"),
  };
}

function signalChild(child: ChildProcess | null, signal: NodeJS.Signals): Promise<void> {
  if (child === null || child.exitCode !== null || child.signalCode !== null)
    return Promise.resolve();
  return new Promise((resolvePromise) => {
    child.on("exit", () => resolvePromise());
    child.kill(signal);
  });
}

/** NFS-Ganesha VFS from ganesha.sh, restarted by hand with its grace period on. */
function ganeshaServer(shared: string, out: string, port: number): ServerUnderTest {
  const state = join(out, "ganesha");
  const script = join(shared, "peers", "ganesha.sh");
  const conf = join(state, `ganesha-${port}.conf`);
  const pidFile = join(state, `ganesha-${port}.pid`);
  const env = { ...process.env, GANESHA_STATE: state };
  const waitListening = async (): Promise<void> => {
    for (let i = 0; i < 100; i++) {
      const ss = spawnSync("ss", ["-ltn", `sport = :${port}`], { encoding: "utf8" });
      if (ss.stdout.includes("LISTEN")) return;
      await sleep(200);
    }
    throw new Error("ganesha did not start listening");
  };
  let started = false;
  return {
    name: "NFS-Ganesha VFS",
    async start() {
      if (!started) {
        // ganesha.sh writes the config (graceless) and starts it; turn grace on and restart.
        const r = spawnSync("bash", [script, "start", String(port), "VFS"], {
          env,
          stdio: "inherit",
        });
        if (r.status !== 0) throw new Error("ganesha.sh start failed");
        spawnSync("bash", [script, "stop", String(port)], { env, stdio: "inherit" });
        writeFileSync(
          conf,
          readFileSync(conf, "utf8").replace("Graceless = true", "Graceless = false"),
        );
        started = true;
      }
      const r = spawnSync(
        "ganesha.nfsd",
        ["-f", conf, "-L", join(state, `ganesha-${port}.log`), "-p", pidFile, "-N", "NIV_EVENT"],
        { stdio: "inherit" },
      );
      if (r.status !== 0) throw new Error("ganesha.nfsd failed to start");
      await waitListening();
    },
    async kill() {
      const pid = Number(readFileSync(pidFile, "utf8").trim());
      process.kill(pid, "SIGKILL");
      while (existsSync(`/proc/${pid}`)) await sleep(100);
    },
    async stop() {
      spawnSync("bash", [script, "stop", String(port)], { env, stdio: "inherit" });
    },
  };
}

/**
 * The workload with lockhold (lockhold.c, built here: the guest's busybox has
 * no flock) prepended as base64, which the guest decodes into /tmp.
 */
function guestWorkload(out: string): string {
  const binary = join(out, "lockhold");
  const cc = spawnSync(
    "gcc",
    [
      "-static",
      "-nostdlib",
      "-Os",
      "-fno-builtin",
      "-fno-tree-loop-distribute-patterns",
      "-fno-stack-protector",
      "-s",
      "-o",
      binary,
      join(here, "lockhold.c"),
    ],
    { stdio: "inherit" },
  );
  if (cc.status !== 0) throw new Error("gcc could not build test/interop/lockhold.c");
  const script = join(out, "workload.sh");
  writeFileSync(
    script,
    `base64 -d > /tmp/lockhold <<'EOF'\n${readFileSync(binary).toString("base64")}\nEOF\n` +
      "chmod +x /tmp/lockhold\n" +
      readFileSync(join(here, "kernel-reclaim.workload.sh"), "utf8"),
  );
  return script;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The second client: a session of the project's client library. */
interface HostClient {
  readonly client: NfsClient;
  readonly session: ClientSession;
  /** Stops the lease renewals and closes the connection. */
  close(): Promise<void>;
}

/** How often the second client renews its lease with an empty SEQUENCE, ms (leases here are ≥ 30 s). */
const RENEW_MS = 5000;

async function hostSession(port: number): Promise<HostClient> {
  const client = await NfsClient.connect({ host: "127.0.0.1", port });
  await client.exchangeId(HOST_OWNER);
  const session = await client.createSession();
  const renew = setInterval(() => void session.compound([]).catch(() => undefined), RENEW_MS);
  return {
    client,
    session,
    close: async () => {
      clearInterval(renew);
      await client.close().catch(() => undefined);
    },
  };
}

/** Status of a whole-file write LOCKT of /export/rs/locked by the second client. */
async function lockTest(session: ClientSession, clientid: bigint): Promise<nfsstat4> {
  const reply = await session.compound([
    ops.putrootfh(),
    ops.lookup("export"),
    ops.lookup("rs"),
    ops.lookup("locked"),
    {
      argop: nfs_opnum4.OP_LOCKT,
      oplockt: {
        locktype: nfs_lock_type4.WRITE_LT,
        offset: 0n,
        length: 0xffff_ffff_ffff_ffffn,
        owner: { clientid, owner: ops.bytesOf("host-lock-owner") },
      },
    },
  ]);
  return reply.status;
}

/** Creates /export/rs/NAME (or another path) with an OPEN + CLOSE; the OPEN's status. */
async function createFile(session: ClientSession, path: string): Promise<nfsstat4> {
  try {
    const f = await openFile(session, path, { access: OPEN4_SHARE_ACCESS_WRITE, create: true });
    await closeFile(session, f);
    return nfsstat4.NFS4_OK;
  } catch (e) {
    if (e instanceof NfsError) return e.status;
    throw e;
  }
}

const name = (s: nfsstat4): string => nfsstat4_names[s] ?? String(s);

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      server: { type: "string", default: "dfs" },
      kernel: { type: "string", default: "6.1" },
      vers: { type: "string", default: "4.1" },
      port: { type: "string", default: "21492" },
      shared: { type: "string", default: process.env["DITTOFS_SHARED"] ?? "/work/shared" },
      out: { type: "string" },
      verbose: { type: "boolean", default: false },
      help: { type: "boolean", default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const missing = missingPrerequisite(values.shared);
  if (missing !== null) {
    console.error(`${missing}\n\n${USAGE}`);
    return 2;
  }
  const out = values.out ?? mkdtempSync(join(tmpdir(), "kreclaim-"));
  mkdirSync(out, { recursive: true });
  const port = Number(values.port);
  const log = (l: string): void => console.log(`${new Date().toISOString().slice(11, 23)} ${l}`);
  const server =
    values.server === "ganesha"
      ? ganeshaServer(values.shared, out, port)
      : dfsServer(out, port, log);
  const checks: [string, boolean, string][] = [];
  const check = (what: string, ok: boolean, detail: string): void => {
    checks.push([what, ok, detail]);
    log(`${ok ? "ok  " : "FAIL"} ${what}: ${detail}`);
  };
  const marks = new Set<string>();
  const waiters = new Map<string, () => void>();
  const mark = (m: string): Promise<void> =>
    marks.has(m) ? Promise.resolve() : new Promise((r) => waiters.set(m, r));
  const run: GuestRun = {
    shared: values.shared,
    kernelMeta: KERNELS[values.kernel] ?? values.kernel,
    exportPath: "/export",
    vers: values.vers,
    timeoutSec: GUEST_TIMEOUT_SEC,
    verbose: values.verbose,
    echo: /KCLIENT-(RESULT|PHASE|MARK)|workload OK|nfs: |NFS: /,
  };
  log(`server under test: ${server.name} on 127.0.0.1:${port}; logs in ${out}`);
  await server.start();
  let host = await hostSession(port);
  // The second client holds state before the crash, so it is a client the
  // restarted server knows and waits for.
  await host.session.compound([ops.reclaimComplete()]);
  check(
    "second client creates a file before the crash",
    (await createFile(host.session, "/export/host-before")) === nfsstat4.NFS4_OK,
    "",
  );
  const guestDone = runGuest(run, port, guestWorkload(out), join(out, "console.log"), (line) => {
    log(line);
    const m = /KCLIENT-MARK (\S+)/.exec(line);
    if (m) {
      marks.add(m[1]!);
      waiters.get(m[1]!)?.();
    }
  });
  const guestFailed = guestDone.then((rc) => {
    throw new Error(`the guest ended (run.sh exit ${rc}) before the test did`);
  });
  const step = <T>(p: Promise<T>): Promise<T> => Promise.race([p, guestFailed]);
  try {
    await step(mark("locked"));
    const clientid = host.client.clientid ?? 0n;
    let before = await lockTest(host.session, clientid);
    for (let i = 0; before === nfsstat4.NFS4ERR_DELAY && i < 50; i++) {
      await sleep(200);
      before = await lockTest(host.session, clientid);
    }
    check(
      "the guest's lock is held on the server before the crash (LOCKT)",
      before === nfsstat4.NFS4ERR_DENIED,
      name(before),
    );
    await createFile(host.session, "/export/rs/host-checked-lock");
    await step(mark("kill-now"));
    log("server: SIGKILL");
    await server.kill();
    await host.close();
    await sleep(2000);
    log("server: started again");
    await server.start();
    host = await hostSession(port);
    const during = await createFile(host.session, "/export/host-during-grace");
    check(
      "a new OPEN by the second client during grace",
      during === nfsstat4.NFS4ERR_GRACE,
      name(during),
    );
    const rc = statusOf((await host.session.compound([ops.reclaimComplete()])).resarray[0]);
    check(
      "the second client's RECLAIM_COMPLETE",
      rc === nfsstat4.NFS4_OK,
      name(rc ?? nfsstat4.NFS4ERR_SERVERFAULT),
    );
    const start = Date.now();
    let after = during;
    while (after === nfsstat4.NFS4ERR_GRACE && Date.now() - start < GRACE_WAIT_MS) {
      await sleep(1000);
      after = await createFile(host.session, "/export/host-during-grace");
    }
    check(
      "the OPEN once grace is over",
      after === nfsstat4.NFS4_OK,
      `${name(after)} after ${((Date.now() - start) / 1000).toFixed(1)} s`,
    );
    await step(mark("writes-done"));
    const held = await lockTest(host.session, host.client.clientid ?? 0n);
    check(
      "the guest's lock is held after the restart (reclaimed)",
      held === nfsstat4.NFS4ERR_DENIED,
      name(held),
    );
    await createFile(host.session, "/export/rs/host-done");
    const guestRc = await guestDone;
    check(
      "the guest's writes completed and every byte is intact",
      guestRc === 0,
      `run.sh exit ${guestRc}`,
    );
  } catch (e) {
    check("the test ran to its end", false, (e as Error).message);
  } finally {
    await host.close();
    await server.stop();
  }
  const ok = checks.every(([, pass]) => pass);
  log(
    ok
      ? `kernel-reclaim on ${server.name}: PASS`
      : `kernel-reclaim on ${server.name}: FAIL (logs in ${out})`,
  );
  return ok ? 0 : 1;
}

process.exitCode = await main();

// A throwaway single-node Ceph cluster with a RADOS Gateway, for tests that
// need a real S3 service: one monitor, one OSD on memstore (objects live in
// the OSD's memory; nothing touches a disk but a temporary directory), and
// radosgw with the beast frontend, all on loopback, all files (configuration,
// keyrings, logs, admin sockets, monitor store) in a fresh temporary directory
// that stop() deletes. Nothing is shared with a system cluster: every command
// gets `-c <that directory>/ceph.conf`.
//
// The binaries come from Debian's packages (`apt-get install -y ceph-mon
// ceph-osd radosgw ceph-common`). Without them the suites that need the
// gateway skip with a loud message; `.ci/run` installs them, so CI never skips.
// The daemons run as whoever runs the tests (root included), in the
// foreground (`-f`) as children of the test process. stop() kills them, a
// process 'exit' hook kills whatever a crashed test left, and, where util-linux
// has setpriv, a parent-death signal kills them even if the test process is
// itself killed.
//
// No manager daemon: radosgw does not need one. The monitor's Paxos proposal
// interval is cut from 1 s to 10 ms: radosgw creates its pools with a dozen
// monitor commands, each of which would otherwise wait a full interval.
// Ready in about 2 s on 2 cores (measured: 1.3-3.4 s from startRadosgw() to
// the S3 user created; with the default interval it was 13 s); stop() takes
// about 0.4 s.

import { S3Client } from "@aws-sdk/client-s3";
import { execFile, execFileSync, spawn, type ChildProcess } from "node:child_process";
import { randomUUID } from "node:crypto";
import {
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "./ports.js";

/** A path-style S3 client of the cluster's user, signing with `secretAccessKey` (default: the user's). */
export function s3ClientOf(
  cluster: RadosgwCluster,
  secretAccessKey = cluster.secretAccessKey,
): S3Client {
  // The SDK is pinned at a version that supports Node 20 (src/store/s3-payload.ts says the same).
  process.env["AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED"] ??= "true";
  return new S3Client({
    endpoint: cluster.endpoint,
    region: cluster.region,
    forcePathStyle: true,
    credentials: { accessKeyId: cluster.accessKeyId, secretAccessKey },
  });
}

/**
 * The `store` settings of dfs serve on PostgreSQL database `postgresUrl`
 * with files' contents in `bucket` of this gateway (more settings may be
 * spread over them).
 */
export function scaleOutStore(
  postgresUrl: string,
  cluster: RadosgwCluster,
  bucket: string,
): Record<string, unknown> {
  return {
    backend: "postgres",
    postgresUrl,
    payload: "s3",
    s3Endpoint: cluster.endpoint,
    s3Region: cluster.region,
    s3Bucket: bucket,
    s3AccessKeyId: cluster.accessKeyId,
    s3SecretAccessKey: cluster.secretAccessKey,
  };
}

export interface RadosgwCluster {
  /** The S3 endpoint, http://127.0.0.1:PORT (path-style addressing). */
  readonly endpoint: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  /** The region to sign with: the name of radosgw's zonegroup. */
  readonly region: string;
  /**
   * radosgw's own request counters so far (`perf dump`, section "rgw", over
   * its admin socket): `req` (every S3 request), `get`, `put`, `failed_req`…
   */
  requestCounters(): Record<string, number>;
  stop(): void;
}

/** The programs startRadosgw runs, all from PATH. */
const BINARIES = [
  "ceph-mon",
  "ceph-osd",
  "radosgw",
  "radosgw-admin",
  "ceph-authtool",
  "monmaptool",
  "ceph",
];

/** Debian's packages holding BINARIES (monmaptool is in ceph-base, which ceph-mon pulls in). */
const PACKAGES = "ceph-mon ceph-osd radosgw ceph-common";

/** Why the RADOS Gateway suites cannot run here, or null when they can. */
export function radosgwMissing(): string | null {
  const absent = BINARIES.filter((b) => findInPath(b) === null);
  if (absent.length > 0)
    return `Ceph is not installed (no ${absent.join(", ")} in PATH): \`apt-get install -y ${PACKAGES}\``;
  return null;
}

/** Starts a new cluster and its gateway (about 2 s). */
export async function startRadosgw(): Promise<RadosgwCluster> {
  const missing = radosgwMissing();
  if (missing !== null) throw new Error(missing);
  const dir = mkdtempSync(join(tmpdir(), "dfs-rgw-"));
  const daemons: Daemon[] = [];
  const cleanup = (): void => {
    killDaemons(daemons);
    rmSync(dir, { recursive: true, force: true });
  };
  live.add(cleanup);
  installExitHook();
  try {
    const cluster = await setUp(dir, daemons);
    let stopped = false;
    return {
      ...cluster,
      requestCounters() {
        const dump: unknown = JSON.parse(
          execFileSync(
            "ceph",
            [
              "-c",
              join(dir, "ceph.conf"),
              "--admin-daemon",
              join(dir, "run", "client.rgw.asok"),
              "perf",
              "dump",
            ],
            { encoding: "utf8" },
          ),
        );
        const rgw =
          typeof dump === "object" && dump !== null && "rgw" in dump ? dump.rgw : undefined;
        if (typeof rgw !== "object" || rgw === null)
          throw new Error('radosgw\'s perf dump has no "rgw" section');
        return Object.fromEntries(
          Object.entries(rgw).filter((kv): kv is [string, number] => typeof kv[1] === "number"),
        );
      },
      stop() {
        if (stopped) return;
        stopped = true;
        live.delete(cleanup);
        cleanup();
      },
    };
  } catch (e) {
    live.delete(cleanup);
    cleanup();
    throw e;
  }
}

interface Daemon {
  /** The Ceph name, which also names its log file: mon.a, osd.0, client.rgw. */
  readonly name: string;
  /** Its command line, for error messages. */
  readonly command: string;
  readonly child: ChildProcess;
  /** Set when the daemon could not be started at all. */
  spawnError: Error | null;
}

const OSD_READY_MS = 60_000;
const RGW_READY_MS = 90_000;
const COMMAND_MS = 60_000;

async function setUp(
  dir: string,
  daemons: Daemon[],
): Promise<Omit<RadosgwCluster, "stop" | "requestCounters">> {
  const conf = join(dir, "ceph.conf");
  const logs = join(dir, "log");
  for (const d of ["log", "run", "crash", "mon", "osd/ceph-0", "rgw"])
    mkdirSync(join(dir, d), { recursive: true });
  const keyring = (name: string): string => join(dir, `${name}.keyring`);
  const logTail = (...names: string[]): string =>
    tail(...names.flatMap((name) => [join(logs, `${name}.log`), join(logs, `${name}.out`)]));

  /** Runs a command to completion; on failure the error names it and shows its output and the logs named. */
  const run = (cmd: string, args: string[], ...logNames: string[]): Promise<string> =>
    new Promise((resolve, reject) => {
      execFile(cmd, args, { timeout: COMMAND_MS, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
        if (err === null) return resolve(stdout);
        const why = err.killed
          ? `timed out after ${COMMAND_MS / 1000} s`
          : `exit status ${String(err.code ?? err.signal)}`;
        reject(
          new Error(
            `\`${[cmd, ...args].join(" ")}\` failed (${why})\n` +
              `--- stderr ---\n${stderr}${stdout === "" ? "" : `--- stdout ---\n${stdout}`}` +
              logTail(...logNames),
          ),
        );
      });
    });
  const ceph = (args: string[]): Promise<string> =>
    run("ceph", ["-c", conf, ...args], "client.admin", "mon.a");

  /** Starts a daemon in the foreground, its stdout and stderr in log/<name>.out. */
  const start = (cmd: string, name: string, args: string[]): void => {
    const out = openSync(join(logs, `${name}.out`), "a");
    const argv = ["-c", conf, ...args, "-f"];
    const [file, fileArgs] =
      setprivPath === null
        ? [cmd, argv]
        : [setprivPath, ["--pdeathsig", "KILL", "--", cmd, ...argv]];
    try {
      const child = spawn(file, fileArgs, { stdio: ["ignore", out, out] });
      const daemon: Daemon = { name, command: [cmd, ...argv].join(" "), child, spawnError: null };
      child.on("error", (e) => (daemon.spawnError = e));
      // A test that forgets stop() must not keep the process alive: it exits,
      // and the 'exit' hook kills the daemons.
      child.unref();
      daemons.push(daemon);
    } finally {
      closeSync(out);
    }
  };

  /** Polls `ready` until it holds, failing when a daemon dies or after `ms`. */
  const waitFor = async (
    what: string,
    logName: string,
    ms: number,
    ready: () => Promise<boolean>,
  ): Promise<void> => {
    const deadline = Date.now() + ms;
    for (;;) {
      for (const d of daemons)
        if (d.spawnError !== null || d.child.exitCode !== null || d.child.signalCode !== null)
          throw new Error(
            `${d.name} (\`${d.command}\`) ` +
              `${d.spawnError === null ? `exited (${d.child.exitCode ?? d.child.signalCode})` : `failed: ${d.spawnError.message}`} ` +
              `while waiting for ${what}${logTail(d.name)}`,
          );
      if (await ready().catch(() => false)) return;
      if (Date.now() > deadline)
        throw new Error(`timed out after ${ms / 1000} s waiting for ${what}${logTail(logName)}`);
      await sleep(100);
    }
  };

  const fsid = randomUUID();
  const [monPort, rgwPort] = [await freePort(), await freePort()];
  writeFileSync(conf, cephConf(dir, fsid, monPort, rgwPort));

  // Every key up front, all imported into the monitor's keyring before its
  // mkfs: no `ceph auth add` afterwards.
  const keys: [string, string[]][] = [
    ["mon.", ["mon", "allow *"]],
    ["client.admin", ["mon", "allow *", "osd", "allow *", "mgr", "allow *", "mds", "allow *"]],
    ["osd.0", ["mon", "allow profile osd", "osd", "allow *", "mgr", "allow profile osd"]],
    ["client.rgw", ["mon", "allow rw", "osd", "allow rwx", "mgr", "allow rw"]],
  ];
  for (const [name, caps] of keys) {
    const capArgs: string[] = [];
    for (let i = 0; i < caps.length; i += 2)
      capArgs.push("--cap", caps[i] ?? "", caps[i + 1] ?? "");
    const file = keyring(name === "mon." ? "mon.a" : name);
    await run("ceph-authtool", ["--create-keyring", file, "--gen-key", "-n", name, ...capArgs]);
    if (name !== "mon.") await run("ceph-authtool", [keyring("mon.a"), "--import-keyring", file]);
  }

  const monmap = join(dir, "monmap");
  await run("monmaptool", [
    "--create",
    "--fsid",
    fsid,
    "--addv",
    "a",
    `[v2:127.0.0.1:${monPort}]`,
    monmap,
  ]);
  await run(
    "ceph-mon",
    ["-c", conf, "-i", "a", "--mkfs", "--monmap", monmap, "--keyring", keyring("mon.a")],
    "mon.a",
  );
  start("ceph-mon", "mon.a", ["-i", "a"]);

  // The OSD: registered with the monitor (this also waits for the monitor to
  // answer), its store created, started, and up and in.
  const osdUuid = randomUUID();
  const osdId = (await ceph(["osd", "create", osdUuid])).trim();
  if (osdId !== "0")
    throw new Error(`\`ceph osd create\` gave OSD id ${JSON.stringify(osdId)}, expected 0`);
  await run("ceph-osd", ["-c", conf, "-i", "0", "--mkfs", "--osd-uuid", osdUuid], "osd.0");
  start("ceph-osd", "osd.0", ["-i", "0"]);
  await waitFor("osd.0 to be up and in", "osd.0", OSD_READY_MS, async () => {
    const stat: unknown = JSON.parse(await ceph(["osd", "stat", "-f", "json"]));
    return (
      typeof stat === "object" &&
      stat !== null &&
      "num_up_osds" in stat &&
      "num_in_osds" in stat &&
      stat.num_up_osds === 1 &&
      stat.num_in_osds === 1
    );
  });

  // The gateway creates its pools, then answers HTTP.
  start("radosgw", "client.rgw", ["-n", "client.rgw"]);
  await waitFor(`radosgw to answer on 127.0.0.1:${rgwPort}`, "client.rgw", RGW_READY_MS, () =>
    httpAnswers(rgwPort),
  );

  const created: unknown = JSON.parse(
    await run(
      "radosgw-admin",
      ["-c", conf, "user", "create", "--uid", "dfs", "--display-name", "DittoFS tests"],
      "client.admin",
      "client.rgw",
    ),
  );
  const key = s3Key(created);
  if (key === null)
    throw new Error(`\`radosgw-admin user create\` gave no S3 key: ${JSON.stringify(created)}`);
  return { endpoint: `http://127.0.0.1:${rgwPort}`, ...key, region: "default" };
}

function cephConf(dir: string, fsid: string, monPort: number, rgwPort: number): string {
  return `[global]
fsid = ${fsid}
mon host = [v2:127.0.0.1:${monPort}]
mon initial members = a
# Loopback only, IPv4 only, messenger v2 only.
public addr = 127.0.0.1
cluster addr = 127.0.0.1
ms bind ipv4 = true
ms bind ipv6 = false
ms bind msgr1 = false
auth cluster required = cephx
auth service required = cephx
auth client required = cephx
auth allow insecure global id reclaim = false
# Everything in ${dir}.
keyring = ${dir}/$name.keyring
log file = ${dir}/log/$name.log
log to stderr = false
err to stderr = true
admin socket = ${dir}/run/$name.asok
run dir = ${dir}/run
pid file = ${dir}/run/$name.pid
crash dir = ${dir}/crash
mon data = ${dir}/mon/$cluster-$id
osd data = ${dir}/osd/$cluster-$id
rgw data = ${dir}/rgw
# One OSD: no replicas, few placement groups (radosgw makes 7 pools, and one
# OSD takes at most 250 placement groups), no autoscaler (no manager).
mon allow pool size one = true
mon warn on pool no redundancy = false
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
osd crush chooseleaf type = 0
# A full temporary file system must not make the monitor shut down.
mon data avail crit = 0
mon data avail warn = 0
# Commit monitor changes at once, not every second (radosgw's pool set-up).
paxos propose interval = 0.01

[osd]
# SIGTERM: exit at once, without telling a monitor that may be gone already
# (it would wait 5 s for an answer).
osd fast shutdown notify mon = false
osd objectstore = memstore
memstore device bytes = ${1 << 30}

[client.rgw]
rgw frontends = beast endpoint=127.0.0.1:${rgwPort}
`;
}

/** The first S3 key of radosgw-admin's user description. */
function s3Key(user: unknown): { accessKeyId: string; secretAccessKey: string } | null {
  if (typeof user !== "object" || user === null || !("keys" in user) || !Array.isArray(user.keys))
    return null;
  const key: unknown = user.keys[0];
  if (typeof key !== "object" || key === null || !("access_key" in key) || !("secret_key" in key))
    return null;
  const { access_key, secret_key } = key;
  if (typeof access_key !== "string" || typeof secret_key !== "string") return null;
  return { accessKeyId: access_key, secretAccessKey: secret_key };
}

/** The cleanups of the clusters not stopped yet, run if the process exits first. */
const live = new Set<() => void>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on("exit", () => {
    for (const cleanup of live) cleanup();
    live.clear();
  });
}

const STOP_GRACE_MS = 1_000;

/**
 * In the reverse order of their start, each daemon gets SIGTERM, up to
 * STOP_GRACE_MS to exit, then SIGKILL (synchronously: stop() is). The order
 * matters: radosgw stops at once while the OSD is there, but waits on it for
 * ever once it is gone. The whole takes about 0.2 s.
 */
function killDaemons(daemons: Daemon[]): void {
  for (const d of [...daemons].reverse()) {
    const pid = d.child.pid;
    if (pid === undefined || !alive(pid)) continue;
    d.child.kill("SIGTERM");
    const deadline = Date.now() + STOP_GRACE_MS;
    while (alive(pid) && Date.now() < deadline) sleepSync(10);
    if (alive(pid)) d.child.kill("SIGKILL");
  }
}

/**
 * Whether the process still runs. A child that has exited stays a zombie until
 * the event loop reaps it, so "exists" is not enough: /proc tells the state.
 */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // pid (comm) state ...: comm may hold spaces and parentheses, the state follows the last ')'.
    const state = stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
    return state !== "Z" && state !== "X";
  } catch {
    return false;
  }
}

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Whether an HTTP server answers on 127.0.0.1:port (any status). */
function httpAnswers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request(
      { host: "127.0.0.1", port, path: "/", agent: false, timeout: 1_000 },
      (res) => {
        res.resume();
        resolve(true);
      },
    );
    req.on("timeout", () => req.destroy());
    req.on("error", () => resolve(false));
    req.end();
  });
}

/** The last lines of the files that exist, headed by their names. */
function tail(...files: string[]): string {
  let text = "";
  for (const file of files) {
    if (!existsSync(file)) continue;
    const lines = readFileSync(file, "utf8").trimEnd().split("\n");
    if (lines.length === 1 && lines[0] === "") continue;
    text += `\n--- last lines of ${file} ---\n${lines.slice(-40).join("\n")}`;
  }
  return text;
}

function findInPath(name: string): string | null {
  for (const dir of (process.env["PATH"] ?? "").split(":"))
    if (dir !== "" && existsSync(join(dir, name))) return join(dir, name);
  return null;
}

/** util-linux's setpriv, for a parent-death signal; null where it is missing. */
const setprivPath: string | null = (() => {
  const path = findInPath("setpriv");
  if (path === null) return null;
  try {
    // --pdeathsig is util-linux 2.33 and later.
    execFileSync(path, ["--pdeathsig", "KILL", "--", "true"], { stdio: "ignore" });
    return path;
  } catch {
    return null;
  }
})();

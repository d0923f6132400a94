// dfsctl against the real Linux kernel client (issue 12's manual check):
// `npm run interop:kernel-control -- [options]` (after `npm run build`).
//
// A `dfs serve` child (memory store) with its control socket; the kernel, in
// qemu, runs test/interop/kernel-control.workload.sh, which holds a file open
// and writes and reads another every second for 45 s. Meanwhile this script
// runs every dfsctl view (printed, tables) and then each action, checking
// what the kernel does about it:
//   revoke          the revoked delegation is freed by the kernel (TEST_STATEID,
//                   FREE_STATEID after SEQ4_STATUS_ADMIN_STATE_REVOKED);
//   destroy-session the kernel carries on with a new session of the same client;
//   evict           the kernel carries on with a new client ID;
// and the guest's workload passes. Exit 0 only if all of that held.

import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { controlRequest } from "../../src/control/client.js";
import type { ClientView, DelegationView, SessionView } from "../../src/control/views.js";
import { startDfs, stopProcess } from "../support/dfs-process.js";
import { KERNELS, runGuest, missingPrerequisite } from "./guest.js";

const USAGE = `usage: npm run interop:kernel-control -- [options]

  --kernel 6.1|6.12|META   the client kernel (default 6.1)
  --vers 4.1|4.2           NFS minor version (default 4.1)
  --port P                 the server's port (default 21495)
  --shared DIR             the shared tools directory with kclient/run.sh
                           (default $DITTOFS_SHARED or /work/shared)
  --out DIR                where logs go (default a new directory under the system temp dir)`;

const here = dirname(fileURLToPath(import.meta.url));
const project = resolve(here, "..", "..");
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      kernel: { type: "string", default: "6.1" },
      vers: { type: "string", default: "4.1" },
      port: { type: "string", default: "21495" },
      shared: { type: "string", default: process.env["DITTOFS_SHARED"] ?? "/work/shared" },
      out: { type: "string" },
      help: { type: "boolean", default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const missing = missingPrerequisite(values.shared, project);
  if (missing !== null) {
    console.error(`${missing}\n\n${USAGE}`);
    return 2;
  }
  const out = values.out ?? mkdtempSync(join(tmpdir(), "kcontrol-"));
  mkdirSync(out, { recursive: true });
  const port = Number(values.port);
  const data = join(out, "data");
  const socket = join(data, "control.sock");
  const log = (l: string): void => console.log(l);
  const config = join(out, "dfs.json");
  writeFileSync(config, JSON.stringify({ store: { backend: "memory", dataDir: data } }));
  const { child, serving } = startDfs(
    [join(project, "bin", "dfs.js"), "serve", "--listen", `127.0.0.1:${port}`, "--config", config],
    { cwd: out, onStderr: (t) => log(`  server: ${t.trim()}`) },
  );
  await serving;
  const failures: string[] = [];
  const check = (ok: boolean, what: string): void => {
    log(`${ok ? "ok  " : "FAIL"} ${what}`);
    if (!ok) failures.push(what);
  };
  const dfsctl = (...args: string[]): string => {
    const text = execFileSync(
      process.execPath,
      [join(project, "bin", "dfsctl.js"), "--socket", socket, ...args],
      { encoding: "utf8" },
    );
    // A slot table of 64 slots: the first few show what it looks like.
    const lines = text.trimEnd().split("\n");
    const shown = args[0] === "slots" ? [...lines.slice(0, 6), "…"] : lines;
    log(`$ dfsctl ${args.join(" ")}\n${shown.join("\n")}`);
    return text;
  };
  const get = async <T>(path: string): Promise<T> =>
    (await controlRequest({ socket }, "GET", path)).body as T;
  const guest = runGuest(
    {
      shared: values.shared,
      kernelMeta: KERNELS[values.kernel] ?? values.kernel,
      exportPath: "/export",
      vers: values.vers,
      timeoutSec: 300,
      verbose: false,
      echo: /KCLIENT-RESULT|loop done|FAIL/,
    },
    port,
    join(here, "kernel-control.workload.sh"),
    join(out, "guest.console.log"),
    log,
  );
  try {
    let held: DelegationView | undefined;
    for (let i = 0; i < 240 && held === undefined; i++) {
      held = (await get<{ delegations: DelegationView[] }>("/v1/delegations")).delegations.find(
        (d) => d.state === "held",
      );
      if (held === undefined) await sleep(500);
    }
    check(held !== undefined, "the kernel holds a delegation");
    if (held === undefined) return 1;
    for (const view of ["status", "clients", "sessions", "connections", "delegations", "exports"])
      dfsctl(view);
    const [session] = (await get<{ sessions: SessionView[] }>("/v1/sessions")).sessions;
    const [client] = (await get<{ clients: ClientView[] }>("/v1/clients")).clients;
    check(session !== undefined && client !== undefined, "one client with one session");
    if (session === undefined || client === undefined) return 1;
    dfsctl("slots", session.sessionid);
    dfsctl("--json", "debug", "on", "--session", session.sessionid);
    await sleep(2000);
    dfsctl("debug", "off", "--session", session.sessionid);

    dfsctl("revoke", held.stateid);
    let freed = false;
    for (let i = 0; i < 40 && !freed; i++) {
      await sleep(250);
      freed = !(await get<{ delegations: DelegationView[] }>("/v1/delegations")).delegations.some(
        (d) => d.stateid === held.stateid,
      );
    }
    check(freed, "the kernel freed the revoked delegation (FREE_STATEID)");

    dfsctl("destroy-session", session.sessionid);
    let renewed: SessionView | undefined;
    for (let i = 0; i < 40 && renewed === undefined; i++) {
      await sleep(250);
      renewed = (await get<{ sessions: SessionView[] }>("/v1/sessions")).sessions.find(
        (s) => s.sessionid !== session.sessionid,
      );
    }
    check(renewed?.clientid === client.clientid, "the kernel made a new session for its client");

    dfsctl("evict", client.clientid);
    let again: ClientView | undefined;
    for (let i = 0; i < 60 && again === undefined; i++) {
      await sleep(250);
      again = (await get<{ clients: ClientView[] }>("/v1/clients")).clients.find(
        (c) => c.clientid !== client.clientid && c.confirmed,
      );
    }
    check(again !== undefined, "the kernel came back with a new client ID");
    dfsctl("clients");
    const rc = await guest;
    check(rc === 0, `the guest's workload passed (run.sh exit ${rc})`);
  } finally {
    await stopProcess(child, "SIGTERM");
  }
  log(failures.length === 0 ? "PASS" : `FAIL: ${failures.join("; ")}`);
  log(`logs in ${out}`);
  return failures.length === 0 ? 0 : 1;
}

process.exitCode = await main();

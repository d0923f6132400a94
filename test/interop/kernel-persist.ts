// The Linux kernel client on the default store across a server restart
// (issue 10, "Done when"): `npm run interop:kernel-persist -- [options]`.
//
// Starts `dfs serve` as `npm start` does — no config, so the SQLite store in
// ./dfs-data of its working directory (here a fresh temporary directory) —
// and runs guests against it (shared/kclient/run.sh): the shared smoke and
// parallel workloads, then persist-write.workload.sh, which leaves files with
// their checksums. Then the server is stopped (SIGTERM, or SIGKILL with
// --kill) and started again on the same directory, and the guests run
// persist-check.workload.sh (every file, link and checksum is there) and the
// smoke and parallel workloads again. Exit 0 only if every guest passed.

import type { ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { startDfs, stopProcess } from "../support/dfs-process.js";
import { KERNELS, runGuest, type GuestRun, missingPrerequisite } from "./guest.js";

const USAGE = `usage: npm run interop:kernel-persist -- [options]

  --kernel 6.1|6.12|META   the client kernel (default 6.1; or a Debian linux-image meta package)
  --vers 4.1|4.2           NFS minor version (default 4.1)
  --nconnect N             mount with nconnect=N (default 1)
  --kill                   stop the server with SIGKILL instead of SIGTERM between the runs
  --port P                 the server's port (default 21490)
  --shared DIR             the shared tools directory with kclient/run.sh
                           (default $DITTOFS_SHARED or /work/shared)
  --out DIR                where logs and the server's working directory go
                           (default a new directory under the system temp dir)
  --verbose                echo the whole guest console`;

const GUEST_TIMEOUT_SEC = 600;
const here = dirname(fileURLToPath(import.meta.url));
const project = resolve(here, "..", "..");

/** Starts `node bin/dfs.js serve` in `cwd`; resolves once it listens. */
async function startServer(
  cwd: string,
  port: number,
  log: (l: string) => void,
): Promise<ChildProcess> {
  const { child, serving } = startDfs(
    [join(project, "bin", "dfs.js"), "serve", "--listen", `127.0.0.1:${port}`],
    { cwd, onStderr: (text) => log(`  server: ${text.trim()}`) },
  );
  await serving;
  return child;
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      kernel: { type: "string", default: "6.1" },
      vers: { type: "string", default: "4.1" },
      nconnect: { type: "string", default: "1" },
      kill: { type: "boolean", default: false },
      port: { type: "string", default: "21490" },
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
  const missing = missingPrerequisite(values.shared, project);
  if (missing !== null) {
    console.error(`${missing}\n\n${USAGE}`);
    return 2;
  }
  const out = values.out ?? mkdtempSync(join(tmpdir(), "kpersist-"));
  mkdirSync(out, { recursive: true });
  const port = Number(values.port);
  const log = (l: string): void => console.log(l);
  const run: GuestRun = {
    shared: values.shared,
    kernelMeta: KERNELS[values.kernel] ?? values.kernel,
    exportPath: "/export",
    vers: values.vers,
    timeoutSec: GUEST_TIMEOUT_SEC,
    verbose: values.verbose,
    echo: /KCLIENT-(RESULT|PHASE)|(workload|persist-\w+) OK|FAILED|md5sum:/,
    ...(values.nconnect === "1" ? {} : { mountOpts: `nconnect=${values.nconnect}` }),
  };
  const workloads = join(values.shared, "kclient", "workloads");
  const results: [string, number][] = [];
  const guest = async (name: string, script: string): Promise<void> => {
    log(
      `guest: ${name} (kernel ${run.kernelMeta}, vers ${run.vers}, ${run.mountOpts ?? "nconnect=1"})`,
    );
    const rc = await runGuest(run, port, script, join(out, `${name}.console.log`), log);
    results.push([name, rc]);
  };
  log(`server: node bin/dfs.js serve in ${out} (data in ${join(out, "dfs-data")})`);
  let server = await startServer(out, port, log);
  try {
    await guest("smoke", join(workloads, "smoke.sh"));
    await guest("parallel", join(workloads, "parallel.sh"));
    await guest("persist-write", join(here, "persist-write.workload.sh"));
    const signal = values.kill ? "SIGKILL" : "SIGTERM";
    log(`server: ${signal}, then started again on the same data directory`);
    await stopProcess(server, signal);
    server = await startServer(out, port, log);
    await guest("persist-check", join(here, "persist-check.workload.sh"));
    await guest("smoke-after-restart", join(workloads, "smoke.sh"));
    await guest("parallel-after-restart", join(workloads, "parallel.sh"));
  } finally {
    await stopProcess(server, "SIGTERM");
  }
  for (const [name, rc] of results)
    log(`${rc === 0 ? "PASS" : "FAIL"} ${name} (run.sh exit ${rc})`);
  const ok = results.every(([, rc]) => rc === 0);
  log(ok ? "kernel-persist: PASS" : `kernel-persist: FAIL (logs in ${out})`);
  return ok ? 0 : 1;
}

process.exitCode = await main();

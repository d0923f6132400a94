// Failover on the scale-out backend with the Linux kernel client (issue 11,
// "Done when"): `npm run interop:kernel-failover -- [options]`.
//
// A throwaway PostgreSQL cluster and RADOS Gateway (test/support/), one
// bucket. Server A serves the export on 127.0.0.1:PORT (PostgreSQL + S3,
// s3Durability "remote": what it acknowledged is in the bucket, not only in
// its own write-back tier). Guests run the shared smoke workload and
// persist-write.workload.sh against A, which leaves files with their
// checksums. Server B starts as a standby on the same address with a data
// directory of its own: it waits for the store's lease. A is killed with
// SIGKILL; B takes the lease over once A's has run out
// (store.postgresLeaseSec, here 6 s), binds the address and serves. Guests
// then run persist-check.workload.sh (every file, link and checksum is there)
// and smoke against B. Exit 0 only if every guest passed.

import { CreateBucketCommand } from "@aws-sdk/client-s3";
import type { ChildProcess } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { startDfs, stopProcess, type DfsProcess } from "../support/dfs-process.js";
import { postgresMissing, startPostgres } from "../support/postgres.js";
import { radosgwMissing, s3ClientOf, scaleOutStore, startRadosgw } from "../support/radosgw.js";
import { KERNELS, runGuest, type GuestRun, missingPrerequisite } from "./guest.js";

const USAGE = `usage: npm run interop:kernel-failover -- [options]

  --kernel 6.1|6.12|META   the client kernel (default 6.1; or a Debian linux-image meta package)
  --vers 4.1|4.2           NFS minor version (default 4.1)
  --port P                 the servers' port (default 21495)
  --shared DIR             the shared tools directory with kclient/run.sh
                           (default $DITTOFS_SHARED or /work/shared)
  --verbose                echo the whole guest console`;

const GUEST_TIMEOUT_SEC = 600;
const LEASE_SEC = 6;
const here = dirname(fileURLToPath(import.meta.url));
const project = resolve(here, "..", "..");

/** Starts `dfs serve --config config`, its output logged as `name`'s. */
function startServer(name: string, config: string, log: (l: string) => void): DfsProcess {
  const lines = (text: string): void => {
    for (const line of text.trim().split("\n")) log(`  ${name}: ${line}`);
  };
  return startDfs([join(project, "bin", "dfs.js"), "serve", "--config", config], {
    onStdout: lines,
    onStderr: lines,
  });
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      kernel: { type: "string", default: "6.1" },
      vers: { type: "string", default: "4.1" },
      port: { type: "string", default: "21495" },
      shared: { type: "string", default: process.env["DITTOFS_SHARED"] ?? "/work/shared" },
      verbose: { type: "boolean", default: false },
      help: { type: "boolean", default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const engine = postgresMissing() ?? radosgwMissing();
  if (engine !== null) {
    console.error(`kernel-failover: ${engine}`);
    return 2;
  }
  const missing = missingPrerequisite(values.shared);
  if (missing !== null) {
    console.error(`${missing}\n\n${USAGE}`);
    return 2;
  }
  const out = mkdtempSync(join(tmpdir(), "kfailover-"));
  const port = Number(values.port);
  const log = (l: string): void => console.log(l);
  const [pg, rgw] = await Promise.all([startPostgres(), startRadosgw()]);
  const servers: ChildProcess[] = [];
  try {
    const s3 = s3ClientOf(rgw);
    await s3.send(new CreateBucketCommand({ Bucket: "dfs" }));
    s3.destroy();
    const url = await pg.createDatabase("dfs");
    const config = (name: string, role: string): string => {
      const file = join(out, `${name}.json`);
      writeFileSync(
        file,
        JSON.stringify({
          listen: [`127.0.0.1:${port}`],
          logLevel: "warn",
          store: {
            ...scaleOutStore(url, rgw, "dfs"),
            postgresRole: role,
            postgresLeaseSec: LEASE_SEC,
            dataDir: join(out, `${name}-data`),
            s3Durability: "remote",
          },
        }),
      );
      return file;
    };
    const run: GuestRun = {
      shared: values.shared,
      kernelMeta: KERNELS[values.kernel] ?? values.kernel,
      exportPath: "/export",
      vers: values.vers,
      timeoutSec: GUEST_TIMEOUT_SEC,
      verbose: values.verbose,
      echo: /KCLIENT-(RESULT|PHASE)|(workload|persist-\w+) OK|FAILED|md5sum:/,
    };
    const results: [string, number][] = [];
    const guest = async (name: string, script: string): Promise<void> => {
      log(`guest: ${name} (kernel ${run.kernelMeta}, vers ${run.vers})`);
      results.push([
        name,
        await runGuest(run, port, script, join(out, `${name}.console.log`), log),
      ]);
    };
    const workloads = join(values.shared, "kclient", "workloads");

    const a = startServer("A", config("a", "active"), log);
    servers.push(a.child);
    await a.serving;
    await guest("smoke-on-A", join(workloads, "smoke.sh"));
    await guest("persist-write-on-A", join(here, "persist-write.workload.sh"));
    const b = startServer("B", config("b", "standby"), log);
    servers.push(b.child);
    // B waits for the lease (it has not bound the address yet).
    await new Promise((r) => setTimeout(r, 2000));
    const killedAt = Date.now();
    log("A: SIGKILL");
    await stopProcess(a.child, "SIGKILL");
    await b.serving;
    log(`B: serving ${((Date.now() - killedAt) / 1000).toFixed(1)} s after A's kill`);
    await guest("persist-check-on-B", join(here, "persist-check.workload.sh"));
    await guest("smoke-on-B", join(workloads, "smoke.sh"));
    for (const [name, rc] of results)
      log(`${rc === 0 ? "PASS" : "FAIL"} ${name} (run.sh exit ${rc})`);
    const ok = results.length === 4 && results.every(([, rc]) => rc === 0);
    log(ok ? "kernel-failover: PASS" : `kernel-failover: FAIL (logs in ${out})`);
    return ok ? 0 : 1;
  } finally {
    for (const s of servers) await stopProcess(s, "SIGTERM");
    rgw.stop();
    pg.stop();
  }
}

process.exitCode = await main();

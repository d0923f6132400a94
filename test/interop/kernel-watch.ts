// The Linux kernel client changes a directory that the project's client
// library watches (issue 9 §3): `npm run interop:kernel-watch -- [options]`.
//
// The host makes a directory under the export and starts a watch on it
// (src/client/watch.ts: GET_DIR_DELEGATION + CB_NOTIFY) before the guest
// boots; the guest (shared/kclient/run.sh, test/interop/kernel-watch.workload.sh)
// mounts the export and creates, renames, moves out and deletes files in that
// directory, then creates a marker. Once the guest is done and the marker's
// event has arrived, the events before it must be exactly the expected ones,
// each once, in order. The NFS server is ours, in-process (memory backend,
// directory delegations with notifications). Exit 0 only if so.

import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { pino } from "pino";
import { nfs_ftype4, nfs_opnum4 } from "../../generated/nfs4/index.js";
import type { WatchEvent } from "../../src/client/index.js";
import { failureOf, openWatchSession, ops, watch } from "../../src/client/index.js";
import { NfsServer } from "../../src/nfs/server.js";
import { KERNELS, runGuest } from "./guest.js";

const USAGE = `usage: npm run interop:kernel-watch -- [options]

  --kernel 6.1|6.12|META   the client kernel (default 6.1; or a Debian linux-image meta package)
  --vers 4.1|4.2           NFS minor version (default 4.1)
  --shared DIR             the shared tools directory with kclient/run.sh
                           (default $DITTOFS_SHARED or /work/shared)
  --out DIR                where logs go (default a new directory under the system temp dir)
  --verbose                echo the whole guest console`;

/** The guest's whole run (boot, mount, workload, umount) at most, seconds. */
const GUEST_TIMEOUT_SEC = 300;
/** How long the marker's event may take to arrive after the guest is done, ms. */
const MARKER_WAIT_MS = 30_000;
/** The file the guest creates last. */
const MARKER = "zz-done";

/** The events the workload must produce, in order, before the marker's add. */
const EXPECTED = [
  "added a",
  "added b",
  "renamed a -> c",
  "removed b",
  "added sub",
  "removed c",
  "added d",
  "renamed d -> e",
  "removed e",
  "added f",
  "added g",
  "renamed f -> g (replaced)",
  "added s",
  "added h",
  "removed s",
  "removed h",
  "removed sub",
];

function shape(ev: WatchEvent): string {
  switch (ev.type) {
    case "added":
    case "removed":
      return `${ev.type} ${ev.name}${ev.via === "resync" ? " (resync)" : ""}`;
    case "renamed":
      return `renamed ${ev.from} -> ${ev.to}${ev.replaced ? " (replaced)" : ""}`;
    case "ended":
      return `ended ${ev.reason}: ${ev.detail}`;
    default:
      return ev.type;
  }
}

async function main(argv: readonly string[]): Promise<number> {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      kernel: { type: "string", default: "6.1" },
      vers: { type: "string", default: "4.1" },
      shared: { type: "string", default: process.env["DITTOFS_SHARED"] ?? "/work/shared" },
      out: { type: "string" },
      verbose: { type: "boolean", default: false },
      help: { type: "boolean", default: false },
    },
    strict: true,
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const out = values.out ?? mkdtempSync(join(tmpdir(), "kwatch-"));
  mkdirSync(out, { recursive: true });
  const t0 = Date.now();
  const log = (line: string): void =>
    console.log(`[${((Date.now() - t0) / 1000).toFixed(1).padStart(6)}s] ${line}`);

  const server = new NfsServer({
    settings: { directoryDelegations: "notifications" },
    logger: pino(
      { level: "info" },
      pino.destination({ dest: join(out, "server.log"), sync: true, append: false }),
    ),
  });
  const [bound] = await server.listen([{ host: "127.0.0.1", port: 0 }]);
  const port = bound!.port;
  const dir = `kwatch-${process.pid}`;
  log(`server: DittoFS-TS in-process on 127.0.0.1:${port}; logs in ${out}`);

  const ws = await openWatchSession({
    host: "127.0.0.1",
    port,
    owner: `kwatch-host-${process.pid}`,
  });
  const events: WatchEvent[] = [];
  let guestRc = 3;
  try {
    const made = await ws.session.compound([
      ops.putrootfh(),
      ops.lookup("export"),
      {
        argop: nfs_opnum4.OP_CREATE,
        opcreate: {
          objtype: { type: nfs_ftype4.NF4DIR },
          objname: new TextEncoder().encode(dir),
          createattrs: { attrmask: [], attr_vals: new Uint8Array(0) },
        },
      },
    ]);
    const err = failureOf(made.res);
    if (err !== null) throw err;
    const w = await watch(ws.session, ws.router, `/export/${dir}`, {
      types: ["add", "remove", "rename"],
    });
    log(`host: watching /export/${dir} (granted: ${w.granted.join(", ")})`);
    void (async () => {
      for await (const ev of w) {
        events.push(ev);
        log(`host: event ${shape(ev)}`);
      }
    })();

    const here = dirname(fileURLToPath(import.meta.url));
    const workload = join(out, "workload.sh");
    writeFileSync(
      workload,
      `KWATCH_DIR=${dir}\nKWATCH_MARKER=${MARKER}\n${readFileSync(join(here, "kernel-watch.workload.sh"), "utf8")}`,
    );
    log(`guest: booting ${KERNELS[values.kernel] ?? values.kernel}, NFSv${values.vers}`);
    guestRc = await runGuest(
      {
        shared: values.shared,
        kernelMeta: KERNELS[values.kernel] ?? values.kernel,
        exportPath: "/export",
        vers: values.vers,
        timeoutSec: GUEST_TIMEOUT_SEC,
        verbose: values.verbose,
        echo: /^(kwatch:|run\.sh:|KCLIENT-(RESULT|ERROR))/,
      },
      port,
      workload,
      join(out, "console.log"),
      log,
    );
    const deadline = Date.now() + MARKER_WAIT_MS;
    while (!events.some((e) => e.type === "added" && e.name === MARKER) && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 50));
    await w.close();
  } finally {
    await ws.session.destroy().catch(() => {});
    await ws.client.close();
    await server.close();
  }

  const at = events.findIndex((e) => e.type === "added" && e.name === MARKER);
  const seen = (at < 0 ? events : events.slice(0, at)).map(shape);
  // Nothing but the end of the watch (close()) may follow the marker.
  const after =
    at < 0
      ? []
      : events
          .slice(at + 1)
          .filter((e) => e.type !== "ended")
          .map(shape);
  const checks: [string, boolean, string][] = [
    ["guest run passed (mount, workload, umount)", guestRc === 0, `run.sh exit ${guestRc}`],
    ["the marker's add arrived", at >= 0, at >= 0 ? "yes" : "no"],
    [
      "each change reported once, in order",
      JSON.stringify(seen) === JSON.stringify(EXPECTED),
      seen.join("; "),
    ],
    ["nothing after the marker", after.length === 0, after.join("; ") || "nothing"],
  ];
  console.log(`\n=== kernel client changes, watched by the client library`);
  for (const [what, ok, detail] of checks)
    console.log(`${ok ? "PASS" : "FAIL"}  ${what}: ${detail}`);
  console.log(`expected: ${EXPECTED.join("; ")}`);
  const n = server.delegations.notifications.stats;
  console.log(
    `server: delegations granted ${server.delegations.stats.granted}, recalled ${server.delegations.stats.recalled}; CB_NOTIFY calls ${n.calls}, changes delivered ${n.delivered}`,
  );
  return checks.every(([, ok]) => ok) ? 0 : 1;
}

process.exitCode = await main(process.argv.slice(2)).catch((e: unknown) => {
  console.error(`kernel-watch: ${e instanceof Error ? e.message : String(e)}\n\n${USAGE}`);
  return 2;
});

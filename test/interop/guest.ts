// Running the real Linux kernel client in qemu (shared/kclient/run.sh) for
// the interop checks: which kernel, and one guest run with its console
// written to a file and the interesting lines echoed.

import { spawn } from "node:child_process";
import { createWriteStream, existsSync } from "node:fs";
import { join } from "node:path";

/** --kernel shorthands → the Debian meta package run.sh installs. */
export const KERNELS: Readonly<Record<string, string>> = {
  "6.1": "linux-image-cloud-amd64",
  "6.12": "linux-image-6.12-cloud-amd64",
};

export interface GuestRun {
  /** The shared tools directory holding kclient/run.sh. */
  readonly shared: string;
  readonly kernelMeta: string;
  readonly exportPath: string;
  /** NFS minor version: "4.1" or "4.2". */
  readonly vers: string;
  readonly timeoutSec: number;
  /** KCLIENT_TRACE's value, if any. */
  readonly trace?: string;
  /** Extra mount options (KCLIENT_MOUNT_OPTS), e.g. "nconnect=4". */
  readonly mountOpts?: string;
  /** Echo every console line, not only those matching `echo`. */
  readonly verbose: boolean;
  /** The console lines worth echoing. */
  readonly echo: RegExp;
}

/**
 * Why an interop check cannot run, or null: no kclient/run.sh under `shared`,
 * or (when it starts `dfs serve` children from `project`) no build in dist/.
 */
export function missingPrerequisite(shared: string, project?: string): string | null {
  const runSh = join(shared, "kclient", "run.sh");
  if (!existsSync(runSh)) return `no ${runSh}: pass --shared DIR`;
  if (project !== undefined && !existsSync(join(project, "dist")))
    return "no dist/: run `npm run build` (npm ci does) first";
  return null;
}

/** Boots the guest against 127.0.0.1:`nfsPort` with `workload`; resolves run.sh's exit code. */
export function runGuest(
  run: GuestRun,
  nfsPort: number,
  workload: string,
  logFile: string,
  log: (l: string) => void,
): Promise<number> {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    KCLIENT_KERNEL_META: run.kernelMeta,
    KCLIENT_TIMEOUT: String(run.timeoutSec),
    ...(run.trace === undefined ? {} : { KCLIENT_TRACE: run.trace }),
    ...(run.mountOpts === undefined ? {} : { KCLIENT_MOUNT_OPTS: run.mountOpts }),
  };
  const runSh = join(run.shared, "kclient", "run.sh");
  const child = spawn("bash", [runSh, String(nfsPort), run.exportPath, workload, run.vers], {
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  const file = createWriteStream(logFile);
  /** Echoes whole lines of one stream (a chunk may end mid-line). */
  const echo = (): ((chunk: Buffer) => void) => {
    let partial = "";
    return (chunk) => {
      file.write(chunk);
      const lines = (partial + chunk.toString("utf8")).split("\n");
      partial = lines.pop() ?? "";
      for (const line of lines) {
        const l = line.replace(/\r$/, "");
        if (run.verbose || run.echo.test(l)) log(`  | ${l}`);
      }
    };
  };
  child.stdout.on("data", echo());
  child.stderr.on("data", echo());
  return new Promise((resolve) => {
    child.on("close", (code) => {
      file.end();
      resolve(code ?? 3);
    });
  });
}

/** Per-operation counts of /proc/self/mountstats, from the guest console log. */
export function mountstats(consoleLog: string): Map<string, number> {
  const counts = new Map<string, number>();
  let inside = false;
  for (const raw of consoleLog.split("\n")) {
    const line = raw.replace(/\r$/, "");
    if (line.includes("KCLIENT-MOUNTSTATS-BEGIN")) inside = true;
    else if (line.includes("KCLIENT-MOUNTSTATS-END")) inside = false;
    else if (inside) {
      const m = /^\s+([A-Z_0-9]+): (\d+) /.exec(line);
      if (m) counts.set(m[1]!, Number(m[2]));
    }
  }
  return counts;
}

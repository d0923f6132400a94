// A `dfs serve` child process for the benchmarks: the server runs in its own
// process, so the load's clients and the server do not share an event loop,
// and its memory and CPU figures are its own (read from /proc/PID).

import { execFileSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startDfs, stopProcess } from "../support/dfs-process.js";
import { freePort } from "../support/ports.js";

/** How to start the child: a fixed port instead of a free one, extra node flags (e.g. --cpu-prof). */
export interface ServerProcessOptions {
  readonly port?: number;
  readonly nodeArgs?: readonly string[];
  /** The checkout whose src/cli/dfs.ts runs (default: the working directory). */
  readonly checkout?: string;
  /**
   * Run the compiled server (bin/dfs.js over dist/, what `npm start` runs)
   * instead of the TypeScript sources through tsx; see buildServer().
   */
  readonly compiled?: boolean;
  /** Each chunk of the child's standard output (e.g. --trace-gc-nvp's lines). */
  readonly onStdout?: (text: string) => void;
}

/** Compiles `checkout`'s server to dist/ (`npm run build`), for ServerProcessOptions.compiled. */
export function buildServer(checkout?: string): void {
  execFileSync("npm", ["run", "--silent", "build"], { cwd: checkout, stdio: "inherit" });
}

/** A `dfs serve` child process on a loopback port (a free one unless given). */
export class ServerProcess {
  private constructor(
    readonly child: ChildProcess,
    readonly port: number,
  ) {}

  /** Starts `dfs serve` on 127.0.0.1 with `config` (the --config JSON; logLevel error unless given). */
  static async start(config: object, options: ServerProcessOptions = {}): Promise<ServerProcess> {
    const port = options.port ?? (await freePort());
    const dir = mkdtempSync(join(tmpdir(), "dfs-bench-"));
    const file = join(dir, "config.json");
    writeFileSync(
      file,
      JSON.stringify({ logLevel: "error", store: { backend: "memory" }, ...config }),
    );
    const { child, serving } = startDfs(
      [
        ...(options.compiled === true ? ["bin/dfs.js"] : ["--import", "tsx", "src/cli/dfs.ts"]),
        "serve",
        "--listen",
        `127.0.0.1:${port}`,
        "--config",
        file,
      ],
      {
        nodeArgs: options.nodeArgs,
        cwd: options.checkout,
        ...(options.onStdout === undefined ? {} : { onStdout: options.onStdout }),
      },
    );
    await serving;
    return new ServerProcess(child, port);
  }

  /** VmRSS and VmHWM (peak) of the server, bytes. */
  memory(): { rss: number; hwm: number } {
    const status = readFileSync(`/proc/${this.child.pid}/status`, "utf8");
    const kb = (key: string): number =>
      Number(new RegExp(`${key}:\\s+(\\d+) kB`).exec(status)![1]) * 1024;
    return { rss: kb("VmRSS"), hwm: kb("VmHWM") };
  }

  /**
   * The server's CPU time so far, user + system, in seconds: utime and stime
   * of /proc/PID/stat (proc(5): fields 14 and 15, in clock ticks), all of its
   * threads included.
   */
  cpuSeconds(): number {
    return cpuSecondsOf(this.child.pid!);
  }

  /** Stops the server as Ctrl-C would (SIGTERM: it closes its store, node writes --cpu-prof files). */
  terminate(): Promise<void> {
    return stopProcess(this.child, "SIGTERM");
  }

  stop(): Promise<void> {
    return stopProcess(this.child, "SIGKILL");
  }
}

/**
 * The CPU time of process `pid` so far, user + system, in seconds: utime and
 * stime of /proc/PID/stat (proc(5): fields 14 and 15, in clock ticks), all of
 * its threads included.
 */
export function cpuSecondsOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  // comm (field 2) is in parentheses and may hold spaces: count from after it.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // fields[0] is field 3 (state), so field n is fields[n - 3].
  const ticks = Number(fields[14 - 3]) + Number(fields[15 - 3]);
  return ticks / clockTicksPerSecond();
}

let clockTicks: number | null = null;

/** sysconf(_SC_CLK_TCK), the unit of /proc/PID/stat's times (100 on Linux unless built otherwise). */
function clockTicksPerSecond(): number {
  if (clockTicks === null) {
    try {
      clockTicks = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim());
    } catch {
      clockTicks = 100;
    }
    if (!Number.isFinite(clockTicks) || clockTicks <= 0) clockTicks = 100;
  }
  return clockTicks;
}

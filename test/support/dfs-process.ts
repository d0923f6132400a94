// A `dfs serve` child process for the scripts that drive one (benchmarks,
// kernel-client checks): started with node, ready once it prints
// "dfs: serving", stopped with a signal.

import { spawn, type ChildProcess } from "node:child_process";

export interface DfsProcessOptions {
  /** Node flags before the script (e.g. --cpu-prof). */
  readonly nodeArgs?: readonly string[] | undefined;
  /** Its working directory (default: this process's). */
  readonly cwd?: string | undefined;
  /** Variables added to this process's environment for it. */
  readonly env?: NodeJS.ProcessEnv | undefined;
  /** Each chunk of its standard output (it is read either way). */
  readonly onStdout?: (text: string) => void;
  /** Each chunk of its standard error; without, it goes to this process's. */
  readonly onStderr?: (text: string) => void;
}

export interface DfsProcess {
  readonly child: ChildProcess;
  /** Resolves once it serves; rejects if it exits first (with what it printed). */
  readonly serving: Promise<void>;
}

/** Starts `node [nodeArgs] <script and args>` (a `dfs serve` command line). */
export function startDfs(command: readonly string[], options: DfsProcessOptions = {}): DfsProcess {
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), ...command], {
    cwd: options.cwd,
    env: { ...process.env, ...options.env },
    stdio: ["ignore", "pipe", options.onStderr === undefined ? "inherit" : "pipe"],
  });
  if (options.onStderr !== undefined) {
    const onStderr = options.onStderr;
    child.stderr?.on("data", (c: Buffer) => onStderr(c.toString("utf8")));
  }
  const serving = new Promise<void>((resolve, reject) => {
    let seen = "";
    child.stdout?.on("data", (chunk: Buffer) => {
      const text = chunk.toString("utf8");
      options.onStdout?.(text);
      if (seen.includes("dfs: serving")) return;
      seen += text;
      if (seen.includes("dfs: serving")) resolve();
    });
    child.once("exit", (code, signal) =>
      reject(new Error(`dfs exited (${code ?? signal}): ${seen}`)),
    );
  });
  // A caller that stops it before it serves need not handle that.
  serving.catch(() => undefined);
  return { child, serving };
}

/** Sends `signal` to `child` and waits for it to exit (at once if it has). */
export function stopProcess(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once("exit", () => resolve());
    child.kill(signal);
  });
}

// `dfs serve` on a data directory as a child process the crash test can kill
// with SIGKILL. The server is src/cli/dfs.ts bundled once into one ES module
// by esbuild (a devDependency; tsx runs on it too): loading
// that takes a third of a second, where tsx transforming the sources at every
// start takes about two — and the test starts the server fifty times.

import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { build } from "esbuild";

/** Where bundles go: dist/ is build output (ignored by git), and below the package so its imports resolve. */
const BUNDLE_DIR = resolve("dist", "test-bundles");

/** Bundles `dfs`; returns the bundle's path and how to remove it. */
export async function bundleServer(): Promise<{ path: string; remove: () => void }> {
  mkdirSync(BUNDLE_DIR, { recursive: true });
  const path = join(BUNDLE_DIR, `dfs-${process.pid}-${Date.now()}.mjs`);
  await build({
    entryPoints: [resolve("src", "cli", "dfs.ts")],
    outfile: path,
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    // better-sqlite3 (native) and pino load from node_modules, as in production.
    packages: "external",
    logLevel: "error",
  });
  return { path, remove: () => rmSync(path, { force: true }) };
}

/** A running `dfs serve` on the store in `dataDir` (SQLite, or what `store` settings say). */
export class CrashServer {
  private constructor(
    readonly child: ChildProcess,
    readonly port: number,
  ) {}

  /** Starts the server; resolves once it listens (rejects if it exits first: the store did not open). */
  static async start(
    bundle: string,
    dataDir: string,
    store: Readonly<Record<string, unknown>> = { backend: "sqlite" },
  ): Promise<CrashServer> {
    const config = join(dataDir, "..", `${dataDir.split("/").pop()}.json`);
    writeFileSync(config, JSON.stringify({ store: { ...store, dataDir }, logLevel: "error" }));
    const child = spawn(
      process.execPath,
      [bundle, "serve", "--listen", "127.0.0.1:0", "--config", config],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    let out = "";
    child.stdout!.setEncoding("utf8");
    child.stderr!.setEncoding("utf8");
    child.stderr!.on("data", (d: string) => (out += d));
    const port = await new Promise<number>((resolvePort, reject) => {
      child.once("exit", (code) => reject(new Error(`dfs serve exited with ${code}: ${out}`)));
      child.stdout!.on("data", (d: string) => {
        out += d;
        const m = /serving NFSv4\.1 on 127\.0\.0\.1:(\d+)/.exec(out);
        if (m !== null) resolvePort(Number(m[1]));
      });
    });
    return new CrashServer(child, port);
  }

  /** kill -9, and waits until the process is gone. */
  async kill(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = once(this.child, "exit");
    this.child.kill("SIGKILL");
    await exited;
  }
}

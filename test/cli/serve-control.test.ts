// `dfs serve` as a child process with its control socket: SIGHUP re-reads the
// exports' rules (a bad file changes nothing and the server serves on), and
// a second server whose default socket is taken serves without one.

import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { controlRequest } from "../../src/control/client.js";
import type { ExportView } from "../../src/control/views.js";
import { startDfs, stopProcess } from "../support/dfs-process.js";
import { freePort } from "../support/ports.js";
import { until } from "../e2e/support.js";

const dir = mkdtempSync(join(tmpdir(), "dfs-serve-control-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function serve(config: string, onOut: (t: string) => void) {
  return startDfs(["src/cli/dfs.ts", "serve", "--config", config], {
    nodeArgs: ["--import", "tsx"],
    onStdout: onOut,
    onStderr: onOut,
  });
}

describe("dfs serve's control socket", () => {
  it("SIGHUP applies new export rules, adds and removes exports; a bad file changes nothing", async () => {
    const config = join(dir, "reload.yaml");
    const socket = join(dir, "reload.sock");
    const write = (readOnly: string, more = "  - { path: /b, backend: memory }\n") =>
      writeFileSync(
        config,
        `listen: ["127.0.0.1:${port}"]
logLevel: warn
store: { backend: memory, dataDir: ${join(dir, "reload-data")} }
control: { socket: ${socket} }
exports:
  - { path: /a, backend: memory, readOnly: ${readOnly} }
${more}`,
      );
    const port = await freePort();
    write("false");
    let out = "";
    const dfs = serve(config, (t) => (out += t));
    const access = async () =>
      (
        (await controlRequest({ socket }, "GET", "/v1/exports")).body as { exports: ExportView[] }
      ).exports.map((e) => `${e.path} ${e.readOnly ? "ro" : "rw"}`);
    try {
      await dfs.serving;
      expect(await access()).toEqual(["/a rw", "/b rw"]);
      write("true");
      dfs.child.kill("SIGHUP");
      await until(() => out.includes("SIGHUP: exports reloaded: new rules for /a"), "the reload");
      expect(await access()).toEqual(["/a ro", "/b rw"]);
      // /b goes, /c comes: a SQLite store opened while serving.
      write("true", `  - { path: /c, backend: sqlite, dataDir: ${join(dir, "c-data")} }\n`);
      dfs.child.kill("SIGHUP");
      await until(
        () => out.includes("SIGHUP: exports reloaded: added /c; removed /b"),
        "the second reload",
      );
      expect(await access()).toEqual(["/a ro", "/c rw"]);
      write('"maybe"');
      dfs.child.kill("SIGHUP");
      await until(() => out.includes("SIGHUP: nothing reloaded"), "the refused reload");
      expect(out).toMatch(/exports\[0\]\.readOnly/);
      expect(await access()).toEqual(["/a ro", "/c rw"]);
    } finally {
      await stopProcess(dfs.child, "SIGTERM");
    }
    expect(dfs.child.exitCode).toBe(0);
  }, 60_000);

  it("a second server whose default socket is taken serves without one, and says so", async () => {
    const data = join(dir, "shared-data");
    const configs = await Promise.all(
      ["first", "second"].map(async (name) => {
        const file = join(dir, `${name}.json`);
        writeFileSync(
          file,
          JSON.stringify({
            listen: [`127.0.0.1:${await freePort()}`],
            logLevel: "warn",
            store: { backend: "memory", dataDir: data },
          }),
        );
        return file;
      }),
    );
    let firstOut = "";
    let secondOut = "";
    const first = serve(configs[0]!, (t) => (firstOut += t));
    try {
      await first.serving;
      await until(
        () => firstOut.includes(`dfs: control API on ${join(data, "control.sock")}`),
        "the first server's control socket",
      );
      const second = serve(configs[1]!, (t) => (secondOut += t));
      try {
        await second.serving;
        await until(
          () => secondOut.includes("is in use by another server: no control socket"),
          "the second server's warning",
        );
        const status = await controlRequest(
          { socket: join(data, "control.sock") },
          "GET",
          "/v1/status",
        );
        expect((status.body as { pid: number }).pid).toBe(first.child.pid);
      } finally {
        await stopProcess(second.child, "SIGTERM");
      }
    } finally {
      await stopProcess(first.child, "SIGTERM");
    }
  }, 60_000);
});

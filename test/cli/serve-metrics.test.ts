// `dfs serve` with `metrics.listen`, as a child process: it prints where the
// metrics are, serves them there, and still exits on SIGTERM although a
// scraper's keep-alive connection is open (the listener never holds the
// process).

import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { startDfs, stopProcess } from "../support/dfs-process.js";
import { freePort } from "../support/ports.js";
import { parseExposition, valueOf } from "../control/prom-parse.js";

const dir = mkdtempSync(join(tmpdir(), "dfs-serve-metrics-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("dfs serve with metrics.listen", () => {
  it("prints the metrics URL, serves /metrics there, and exits on SIGTERM with a scraper connected", async () => {
    const [nfsPort, metricsPort] = [await freePort(), await freePort()];
    const config = join(dir, "config.json");
    writeFileSync(
      config,
      JSON.stringify({
        listen: [`127.0.0.1:${nfsPort}`],
        store: { backend: "memory" },
        logLevel: "warn",
        metrics: { listen: `127.0.0.1:${metricsPort}` },
      }),
    );
    let out = "";
    const dfs = startDfs(["src/cli/dfs.ts", "serve", "--config", config], {
      nodeArgs: ["--import", "tsx"],
      onStdout: (text) => (out += text),
    });
    try {
      await dfs.serving;
      const url = `http://127.0.0.1:${metricsPort}/metrics`;
      expect(out).toContain(`dfs: metrics on ${url}\n`);
      const res = await fetch(url, { headers: { connection: "keep-alive" } });
      expect(res.status).toBe(200);
      const families = parseExposition(await res.text());
      expect(valueOf(families, "dfs_grace")).toBe(0);
      expect(valueOf(families, "dfs_connections")).toBe(0);
      expect(families.has("process_cpu_seconds_total")).toBe(true);
    } finally {
      await stopProcess(dfs.child, "SIGTERM");
    }
    expect(dfs.child.exitCode).toBe(0);
  }, 60_000);
});

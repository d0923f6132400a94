// `dfs serve` on its default store (SQLite and local files) loads neither the
// PostgreSQL driver nor the AWS SDK: they are imported only when a
// configuration names a PostgreSQL database or an S3 bucket (or when
// `dfs config validate` probes one), so a server on local files starts
// without their cost (~0.15 s and ~20 MiB). The control case shows the check
// sees them when they are loaded.

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { startDfs, stopProcess } from "../support/dfs-process.js";
import { freePort } from "../support/ports.js";

const dir = mkdtempSync(join(tmpdir(), "dfs-lazy-drivers-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const NODE_ARGS = ["--import", "tsx", "--import", "./test/support/loaded-packages.ts"];

function loadedBy(name: string): { env: NodeJS.ProcessEnv; read: () => string[] } {
  const list = join(dir, `${name}.packages`);
  return {
    env: { DFS_TEST_LOADED_PACKAGES: list },
    read: () => readFileSync(list, "utf8").split("\n"),
  };
}

describe("the store drivers a configuration does not name", () => {
  it("are not loaded by dfs serve on SQLite and local files", async () => {
    const config = join(dir, "sqlite.json");
    writeFileSync(
      config,
      JSON.stringify({
        listen: [`127.0.0.1:${await freePort()}`],
        store: { dataDir: join(dir, "data") },
        logLevel: "warn",
      }),
    );
    const loaded = loadedBy("serve");
    const dfs = startDfs(["src/cli/dfs.ts", "serve", "--config", config], {
      nodeArgs: NODE_ARGS,
      env: loaded.env,
    });
    try {
      await dfs.serving;
    } finally {
      await stopProcess(dfs.child, "SIGTERM");
    }
    expect([dfs.child.exitCode, dfs.child.signalCode]).toEqual([0, null]);
    const packages = loaded.read();
    expect(packages).toContain("better-sqlite3");
    expect(packages).not.toContain("pg");
    expect(packages).not.toContain("@aws-sdk/client-s3");
  }, 60_000);

  it("are loaded (and seen by this check) when dfs config validate probes a database", async () => {
    const config = join(dir, "postgres.yaml");
    writeFileSync(
      config,
      `store:\n  backend: postgres\n  postgresUrl: postgres://dfs:pw@127.0.0.1:${await freePort()}/dfs\n`,
    );
    const loaded = loadedBy("validate");
    const validate = startDfs(
      ["src/cli/dfs.ts", "config", "validate", "--config", config, "--timeout-ms", "2000"],
      { nodeArgs: NODE_ARGS, env: loaded.env, onStderr: () => undefined },
    );
    await new Promise((resolve) => validate.child.once("exit", resolve));
    expect(validate.child.exitCode).toBe(1);
    const packages = loaded.read();
    expect(packages).toContain("pg");
    expect(packages).toContain("@aws-sdk/client-s3");
  }, 60_000);
});

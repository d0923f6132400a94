import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it, vi } from "vitest";
import { parse } from "yaml";
import { main } from "../../src/cli/dfs.js";
import { configCommand } from "../../src/cli/config-command.js";
import { freePort } from "../support/ports.js";

const dir = mkdtempSync(join(tmpdir(), "dfs-config-cli-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

async function run(
  args: string[],
  env: { [name: string]: string } = {},
): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await configCommand(args, { out: (t) => out.push(t), err: (t) => err.push(t), env });
  return { code, out: out.join("\n"), err: err.join("\n") };
}

describe("dfs config validate", () => {
  it("prints ok and exits 0 for a good file", async () => {
    const f = file("good.yaml", "nfs:\n  leaseTimeSec: 30\nstore:\n  backend: memory\n");
    expect(await run(["validate", "--config", f])).toEqual({ code: 0, out: "ok", err: "" });
    expect(await run(["validate"])).toEqual({ code: 0, out: "ok", err: "" });
  });

  it("prints every problem with file:line:col and exits 1", async () => {
    const f = file("bad.yaml", "nfs:\n  leaseTimee: 30\n  leaseTimeSec: '90'\n");
    const r = await run(["validate", "--config", f], { DFS_STORE_BACKEND: "tape" });
    expect(r.code).toBe(1);
    expect(r.out).toBe("");
    expect(r.err.split("\n")).toEqual([
      expect.stringMatching(new RegExp(`^${f}:2:3: nfs\\.leaseTimee: unknown key \\(known: `)),
      `${f}:3:17: nfs.leaseTimeSec: must be an integer in [1, 4294967295], not "90"`,
      'DFS_STORE_BACKEND: store.backend: must be one of "memory", "sqlite", "postgres", not "tape"',
    ]);
  });

  it("reports a store nobody answers at, naming its key, unless --no-connect", async () => {
    const port = await freePort();
    const f = file(
      "pg.yaml",
      `store:\n  backend: postgres\n  postgresUrl: postgres://dfs:pw@127.0.0.1:${port}/dfs\n`,
    );
    const r = await run(["validate", "--config", f, "--timeout-ms", "2000"]);
    expect(r.code).toBe(1);
    expect(r.err).toBe(
      `${f}:3:16: store.postgresUrl: cannot use the database postgres://dfs:***@127.0.0.1:${port}/dfs (within 2000 ms): connect ECONNREFUSED 127.0.0.1:${port}`,
    );
    expect(await run(["validate", "--config", f, "--no-connect"])).toMatchObject({ code: 0 });
  });

  it("names an unreadable file", async () => {
    const r = await run(["validate", "--config", join(dir, "missing.yaml")]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^cannot read config file .*missing\.yaml: ENOENT/);
  });

  it("refuses unknown subcommands and options with usage, exit 2", async () => {
    expect((await run(["check"])).code).toBe(2);
    expect((await run(["validate", "--bogus"])).code).toBe(2);
    expect((await run(["validate", "--timeout-ms", "0"])).code).toBe(2);
    expect((await run([])).err).toMatch(/usage: dfs config validate/);
  });
});

describe("dfs config show", () => {
  const f = () =>
    file(
      "show.yaml",
      "nfs:\n  leaseTimeSec: 30\nstore:\n  backend: postgres\n  postgresUrl: postgres://dfs:hunter2@db/dfs\ncontrol:\n  listen: 127.0.0.1:9000\n  token: 0123456789abcdefXYZ\n",
    );

  it("prints the effective configuration as YAML: defaults, file, environment, command line", async () => {
    const r = await run(["show", "--config", f(), "--listen", "127.0.0.1:7049"], {
      DFS_LOG_LEVEL: "debug",
      DFS_NFS_GRACE_TIME_SEC: "45",
    });
    expect(r.code).toBe(0);
    const shown = parse(r.out) as {
      listen: string[];
      logLevel: string;
      nfs: { leaseTimeSec: number; graceTimeSec: number; maxOperations: number };
      store: { postgresUrl: string };
      control: { token: string };
    };
    expect(shown.listen).toEqual(["127.0.0.1:7049"]);
    expect(shown.logLevel).toBe("debug");
    expect(shown.nfs).toMatchObject({ leaseTimeSec: 30, graceTimeSec: 45, maxOperations: 64 });
    expect(shown.store.postgresUrl).toBe("postgres://dfs:***@db/dfs");
    expect(shown.control.token).toBe("(redacted)");
    expect(r.out).not.toMatch(/hunter2|XYZ/);
  });

  it("prints JSON with --json", async () => {
    const r = await run(["show", "--config", f(), "--json"]);
    expect(r.code).toBe(0);
    expect((JSON.parse(r.out) as { nfs: { leaseTimeSec: number } }).nfs.leaseTimeSec).toBe(30);
  });
});

describe("dfs", () => {
  it("runs config as a subcommand", async () => {
    const log = vi.spyOn(console, "log").mockImplementation(() => undefined);
    try {
      expect(await main(["config", "validate", "--no-connect"])).toBe(0);
      expect(log).toHaveBeenCalledWith("ok");
    } finally {
      log.mockRestore();
    }
  });

  it("serve names the setting when it cannot open the store", async () => {
    const port = await freePort();
    const f = file(
      "serve.yaml",
      [
        "listen: ['127.0.0.1:0']",
        "store:",
        "  backend: postgres",
        `  dataDir: ${join(dir, "data")}`,
        `  postgresUrl: postgres://dfs:pw@127.0.0.1:${port}/dfs`,
      ].join("\n"),
    );
    const error = vi.spyOn(console, "error").mockImplementation(() => undefined);
    try {
      expect(await main(["serve", "--config", f])).toBe(1);
      expect(error).toHaveBeenCalledWith(
        `dfs serve: store.postgresUrl: PostgreSQL store postgres://dfs:***@127.0.0.1:${port}/dfs: connect ECONNREFUSED 127.0.0.1:${port}`,
      );
    } finally {
      error.mockRestore();
    }
  });
});

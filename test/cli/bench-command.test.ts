// `dfsctl bench`: its arguments, exit statuses, table and JSON, against the
// in-process server.

import { describe, expect, it } from "vitest";
import type { BenchIo } from "../../src/cli/bench-command.js";
import {
  EXIT_OK,
  EXIT_UNREACHABLE,
  EXIT_USAGE,
  benchCommand,
  parseBenchArgs,
} from "../../src/cli/bench-command.js";
import { main } from "../../src/cli/dfsctl.js";
import { useServer } from "../e2e/support.js";
import { freePort } from "../support/ports.js";

const running = useServer();

function capture(progressByDefault = false): BenchIo & { out_: string[]; err_: string[] } {
  const out_: string[] = [];
  const err_: string[] = [];
  return {
    out_,
    err_,
    out: (l) => out_.push(l),
    err: (l) => err_.push(l),
    progressByDefault,
  };
}

describe("dfsctl bench", () => {
  it.each([
    [[], /one HOST/],
    [["127.0.0.1"], /not HOST/],
    [["127.0.0.1:/export", "--workload", "nope"], /unknown workload nope/],
    [["127.0.0.1:/export", "--count", "5", "--duration", "1"], /not both/],
    [["127.0.0.1:/export", "--sessions", "0"], /--sessions must be an integer from 1/],
    [["127.0.0.1:/export", "--inflight", "x"], /--inflight/],
    [["127.0.0.1:/export", "--bogus"], /bogus/],
    [["127.0.0.1:/export", "--uid", "1.5"], /--uid must be an integer from 0 to 4294967295/],
    [["127.0.0.1:/export", "--gid", "4294967296"], /--gid must be an integer from 0/],
    [["127.0.0.1:/export", "--think", "60001"], /--think must be an integer from 0 to 60000/],
    [["127.0.0.1:/export", "--think", "0.5"], /--think must be an integer/],
  ])("refuses %j with exit 2", async (args, message) => {
    const io = capture();
    expect(await benchCommand(args, io)).toBe(EXIT_USAGE);
    expect(io.err_.join("\n")).toMatch(message);
  });

  it("defaults to a 10 s getattr run with one session, and the readdir default of 10000 entries", () => {
    const p = parseBenchArgs(["localhost:/export"]);
    expect(p.options).toMatchObject({
      host: "localhost",
      port: 2049,
      workload: "getattr",
      sessions: 1,
      connections: 1,
      inflight: 1,
      durationSec: 10,
    });
    expect(parseBenchArgs(["h:/x", "--workload", "readdir"]).options).toMatchObject({
      files: 10_000,
    });
  });

  it("prints a JSON report of an exact count and exits 0", async () => {
    const io = capture();
    const code = await benchCommand(
      [
        `127.0.0.1:${running.port}:/export`,
        "--workload",
        "churn",
        "--count",
        "10",
        "--sessions",
        "2",
        "--inflight",
        "2",
        "--json",
      ],
      io,
    );
    expect(code).toBe(EXIT_OK);
    const r: unknown = JSON.parse(io.out_.join("\n"));
    expect(r).toMatchObject({
      workload: "churn",
      operations: 10,
      compounds: 30,
      errors: 0,
      bytes: 40960,
      statuses: { NFS4_OK: 30 },
      serverCpu: null,
    });
    expect(Object.keys(r as object).sort()).toEqual(
      [
        "aborted",
        "bytes",
        "clientCpu",
        "compounds",
        "connections",
        "errors",
        "highestSlotUsed",
        "inflight",
        "latencyMs",
        "thinkMs",
        "mbPerSec",
        "operations",
        "opsPerSec",
        "path",
        "seconds",
        "server",
        "serverCpu",
        "sessions",
        "slotsGranted",
        "statuses",
        "warnings",
        "workload",
      ].sort(),
    );
  });

  it("takes --think as the pause after each reply; without it, none", () => {
    expect(parseBenchArgs(["h:/x", "--think", "2"]).options).toMatchObject({ thinkMs: 2 });
    expect(parseBenchArgs(["h:/x"]).options).not.toHaveProperty("thinkMs");
  });

  it("takes --uid and --gid as the AUTH_SYS credential; without them, the library's default", () => {
    expect(parseBenchArgs(["h:/x", "--uid", "1000", "--gid", "100"]).options).toMatchObject({
      cred: { uid: 1000, gid: 100 },
    });
    expect(parseBenchArgs(["h:/x", "--uid", "1000"]).options).toMatchObject({
      cred: { uid: 1000, gid: 0 },
    });
    expect(parseBenchArgs(["h:/x"]).options).not.toHaveProperty("cred");
  });

  it("warns on stderr and in the JSON when --inflight exceeds the slots granted", async () => {
    const io = capture();
    const code = await benchCommand(
      [`127.0.0.1:${running.port}:/export`, "--count", "5", "--inflight", "80", "--json"],
      io,
    );
    expect(code).toBe(EXIT_OK);
    expect(io.err_).toEqual([
      expect.stringMatching(/^dfsctl bench: warning: --inflight 80 exceeds the 64 slot\(s\)/),
    ]);
    const r = JSON.parse(io.out_.join("\n")) as { warnings: string[] };
    expect(r.warnings).toEqual([expect.stringMatching(/--inflight 80 exceeds/)]);
    const table = capture();
    await benchCommand(
      [`127.0.0.1:${running.port}:/export`, "--count", "5", "--inflight", "80"],
      table,
    );
    expect(table.out_.join("\n")).toMatch(/warning: +--inflight 80 exceeds/);
  });

  it("prints no warning when the slots suffice", async () => {
    const io = capture();
    await benchCommand(
      [`127.0.0.1:${running.port}:/export`, "--count", "5", "--inflight", "64", "--json"],
      io,
    );
    expect(io.err_).toEqual([]);
    expect(JSON.parse(io.out_.join("\n"))).toMatchObject({ warnings: [] });
  });

  it("prints a table", async () => {
    const io = capture();
    const code = await benchCommand([`127.0.0.1:${running.port}:/export`, "--count", "5"], io);
    expect(code).toBe(EXIT_OK);
    const text = io.out_.join("\n");
    expect(text).toMatch(/workload: getattr/);
    expect(text).toMatch(/ops\s+compounds\s+errors\s+ops\/s/);
    expect(text).toMatch(/NFS4_OK\s+5/);
  });

  it("exits 3 when the server cannot be reached or the path does not exist", async () => {
    const port = await freePort();
    const io = capture();
    expect(await benchCommand([`127.0.0.1:${port}:/export`, "--count", "1"], io)).toBe(
      EXIT_UNREACHABLE,
    );
    expect(io.err_.join("\n")).toMatch(/cannot connect/);
    const missing = capture();
    expect(
      await benchCommand([`127.0.0.1:${running.port}:/export/none`, "--count", "1"], missing),
    ).toBe(EXIT_UNREACHABLE);
    expect(missing.err_.join("\n")).toMatch(/NFS4ERR_NOENT/);
  });

  it("is dispatched by dfsctl", async () => {
    expect(await main(["bench", "--workload"])).toBe(EXIT_USAGE);
  });
});

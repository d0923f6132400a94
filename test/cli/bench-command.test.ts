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
        "workload",
      ].sort(),
    );
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

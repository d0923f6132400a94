// bench:peers' pure logic (peers-report.ts): options, loads, the order of the
// servers, and the tables built from reports. No Ganesha, no processes.

import { describe, expect, it } from "vitest";
import type { BenchReport } from "../../src/bench/runner.js";
import { WORKLOADS } from "../../src/bench/workloads.js";
import type { PeerRun, PeerServer } from "./peers-report.js";
import {
  DEFAULT_LOADS,
  PeersUsageError,
  allClean,
  benchArgs,
  failureOf,
  median,
  parseLoad,
  parsePeersArgs,
  portOf,
  reportOf,
  serverOrder,
  shellLine,
  summarise,
  summaryTable,
  workloadTable,
} from "./peers-report.js";

const parse = (...argv: string[]) => parsePeersArgs(argv, { shared: "/shared" });

function report(over: Partial<BenchReport> = {}): BenchReport {
  return {
    workload: "getattr",
    server: "127.0.0.1:1",
    path: "/export",
    sessions: 2,
    connections: 2,
    inflight: 8,
    thinkMs: 0,
    slotsGranted: [64, 64],
    highestSlotUsed: [7, 7],
    warnings: [],
    seconds: 5,
    operations: 5000,
    compounds: 5000,
    errors: 0,
    opsPerSec: 1000,
    bytes: 0,
    mbPerSec: 0,
    latencyMs: { p50: 1, p99: 2, p999: 3, min: 0.5, max: 4, mean: 1.1 },
    statuses: { NFS4_OK: 5000 },
    aborted: null,
    clientCpu: { seconds: 2, usPerOp: 400, utilisation: 0.4 },
    serverCpu: { pid: 42, seconds: 1, usPerOp: 200, utilisation: 0.2 },
    ...over,
  };
}

function run(server: PeerServer, round: number, over: Partial<PeerRun> = {}): PeerRun {
  return {
    server,
    workload: "getattr",
    round,
    args: [],
    exitCode: 0,
    signal: null,
    report: report(),
    stderr: "",
    ...over,
  };
}

/** A clean run of `server` with these figures. */
const clean = (server: PeerServer, round: number, opsPerSec: number, usPerOp: number) =>
  run(server, round, {
    report: report({
      opsPerSec,
      serverCpu: { pid: 1, seconds: 1, usPerOp, utilisation: 0.5 },
      clientCpu: { seconds: 1, usPerOp: 1, utilisation: 0.9 },
    }),
  });

describe("parsePeersArgs", () => {
  it("defaults: every workload, 5 s, 3 rounds, the four servers, port 21560", () => {
    expect(parse()).toMatchObject({
      workloads: [...WORKLOADS],
      durationSec: 5,
      rounds: 3,
      servers: ["dfs", "dfs-mem", "ganesha-vfs", "ganesha-mem"],
      baseline: null,
      port: 21560,
      shared: "/shared",
      dir: "/var/tmp",
      keep: false,
      out: null,
      loads: DEFAULT_LOADS,
    });
    expect(parse("--help")).toBeNull();
  });

  it("the default loads: small ops 2×2×8, write/read one session over a 1 MiB file, readdir 10,000", () => {
    const small = { sessions: "2", connections: "2", inflight: "8" };
    expect(DEFAULT_LOADS).toEqual({
      getattr: small,
      lookup: small,
      churn: small,
      mixed: small,
      write: { sessions: "1", connections: "1", inflight: "4", "file-size": "1" },
      read: { sessions: "1", connections: "1", inflight: "4", "file-size": "1" },
      readdir: { inflight: "1", files: "10000" },
    });
  });

  it("--load replaces the flags it names and keeps the others", () => {
    const o = parse("--load", "readdir:--inflight 2 --files 500", "--load", "write:--sessions 3");
    expect(o?.loads.readdir).toEqual({ inflight: "2", files: "500" });
    expect(o?.loads.write).toEqual({
      sessions: "3",
      connections: "1",
      inflight: "4",
      "file-size": "1",
    });
    expect(o?.loads.getattr).toEqual(DEFAULT_LOADS.getattr);
  });

  it("--only keeps the servers' order; base comes with --baseline, last", () => {
    expect(parse("--only", "ganesha-mem,dfs-mem")?.servers).toEqual(["dfs-mem", "ganesha-mem"]);
    expect(parse("--baseline", "/x")?.servers).toEqual([
      "dfs",
      "dfs-mem",
      "ganesha-vfs",
      "ganesha-mem",
      "base",
    ]);
    expect(parse("--baseline", "/x", "--only", "base,dfs")?.servers).toEqual(["dfs", "base"]);
  });

  it.each([
    [["--workloads", "getattr,nope"], /unknown workload nope/],
    [["--workloads", ","], /names none/],
    [["--rounds", "0"], /--rounds must be an integer from 1/],
    [["--duration", "1.5"], /--duration must be an integer/],
    [["--port", "65535"], /--port must be an integer from 1 to 65531/],
    [["--only", "knfsd"], /unknown server knfsd/],
    [["--only", "base"], /needs --baseline/],
    [["--load", "nope:--inflight 1"], /not WORKLOAD:ARGS/],
    [["--load", "getattr:--json 1"], /--json is not one of --sessions/],
    [["--load", "getattr:--inflight"], /--inflight needs an integer value/],
    [["--load", "getattr:--inflight x"], /--inflight needs an integer value/],
    [["--load", "getattr:inflight 1"], /inflight is not one of/],
    [["--bogus"], /bogus/],
  ])("refuses %j", (argv, message) => {
    expect(() => parse(...argv)).toThrow(PeersUsageError);
    expect(() => parse(...argv)).toThrow(message);
  });
});

describe("parseLoad", () => {
  it("a workload alone sets nothing", () => {
    expect(parseLoad("churn")).toEqual({ workload: "churn", load: {} });
    expect(parseLoad("churn:")).toEqual({ workload: "churn", load: {} });
  });
});

describe("the runs", () => {
  it("alternate the order of the servers each round", () => {
    const s: PeerServer[] = ["dfs", "dfs-mem", "ganesha-vfs"];
    expect([1, 2, 3, 4].map((r) => serverOrder(s, r))).toEqual([
      ["dfs", "dfs-mem", "ganesha-vfs"],
      ["ganesha-vfs", "dfs-mem", "dfs"],
      ["dfs", "dfs-mem", "ganesha-vfs"],
      ["ganesha-vfs", "dfs-mem", "dfs"],
    ]);
    expect(s).toEqual(["dfs", "dfs-mem", "ganesha-vfs"]);
  });

  it("give each server its own port", () => {
    expect(
      (["dfs", "dfs-mem", "ganesha-vfs", "ganesha-mem", "base"] as const).map((s) =>
        portOf(100, s),
      ),
    ).toEqual([100, 101, 102, 103, 104]);
  });

  it("run dfsctl bench with the load, the duration, --json and the server's pid", () => {
    expect(
      benchArgs({
        port: 21562,
        workload: "write",
        load: DEFAULT_LOADS.write,
        durationSec: 3,
        serverPid: 777,
      }),
    ).toEqual([
      "127.0.0.1:21562:/export",
      "--workload",
      "write",
      "--sessions",
      "1",
      "--connections",
      "1",
      "--inflight",
      "4",
      "--file-size",
      "1",
      "--duration",
      "3",
      "--json",
      "--server-pid",
      "777",
    ]);
  });
});

describe("reportOf and failureOf", () => {
  it("takes a JSON report and nothing else", () => {
    expect(reportOf(JSON.stringify(report()))).toEqual(report());
    expect(reportOf("not json")).toBeNull();
    expect(reportOf(JSON.stringify({ opsPerSec: 1 }))).toBeNull();
    expect(reportOf("")).toBeNull();
  });

  it("a clean run is exit 0 with a report without errors", () => {
    expect(failureOf(run("dfs", 1))).toBeNull();
  });

  it("says why a run failed", () => {
    expect(
      failureOf(
        run("dfs", 1, {
          exitCode: 3,
          report: null,
          stderr: "dfs: x\ndfsctl bench: cannot connect to 127.0.0.1:1: ECONNREFUSED\n",
        }),
      ),
    ).toBe("exit 3; no report; dfsctl bench: cannot connect to 127.0.0.1:1: ECONNREFUSED");
    expect(
      failureOf(
        run("dfs", 1, {
          exitCode: 1,
          report: report({
            errors: 4,
            operations: 10,
            statuses: { NFS4_OK: 6, NFS4ERR_DELAY: 4 },
          }),
        }),
      ),
    ).toBe("exit 1; 4 of 10 operations failed (NFS4ERR_DELAY 4)");
    expect(
      failureOf(
        run("dfs", 1, {
          exitCode: 1,
          report: report({ errors: 1, aborted: "connection closed", statuses: { NFS4_OK: 9 } }),
        }),
      ),
    ).toMatch(/stopped: connection closed/);
    expect(failureOf(run("dfs", 1, { exitCode: null, signal: "SIGTERM", report: null }))).toBe(
      "killed by SIGTERM; no report",
    );
    // Exit 0 but errors in the report still fails (a report is not trusted on its exit status alone).
    expect(failureOf(run("dfs", 1, { report: report({ errors: 2 }) }))).toMatch(/2 of 5000/);
  });
});

describe("median and summarise", () => {
  it("median of odd and even counts; null of none", () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([])).toBeNull();
  });

  it("medians over the clean runs only, the failed ones listed", () => {
    const runs = [
      clean("dfs", 1, 100, 30),
      clean("dfs", 2, 300, 10),
      run("dfs", 3, { exitCode: 3, report: null, stderr: "dfsctl bench: cannot connect" }),
      clean("ganesha-vfs", 1, 999, 1),
    ];
    expect(summarise(runs, "getattr", "dfs")).toEqual({
      server: "dfs",
      runs: 3,
      ok: 2,
      opsPerSec: 200,
      mbPerSec: 0,
      serverUsPerOp: 20,
      serverUtilisation: 0.5,
      clientUtilisation: 0.9,
      failures: ["round 3: exit 3; no report; dfsctl bench: cannot connect"],
    });
    expect(summarise(runs, "lookup", "dfs")).toMatchObject({ runs: 0, ok: 0, opsPerSec: null });
  });
});

describe("the tables", () => {
  const servers: PeerServer[] = ["dfs", "dfs-mem", "ganesha-vfs", "ganesha-mem"];

  it("one row per server, the ratios of CPU/op and ops/s, failures shown", () => {
    const runs = [
      clean("dfs", 1, 500, 60),
      clean("dfs-mem", 1, 1000, 20),
      clean("ganesha-vfs", 1, 1000, 40),
      run("ganesha-mem", 1, { exitCode: 3, report: null, stderr: "ganesha gone" }),
    ];
    const t = workloadTable("getattr", DEFAULT_LOADS.getattr, 5, servers, runs);
    expect(t).toContain("### getattr (`--sessions 2 --connections 2 --inflight 8 --duration 5`)");
    expect(t).toContain("| dfs | 500 | 60.0 | 0.50 | 0.90 | 1/1 ok |");
    expect(t).toContain("| ganesha-mem | — | — | — | — | **0/1 ok** |");
    expect(t).toContain("| dfs ÷ ganesha-vfs | 1.50× | 0.50× |");
    expect(t).toContain("| dfs-mem ÷ ganesha-mem | — | — |");
    expect(t).toContain("- FAILED ganesha-mem round 1: exit 3; no report; ganesha gone");
    expect(t).not.toContain("MB/s");
    expect(t).not.toContain("base");
    expect(allClean(runs)).toBe(false);
    expect(allClean(runs.slice(0, 3))).toBe(true);
  });

  it("write and read show MB/s; base is compared with dfs when it ran", () => {
    const io = (server: PeerServer, mb: number) =>
      run(server, 1, { workload: "write", report: report({ mbPerSec: mb, opsPerSec: mb }) });
    const t = workloadTable(
      "write",
      DEFAULT_LOADS.write,
      5,
      ["dfs", "base"],
      [io("dfs", 120), io("base", 100)],
    );
    expect(t).toContain("| server | ops/s | MB/s | server CPU µs/op |");
    expect(t).toContain("| dfs | 120 | 120.0 | 200.0 |");
    expect(t).toContain("| dfs ÷ base | 1.00× | 1.20× |");
  });

  it("the summary: a row per workload, a pair of columns per ratio", () => {
    const runs = [clean("dfs-mem", 1, 300, 10), clean("ganesha-mem", 1, 100, 40)];
    const t = summaryTable(["getattr", "lookup"], servers, runs)!;
    const lines = t.split("\n");
    expect(lines[0]).toBe(
      "| workload | dfs-mem ÷ ganesha-mem CPU/op | dfs-mem ÷ ganesha-mem ops/s |" +
        " dfs ÷ ganesha-vfs CPU/op | dfs ÷ ganesha-vfs ops/s |",
    );
    expect(lines[2]).toBe("| getattr | 0.25× | 3.00× | — | — |");
    expect(lines[3]).toBe("| lookup | — | — | — | — |");
    expect(summaryTable(["getattr"], ["dfs"], runs)).toBeNull();
  });
});

describe("shellLine", () => {
  it("quotes what the shell would split or expand", () => {
    expect(shellLine(["npm", "run", "bench:peers", "--", "--load", "readdir:--files 5"])).toBe(
      "npm run bench:peers -- --load 'readdir:--files 5'",
    );
    expect(shellLine(["it's"])).toBe(`'it'\\''s'`);
  });
});

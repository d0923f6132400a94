// The load generator against the in-process server: every workload runs the
// exact number of operations with the expected COMPOUNDs, uses several slots
// of several sessions at once, and leaves nothing behind. No timing.

import { afterEach, describe, expect, it, vi } from "vitest";
import { nfs_opnum4, nfsstat4 } from "../../generated/nfs4/index.js";
import type { BenchOptions, BenchReport } from "../../src/bench/runner.js";
import { BenchSetupError, measure, runBench, slotWarnings } from "../../src/bench/runner.js";
import type { Send, Workload, WorkloadName } from "../../src/bench/workloads.js";
import { exitStatusOf } from "../../src/cli/bench-command.js";
import { RpcConnectionClosedError } from "../../src/rpc/errors.js";
import { CHURN_WRITE_BYTES, IO_BYTES, makeWorkload } from "../../src/bench/workloads.js";
import { ops, resultOf } from "../../src/client/index.js";
import { ClientConnection } from "../../src/client/transport.js";
import { Session } from "../../src/state/session.js";
import { SlotTable } from "../../src/state/slot-table.js";
import { establish, establishReady, executed, mkdirInExport, useServer } from "../e2e/support.js";
import { freePort } from "../support/ports.js";

const running = useServer();

const N = 30;
const SESSIONS = 2;
const INFLIGHT = 3;

function bench(workload: WorkloadName, extra: Partial<BenchOptions> = {}): Promise<BenchReport> {
  return runBench({
    host: "127.0.0.1",
    port: running.port,
    path: "/export",
    workload,
    sessions: SESSIONS,
    connections: 2,
    inflight: INFLIGHT,
    count: N,
    // Setup and cleanup run up to FILES COMPOUNDs at once: no more than INFLIGHT,
    // so the slot assertions below hold for the setup session too.
    files: INFLIGHT,
    fileSize: 2 * IO_BYTES,
    ...extra,
  });
}

/** The names in /export. */
async function exportNames(): Promise<string[]> {
  const { session } = await establish(running.port);
  const reply = await session.compound([
    ops.putrootfh(),
    ops.lookup("export"),
    ops.readdir(0n, new Uint8Array(8), [], 64 * 1024),
  ]);
  const r = resultOf(reply.resarray[2], nfs_opnum4.OP_READDIR);
  if (r?.status !== 0) throw new Error("READDIR of /export failed");
  return r.resok4.reply.entries.map((e) => Buffer.from(e.name).toString());
}

afterEach(() => {
  vi.restoreAllMocks();
});

// The step's COMPOUNDs per operation, and the operation the server must run once per step.
const CASES: readonly [WorkloadName, number, number, number][] = [
  ["getattr", 1, nfs_opnum4.OP_GETATTR, 0],
  ["lookup", 1, nfs_opnum4.OP_LOOKUP, 0],
  ["churn", 3, nfs_opnum4.OP_REMOVE, CHURN_WRITE_BYTES],
  ["write", 1, nfs_opnum4.OP_WRITE, IO_BYTES],
  ["read", 1, nfs_opnum4.OP_READ, IO_BYTES],
  ["readdir", 1, nfs_opnum4.OP_READDIR, 0],
];

const CHURNS = N / 10;

describe("runBench", () => {
  it.each(CASES)(
    "%s: exactly the operations asked for, all NFS4_OK, several slots of every session",
    async (workload, compoundsPerOp, op, bytesPerOp) => {
      const before = await exportNames();
      const begin = vi.spyOn(SlotTable.prototype, "begin");
      const bind = vi.spyOn(Session.prototype, "bind");
      const executedBefore = executed(running.server, op);
      const acceptedBefore = running.server.rpc.traffic().accepted;
      const r = await bench(workload);
      // Two TCP connections, each session bound to both.
      expect(running.server.rpc.traffic().accepted - acceptedBefore).toBe(2);
      const bound = new Map<unknown, Set<number>>();
      bind.mock.calls.forEach(([conn], i) => {
        const session = bind.mock.contexts[i];
        bound.set(session, (bound.get(session) ?? new Set()).add(conn.id));
      });
      expect([...bound.values()].map((ids) => ids.size)).toEqual([2, 2]);
      expect(r).toMatchObject({
        workload,
        operations: N,
        compounds: N * compoundsPerOp,
        errors: 0,
        bytes: N * bytesPerOp,
        statuses: { NFS4_OK: N * compoundsPerOp },
        aborted: null,
        sessions: SESSIONS,
        connections: 2,
        serverCpu: null,
      });
      expect(Object.keys(r.statuses)).toEqual(["NFS4_OK"]);
      // The measured steps ran the operation N times; setup adds the LOOKUP of
      // "export", cleanup the REMOVE of the run's directory.
      const extra: Partial<Record<WorkloadName, number>> = { lookup: 1, churn: 1 };
      expect(executed(running.server, op) - executedBefore).toBe(N + (extra[workload] ?? 0));
      // Server side: every session's requests came on slots 0 … INFLIGHT-1, never higher.
      const perTable = new Map<unknown, number>();
      begin.mock.calls.forEach(([slotid], i) => {
        const table = begin.mock.contexts[i];
        perTable.set(table, Math.max(perTable.get(table) ?? 0, slotid));
      });
      const highest = [...perTable.values()];
      expect(highest.filter((h) => h === INFLIGHT - 1).length).toBe(SESSIONS);
      expect(Math.max(...highest)).toBe(INFLIGHT - 1);
      expect(r.highestSlotUsed).toEqual([INFLIGHT - 1, INFLIGHT - 1]);
      expect(r.latencyMs.p50).toBeGreaterThan(0);
      expect(r.latencyMs.p50).toBeLessThanOrEqual(r.latencyMs.p99);
      expect(r.latencyMs.p99).toBeLessThanOrEqual(r.latencyMs.p999);
      expect(r.latencyMs.p999).toBeLessThanOrEqual(r.latencyMs.max);
      // The run's directory and everything in it are gone.
      expect(await exportNames()).toEqual(before);
    },
  );

  it("mixed: 6 getattr, 3 lookup, 1 churn of every 10 operations", async () => {
    const count = (op: number) => executed(running.server, op);
    const before = [nfs_opnum4.OP_GETATTR, nfs_opnum4.OP_OPEN, nfs_opnum4.OP_WRITE].map(count);
    const r = await bench("mixed", { count: 10 * CHURNS });
    expect(r).toMatchObject({
      operations: 10 * CHURNS,
      compounds: 12 * CHURNS,
      errors: 0,
      bytes: CHURNS * CHURN_WRITE_BYTES,
    });
    const after = [nfs_opnum4.OP_GETATTR, nfs_opnum4.OP_OPEN, nfs_opnum4.OP_WRITE].map(count);
    // GETATTR: 6 getattr + 3 lookup steps; OPEN: churns + the lookup names made in setup.
    expect(after.map((a, i) => a - before[i]!)).toEqual([9 * CHURNS, CHURNS + INFLIGHT, CHURNS]);
  });

  it("gives each step's replies back once the step has returned: READ buffers serve later steps", async () => {
    const release = vi.spyOn(ClientConnection.prototype, "releaseReply");
    const r = await bench("read");
    expect(r.errors).toBe(0);
    // Every measured COMPOUND's reply; READ replies are the 1 MiB ones.
    const large = release.mock.calls.map(([bytes]) => bytes).filter((b) => b.length > IO_BYTES);
    expect(large.length).toBe(N);
    // At most SESSIONS × INFLIGHT replies are out at once, so most buffers served several.
    expect(new Set(large.map((b) => b.buffer)).size).toBeLessThanOrEqual(2 * SESSIONS * INFLIGHT);
  });

  it("reports the server's CPU when given its pid (here: this process)", async () => {
    const r = await bench("getattr", { serverPid: process.pid, sessions: 1, connections: 1 });
    expect(r.serverCpu).toMatchObject({ pid: process.pid });
    expect(r.serverCpu!.seconds).toBeGreaterThanOrEqual(0);
    expect(r.clientCpu.seconds).toBeGreaterThanOrEqual(0);
    expect(JSON.parse(JSON.stringify(r))).toEqual(r);
  });

  it("sends every call with the AUTH_SYS uid asked for (default 0)", async () => {
    const begin = vi.spyOn(SlotTable.prototype, "begin");
    // /export belongs to root, mode 755: uid 1234 may not make the run's directory there.
    await expect(bench("getattr", { cred: { uid: 1234, gid: 5678 } })).rejects.toThrow(
      /NFS4ERR_ACCESS/,
    );
    const principals = new Set(begin.mock.calls.map(([, , identity]) => identity.principal));
    expect([...principals]).toEqual(["sys:1234"]);
    begin.mockClear();
    await bench("getattr");
    expect(new Set(begin.mock.calls.map(([, , identity]) => identity.principal))).toEqual(
      new Set(["sys:0"]),
    );
  });

  it("asks for as many slots as --inflight when that is more than 64", async () => {
    const r = await bench("getattr", { inflight: 70, sessions: 1, count: 5 });
    // The in-process server grants what it is asked up to nfs.maxSlotsPerSession (64).
    expect(r.slotsGranted).toEqual([64]);
    expect(r.warnings).toEqual([expect.stringMatching(/--inflight 70 exceeds the 64 slot/)]);
  });

  it("says the server cannot be reached", async () => {
    const port = await freePort();
    await expect(
      runBench({
        host: "127.0.0.1",
        port,
        path: "/export",
        workload: "getattr",
        sessions: 1,
        connections: 1,
        inflight: 1,
        count: 1,
        files: 1,
        fileSize: IO_BYTES,
      }),
    ).rejects.toBeInstanceOf(BenchSetupError);
  });

  it("refuses a path that does not exist", async () => {
    await expect(bench("getattr", { path: "/export/nowhere" })).rejects.toThrow(
      /nowhere: NFS4ERR_NOENT/,
    );
  });
});

/** The PUTFH target, offset and whether a COMMIT came along, of each WRITE or READ sent. */
interface IoCall {
  readonly session: number;
  readonly fh: string;
  readonly offset: number;
  readonly commit: boolean;
}

describe("write and read workloads", () => {
  it.each(["write", "read"] as const)(
    "%s: each session goes sequentially over its own file",
    async (name) => {
      const { session } = await establishReady(running.port);
      const dirName = `per-session-${name}`;
      const dirFh = await mkdirInExport(session, dirName);
      const w = makeWorkload(name, {
        session,
        exportFh: dirFh,
        dirFh,
        files: 1,
        fileSize: 2 * IO_BYTES,
        sessions: 2,
      });
      await w.setup();
      const prefix = name === "write" ? "w" : "r";
      const fhOf = async (n: string): Promise<string> => {
        const reply = await session.compound([ops.putfh(dirFh), ops.lookup(n), ops.getfh()]);
        const fh = resultOf(reply.resarray[2], nfs_opnum4.OP_GETFH);
        if (fh?.status !== nfsstat4.NFS4_OK) throw new Error(`no ${n}`);
        return Buffer.from(fh.resok4.object).toString("hex");
      };
      const files = [await fhOf(`${prefix}0`), await fhOf(`${prefix}1`)];
      expect(files[0]).not.toBe(files[1]);
      const calls: IoCall[] = [];
      const sendAs =
        (s: number): Send =>
        (argops) => {
          const putfh = argops[0]!.argop === nfs_opnum4.OP_PUTFH ? argops[0]!.opputfh : undefined;
          const io = argops[1]!;
          const offset =
            io.argop === nfs_opnum4.OP_WRITE
              ? io.opwrite.offset
              : io.argop === nfs_opnum4.OP_READ
                ? io.opread.offset
                : -1n;
          calls.push({
            session: s,
            fh: Buffer.from(putfh?.object ?? []).toString("hex"),
            offset: Number(offset),
            commit: argops.some((a) => a.argop === nfs_opnum4.OP_COMMIT),
          });
          return session.compound(argops);
        };
      // Operations interleaved over the sessions as the runner's workers take them.
      const order = [0, 1, 0, 0, 1];
      for (const [i, s] of order.entries()) {
        const r = await w.step(sendAs(s), i, s);
        expect(r).toEqual({ statuses: [nfsstat4.NFS4_OK], bytes: IO_BYTES });
      }
      const M = IO_BYTES;
      expect(calls).toEqual([
        { session: 0, fh: files[0], offset: 0, commit: false },
        { session: 1, fh: files[1], offset: 0, commit: false },
        { session: 0, fh: files[0], offset: M, commit: name === "write" },
        { session: 0, fh: files[0], offset: 0, commit: false },
        { session: 1, fh: files[1], offset: M, commit: name === "write" },
      ]);
      await w.cleanup();
      const left = await session.compound([
        ops.putfh(dirFh),
        ops.readdir(0n, new Uint8Array(8), [], 64 * 1024),
      ]);
      const r = resultOf(left.resarray[1], nfs_opnum4.OP_READDIR);
      expect(r?.status === nfsstat4.NFS4_OK && r.resok4.reply.entries).toEqual([]);
    },
  );
});

describe("slotWarnings", () => {
  it("warns only when --inflight exceeds the fewest slots granted", () => {
    expect(slotWarnings(8, [8, 16])).toEqual([]);
    expect(slotWarnings(1, [])).toEqual([]);
    const [w, ...more] = slotWarnings(9, [16, 8]);
    expect(more).toEqual([]);
    expect(w).toMatch(/--inflight 9 exceeds the 8 slot\(s\) the server granted \(granted 16,8\)/);
  });
});

describe("measure", () => {
  const options = {
    host: "127.0.0.1",
    port: 0,
    path: "/export",
    workload: "getattr",
    sessions: 1,
    connections: 1,
    inflight: 2,
  } as const;

  it("counts failed COMPOUNDs by status and the operations they failed", async () => {
    const { session } = await establish(running.port);
    const workload: Workload = {
      setup: async () => {},
      cleanup: async () => {},
      // Every third operation: a COMPOUND that succeeded, then one that failed.
      step: async (send, i) => {
        const ok = await send([]);
        return {
          statuses: i % 3 === 0 ? [ok.status, nfsstat4.NFS4ERR_IO] : [ok.status],
          bytes: 1,
        };
      },
    };
    const r = await measure({ ...options, count: 9 }, [session], workload);
    expect(r).toMatchObject({
      operations: 9,
      compounds: 12,
      errors: 3,
      bytes: 9,
      statuses: { NFS4_OK: 9, NFS4ERR_IO: 3 },
      aborted: null,
    });
    expect(exitStatusOf(r)).toBe(1);
    expect(exitStatusOf({ ...r, errors: 0 })).toBe(0);
  });

  it("pauses --think ms after every reply of every step, and says so in the report", async () => {
    const { session } = await establish(running.port);
    const workload: Workload = {
      setup: async () => {},
      cleanup: async () => {},
      step: async (send) => {
        const a = await send([]);
        const b = await send([]);
        return { statuses: [a.status, b.status], bytes: 0 };
      },
    };
    // Counted, not timed (no timing in tests): each reply is followed by one pause.
    const pauses: number[] = [];
    const pause = async (ms: number): Promise<void> => {
      pauses.push(ms);
    };
    const r = await measure(
      { ...options, inflight: 1, count: 3, thinkMs: 7, pause },
      [session],
      workload,
    );
    expect(r).toMatchObject({ operations: 3, compounds: 6, errors: 0, thinkMs: 7 });
    expect(pauses).toEqual([7, 7, 7, 7, 7, 7]);
    const none = await measure({ ...options, inflight: 1, count: 3, pause }, [session], workload);
    expect(none.thinkMs).toBe(0);
    expect(pauses).toHaveLength(6);
  });

  it("gives every step its session's number", async () => {
    const { client, session } = await establish(running.port);
    const second = await client.createSession();
    const seen: number[] = [];
    const workload: Workload = {
      setup: async () => {},
      cleanup: async () => {},
      step: async (send, _i, s) => {
        seen.push(s);
        return { statuses: [(await send([])).status], bytes: 0 };
      },
    };
    const r = await measure({ ...options, sessions: 2, count: 40 }, [session, second], workload);
    expect(r.operations).toBe(40);
    expect(seen.length).toBe(40);
    expect(new Set(seen)).toEqual(new Set([0, 1]));
    expect(r.warnings).toEqual([]);
  });

  it("warns, and still runs, when --inflight exceeds the slots granted", async () => {
    const { client } = await establish(running.port);
    const small = await client.createSession({ fore: { ca_maxrequests: 2 } });
    const told: string[] = [];
    const workload: Workload = {
      setup: async () => {},
      cleanup: async () => {},
      step: async (send) => ({ statuses: [(await send([])).status], bytes: 0 }),
    };
    const r = await measure(
      { ...options, inflight: 5, count: 20, onWarning: (l) => told.push(l) },
      [small],
      workload,
    );
    expect(r).toMatchObject({ operations: 20, errors: 0, slotsGranted: [2] });
    // The client queued what did not fit: never a slot above the two granted.
    expect(r.highestSlotUsed).toEqual([1]);
    expect(told).toEqual([expect.stringMatching(/--inflight 5 exceeds the 2 slot/)]);
    expect(r.warnings).toEqual(told);
  });

  it("stops at the first failure without a reply", async () => {
    const { session } = await establish(running.port);
    let steps = 0;
    const workload: Workload = {
      setup: async () => {},
      cleanup: async () => {},
      step: async () => {
        steps++;
        throw new RpcConnectionClosedError("test");
      },
    };
    const r = await measure({ ...options, count: 1000 }, [session], workload);
    // Both workers in flight saw the failure once; nobody started another step.
    expect(steps).toBe(2);
    expect(r).toMatchObject({ operations: 2, errors: 2, compounds: 0 });
    expect(r.aborted).not.toBeNull();
    expect(Object.keys(r.statuses)).toEqual(["transport:RpcConnectionClosedError"]);
    expect(exitStatusOf(r)).toBe(1);
  });
});

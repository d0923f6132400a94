// The bounded structure-aware fuzz run of `npm test`: a few thousand mutated
// COMPOUNDs on a real session against an in-process NfsServer over TCP. The
// long run is `npm run fuzz` (test/fuzz/run.ts). FUZZ_SEED=<n> repeats a seed;
// a failure names the seed and record that reproduce it.

import { pino } from "pino";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { NfsServerOptions } from "../../src/nfs/server.js";
import { NfsServer } from "../../src/nfs/server.js";
import type { FuzzStats } from "./driver.js";
import { Fuzzer, describeFailure } from "./driver.js";
import { nfsstat4 } from "../../generated/nfs4/index.js";

const SEED = process.env.FUZZ_SEED !== undefined ? Number(process.env.FUZZ_SEED) : 0x5eed;
const RECORDS = 3000;
const MB = 1024 * 1024;

/** Error-level lines the server logged, for the failure message. */
let logged: string[] = [];
let server: NfsServer | null = null;

async function start(options: NfsServerOptions = {}): Promise<number> {
  logged = [];
  const logger = pino({ level: "error" }, { write: (line: string) => void logged.push(line) });
  server = new NfsServer({ logger, ...options });
  const [bound] = await server.listen([{ host: "127.0.0.1", port: 0 }]);
  return bound!.port;
}

afterEach(async () => {
  vi.restoreAllMocks();
  await server?.close();
  server = null;
});

function report(stats: FuzzStats): string {
  return [
    `seed ${SEED}: ${stats.failures.length} failures`,
    ...stats.failures.map(describeFailure),
    ...logged.slice(0, 3),
  ].join("\n");
}

describe("structure-aware fuzzing over TCP", () => {
  it(`answers ${RECORDS} mutated COMPOUNDs with valid replies, never SYSTEM_ERR`, async () => {
    const port = await start();
    const rssBefore = process.memoryUsage().rss;
    const stats = await new Fuzzer({ port, seed: SEED, records: RECORDS }).run();
    // Claimed lengths of 2^32-1 must not become allocations (server and fuzzer share this process).
    expect(process.memoryUsage().rss - rssBefore).toBeLessThan(256 * MB);
    expect(stats.failures, report(stats)).toEqual([]);
    expect(stats.replies).toBe(RECORDS);
    expect(stats.systemErr).toBe(0);
    // The run reached the handlers and the decoders' error paths alike.
    expect(stats.statuses.get(nfsstat4.NFS4_OK)).toBeGreaterThan(0);
    expect(stats.statuses.get(nfsstat4.NFS4ERR_BADXDR)).toBeGreaterThan(0);
    expect(stats.garbageArgs).toBeGreaterThan(0);
    // Some retries of cached requests were checked for an exact replay.
    expect(stats.replaysChecked).toBeGreaterThan(0);
    // No handler threw (NFS4ERR_SERVERFAULT is how COMPOUND reports one).
    expect([...stats.serverFaults.keys()], report(stats)).toEqual([]);
  });

  it("reports a SYSTEM_ERR with the seed and record that reproduce it", async () => {
    const port = await start();
    // A program fault on every 20th COMPOUND: the dispatcher answers SYSTEM_ERR.
    const real = server!.compound.process.bind(server!.compound);
    let calls = 0;
    vi.spyOn(server!.compound, "process").mockImplementation((call) => {
      if (++calls % 20 === 0) throw new Error("injected fault");
      return real(call);
    });
    const stats = await new Fuzzer({ port, seed: SEED, records: 200, maxFailures: 3 }).run();
    expect(stats.systemErr).toBeGreaterThan(0);
    const first = stats.failures[0]!;
    expect(first.kind).toBe("system_err");
    expect(first.seed).toBe(SEED);
    expect(first.record).toBeGreaterThanOrEqual(0);
    expect(describeFailure(first)).toContain(`--seed ${SEED} --only ${first.record}`);
  });

  it("reports a server that does not replay a cached request", async () => {
    const port = await start();
    // The server forgets every reply the client asked it to cache.
    const state = server!.state;
    const real = state.completeSlot.bind(state);
    vi.spyOn(state, "completeSlot").mockImplementation((session, slot) =>
      real(session, slot, null),
    );
    const stats = await new Fuzzer({ port, seed: SEED, records: RECORDS, maxFailures: 1 }).run();
    expect(stats.failures.map((f) => f.kind)).toEqual(["replay_mismatch"]);
  });

  it("reports a reply that never comes as a hang", async () => {
    // Shutdown need not wait long for the call that never ends.
    const port = await start({ rpc: { drainTimeoutMs: 100 } });
    const real = server!.compound.process.bind(server!.compound);
    let calls = 0;
    vi.spyOn(server!.compound, "process").mockImplementation((call) =>
      ++calls === 10 ? new Promise(() => {}) : real(call),
    );
    const stats = await new Fuzzer({ port, seed: SEED, records: 100, replyTimeoutMs: 500 }).run();
    expect(stats.failures.map((f) => f.kind)).toContain("hang");
  });
});

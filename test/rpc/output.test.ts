// Output bytes over TCP: connections whose peers do not read stay within their
// byte bound, the sum over connections within the global bound, other clients
// keep being served, the send-stall timeout releases everything, and one reply
// larger than the per-connection bound still goes through. Figures are sampled
// from RpcServer.stats() while the test runs; nothing here asserts on time or RSS.

import { afterEach, describe, expect, it } from "vitest";
import { AUTH_NONE_OUTGOING, REPLY_HEADER_BYTES, RpcServer } from "../../src/rpc/index.js";
import type { RpcCall, RpcOutcome, RpcServerStats } from "../../src/rpc/index.js";
import type { RawClient } from "./support.js";
import { callBytes, client, framed, startServer, testProgram, until, words } from "./support.js";

const MiB = 1024 * 1024;
const PIPELINED = 128;
/** Procedures of the test program. */
const BIG = 1; // reserves `size` then answers `size` bytes on the wire
const SMALL = 2; // answers 4 bytes, reserving nothing

/** A program answering BIG with a reply of exactly `size` bytes on the wire, reserved first. */
function bigReplies(size: number) {
  const result = new Uint8Array(size - REPLY_HEADER_BYTES);
  const granted = new Map<number, number>();
  let refused = 0;
  const program = testProgram(async (call: RpcCall): Promise<RpcOutcome> => {
    if (call.proc === SMALL) return { kind: "success", result: words(call.xid) };
    // Like an NFS READ, some work (decoding, a lookup) comes before the
    // reservation: by then the connection has dispatched many more calls.
    await new Promise((resolve) => setImmediate(resolve));
    if (!(await call.reserveReplyBytes(size))) {
      refused++;
      return { kind: "drop" };
    }
    granted.set(call.conn.id, (granted.get(call.conn.id) ?? 0) + 1);
    return { kind: "success", result };
  });
  return { program, granted, refused: () => refused };
}

/** A client that sends `count` BIG calls at once and never reads a byte. */
async function nonReader(port: number, count: number): Promise<RawClient> {
  const c = await client(port);
  c.socket.pause();
  c.send(
    Buffer.concat(
      Array.from({ length: count }, (_, i) => framed(callBytes({ xid: i + 1, proc: BIG }))),
    ),
  );
  return c;
}

/** The largest figures seen while sampling the server's stats. */
interface Peaks {
  perConnection: number;
  total: number;
  waiting: number;
  waitingConnections: number;
}

const samplers: NodeJS.Timeout[] = [];
afterEach(() => {
  for (const t of samplers.splice(0)) clearInterval(t);
});

/**
 * Samples server.stats() every few milliseconds until stop() is called, which
 * throws the first failed check (a throw inside the timer would be lost).
 */
function sample(server: RpcServer, check: (s: RpcServerStats) => void) {
  const peaks: Peaks = { perConnection: 0, total: 0, waiting: 0, waitingConnections: 0 };
  let failure: unknown = null;
  const take = (): void => {
    try {
      takeOne();
    } catch (e) {
      failure ??= e;
    }
  };
  const takeOne = (): void => {
    const s = server.stats();
    let sum = 0;
    for (const c of s.connections) {
      peaks.perConnection = Math.max(peaks.perConnection, c.reserved + c.buffered);
      peaks.waiting = Math.max(peaks.waiting, c.waiting);
      sum += c.reserved + c.buffered;
    }
    // The global figure is the sum of the connections' figures.
    expect(s.output.used).toBe(sum);
    peaks.total = Math.max(peaks.total, s.output.used);
    peaks.waitingConnections = Math.max(peaks.waitingConnections, s.output.waitingConnections);
    check(s);
  };
  const timer = setInterval(take, 2);
  samplers.push(timer);
  return {
    stop: (): Peaks => {
      clearInterval(timer);
      take();
      if (failure !== null) throw failure;
      return peaks;
    },
  };
}

describe("output bytes", () => {
  it("keeps non-reading connections within their byte bound, serves others, and closes the stalled", async () => {
    const bound = 4 * MiB;
    const { program, granted, refused } = bigReplies(MiB);
    const { server, port } = await startServer([program], {
      maxConnectionOutputBytes: bound,
      maxTotalOutputBytes: 1024 * MiB,
      sendStallTimeoutMs: 1000,
      maxInFlightPerConnection: PIPELINED,
    });
    const sampler = sample(server, (s) => {
      for (const c of s.connections) expect(c.reserved + c.buffered).toBeLessThanOrEqual(bound);
    });
    const stuck = await Promise.all([0, 1, 2, 3].map(() => nonReader(port, PIPELINED)));
    // Every non-reader reaches its bound and has calls waiting for room.
    await until(
      () =>
        server.stats().connections.filter((c) => c.waiting > 0 && c.reserved + c.buffered > 0)
          .length === 4,
      "the non-readers to reach their bound",
    );
    // Another client is answered meanwhile, small and big replies alike.
    const reader = await client(port);
    expect((await reader.call({ xid: 1, proc: SMALL })).rest.readUint()).toBe(1);
    expect((await reader.call({ xid: 2, proc: BIG })).rest.remaining).toBe(
      MiB - REPLY_HEADER_BYTES,
    );
    // The send-stall timeout closes the non-readers and releases their bytes.
    // (Seen from the server: a paused client socket does not notice the close.)
    await until(() => server.connections.size === 1, "the non-readers to close");
    const peaks = sampler.stop();
    expect(peaks.perConnection).toBeLessThanOrEqual(bound);
    expect(peaks.waiting).toBeGreaterThan(0);
    // Far from all of the 128 calls per connection got their reservation...
    expect(stuck).toHaveLength(4);
    expect(granted.size).toBe(5);
    for (const [, n] of granted) expect(n).toBeLessThan(PIPELINED);
    // ...and the waiting ones were told the connection closed.
    await until(() => refused() > 0, "waiting reservations to fail");
    const after = server.stats();
    expect(after.output.used).toBe(0);
    expect(after.connections).toHaveLength(1);
    expect(after.connections[0]).toMatchObject({ reserved: 0, buffered: 0, waiting: 0 });
  });

  it("keeps the total over all connections within the global bound", async () => {
    const perConnection = 4 * MiB;
    const total = 6 * MiB;
    const { program } = bigReplies(MiB);
    const { server, port } = await startServer([program], {
      maxConnectionOutputBytes: perConnection,
      maxTotalOutputBytes: total,
      sendStallTimeoutMs: 1000,
    });
    const sampler = sample(server, (s) => {
      expect(s.output.used).toBeLessThanOrEqual(total);
      for (const c of s.connections) {
        expect(c.reserved + c.buffered).toBeLessThanOrEqual(perConnection);
      }
    });
    const stuck = await Promise.all([0, 1, 2, 3].map(() => nonReader(port, PIPELINED)));
    await until(() => server.stats().output.waitingConnections > 0, "the global bound to bite");
    // A reading client is answered once the stalled connections are closed.
    const reader = await client(port);
    expect((await reader.call({ xid: 7, proc: BIG })).rest.remaining).toBe(
      MiB - REPLY_HEADER_BYTES,
    );
    await until(() => server.connections.size === 1, "the non-readers to close");
    expect(stuck).toHaveLength(4);
    const peaks = sampler.stop();
    expect(peaks.total).toBeLessThanOrEqual(total);
    // The bound was reached, not merely approached by chance.
    expect(peaks.total).toBeGreaterThan(total - MiB);
    expect(peaks.waitingConnections).toBeGreaterThan(0);
    expect(server.stats().output).toMatchObject({ used: 0, waitingConnections: 0 });
  });

  it("sends one reply larger than the per-connection and global bounds", async () => {
    const { program } = bigReplies(3 * MiB);
    const { server, port } = await startServer([program], {
      maxRecordSize: 64 * 1024,
      maxConnectionOutputBytes: MiB,
      maxTotalOutputBytes: 2 * MiB,
    });
    const c = await client(port);
    const replies = await Promise.all([
      c.call({ xid: 1, proc: BIG }),
      c.call({ xid: 2, proc: BIG }),
    ]);
    for (const r of replies) expect(r.rest.remaining).toBe(3 * MiB - REPLY_HEADER_BYTES);
    await until(() => server.stats().output.used === 0, "the output to drain");
  });

  it("closes a connection whose calls all wait for output room when it goes idle", async () => {
    const { program } = bigReplies(MiB);
    const { server, port } = await startServer([program], {
      maxConnectionOutputBytes: MiB,
      sendStallTimeoutMs: 0,
      idleTimeoutMs: 300,
    });
    const c = await nonReader(port, 64);
    await until(() => (server.stats().connections[0]?.waiting ?? 0) > 0, "a waiting call");
    expect(c.isOpen).toBe(true);
    await until(() => server.connections.size === 0, "the idle timer to close it");
    expect(server.stats().output.used).toBe(0);
  });

  it("does not count our own calls (the backchannel) as output bytes, nor stop reading for them", async () => {
    let handled = 0;
    const program = testProgram(async (call) => {
      handled++;
      return { kind: "success", result: words(call.xid) };
    });
    const { server, port } = await startServer([program], { maxConnectionOutputBytes: MiB });
    const c = await client(port);
    await until(() => server.connections.size === 1, "accept");
    const conn = [...server.connections][0]!;
    // The peer does not read: 6 MiB of our calls stay in the socket.
    c.socket.pause();
    const args = new Uint8Array(2 * MiB);
    const calls = [0, 1, 2].map(() =>
      conn
        .call({
          prog: 0x40000000,
          vers: 1,
          proc: 0,
          cred: AUTH_NONE_OUTGOING,
          args,
          timeoutMs: 60_000,
        })
        .catch(() => "failed"),
    );
    expect(server.stats().connections[0]).toMatchObject({ reserved: 0, buffered: 0 });
    // The connection still reads and dispatches the peer's calls.
    c.sendCall({ xid: 5, proc: SMALL });
    await until(() => handled === 1, "the call to be handled");
    c.close();
    expect(await Promise.all(calls)).toEqual(["failed", "failed", "failed"]);
  });

  it("closes a connection that sends too many fragments in one record", async () => {
    const { server, port } = await startServer([bigReplies(MiB).program], {
      maxFragmentsPerRecord: 4,
    });
    const body = callBytes({ xid: 9, proc: SMALL });
    const inFragments = (n: number): Buffer => {
      const parts: Uint8Array[] = [];
      const step = Math.ceil(body.length / n);
      for (let at = 0; at < body.length; at += step) {
        const piece = body.subarray(at, at + step);
        const last = at + step >= body.length;
        parts.push(words(last ? 0x80000000 + piece.length : piece.length), piece);
      }
      return Buffer.concat(parts);
    };
    const ok = await client(port);
    const p = ok.reply(9);
    ok.send(inFragments(4));
    expect((await p).rest.readUint()).toBe(9);
    const bad = await client(port);
    bad.send(inFragments(5));
    await bad.closed;
    await until(() => server.connections.size === 1, "the connection to close");
  });

  it("refuses bad output settings", () => {
    expect(
      () =>
        new RpcServer({
          settings: { maxConnectionOutputBytes: 8 * MiB, maxTotalOutputBytes: 4 * MiB },
        }),
    ).toThrow(/maxTotalOutputBytes/);
    expect(() => new RpcServer({ settings: { maxFragmentsPerRecord: 0 } })).toThrow(
      /maxFragmentsPerRecord/,
    );
    expect(() => new RpcServer({ settings: { sendStallTimeoutMs: -1 } })).toThrow(
      /sendStallTimeoutMs/,
    );
  });
});

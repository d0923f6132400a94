// Peers that misbehave: garbage, huge record marks, truncated records, floods of
// idle connections. The server must stay up, bounded, and keep serving others.

import { execSync } from "node:child_process";
import { connect } from "node:net";
import type { Socket } from "node:net";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { accept_stat, msg_type, reply_stat } from "../../generated/rpc/index.js";
import { RpcServer } from "../../src/rpc/index.js";
import type { RawClient } from "./support.js";
import {
  callBytes,
  client,
  deferred,
  framed,
  startServer,
  testProgram,
  until,
  words,
} from "./support.js";

const program = testProgram(async (call) =>
  call.proc === 1 ? { kind: "success", result: words(call.xid) } : { kind: "proc_unavail" },
);

async function expectNullWorks(c: RawClient, xid: number): Promise<void> {
  const r = await c.call({ xid, proc: 0 });
  const b = r.msg.body;
  expect(
    b.mtype === msg_type.REPLY &&
      b.rbody.stat === reply_stat.MSG_ACCEPTED &&
      b.rbody.areply.reply_data.stat,
  ).toBe(accept_stat.SUCCESS);
}

function mb(n: number): number {
  return n * 1024 * 1024;
}

/** The per-process open file limit, from the shell (Node has no getrlimit). */
function fdLimit(): number {
  try {
    const v = execSync("ulimit -n", { shell: "/bin/sh", encoding: "utf8" }).trim();
    return v === "unlimited" ? 1 << 20 : Number.parseInt(v, 10);
  } catch {
    return 1024;
  }
}

describe("hostile peers", () => {
  it("survives random bytes: each connection is answered or closed, others keep being served", async () => {
    const { server, port } = await startServer([program]);
    const witness = await client(port);
    const header = callBytes({ xid: 1, proc: 1 });
    const streams = fc.oneof(
      // Anything at all (usually an absurd record mark: the connection closes).
      fc.uint8Array({ minLength: 1, maxLength: 300 }),
      // A well-framed record of random content.
      fc.uint8Array({ maxLength: 300 }).map((b) => framed(b)),
      // A valid CALL header with random bytes spliced into it.
      fc
        .tuple(fc.nat({ max: header.length }), fc.uint8Array({ minLength: 1, maxLength: 16 }))
        .map(([at, junk]) =>
          framed(Buffer.concat([header.subarray(0, at), junk, header.subarray(at)])),
        ),
    );
    let xid = 100;
    await fc.assert(
      fc.asyncProperty(streams, async (bytes) => {
        const c = await client(port);
        c.send(bytes);
        // Half-close: the server answers what it could decode, then closes.
        c.socket.end();
        await c.closed;
        await expectNullWorks(witness, xid++);
      }),
      { numRuns: 60 },
    );
    await until(() => server.connections.size === 1, "the garbage connections to close");
  });

  it("closes a connection whose record mark announces 2 GiB, without allocating it", async () => {
    const { server, port } = await startServer([program]);
    const witness = await client(port);
    const before = process.memoryUsage();
    for (let i = 0; i < 5; i++) {
      const c = await client(port);
      c.send(Buffer.concat([words(0xffffffff), Buffer.alloc(64 * 1024, 0x5a)]));
      await c.closed;
    }
    const after = process.memoryUsage();
    expect(after.arrayBuffers - before.arrayBuffers).toBeLessThan(mb(64));
    expect(after.rss - before.rss).toBeLessThan(mb(256));
    await expectNullWorks(witness, 1);
    await until(() => server.connections.size === 1, "the connections to close");
  });

  it("closes a connection whose fragments add up to more than maxRecordSize", async () => {
    const { port } = await startServer([program], { maxRecordSize: 64 * 1024 });
    const c = await client(port);
    const fragment = Buffer.alloc(40 * 1024);
    c.send(
      Buffer.concat([
        words(fragment.length),
        fragment,
        words(0x80000000 + fragment.length),
        fragment,
      ]),
    );
    await c.closed;
    // Exactly the limit is accepted (a GARBAGE_ARGS-worthy header, but answered).
    const d = await client(port);
    const body = Buffer.alloc(64 * 1024);
    body.set(callBytes({ xid: 3, proc: 1 }));
    const p = d.reply(3);
    d.send(framed(body));
    expect((await p).rest.readUint()).toBe(3);
  });

  it("answers a NULL call padded to 1 MiB in 8-byte fragments when the limit allows them", async () => {
    const fragments = (1024 * 1024) / 8;
    const { server, port } = await startServer([program], { maxFragmentsPerRecord: fragments });
    const body = Buffer.alloc(1024 * 1024);
    body.set(callBytes({ xid: 11, proc: 0 }));
    const stream = Buffer.alloc(fragments * 12);
    for (let i = 0; i < fragments; i++) {
      stream.writeUInt32BE(i === fragments - 1 ? 0x80000008 : 8, i * 12);
      body.copy(stream, i * 12 + 4, i * 8, i * 8 + 8);
    }
    const c = await client(port);
    const reply = c.reply(11);
    c.send(stream);
    expect((await reply).msg.xid).toBe(11);
    expect(server.connections.size).toBe(1);
    // The same record with the default limit (1024 fragments) closes the connection.
    const strict = await startServer([program]);
    const d = await client(strict.port);
    d.send(stream);
    await d.closed;
    await until(() => strict.server.connections.size === 0, "the connection to close");
  });

  it("cleans up after a truncated record and an abrupt close", async () => {
    const { server, port } = await startServer([program]);
    const c = await client(port);
    await until(() => server.connections.size === 1, "accept");
    c.send(Buffer.concat([words(0x80000000 + 100), Buffer.alloc(50)]));
    await new Promise((r) => setTimeout(r, 10));
    c.close();
    await until(() => server.connections.size === 0, "the server to notice the close");
    await expectNullWorks(await client(port), 1);
  });

  it("holds thousands of idle connections in bounded memory while serving another", async () => {
    // Each connection costs two descriptors here (both ends are in this process).
    const count = Math.max(100, Math.min(2000, Math.floor((fdLimit() - 512) / 2)));
    const { server, port } = await startServer([program]);
    const before = process.memoryUsage().rss;
    const sockets: Socket[] = [];
    const BATCH = 200;
    for (let i = 0; i < count; i += BATCH) {
      const batch = Array.from(
        { length: Math.min(BATCH, count - i) },
        () =>
          new Promise<Socket>((resolve, reject) => {
            const s = connect({ port, host: "127.0.0.1" });
            s.once("error", reject);
            s.once("connect", () => resolve(s));
          }),
      );
      sockets.push(...(await Promise.all(batch)));
    }
    try {
      await until(() => server.connections.size === count, `${count} connections`);
      const c = await client(port);
      for (let xid = 0; xid < 20; xid++) await expectNullWorks(c, xid);
      // Generous: a few KiB per connection is expected, 64 KiB allowed.
      expect(process.memoryUsage().rss - before).toBeLessThan(count * 64 * 1024 + mb(64));
    } finally {
      // RST rather than FIN: no TIME_WAIT left behind to slow the next run's connects.
      for (const s of sockets) s.resetAndDestroy();
    }
    await until(() => server.connections.size <= 1, "the idle connections to close");
  });

  it("closes connections beyond maxConnections at once, and keeps serving the others", async () => {
    const { server, port } = await startServer([program], { maxConnections: 3 });
    const admitted = [await client(port), await client(port), await client(port)];
    await until(() => server.connections.size === 3, "3 connections");
    const extra = await client(port);
    // The server closes it without a word.
    await extra.closed;
    expect(server.connections.size).toBe(3);
    for (const [i, c] of admitted.entries()) await expectNullWorks(c, i);
    // Once one leaves, a new one gets in.
    admitted[0]!.close();
    await until(() => server.connections.size === 2, "a slot to free");
    await expectNullWorks(await client(port), 9);
  });

  it("closes a connection with no complete record for idleTimeoutMs", async () => {
    const { server, port } = await startServer([program], { idleTimeoutMs: 30 });
    const c = await client(port);
    await expectNullWorks(c, 1);
    // A partial record is not activity.
    c.send(words(0x80000000 + 100));
    await c.closed;
    await until(() => server.connections.size === 0, "the idle close");
  });

  it("does not close an idle-looking connection while one of its calls runs", async () => {
    const release = deferred();
    const { port } = await startServer(
      [
        testProgram(async (call) => {
          await release.promise;
          return { kind: "success", result: words(call.xid) };
        }),
      ],
      { idleTimeoutMs: 20 },
    );
    const c = await client(port);
    const p = c.call({ xid: 5, proc: 1 });
    // Several idle periods pass while the call runs.
    await new Promise((r) => setTimeout(r, 150));
    release.resolve();
    expect((await p).rest.readUint()).toBe(5);
    await c.closed;
  });

  it("refuses bad settings", () => {
    expect(() => new RpcServer({ settings: { maxRecordSize: 2 ** 31 } })).toThrow(/maxRecordSize/);
    expect(() => new RpcServer({ settings: { maxConnections: 0 } })).toThrow(/maxConnections/);
    expect(() => new RpcServer({ settings: { idleTimeoutMs: -1 } })).toThrow(/idleTimeoutMs/);
    expect(() => new RpcServer({ settings: { maxInFlightPerConnection: 1.5 } })).toThrow(
      RangeError,
    );
  });
});

// The server's life cycle: several listening addresses, connection events, and
// clean shutdown.

import { connect } from "node:net";
import { describe, expect, it } from "vitest";
import type { RpcConnection } from "../../src/rpc/index.js";
import { RpcServer } from "../../src/rpc/index.js";
import { RawClient, client, deferred, startServer, testProgram, until, words } from "./support.js";

/** Resolves true if a TCP connection to `port` is refused or closed at once. */
function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ port, host: "127.0.0.1" });
    s.on("error", () => resolve(true));
    s.on("close", () => resolve(true));
    s.on("data", () => resolve(false));
  });
}

describe("RpcServer", () => {
  it("listens on several addresses at once and serves each", async () => {
    const server = new RpcServer();
    server.register(testProgram(async () => ({ kind: "success", result: words(1) })));
    try {
      const bound = await server.listen([
        { host: "127.0.0.1", port: 0 },
        { host: "127.0.0.1", port: 0 },
      ]);
      expect(bound).toHaveLength(2);
      expect(bound[0]!.port).not.toBe(bound[1]!.port);
      for (const b of bound) {
        expect(b).toMatchObject({ host: "127.0.0.1", family: "IPv4" });
        const c = await RawClient.connect(b.port);
        expect((await c.call({ xid: 1, proc: 1 })).rest.readUint()).toBe(1);
        c.close();
      }
    } finally {
      await server.close();
    }
  });

  it("serves large and pipelined calls whatever its read buffer (rpc.readBufferBytes)", async () => {
    // The handler answers with the sum of its argument bytes: the server got them all, in order.
    const sum = testProgram(async (call) => {
      const bytes = call.args.readOpaqueFixed(call.args.remaining);
      let s = 0;
      for (let i = 0; i < bytes.length; i++) s = (s + bytes[i]! * (i + 1)) >>> 0;
      return { kind: "success", result: words(s) };
    });
    const expected = (bytes: Uint8Array): number => {
      let s = 0;
      for (let i = 0; i < bytes.length; i++) s = (s + bytes[i]! * (i + 1)) >>> 0;
      return s;
    };
    for (const readBufferBytes of [0, 64, 256 * 1024]) {
      const { port } = await startServer([sum], { readBufferBytes });
      const c = await client(port);
      const args = [300_000, 4, 0, 1000, 700_000, 8].map((n) =>
        Uint8Array.from({ length: n }, (_, i) => (i * 7 + n) & 0xff),
      );
      const replies = args.map((_, i) => c.reply(i + 1));
      for (const [i, a] of args.entries()) c.sendCall({ xid: i + 1, proc: 1, args: a });
      const got = await Promise.all(replies);
      expect(got.map((r) => r.rest.readUint())).toEqual(args.map(expected));
    }
  });

  it("binds all addresses or none", async () => {
    const { port: taken } = await startServer([]);
    const server = new RpcServer();
    await expect(
      server.listen([
        { host: "127.0.0.1", port: 0 },
        { host: "127.0.0.1", port: taken },
      ]),
    ).rejects.toThrow(/EADDRINUSE/);
    await server.close();
  });

  it("emits connection and close events, and connections know their endpoints", async () => {
    const { server, port } = await startServer([]);
    const opened: RpcConnection[] = [];
    const closed: RpcConnection[] = [];
    server.on("connection", (c) => opened.push(c));
    server.on("close", (c) => closed.push(c));
    const a = await client(port);
    const b = await client(port);
    await until(() => opened.length === 2, "two connections");
    expect(opened[0]!.id).not.toBe(opened[1]!.id);
    expect(opened[0]!.local).toBe(`127.0.0.1:${port}`);
    expect(opened[0]!.remote).toBe(`127.0.0.1:${a.socket.localPort}`);
    expect(opened.every((c) => c.open)).toBe(true);
    b.close();
    await until(() => closed.length === 1, "one close");
    expect(closed[0]).toBe(opened[1]);
    expect(opened[1]!.open).toBe(false);
    expect(server.connections.size).toBe(1);
  });

  it("survives a throwing event listener", async () => {
    const { server, port } = await startServer([]);
    server.on("connection", () => {
      throw new Error("listener bug");
    });
    const c = await client(port);
    expect((await c.call({ xid: 1, proc: 0 })).msg.xid).toBe(1);
  });

  it("on close(): answers the call in progress, refuses new connections, then closes", async () => {
    const release = deferred();
    const started = deferred();
    const { server, port } = await startServer([
      testProgram(async (call) => {
        started.resolve();
        await release.promise;
        return { kind: "success", result: words(call.xid) };
      }),
    ]);
    const c = await client(port);
    const reply = c.reply(1);
    c.sendCall({ xid: 1, proc: 1 });
    await started.promise;
    const closing = server.close();
    expect(await refused(port)).toBe(true);
    // A call sent after close() started is not dispatched.
    c.sendCall({ xid: 2, proc: 1 });
    release.resolve();
    expect((await reply).rest.readUint()).toBe(1);
    await closing;
    await c.closed;
    expect(c.replyOrder).toEqual([1]);
    expect(server.connections.size).toBe(0);
    await expect(server.listen([{ host: "127.0.0.1", port: 0 }])).rejects.toThrow(/closed/);
    // Idempotent.
    await server.close();
  });

  it("closes anyway after drainTimeoutMs when a call never finishes", async () => {
    const { server, port } = await startServer([testProgram(() => new Promise(() => {}))], {
      drainTimeoutMs: 30,
    });
    const c = await client(port);
    const seen = deferred();
    server.on("close", () => seen.resolve());
    c.sendCall({ xid: 1, proc: 1 });
    await until(() => server.connections.size === 1, "accept");
    await server.close();
    await c.closed;
    await seen.promise;
    expect(c.replyOrder).toEqual([]);
  });

  it("answers a peer that half-closes after sending, then closes", async () => {
    const { server, port } = await startServer([
      testProgram(async (call) => ({ kind: "success", result: words(call.xid) })),
    ]);
    const c = await client(port);
    const replies = [c.reply(1), c.reply(2)];
    c.sendCall({ xid: 1, proc: 1 });
    c.sendCall({ xid: 2, proc: 1 });
    c.socket.end();
    const got = await Promise.all(replies);
    expect(got.map((r) => r.rest.readUint())).toEqual([1, 2]);
    await c.closed;
    await until(() => server.connections.size === 0, "the server side to close");
  });
});

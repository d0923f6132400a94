// Adopting an accepted socket's handle into a socket that reads into one reused
// buffer (src/rpc/read-buffer.ts). The adoption relies on Node.js internals; these
// tests fail, rather than the server silently going back to a buffer per read,
// if a Node.js version changes them.

import { connect, createServer } from "node:net";
import type { Server, Socket } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { ChunkSink, adoptWithReadBuffer, readIntoBuffer } from "../../src/rpc/read-buffer.js";
import { until } from "./support.js";

const open: (Server | Socket)[] = [];
afterEach(() => {
  for (const x of open.splice(0))
    if ("destroy" in x) x.destroy();
    else x.close();
});

/**
 * A server whose first connection is adopted with `buffer`; what each read
 * delivered is copied out, with whether it lay in `buffer`. `place`: the
 * sink's place for the next read (ChunkSink.attach).
 */
async function adoptedPair(
  buffer: Uint8Array,
  place?: () => Uint8Array | null,
): Promise<{
  server: Server;
  client: Socket;
  adopted: Socket;
  reads: Uint8Array[];
  inBuffer: boolean[];
}> {
  const reads: Uint8Array[] = [];
  const inBuffer: boolean[] = [];
  let adopted: Socket | null = null;
  const server = createServer({ pauseOnConnect: true, allowHalfOpen: true }, (accepted) => {
    const a = adoptWithReadBuffer(accepted, buffer, true);
    expect(a).not.toBeNull();
    a!.sink.attach((chunk) => {
      inBuffer.push(chunk.buffer === buffer.buffer);
      reads.push(Uint8Array.from(chunk));
    }, place);
    adopted = a!.socket;
    open.push(adopted);
  });
  open.push(server);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as { port: number }).port;
  const client = connect({ port, host: "127.0.0.1" });
  open.push(client);
  await until(() => adopted !== null, "the adopted socket");
  return { server, client, adopted: adopted!, reads, inBuffer };
}

const total = (reads: Uint8Array[]): number => reads.reduce((n, r) => n + r.length, 0);

describe("adoptWithReadBuffer", () => {
  it("reads every byte, in order, into the one buffer it was given", async () => {
    const { client, reads, inBuffer } = await adoptedPair(new Uint8Array(1000));
    const sent = Uint8Array.from({ length: 100_000 }, (_, i) => (i * 31) & 0xff);
    client.write(sent);
    await until(() => total(reads) === sent.length, "all bytes");
    expect(Buffer.concat(reads)).toEqual(Buffer.from(sent));
    expect(inBuffer.every((b) => b)).toBe(true);
    expect(Math.max(...reads.map((r) => r.length))).toBeLessThanOrEqual(1000);
  });

  it("writes, pauses, resumes and ends like the accepted socket, which its server counts as closed", async () => {
    const { server, client, adopted, reads } = await adoptedPair(new Uint8Array(4096));
    const echoed: Buffer[] = [];
    client.on("data", (b: Buffer) => echoed.push(b));
    adopted.write("hello");
    await until(() => Buffer.concat(echoed).toString() === "hello", "the reply");

    adopted.pause();
    client.write("while paused");
    await new Promise((r) => setTimeout(r, 50));
    expect(reads).toHaveLength(0);
    adopted.resume();
    await until(() => total(reads) === 12, "the bytes sent while paused");

    const ended = new Promise<void>((r) => adopted.on("end", () => r()));
    client.end();
    await ended;
    const count = await new Promise<number>((r) => server.getConnections((_, n) => r(n)));
    expect(count).toBe(0);
    const closed = new Promise<void>((r) => client.on("close", () => r()));
    adopted.end();
    await closed;
  });
});

describe("reads into a place the connection names", () => {
  it("the read after a place is named lands in it; with no place, in the shared buffer", async () => {
    const places: Uint8Array[] = [new Uint8Array(3)];
    // Asked after each read.
    const { client, reads, inBuffer } = await adoptedPair(
      new Uint8Array(1000),
      () => places.shift() ?? null,
    );
    const text = (): string => reads.map((r) => Buffer.from(r).toString()).join("");
    // The socket started reading before the sink was attached: the first read
    // goes to the shared buffer, and names the 3-byte place for the next.
    client.write("ab");
    await until(() => reads.length === 1, "the first read");
    client.write("cdefgh");
    await until(() => text() === "abcdefgh", "all bytes");
    expect(reads.slice(0, 2).map((r) => Buffer.from(r).toString())).toEqual(["ab", "cde"]);
    expect(inBuffer).toEqual([true, false, ...inBuffer.slice(2).map(() => true)]);
  });
});

describe("ChunkSink", () => {
  it("keeps copies of what arrives before a connection attaches, and hands them over in order", () => {
    const sink = new ChunkSink();
    const buffer = new Uint8Array(4);
    buffer.set([1, 2, 3, 4]);
    sink.deliver(buffer.subarray(0, 3));
    buffer.set([5, 6, 7, 8]);
    sink.deliver(buffer.subarray(0, 2));
    buffer.fill(0);
    const got: number[][] = [];
    sink.attach((c) => got.push([...c]));
    sink.deliver(Uint8Array.of(9));
    expect(got).toEqual([[1, 2, 3], [5, 6], [9]]);
  });

  it("gives a connecting socket reads into one buffer (readIntoBuffer, public onread)", async () => {
    const server = createServer((s) => s.end("over the wire"));
    open.push(server);
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const port = (server.address() as { port: number }).port;
    const buffer = new Uint8Array(5);
    const { onread, sink } = readIntoBuffer(buffer);
    const reads: string[] = [];
    sink.attach((c) => {
      expect(c.buffer).toBe(buffer.buffer);
      reads.push(Buffer.from(c).toString());
    });
    const socket = connect({ port, host: "127.0.0.1", onread });
    open.push(socket);
    await new Promise<void>((r) => socket.on("end", () => r()));
    expect(reads.join("")).toBe("over the wire");
    expect(reads.length).toBeGreaterThanOrEqual(3);
  });
});

import { once } from "node:events";
import { createServer, connect, type Socket } from "node:net";
import { describe, expect, it } from "vitest";
import { COALESCE_BELOW, RecordWriter, coalesce } from "../../src/rpc/writer.js";
import { ioBuffers } from "../../src/xdr/io-buffers.js";

const bytes = (n: number, fill: number): Uint8Array => new Uint8Array(n).fill(fill);
const joined = (pieces: readonly Uint8Array[]): number[] => pieces.flatMap((p) => [...p]);

describe("coalesce", () => {
  it("joins runs of small chunks and keeps large ones as they are, in order", () => {
    const big = bytes(COALESCE_BELOW, 9);
    const chunks = [bytes(4, 1), bytes(8, 2), big, bytes(12, 3), bytes(4, 4), bytes(1, 5)];
    const out = coalesce(chunks);
    expect(out.map((p) => p.length)).toEqual([12, COALESCE_BELOW, 17]);
    // Not copied: the very chunk.
    expect(out[1]).toBe(big);
    expect(joined(out)).toEqual(joined(chunks));
  });

  it("leaves a record with fewer than two small chunks alone", () => {
    const one = [bytes(40, 1)];
    expect(coalesce(one)).toBe(one);
    const mixed = [bytes(COALESCE_BELOW + 4, 1), bytes(8, 2)];
    expect(coalesce(mixed)).toBe(mixed);
  });

  it("copies: changing a chunk afterwards does not change what was joined", () => {
    const a = bytes(4, 1);
    const out = coalesce([a, bytes(4, 2)]);
    a.fill(7);
    expect(joined(out)).toEqual([1, 1, 1, 1, 2, 2, 2, 2]);
  });
});

describe("RecordWriter", () => {
  it("gives a lent READ buffer back only once the kernel has taken its whole record", async () => {
    const server = createServer();
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    const address = server.address();
    if (address === null || typeof address === "string") throw new Error("no port");
    const accepted = once(server, "connection") as Promise<[Socket]>;
    const sender = connect(address.port, "127.0.0.1");
    await once(sender, "connect");
    const [receiver] = await accepted;
    receiver.resume();
    try {
      ioBuffers.configure(1024 * 1024, 16);
      const flushed: number[] = [];
      const writer = new RecordWriter(sender, {
        queued: () => {},
        flushed: (n) => flushed.push(n),
      });
      const before = ioBuffers.freeCount;
      const data = [ioBuffers.take(1024 * 1024), ioBuffers.take(1024 * 1024)];
      for (const d of data)
        expect(writer.send([new Uint8Array(8), d, new Uint8Array(4)])).toBe(true);
      // Not before the write callbacks: the socket may still be sending from them.
      expect(ioBuffers.freeCount).toBe(before);
      while (flushed.length < 2) await new Promise((r) => setTimeout(r, 5));
      expect(ioBuffers.freeCount).toBe(before + 2);
    } finally {
      sender.destroy();
      receiver.destroy();
      server.close();
    }
  });
});

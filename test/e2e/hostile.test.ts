// Bad input against the NFS server over TCP: random bytes, truncated records,
// absurd record marks, COMPOUNDs that go bad after a valid header, and a flood
// of idle connections. After each, a well-behaved client on another connection
// is still served, and memory stays bounded.

import { execSync } from "node:child_process";
import type { Socket } from "node:net";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { encodeCOMPOUND4args } from "../../generated/nfs4/index.js";
import type { nfs_argop4 } from "../../generated/nfs4/index.js";
import { accept_stat } from "../../generated/rpc/index.js";
import type { ClientSession } from "../../src/client/index.js";
import { NfsClient, ops } from "../../src/client/index.js";
import { XdrWriter } from "../../src/xdr/index.js";
import { RawPeer, framed, nfsCall, nullCall, words } from "./raw-peer.js";
import {
  OP,
  ST,
  closedOrDestroyed,
  connectClient,
  rawSocket,
  until,
  useServer,
} from "./support.js";

const running = useServer();
const MB = 1024 * 1024;

/** A client set up before the abuse starts and checked after each step. */
let witness: { client: NfsClient; session: ClientSession };
let rssAtStart = 0;
/** Connections open on the server besides the abusers' (the witness's). */
let baseline = 0;

beforeAll(async () => {
  const client = await NfsClient.connect({ host: "127.0.0.1", port: running.port });
  await client.exchangeId(`hostile-witness-${process.pid}`);
  witness = { client, session: await client.createSession() };
  await until(() => running.server.rpc.connections.size === 1, "the witness to connect");
  baseline = running.server.rpc.connections.size;
  rssAtStart = process.memoryUsage().rss;
});

afterAll(async () => {
  await witness?.client.close();
});

/** The server still serves a well-behaved client, on its existing and on a new connection. */
async function expectServed(): Promise<void> {
  const r = await witness.session.compound([ops.putrootfh(), ops.getfh()]);
  expect(r.sequence?.sr_status).toBe(ST.NFS4_OK);
  const fresh = await NfsClient.connect({ host: "127.0.0.1", port: running.port });
  try {
    await fresh.null();
  } finally {
    fresh.destroy();
  }
}

async function expectConnectionsBackToBaseline(): Promise<void> {
  await until(
    () => running.server.rpc.connections.size === baseline,
    "the abusive connections to close",
  );
}

/** COMPOUND4args bytes (tag "h", minor version 1) for these operations. */
function compoundBytes(argarray: nfs_argop4[], minorversion = 1): Buffer {
  const w = new XdrWriter();
  encodeCOMPOUND4args(w, { tag: new TextEncoder().encode("h"), minorversion, argarray });
  return Buffer.from(w.finish());
}

/** A COMPOUND header claiming `count` operations, with nothing after it. */
function compoundHeader(count: number): Buffer {
  // tag "h" (length 1 + 3 bytes of padding), minor version 1, the count.
  return Buffer.concat([words(1), Buffer.from([0x68, 0, 0, 0]), words(1, count)]);
}

/** The per-process file descriptor limit (Node has no getrlimit). */
function fdLimit(): number {
  try {
    const v = execSync("ulimit -n", { shell: "/bin/sh", encoding: "utf8" }).trim();
    return v === "unlimited" ? 1 << 20 : Number.parseInt(v, 10);
  } catch {
    return 1024;
  }
}

describe("garbage on the wire", () => {
  it("survives random byte streams, each on its own connection", async () => {
    const header = nfsCall(1, new Uint8Array(0));
    const streams = fc.oneof(
      // Anything at all (usually an absurd record mark).
      fc.uint8Array({ minLength: 1, maxLength: 400 }),
      // A well-framed record of random content.
      fc.uint8Array({ maxLength: 400 }).map((b) => framed(b)),
      // A valid NFS CALL header followed by random COMPOUND arguments.
      fc.uint8Array({ maxLength: 400 }).map((b) => framed(Buffer.concat([header.subarray(4), b]))),
      // A valid COMPOUND header followed by random operations.
      fc
        .tuple(fc.integer({ min: 0, max: 70 }), fc.uint8Array({ maxLength: 400 }))
        .map(([count, b]) => nfsCall(2, Buffer.concat([compoundHeader(count), b]))),
    );
    await fc.assert(
      fc.asyncProperty(streams, async (bytes) => {
        const s = await rawSocket(running.port);
        s.write(bytes);
        // Half-close: the server answers what it could decode, then closes.
        s.end();
        await closedOrDestroyed(s);
      }),
      { numRuns: 80 },
    );
    await expectServed();
    await expectConnectionsBackToBaseline();
  });

  it("cleans up after truncated records and abrupt closes", async () => {
    const sockets: Socket[] = [];
    for (let i = 0; i < 20; i++) {
      const s = await rawSocket(running.port);
      // A record announcing 1000 bytes, of which 100 arrive (a partial NFS CALL).
      s.write(Buffer.concat([words(0x80000000 + 1000), nfsCall(i, new Uint8Array(96))]));
      sockets.push(s);
    }
    await until(() => running.server.rpc.connections.size === baseline + 20, "the connections");
    await expectServed();
    for (const [i, s] of sockets.entries()) {
      if (i % 2 === 0) s.resetAndDestroy();
      else s.destroy();
    }
    await expectConnectionsBackToBaseline();
    await expectServed();
  });

  it("closes a connection whose record mark announces 2 GiB, without allocating it", async () => {
    const before = process.memoryUsage();
    for (const mark of [0xffffffff, 0x7fffffff, 0x80000000 + 0x7ffffff0]) {
      const peer = await RawPeer.open(running.port);
      peer.send(Buffer.concat([words(mark), Buffer.alloc(64 * 1024, 0x5a)]));
      // The server closes it: we never close it ourselves.
      await peer.closed();
    }
    const after = process.memoryUsage();
    expect(after.arrayBuffers - before.arrayBuffers).toBeLessThan(64 * MB);
    await expectServed();
    await expectConnectionsBackToBaseline();
  });
});

describe("COMPOUNDs that go bad after a valid header", () => {
  it("answers NFS4ERR_BADXDR for an operation whose arguments do not decode", async () => {
    const peer = await RawPeer.open(running.port);
    // Two operations claimed; the first is a LOOKUP whose name length is absurd.
    const args = Buffer.concat([compoundHeader(2), words(OP.OP_LOOKUP, 0xfffffff0)]);
    const res = await peer.compound(10, args);
    expect(res.status).toBe(ST.NFS4ERR_BADXDR);
    expect(res.resarray.map((r) => r.resop)).toEqual([OP.OP_LOOKUP]);
    // The connection is still good.
    peer.send(nullCall(11));
    expect((await peer.reply()).kind).toBe("success");
    peer.destroy();
    await expectServed();
  });

  it("runs a valid SEQUENCE, then answers NFS4ERR_BADXDR for the garbage operation after it", async () => {
    const client = await connectClient(running.port);
    await client.exchangeId(`hostile-seq-${process.pid}`);
    const session = await client.createSession();
    const seq = (seqid: number) =>
      ops.sequence({
        sa_sessionid: session.id,
        sa_sequenceid: seqid,
        sa_slotid: 5,
        sa_highest_slotid: 5,
        sa_cachethis: false,
      });
    const good = compoundBytes([seq(1)]);
    // Claim two operations: SEQUENCE, then PUTFH whose handle length is absurd.
    good.writeUInt32BE(2, 12);
    const bad = Buffer.concat([good, words(OP.OP_PUTFH, 0xfffffff0), Buffer.alloc(12)]);
    const peer = await RawPeer.open(running.port);
    const res = await peer.compound(20, bad);
    expect(res.status).toBe(ST.NFS4ERR_BADXDR);
    expect(res.resarray.map((r) => r.resop)).toEqual([OP.OP_SEQUENCE, OP.OP_PUTFH]);
    // SEQUENCE was processed, so the slot moved on: seqid 2 is the next new request.
    expect((await peer.compound(21, compoundBytes([seq(2)]))).status).toBe(ST.NFS4_OK);
    peer.destroy();
    await expectServed();
  });

  it("answers an unknown operation number with NFS4ERR_OP_ILLEGAL", async () => {
    const peer = await RawPeer.open(running.port);
    const res = await peer.compound(30, Buffer.concat([compoundHeader(1), words(0x7fffffff)]));
    expect(res.status).toBe(ST.NFS4ERR_OP_ILLEGAL);
    expect(res.resarray.map((r) => r.resop)).toEqual([OP.OP_ILLEGAL]);
    peer.destroy();
  });

  it("answers a minor version it does not speak with NFS4ERR_MINOR_VERS_MISMATCH", async () => {
    const peer = await RawPeer.open(running.port);
    const res = await peer.compound(40, compoundBytes([ops.putrootfh()], 99));
    expect(res.status).toBe(ST.NFS4ERR_MINOR_VERS_MISMATCH);
    expect(res.resarray).toEqual([]);
    peer.destroy();
  });

  it("answers GARBAGE_ARGS to a header whose operation count cannot be true, and keeps the connection", async () => {
    const peer = await RawPeer.open(running.port);
    peer.send(nfsCall(50, compoundHeader(0xffffffff)));
    expect(await peer.reply()).toMatchObject({ kind: "refused", stat: accept_stat.GARBAGE_ARGS });
    // Fewer bytes than one operation number for the one operation claimed.
    peer.send(nfsCall(53, Buffer.concat([compoundHeader(1), Buffer.from([1, 2])])));
    expect(await peer.reply()).toMatchObject({ kind: "refused", stat: accept_stat.GARBAGE_ARGS });
    // A truncated tag: GARBAGE_ARGS too.
    peer.send(nfsCall(51, words(64, 0)));
    expect(await peer.reply()).toMatchObject({ kind: "refused", stat: accept_stat.GARBAGE_ARGS });
    peer.send(nullCall(52));
    expect((await peer.reply()).kind).toBe("success");
    peer.destroy();
    await expectServed();
  });
});

describe("floods", () => {
  it("holds 1000+ idle connections while serving a well-behaved client", async () => {
    // Both ends live in this process: two descriptors per connection.
    const count = Math.max(200, Math.min(1200, Math.floor((fdLimit() - 512) / 2)));
    const before = process.memoryUsage().rss;
    const sockets: Socket[] = [];
    try {
      for (let i = 0; i < count; i += 200) {
        const n = Math.min(200, count - i);
        sockets.push(
          ...(await Promise.all(Array.from({ length: n }, () => rawSocket(running.port)))),
        );
      }
      await until(
        () => running.server.rpc.connections.size === baseline + count,
        `${count} idle connections`,
      );
      for (let i = 0; i < 10; i++) await expectServed();
      expect(process.memoryUsage().rss - before).toBeLessThan(200 * MB);
    } finally {
      // RST, not FIN: no TIME_WAIT left behind.
      for (const s of sockets) s.resetAndDestroy();
    }
    await expectConnectionsBackToBaseline();
    await expectServed();
  });

  it("kept memory bounded over the whole suite", () => {
    expect(process.memoryUsage().rss - rssAtStart).toBeLessThan(200 * MB);
  });
});

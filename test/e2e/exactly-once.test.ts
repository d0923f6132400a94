// Exactly-once semantics over TCP (RFC 8881 §2.10.6): a request retried on
// the same slot and sequence ID — here over a NEW connection, as after a
// reconnect — is answered from the replay cache byte for byte, and runs once.

import { describe, expect, it } from "vitest";
import { ops, resultOf } from "../../src/client/index.js";
import type { RawReply } from "../../src/client/index.js";
import { RpcConnectionClosedError } from "../../src/rpc/errors.js";
import {
  GatedFileSystem,
  OP,
  ST,
  establish,
  executed,
  serverConnId,
  until,
  useServer,
} from "./support.js";

const running = useServer();

describe("the replay cache over TCP", () => {
  it("replays a cached SEQUENCE + RECLAIM_COMPLETE on a new connection without running it again", async () => {
    const { client, session } = await establish(running.port);
    const server = running.server;
    const ranBefore = executed(server, OP.OP_RECLAIM_COMPLETE);

    const first = await session.compound([ops.reclaimComplete()], { cachethis: true, slot: 3 });
    expect(first.status).toBe(ST.NFS4_OK);
    expect(first.seqid).toBe(1);
    expect(executed(server, OP.OP_RECLAIM_COMPLETE)).toBe(ranBefore + 1);

    // The same request (same slot, same sequence ID, same bytes) on a new TCP connection.
    const reconnect = await client.addConnection();
    const retry = await client.compoundRaw(first.args, reconnect);
    expect(Buffer.from(retry.bytes).equals(Buffer.from(first.bytes))).toBe(true);
    expect(retry.res.status).toBe(ST.NFS4_OK);
    // Executed again it would have said NFS4ERR_COMPLETE_ALREADY; it did not run.
    expect(executed(server, OP.OP_RECLAIM_COMPLETE)).toBe(ranBefore + 1);

    // The next sequence ID is a new request: it runs, and now it is a repeat.
    const next = await session.compound([ops.reclaimComplete()], {
      cachethis: true,
      slot: 3,
      conn: reconnect,
    });
    expect(next.seqid).toBe(2);
    expect(next.status).toBe(ST.NFS4ERR_COMPLETE_ALREADY);
    expect(executed(server, OP.OP_RECLAIM_COMPLETE)).toBe(ranBefore + 2);
    // The connection is bound to the session (a replay binds it as a new request would).
    const bound = server.state.session(session.id)?.connections;
    expect(bound?.has(serverConnId(server, reconnect.local))).toBe(true);
  });

  it("replays a cached file operation (PUTROOTFH + GETFH) without running it again", async () => {
    const { client, session } = await establish(running.port);
    const server = running.server;
    const put = executed(server, OP.OP_PUTROOTFH);
    const get = executed(server, OP.OP_GETFH);
    const first = await session.compound([ops.putrootfh(), ops.getfh()], {
      cachethis: true,
      slot: 0,
    });
    expect(first.status).toBe(ST.NFS4_OK);
    const retry = await client.compoundRaw(first.args, await client.addConnection());
    expect(Buffer.from(retry.bytes).equals(Buffer.from(first.bytes))).toBe(true);
    expect(resultOf(retry.res.resarray[2], OP.OP_GETFH)).toEqual(
      resultOf(first.resarray[1], OP.OP_GETFH),
    );
    expect(executed(server, OP.OP_PUTROOTFH)).toBe(put + 1);
    expect(executed(server, OP.OP_GETFH)).toBe(get + 1);
  });

  it("answers a retry of an uncached request with NFS4ERR_RETRY_UNCACHED_REP, running nothing", async () => {
    const { client, session } = await establish(running.port);
    const server = running.server;
    const first = await session.compound([ops.reclaimComplete()], { cachethis: false, slot: 1 });
    expect(first.status).toBe(ST.NFS4_OK);
    const ran = executed(server, OP.OP_RECLAIM_COMPLETE);
    const retry = await client.compoundRaw(first.args, await client.addConnection());
    expect(retry.res.status).toBe(ST.NFS4ERR_RETRY_UNCACHED_REP);
    expect(executed(server, OP.OP_RECLAIM_COMPLETE)).toBe(ran);
  });

  it("tells a false retry (same slot and sequence ID, different request) from a true one", async () => {
    const { client, session } = await establish(running.port);
    const first = await session.compound([ops.reclaimComplete()], { cachethis: true, slot: 2 });
    const [sequence] = first.args.argarray;
    const different = { ...first.args, argarray: [sequence!, ops.putrootfh()] };
    const res = await client.compoundRaw(different, await client.addConnection());
    expect(res.res.status).toBe(ST.NFS4ERR_SEQ_FALSE_RETRY);
  });

  it("keeps the replay cache's accounted size bounded by what the slots hold", async () => {
    const { session } = await establish(running.port);
    const server = running.server;
    const before = server.state.stats().replayCacheBytes;
    let size = 0;
    for (let i = 0; i < 50; i++) {
      const r = await session.compound([ops.reclaimComplete(true)], { cachethis: true, slot: 0 });
      size = r.bytes.length;
    }
    // One slot holds one reply: the accounted bytes grow by at most one reply.
    expect(server.state.stats().replayCacheBytes - before).toBeLessThanOrEqual(size);
  });
});

describe("a reply lost with its connection", () => {
  const fs = new GatedFileSystem();
  const gated = useServer({ fs });

  /** Retries until the original has finished on the server (NFS4ERR_DELAY until then). */
  async function retryUntilDone(send: () => Promise<RawReply>): Promise<RawReply> {
    let reply = await send();
    await until(async () => {
      if (reply.res.status !== ST.NFS4ERR_DELAY) return true;
      reply = await send();
      return false;
    }, "the original request to finish");
    return reply;
  }

  it("is recovered by retrying on a new connection: the cached reply, and the request ran once", async () => {
    const { client, session } = await establish(gated.port);
    const doomed = await session.addConnection();
    const put = executed(gated.server, OP.OP_PUTROOTFH);
    fs.close();
    const lost = session.compound([ops.putrootfh(), ops.lookup("export"), ops.getfh()], {
      cachethis: true,
      slot: 4,
      conn: doomed,
    });
    await until(() => fs.arrived > 0, "the request to reach the backend");
    const arrived = fs.arrived;
    // The connection dies while the server is still working on the request.
    doomed.destroy();
    await expect(lost).rejects.toBeInstanceOf(RpcConnectionClosedError);
    expect(session.slots.peek(4).inDoubt).toBe(true);

    // The client reconnects and retries the very same request (same slot and
    // sequence ID). While the original runs, the server says NFS4ERR_DELAY.
    const args = {
      tag: client.tag,
      minorversion: 1,
      argarray: [
        ops.sequence({
          sa_sessionid: session.id,
          sa_sequenceid: 1,
          sa_slotid: 4,
          sa_highest_slotid: 4,
          sa_cachethis: true,
        }),
        ops.putrootfh(),
        ops.lookup("export"),
        ops.getfh(),
      ],
    };
    const reconnect = await client.addConnection();
    const early = await client.compoundRaw(args, reconnect);
    expect(early.res.status).toBe(ST.NFS4ERR_DELAY);
    fs.release();
    const retry = await retryUntilDone(() => client.compoundRaw(args, reconnect));
    expect(retry.res.status).toBe(ST.NFS4_OK);
    expect(resultOf(retry.res.resarray[3], OP.OP_GETFH)?.status).toBe(ST.NFS4_OK);
    // Ran once: the retry was answered from the replay cache.
    expect(executed(gated.server, OP.OP_PUTROOTFH)).toBe(put + 1);
    expect(fs.arrived).toBe(arrived);
    expect(Buffer.from((await client.compoundRaw(args, reconnect)).bytes)).toEqual(
      Buffer.from(retry.bytes),
    );
  });

  it("leaves the slot in doubt until the client resynchronises it, whatever the server did", async () => {
    const { session } = await establish(gated.port);
    const doomed = await session.addConnection();
    fs.close();
    const lost = session.compound([ops.putrootfh(), ops.lookup("export")], {
      slot: 6,
      conn: doomed,
    });
    await until(() => fs.arrived > 0, "the request to reach the backend");
    doomed.destroy();
    await expect(lost).rejects.toBeInstanceOf(RpcConnectionClosedError);
    fs.release();
    // The server processed the lost request: resynchronising finds seqid 1
    // taken (a retry error, or DELAY while it finishes) and moves to 2.
    const next = await session.compound([ops.putrootfh(), ops.getfh()], { slot: 6 });
    expect(next.status).toBe(ST.NFS4_OK);
    expect(next.seqid).toBe(2);
    expect(session.slots.peek(6)).toMatchObject({ seqid: 3, inDoubt: false });
  });
});

describe("a long-lived session under a small replay-cache budget", () => {
  // Room for eight slots of 512 cached bytes.
  const small = useServer({ settings: { replayCacheBudget: 4096, maxResponseSizeCached: 512 } });

  it("still replays its latest cached reply after many requests on one slot", async () => {
    const { client, session } = await establish(small.port);
    let last = await session.compound([ops.reclaimComplete(true)], { cachethis: true, slot: 0 });
    // 200 replies of ~80 bytes each pass through the slot; it only ever holds one.
    for (let i = 0; i < 200; i++)
      last = await session.compound([ops.reclaimComplete(true)], { cachethis: true, slot: 0 });
    const retry = await client.compoundRaw(last.args);
    expect(retry.res.status).not.toBe(ST.NFS4ERR_RETRY_UNCACHED_REP);
    expect(Buffer.from(retry.bytes)).toEqual(Buffer.from(last.bytes));
  });
});

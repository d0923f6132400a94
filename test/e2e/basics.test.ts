// A client over real TCP: NULL, EXCHANGE_ID, CREATE_SESSION, SEQUENCE and the
// client library's slot rules against the real server.

import { describe, expect, it } from "vitest";
import { EXCHGID4_FLAG_CONFIRMED_R } from "../../generated/nfs4/index.js";
import { NfsClientClosedError, NfsError, ops, resultOf } from "../../src/client/index.js";
import { OP, ST, connectClient, establish, uniqueOwner, useServer } from "./support.js";

const running = useServer({ settings: { maxSlotsPerSession: 8 } });

describe("NULL", () => {
  it("answers NULL on every connection", async () => {
    const client = await connectClient(running.port);
    await client.null();
    const second = await client.addConnection();
    await client.null(second);
    expect(client.connections).toHaveLength(2);
  });
});

describe("establishing a client and a session", () => {
  it("EXCHANGE_ID then CREATE_SESSION confirm the client and open a session", async () => {
    const before = running.server.state.stats();
    const client = await connectClient(running.port);
    const owner = uniqueOwner();
    const eid = await client.exchangeId(owner);
    expect((eid.eir_flags & EXCHGID4_FLAG_CONFIRMED_R) !== 0).toBe(false);
    const session = await client.createSession();
    expect(session.id).toHaveLength(16);
    expect(session.clientid).toBe(eid.eir_clientid);
    // 64 slots asked for, the server's 8 granted: the client's table follows.
    expect(session.fore.ca_maxrequests).toBe(8);
    expect(session.slots.size).toBe(8);
    const after = running.server.state.stats();
    expect(after.confirmedClients).toBe(before.confirmedClients + 1);
    expect(after.sessions).toBe(before.sessions + 1);
    // Asked again, the same owner and verifier get the same, now confirmed, ID.
    const again = await client.exchangeId(owner);
    expect(again.eir_clientid).toBe(eid.eir_clientid);
    expect((again.eir_flags & EXCHGID4_FLAG_CONFIRMED_R) !== 0).toBe(true);
  });

  it("an AUTH_NONE client can establish a session too", async () => {
    const { session } = await establish(running.port, { cred: "none" });
    expect((await session.sequenceOnly()).status).toBe(ST.NFS4_OK);
  });

  it("a second session of the same client uses the next CREATE_SESSION sequence ID", async () => {
    const { client } = await establish(running.port);
    const second = await client.createSession();
    expect((await second.sequenceOnly()).status).toBe(ST.NFS4_OK);
  });
});

describe("SEQUENCE", () => {
  it("succeeds and advances the slot's sequence ID by one per request", async () => {
    const { session } = await establish(running.port);
    for (let i = 1; i <= 5; i++) {
      const r = await session.sequenceOnly({ slot: 0 });
      expect(r.status).toBe(ST.NFS4_OK);
      expect(r.seqid).toBe(i);
      const seq = r.sequence;
      expect(seq?.sr_status).toBe(ST.NFS4_OK);
      if (seq?.sr_status !== ST.NFS4_OK) return;
      expect(seq.sr_resok4).toMatchObject({ sr_sequenceid: i, sr_slotid: 0, sr_highest_slotid: 7 });
      expect(seq.sr_resok4.sr_sessionid).toEqual(session.id);
    }
    expect(session.slots.peek(0).seqid).toBe(6);
  });

  it("returns operation errors as statuses, and the slot still advances", async () => {
    const { session } = await establish(running.port);
    const first = await session.compound([ops.reclaimComplete()], { slot: 1 });
    expect(first.status).toBe(ST.NFS4_OK);
    const second = await session.compound([ops.reclaimComplete()], { slot: 1 });
    expect(second.status).toBe(ST.NFS4ERR_COMPLETE_ALREADY);
    expect(second.resarray.map((r) => r.resop)).toEqual([OP.OP_RECLAIM_COMPLETE]);
    // SEQUENCE itself succeeded, so the server's slot moved on and so did ours.
    expect(session.slots.peek(1).seqid).toBe(3);
    expect((await session.sequenceOnly({ slot: 1 })).status).toBe(ST.NFS4_OK);
  });

  it("keeps the sequence ID when SEQUENCE itself fails (NFS4ERR_TOO_MANY_OPS)", async () => {
    const { session } = await establish(running.port);
    const tooMany = Array.from({ length: session.fore.ca_maxoperations }, () =>
      ops.reclaimComplete(),
    );
    const r = await session.compound(tooMany, { slot: 2 });
    expect(r.sequence?.sr_status).toBe(ST.NFS4ERR_TOO_MANY_OPS);
    expect(session.slots.peek(2).seqid).toBe(1);
    expect((await session.sequenceOnly({ slot: 2 })).status).toBe(ST.NFS4_OK);
  });

  it("resynchronises a slot whose reply was lost with the connection", async () => {
    const { client, session } = await establish(running.port);
    const spare = await session.addConnection();
    const lost = session.sequenceOnly({ slot: 3, conn: spare });
    spare.destroy();
    // Whether or not the server saw it, the request failed for the client and
    // the slot is in doubt until the next use settles it.
    await expect(lost).rejects.toThrow();
    expect(session.slots.peek(3).inDoubt).toBe(true);
    const next = await session.sequenceOnly({ slot: 3, conn: client.connection });
    expect(next.status).toBe(ST.NFS4_OK);
    expect(session.slots.peek(3).inDoubt).toBe(false);
  });

  it("waits for a free slot when every slot is busy", async () => {
    const { client } = await establish(running.port);
    const small = await client.createSession({ fore: { ca_maxrequests: 2 } });
    expect(small.slots.size).toBe(2);
    const replies = await Promise.all(
      Array.from({ length: 25 }, () => small.compound([ops.reclaimComplete(true)])),
    );
    // RECLAIM_COMPLETE(one_fs) without a filehandle: NOFILEHANDLE, but SEQUENCE ran.
    for (const r of replies) expect(r.sequence?.sr_status).toBe(ST.NFS4_OK);
    expect(new Set(replies.map((r) => r.slotid))).toEqual(new Set([0, 1]));
    const perSlot = [0, 1].map((s) => replies.filter((r) => r.slotid === s).length);
    expect(small.slots.peek(0).seqid + small.slots.peek(1).seqid).toBe(2 + 25);
    expect(perSlot[0]! + perSlot[1]!).toBe(25);
  });
});

describe("errors of the convenience helpers", () => {
  it("exchangeId throws NfsError with the status and the operation", async () => {
    const client = await connectClient(running.port);
    // 0x10 is no EXCHGID4_FLAG_*: an undefined flag is NFS4ERR_INVAL (RFC 8881 §18.35.3).
    const err = await client.exchangeId(uniqueOwner(), undefined, 0x10).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NfsError);
    expect(err).toMatchObject({ status: ST.NFS4ERR_INVAL, op: OP.OP_EXCHANGE_ID });
  });

  it("createSession throws NfsError for channel attributes the server cannot use", async () => {
    const client = await connectClient(running.port);
    await client.exchangeId(uniqueOwner());
    await expect(client.createSession({ fore: { ca_maxrequestsize: 10 } })).rejects.toMatchObject({
      status: ST.NFS4ERR_TOOSMALL,
      op: OP.OP_CREATE_SESSION,
    });
    // The failed attempt did not use up the sequence ID.
    expect((await (await client.createSession()).sequenceOnly()).status).toBe(ST.NFS4_OK);
  });
});

describe("ending a session and a client", () => {
  it("destroy() ends the session on the server; the client ID can then go", async () => {
    const { client, session } = await establish(running.port);
    const sessions = running.server.state.stats().sessions;
    await session.destroy();
    expect(running.server.state.stats().sessions).toBe(sessions - 1);
    await expect(session.sequenceOnly()).rejects.toBeInstanceOf(NfsClientClosedError);
    // Over the wire, the session is gone.
    const { res } = await client.compound([
      ops.sequence({
        sa_sessionid: session.id,
        sa_sequenceid: 1,
        sa_slotid: 0,
        sa_highest_slotid: 0,
        sa_cachethis: false,
      }),
    ]);
    expect(res.status).toBe(ST.NFS4ERR_BADSESSION);
    await client.destroyClientId();
    expect(client.clientid).toBeNull();
  });
});

describe("file operations over a session (need PUTROOTFH, GETFH, PUTFH wired)", () => {
  it("PUTROOTFH + GETFH returns the root's file handle, and PUTFH accepts it", async () => {
    const { session } = await establish(running.port);
    const r = await session.compound([ops.putrootfh(), ops.getfh()]);
    expect(r.status).toBe(ST.NFS4_OK);
    const fh = resultOf(r.resarray[1], OP.OP_GETFH);
    expect(fh?.status).toBe(ST.NFS4_OK);
    if (fh?.status !== ST.NFS4_OK) return;
    expect(fh.resok4.object.length).toBeGreaterThan(0);
    expect(fh.resok4.object.length).toBeLessThanOrEqual(128);
    const again = await session.compound([ops.putfh(fh.resok4.object), ops.getfh()]);
    expect(again.status).toBe(ST.NFS4_OK);
    expect(resultOf(again.resarray[1], OP.OP_GETFH)).toEqual(fh);
  });
});

// Exactly-once that holds for real clients (issue 7), over TCP through the
// client library: a retry is recognised by session + slot + seqid and the
// bytes after SEQUENCE, never by SEQUENCE's own fields; replayed SEQUENCE
// results are fresh; each session's replay cache is reserved, so other clients
// cannot push a cached reply out; the slot table grows and shrinks with the
// client's acknowledgement; stored fields are copies.

import { describe, expect, it } from "vitest";
import type { COMPOUND4args, nfs_argop4 } from "../../generated/nfs4/index.js";
import {
  SEQ4_STATUS_CB_PATH_DOWN,
  SEQ4_STATUS_CB_PATH_DOWN_SESSION,
  state_protect_how4,
} from "../../generated/nfs4/index.js";
import type { ClientSession, NfsClient, SessionReply } from "../../src/client/index.js";
import { NfsError, ops, resultOf } from "../../src/client/index.js";
import {
  OP,
  ST,
  connectClient,
  establish,
  executed,
  uniqueOwner,
  until,
  useServer,
} from "./support.js";

/** The same COMPOUND with SEQUENCE's sa_highest_slotid re-encoded, as the Linux client does on a retry. */
function withHighestSlotid(args: COMPOUND4args, highest: number): COMPOUND4args {
  const [first, ...rest] = args.argarray;
  if (first?.argop !== OP.OP_SEQUENCE) throw new Error("no SEQUENCE");
  const sequence: nfs_argop4 = ops.sequence({ ...first.opsequence, sa_highest_slotid: highest });
  return { ...args, argarray: [sequence, ...rest] };
}

function withSequence(
  session: ClientSession,
  seqid: number,
  slot: number,
  argops: nfs_argop4[],
  tag: Uint8Array,
): COMPOUND4args {
  return {
    tag,
    minorversion: 1,
    argarray: [
      ops.sequence({
        sa_sessionid: session.id,
        sa_sequenceid: seqid >>> 0,
        sa_slotid: slot,
        sa_highest_slotid: slot,
        sa_cachethis: true,
      }),
      ...argops,
    ],
  };
}

/** A value that owns an ArrayBuffer of exactly its size: not a view into a received record. */
const owned = (v: Uint8Array): boolean => v.byteOffset === 0 && v.buffer.byteLength === v.length;

describe("retry identity over TCP", () => {
  const running = useServer();

  it("replays a retry on a new connection with another sa_highest_slotid, executing once", async () => {
    const { client, session } = await establish(running.port);
    const ran = executed(running.server, OP.OP_RECLAIM_COMPLETE);
    const first = await session.compound([ops.reclaimComplete()], { cachethis: true, slot: 2 });
    expect(first.status).toBe(ST.NFS4_OK);
    // After a reconnect the client re-encodes SEQUENCE: sa_highest_slotid differs.
    const retry = await client.compoundRaw(
      withHighestSlotid(first.args, 7),
      await client.addConnection(),
    );
    expect(retry.res.status).toBe(ST.NFS4_OK); // run again, it would be COMPLETE_ALREADY
    expect(retry.res.resarray.slice(1)).toEqual(first.resarray);
    expect(executed(running.server, OP.OP_RECLAIM_COMPLETE)).toBe(ran + 1);
  });

  it("tells apart two requests that differ only after byte 1024", async () => {
    const { client, session } = await establish(running.port);
    // Five LOOKUPs of 250-byte names: the last name ends some 1300 bytes in.
    const names = ["a", "b", "c", "d", "e"].map((c) => c.repeat(250));
    const lookups = names.map((n) => ops.lookup(n));
    const first = await session.compound([ops.putrootfh(), ...lookups], {
      cachethis: true,
      slot: 1,
    });
    expect(first.status).toBe(ST.NFS4ERR_NOENT);
    expect(first.args.argarray.length).toBe(7);
    // Byte-identical: a true retry.
    const same = await client.compoundRaw(first.args);
    expect(Buffer.from(same.bytes).equals(Buffer.from(first.bytes))).toBe(true);
    // Only the last byte of the name differs, some 2000 bytes in: a false retry.
    const other = await client.compoundRaw({
      ...first.args,
      argarray: [...first.args.argarray.slice(0, -1), ops.lookup("e".repeat(249) + "f")],
    });
    expect(other.res.status).toBe(ST.NFS4ERR_SEQ_FALSE_RETRY);
  });

  it("replays across the seqid wrap", async () => {
    const { client, session } = await establish(running.port);
    const table = running.server.state.session(session.id)!.slots;
    Object.assign(table.slot(5), { seqid: 0xfffffffe, used: true });
    const ran = executed(running.server, OP.OP_RECLAIM_COMPLETE);
    const top = withSequence(session, 0xffffffff, 5, [ops.reclaimComplete()], client.tag);
    const topReply = await client.compoundRaw(top);
    expect(topReply.res.status).toBe(ST.NFS4_OK);
    const topRetry = await client.compoundRaw(top, await client.addConnection());
    expect(Buffer.from(topRetry.bytes).equals(Buffer.from(topReply.bytes))).toBe(true);
    const zero = withSequence(session, 0, 5, [ops.reclaimComplete()], client.tag);
    const zeroReply = await client.compoundRaw(zero);
    expect(zeroReply.res.status).toBe(ST.NFS4ERR_COMPLETE_ALREADY); // new: it ran
    const zeroRetry = await client.compoundRaw(zero);
    expect(Buffer.from(zeroRetry.bytes).equals(Buffer.from(zeroReply.bytes))).toBe(true);
    expect(executed(running.server, OP.OP_RECLAIM_COMPLETE)).toBe(ran + 2);
  });

  it("answers a replay with a freshly encoded SEQUENCE: current status flags", async () => {
    const { client, session } = await establish(running.port);
    // The session's first connection carries its back channel.
    const first = await session.compound([ops.reclaimComplete()], { cachethis: true, slot: 3 });
    expect(first.sequence?.sr_status).toBe(ST.NFS4_OK);
    const flags = (r: typeof first.sequence): number =>
      r?.sr_status === ST.NFS4_OK ? r.sr_resok4.sr_status_flags : -1;
    expect(flags(first.sequence)).toBe(0);
    const spare = await client.addConnection();
    first.conn.destroy();
    const server = running.server.state.session(session.id)!;
    await until(() => server.backChannel() === null, "the server to see the connection close");
    const retry = await client.compoundRaw(first.args, spare);
    const sequence = resultOf(retry.res.resarray[0], OP.OP_SEQUENCE);
    expect(flags(sequence)).toBe(SEQ4_STATUS_CB_PATH_DOWN | SEQ4_STATUS_CB_PATH_DOWN_SESSION);
    expect(retry.res.resarray.slice(1)).toEqual(first.resarray);
  });

  it("keeps copies, never views of a received record", async () => {
    const client = await connectClient(running.port);
    const owner = uniqueOwner("copies");
    const reply = await client.compound([
      {
        argop: OP.OP_EXCHANGE_ID,
        opexchange_id: {
          eia_clientowner: { co_verifier: client.verifier, co_ownerid: ops.bytesOf(owner) },
          eia_flags: 0,
          eia_state_protect: { spa_how: state_protect_how4.SP4_NONE },
          eia_client_impl_id: [
            {
              nii_domain: ops.bytesOf("kernel.org"),
              nii_name: ops.bytesOf("Linux 6.14"),
              nii_date: { seconds: 0n, nseconds: 0 },
            },
          ],
        },
      },
    ]);
    const ok = resultOf(reply.res.resarray[0], OP.OP_EXCHANGE_ID);
    if (ok?.eir_status !== ST.NFS4_OK) throw new Error("EXCHANGE_ID failed");
    const record = running.server.state.client(ok.eir_resok4.eir_clientid)!;
    const id = record.implId[0]!;
    for (const v of [record.ownerId, record.verifier, id.nii_domain, id.nii_name])
      expect(owned(v)).toBe(true);
    expect(new TextDecoder().decode(id.nii_name)).toBe("Linux 6.14");

    const { session } = await establish(running.port);
    await session.compound([ops.putrootfh(), ops.getfh()], { cachethis: true, slot: 0 });
    const cached = running.server.state.session(session.id)!.slots.slot(0).cached!;
    expect(cached.tail.length).toBeGreaterThan(0);
    expect(owned(cached.tail)).toBe(true);
  });
});

describe("a reserved replay cache over TCP", () => {
  // Room for eight slots of 1 KiB cached replies.
  const running = useServer({
    settings: { replayCacheBudget: 8 * 1024, maxResponseSizeCached: 1024, maxSlotsPerSession: 16 },
  });
  const fore = { ca_maxrequests: 16, ca_maxresponsesize_cached: 1024 };

  async function sessionFor(client: NfsClient): Promise<ClientSession> {
    await client.exchangeId(uniqueOwner("budget"));
    return client.createSession({ fore });
  }

  it("keeps a client's cached replies while anonymous clients fill every session they may open", async () => {
    const victim = await connectClient(running.port);
    const session = await sessionFor(victim);
    expect(session.slots.size).toBe(8);
    const ran = executed(running.server, OP.OP_RECLAIM_COMPLETE);
    const first: SessionReply[] = [];
    for (let slot = 0; slot < 4; slot++)
      first.push(await session.compound([ops.reclaimComplete()], { cachethis: true, slot }));
    // Anonymous clients open sessions until the server says NFS4ERR_NOSPC.
    let refused = 0;
    for (let i = 0; i < 4; i++) {
      const anon = await connectClient(running.port, { cred: "none" });
      await anon.exchangeId(uniqueOwner("anon"));
      for (let j = 0; j < 16; j++) {
        const made = await anon.createSession({ fore }).catch((e: unknown) => e);
        if (made instanceof NfsError) {
          expect(made.status).toBe(ST.NFS4ERR_NOSPC);
          refused++;
        }
      }
    }
    expect(refused).toBeGreaterThan(0);
    // The victim lost its replies and retries all four (each outstanding: sa_highest_slotid 3).
    const retries = await Promise.all(
      first.map(async (r) =>
        victim.compoundRaw(withHighestSlotid(r.args, 3), await victim.addConnection()),
      ),
    );
    retries.forEach((retry, i) => {
      expect(retry.res.status).toBe(first[i]!.status);
      expect(retry.res.resarray.slice(1)).toEqual(first[i]!.resarray);
    });
    expect(executed(running.server, OP.OP_RECLAIM_COMPLETE)).toBe(ran + 4);
  });
});

describe("the dynamic slot table over TCP", () => {
  const running = useServer({
    settings: { replayCacheBudget: 8 * 1024, maxResponseSizeCached: 1024, maxSlotsPerSession: 16 },
  });
  const fore = { ca_maxrequests: 16, ca_maxresponsesize_cached: 1024 };

  it("shrinks with the client's acknowledgement and grows back when the budget allows", async () => {
    const a = await connectClient(running.port);
    await a.exchangeId(uniqueOwner("dyn-a"));
    const session = await a.createSession({ fore });
    const table = running.server.state.session(session.id)!.slots;
    expect(table.size).toBe(8);

    // Another client finds the budget spent: NOSPC, and the server asks a to halve.
    const b = await connectClient(running.port);
    await b.exchangeId(uniqueOwner("dyn-b"));
    await expect(b.createSession({ fore })).rejects.toMatchObject({ status: ST.NFS4ERR_NOSPC });
    expect(table.targetHighestSlotId).toBe(3);
    expect(table.size).toBe(8); // nothing freed before the client acknowledges

    // a's next reply tells it the target; the request after that, on a slot
    // whose reply carried it, with sa_highest_slotid 0, acknowledges it: slots 4-7 go.
    expect((await session.sequenceOnly()).status).toBe(ST.NFS4_OK);
    expect(table.size).toBe(8);
    expect((await session.sequenceOnly()).status).toBe(ST.NFS4_OK);
    expect(table.size).toBe(4);
    expect(session.slots.highestUsable).toBe(3);
    expect(running.server.state.stats().replayCacheReserved).toBe(4 * 1024);

    // b gets the freed memory.
    const bSession = await b.createSession({ fore });
    expect(bSession.slots.size).toBe(4);

    // The client honours the target: a burst uses slots 0-3 only, and all
    // succeed; with the budget spent, using slot 3 grows nothing.
    const burst = await Promise.all(Array.from({ length: 12 }, () => session.sequenceOnly()));
    expect(burst.every((x) => x.status === ST.NFS4_OK)).toBe(true);
    expect(Math.max(...burst.map((x) => x.slotid))).toBe(3);
    expect(table.size).toBe(4);
    await bSession.destroy();

    // With room again, a's busy use of its highest slot grows the table, a slot at a time.
    for (let i = 0; i < 20 && table.size < 8; i++)
      await Promise.all(Array.from({ length: 12 }, () => session.sequenceOnly()));
    expect(table.size).toBe(8);
    expect(session.slots.highestUsable).toBe(7);
    expect(running.server.state.stats().replayCacheReserved).toBe(8 * 1024);
  });
});

// Trunking over TCP (RFC 8881 §2.10.5): several sessions on one connection,
// one session over several connections, sessions outliving connections, several
// clients at once, explicit binding and the back channel on the client's socket.

import { describe, expect, it } from "vitest";
import {
  CB_COMPOUND,
  CB_NULL,
  NFS4_CALLBACK,
  NFS_CB,
  SEQ4_STATUS_CB_PATH_DOWN_SESSION,
  channel_dir_from_client4,
  channel_dir_from_server4,
  decodeCB_COMPOUND4res,
  encodeCB_COMPOUND4args,
  nfs_cb_opnum4,
} from "../../generated/nfs4/index.js";
import { ops } from "../../src/client/index.js";
import { AUTH_NONE_OUTGOING } from "../../src/rpc/auth.js";
import { XdrWriter } from "../../src/xdr/index.js";
import {
  ST,
  connectClient,
  establish,
  expectAlive,
  serverConnId,
  uniqueOwner,
  until,
  useServer,
} from "./support.js";

const running = useServer();

describe("several sessions on one connection", () => {
  it("keeps two sessions of one client apart while they are used interleaved", async () => {
    const { client, session: a } = await establish(running.port);
    const b = await client.createSession();
    expect(Buffer.from(a.id).equals(Buffer.from(b.id))).toBe(false);
    // Both sessions run over the client's one connection, interleaved and concurrent.
    const replies = await Promise.all(
      Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? a : b).sequenceOnly({ slot: 0 })),
    );
    for (const r of replies) expect(r.status).toBe(ST.NFS4_OK);
    // Each session counted its own sequence IDs on its own slot 0.
    expect(a.slots.peek(0).seqid).toBe(11);
    expect(b.slots.peek(0).seqid).toBe(11);
    const conn = serverConnId(running.server, client.connection.local);
    const onConn = running.server.state.sessionsOf(conn);
    expect([...onConn].map((s) => s.key).sort()).toEqual(
      [a.id, b.id].map((id) => Buffer.from(id).toString("hex")).sort(),
    );
  });
});

describe("one session over several connections", () => {
  it("spreads concurrent requests over three connections, all bound to the session", async () => {
    const { client, session } = await establish(running.port);
    await session.addConnection();
    await session.addConnection();
    expect(session.connections).toHaveLength(3);
    const before = session.connections.map((c) => c.calls);
    const replies = await Promise.all(
      Array.from({ length: 30 }, () => session.compound([ops.putrootfh(), ops.getfh()])),
    );
    for (const r of replies) expect(r.sequence?.sr_status).toBe(ST.NFS4_OK);
    const sent = session.connections.map((c, i) => c.calls - before[i]!);
    expect(sent.reduce((x, y) => x + y, 0)).toBe(30);
    for (const n of sent) expect(n).toBeGreaterThan(0);
    // The server bound every connection that carried a SEQUENCE to the session.
    const bound = running.server.state.session(session.id)!.connections;
    for (const c of client.connections) {
      expect(bound.get(serverConnId(running.server, c.local))?.fore).toBe(true);
    }
    expect(bound.size).toBe(3);
  });

  it("survives closing one of its connections", async () => {
    const { client, session } = await establish(running.port);
    const second = await session.addConnection();
    await expectAlive(session);
    await expectAlive(session);
    expect(session.statusFlags & SEQ4_STATUS_CB_PATH_DOWN_SESSION).toBe(0);
    const first = client.connection;
    const firstId = serverConnId(running.server, first.local);
    first.destroy();
    await first.closed;
    await until(
      () => !running.server.state.session(session.id)!.connections.has(firstId),
      "the server to unbind the closed connection",
    );
    expect(session.connections).toEqual([second]);
    for (let i = 0; i < 5; i++) await expectAlive(session);
    // The closed connection carried the back channel (CONN_BACK_CHAN): the server says so.
    expect(session.statusFlags & SEQ4_STATUS_CB_PATH_DOWN_SESSION).not.toBe(0);
  });

  it("binds a connection explicitly with BIND_CONN_TO_SESSION, back channel included", async () => {
    const client = await connectClient(running.port);
    await client.exchangeId(uniqueOwner());
    // No back channel at first: CREATE_SESSION without CONN_BACK_CHAN.
    const session = await client.createSession({ flags: 0 });
    const down = await session.sequenceOnly();
    expect(session.statusFlags & SEQ4_STATUS_CB_PATH_DOWN_SESSION).not.toBe(0);
    expect(down.status).toBe(ST.NFS4_OK);
    const extra = await client.addConnection();
    const res = await session.bindConnection(extra, channel_dir_from_client4.CDFC4_BACK_OR_BOTH);
    expect(res.bctsr_dir).toBe(channel_dir_from_server4.CDFS4_BOTH);
    await session.sequenceOnly();
    expect(session.statusFlags & SEQ4_STATUS_CB_PATH_DOWN_SESSION).toBe(0);
  });
});

describe("the back channel on the client's connection", () => {
  it("answers CB_NULL and CB_COMPOUND(CB_SEQUENCE) sent by the server", async () => {
    const { client, session } = await establish(running.port);
    const back = running.server.state.session(session.id)!.backChannel();
    expect(back).not.toBeNull();
    const call = { prog: NFS4_CALLBACK, vers: NFS_CB, cred: AUTH_NONE_OUTGOING, timeoutMs: 5000 };
    await back!.call({ ...call, proc: CB_NULL, args: new Uint8Array(0) });
    const w = new XdrWriter();
    encodeCB_COMPOUND4args(w, {
      tag: new Uint8Array(0),
      minorversion: 1,
      callback_ident: 0,
      argarray: [
        {
          argop: nfs_cb_opnum4.OP_CB_SEQUENCE,
          opcbsequence: {
            csa_sessionid: session.id,
            csa_sequenceid: 1,
            csa_slotid: 0,
            csa_highest_slotid: 0,
            csa_cachethis: false,
            csa_referring_call_lists: [],
          },
        },
        {
          argop: nfs_cb_opnum4.OP_CB_RECALL_SLOT,
          opcbrecall_slot: { rsa_target_highest_slotid: 0 },
        },
      ],
    });
    const reply = decodeCB_COMPOUND4res(
      await back!.call({ ...call, proc: CB_COMPOUND, args: w.finish() }),
    );
    // CB_SEQUENCE accepted, the rest refused: the default handler implements no callbacks.
    expect(reply.status).toBe(ST.NFS4ERR_NOTSUPP);
    expect(reply.resarray.map((r) => r.resop)).toEqual([
      nfs_cb_opnum4.OP_CB_SEQUENCE,
      nfs_cb_opnum4.OP_CB_RECALL_SLOT,
    ]);
    expect(client.callbacksReceived).toBe(1);
  });
});

describe("several clients", () => {
  it("serves two clients at once, independently", async () => {
    const before = running.server.state.stats().confirmedClients;
    const [one, two] = await Promise.all([establish(running.port), establish(running.port)]);
    expect(one.session.clientid).not.toBe(two.session.clientid);
    expect(running.server.state.stats().confirmedClients).toBe(before + 2);
    const work = (s: typeof one.session) =>
      Promise.all(Array.from({ length: 20 }, () => s.compound([ops.putrootfh(), ops.getfh()])));
    const [r1, r2] = await Promise.all([work(one.session), work(two.session)]);
    for (const r of [...r1, ...r2]) expect(r.status).toBe(ST.NFS4_OK);
    // One client leaving does not disturb the other.
    one.client.destroy();
    for (let i = 0; i < 3; i++) await expectAlive(two.session);
  });
});

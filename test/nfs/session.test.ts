// The NFSv4.1 session rules, each as a test: SEQUENCE and the slot table
// (RFC 8881 §2.10.6), CREATE_SESSION (§18.36.4), EXCHANGE_ID's cases
// (§18.35.5), COMPOUND placement, and the other session operations.

import { describe, expect, it } from "vitest";
import {
  CREATE_SESSION4_FLAG_CONN_BACK_CHAN,
  CREATE_SESSION4_FLAG_CONN_RDMA,
  CREATE_SESSION4_FLAG_PERSIST,
  EXCHGID4_FLAG_CONFIRMED_R,
  EXCHGID4_FLAG_UPD_CONFIRMED_REC_A,
  EXCHGID4_FLAG_USE_NON_PNFS,
  SEQ4_STATUS_CB_PATH_DOWN,
  SEQ4_STATUS_CB_PATH_DOWN_SESSION,
  channel_dir_from_client4,
  decodeCOMPOUND4res,
  channel_dir_from_server4,
  nfs_opnum4,
  nfsstat4,
  state_protect_how4,
} from "../../generated/nfs4/index.js";
import type { channel_attrs4, nfs_argop4 } from "../../generated/nfs4/index.js";
import type { OpTable } from "../../src/nfs/op.js";
import type { RpcConnection } from "../../src/rpc/types.js";
import { joinResult } from "../../src/rpc/types.js";
import { XdrReader } from "../../src/xdr/index.js";
import { MAX_STORED_OPAQUE } from "../../src/state/copies.js";
import { PRESSURE_LOG_INTERVAL_MS, ReplayBudget } from "../../src/state/replay-budget.js";
import type { RetryIdentity } from "../../src/state/slot-table.js";
import { SlotTable, seqidVerdict } from "../../src/state/slot-table.js";
import { pino } from "pino";
import { Harness, sysCred } from "./harness.js";
import {
  arm,
  createSessionOp,
  exchangeIdOp,
  newClient,
  newSession,
  reclaimCompleteOp,
  sequenceOp,
  utf8,
} from "./session-helpers.js";

type SeqOk = { sr_status: number; sr_resok4: Record<string, number | Uint8Array> };

/** A GETATTR handler that waits until released, to hold a slot "in use". */
function blockingOps(): {
  ops: OpTable;
  release: () => void;
  started: Promise<void>;
  runs: () => number;
} {
  let release!: () => void;
  let started!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const startedP = new Promise<void>((r) => (started = r));
  let runs = 0;
  return {
    ops: {
      [nfs_opnum4.OP_PUTROOTFH]: fakeRoot,
      [nfs_opnum4.OP_GETATTR]: async () => {
        runs++;
        started();
        await gate;
        return {
          status: nfsstat4.NFS4_OK,
          resok4: { obj_attributes: { attrmask: [], attr_vals: new Uint8Array() } },
        };
      },
    },
    release,
    started: startedP,
    runs: () => runs,
  };
}

/** A PUTROOTFH that needs no backend: GETATTR needs a current filehandle. */
function fakeRoot(_args: undefined, state: { currentFh: Uint8Array | null }) {
  state.currentFh = new Uint8Array([1]);
  return { status: nfsstat4.NFS4_OK } as const;
}
const putrootOp: nfs_argop4 = { argop: nfs_opnum4.OP_PUTROOTFH };
const getattrOp: nfs_argop4 = { argop: nfs_opnum4.OP_GETATTR, opgetattr: { attr_request: [] } };

describe("SEQUENCE and the slot table (RFC 8881 §2.10.6)", () => {
  it("accepts seqid 1 on a fresh slot and reports the slot limits", async () => {
    const h = new Harness({ maxSlotsPerSession: 8 });
    const conn = h.conn();
    const { sessionid } = await newSession(h, conn);
    const res = await h.run([sequenceOp(sessionid, 1, 3)], conn);
    expect(res.status).toBe(nfsstat4.NFS4_OK);
    const ok = arm<SeqOk>(res.resarray[0], "opsequence").sr_resok4;
    expect(ok).toMatchObject({
      sr_sequenceid: 1,
      sr_slotid: 3,
      sr_highest_slotid: 7,
      sr_target_highest_slotid: 7,
    });
    expect(ok.sr_sessionid).toEqual(sessionid);
  });

  it("replays a retry byte for byte without executing it again", async () => {
    const h = new Harness();
    const conn = h.conn();
    const { sessionid } = await newSession(h, conn);
    const first = await h.run([sequenceOp(sessionid, 1), reclaimCompleteOp], conn);
    expect(first.status).toBe(nfsstat4.NFS4_OK);
    // Executed again, RECLAIM_COMPLETE would say NFS4ERR_COMPLETE_ALREADY.
    const retry = await h.run([sequenceOp(sessionid, 1), reclaimCompleteOp], conn);
    expect(retry.bytes).toEqual(first.bytes);
    const next = await h.run([sequenceOp(sessionid, 2), reclaimCompleteOp], conn);
    expect(next.status).toBe(nfsstat4.NFS4ERR_COMPLETE_ALREADY);
  });

  it("replays on a new connection, binding it implicitly", async () => {
    const h = new Harness();
    const a = h.conn();
    const { sessionid } = await newSession(h, a);
    const first = await h.run([sequenceOp(sessionid, 1), reclaimCompleteOp], a);
    const b = h.conn();
    const retry = await h.run([sequenceOp(sessionid, 1), reclaimCompleteOp], b);
    expect(retry.bytes).toEqual(first.bytes);
    const next = await h.run([sequenceOp(sessionid, 2)], b);
    expect(next.status).toBe(nfsstat4.NFS4_OK);
    expect(h.state.session(sessionid)?.isBound(b.id)).toBe(true);
  });

  it("answers a retry without a cached reply with NFS4ERR_RETRY_UNCACHED_REP", async () => {
    const h = new Harness();
    const conn = h.conn();
    const { sessionid } = await newSession(h, conn);
    const request = [sequenceOp(sessionid, 1, 0, false), reclaimCompleteOp];
    expect((await h.run(request, conn)).status).toBe(nfsstat4.NFS4_OK);
    expect((await h.run(request, conn)).status).toBe(nfsstat4.NFS4ERR_RETRY_UNCACHED_REP);
  });

  it.each([
    ["a seqid two ahead", 3],
    ["a seqid behind", 0],
    ["a seqid far off", 0x12345678],
  ])("rejects %s with NFS4ERR_SEQ_MISORDERED and leaves the slot as it was", async (_name, bad) => {
    const h = new Harness();
    const conn = h.conn();
    const { sessionid } = await newSession(h, conn);
    expect((await h.run([sequenceOp(sessionid, 1)], conn)).status).toBe(nfsstat4.NFS4_OK);
    const res = await h.run([sequenceOp(sessionid, bad)], conn);
    expect(res.status).toBe(nfsstat4.NFS4ERR_SEQ_MISORDERED);
    expect(res.resarray).toHaveLength(1);
    expect((await h.run([sequenceOp(sessionid, 2)], conn)).status).toBe(nfsstat4.NFS4_OK);
  });

  it("rejects seqid 0 on a fresh slot (the first must be 1)", async () => {
    const h = new Harness();
    const conn = h.conn();
    const { sessionid } = await newSession(h, conn);
    expect((await h.run([sequenceOp(sessionid, 0)], conn)).status).toBe(
      nfsstat4.NFS4ERR_SEQ_MISORDERED,
    );
  });

  it("treats a retry from another principal as a false retry", async () => {
    const h = new Harness();
    const conn = h.conn();
    const { sessionid } = await newSession(h, conn);
    await h.run([sequenceOp(sessionid, 1)], conn);
    const res = await h.run([sequenceOp(sessionid, 1)], conn, { cred: sysCred(1000, 1000) });
    expect(res.status).toBe(nfsstat4.NFS4ERR_SEQ_FALSE_RETRY);
  });

  it("treats a different request on the same slot and seqid as a false retry", async () => {
    const h = new Harness();
    const conn = h.conn();
    const { sessionid } = await newSession(h, conn);
    await h.run([sequenceOp(sessionid, 1)], conn);
    const res = await h.run([sequenceOp(sessionid, 1), reclaimCompleteOp], conn);
    expect(res.status).toBe(nfsstat4.NFS4ERR_SEQ_FALSE_RETRY);
  });

  it("wraps the 32-bit seqid from 0xffffffff to 0", async () => {
    const h = new Harness();
    const conn = h.conn();
    const { sessionid } = await newSession(h, conn);
    Object.assign(h.state.session(sessionid)!.slots.slot(0), { seqid: 0xfffffffe, used: true });
    expect((await h.run([sequenceOp(sessionid, 0xffffffff)], conn)).status).toBe(nfsstat4.NFS4_OK);
    expect((await h.run([sequenceOp(sessionid, 0)], conn)).status).toBe(nfsstat4.NFS4_OK);
    expect((await h.run([sequenceOp(sessionid, 1)], conn)).status).toBe(nfsstat4.NFS4_OK);
  });

  it("answers NFS4ERR_DELAY to a retry of a request still executing, then replays it", async () => {
    const block = blockingOps();
    const h = new Harness({}, undefined, block.ops);
    const conn = h.conn();
    const { sessionid } = await newSession(h, conn);
    const original = h.run([sequenceOp(sessionid, 1), putrootOp, getattrOp], conn);
    await block.started;
    expect((await h.run([sequenceOp(sessionid, 1), putrootOp, getattrOp], conn)).status).toBe(
      nfsstat4.NFS4ERR_DELAY,
    );
    // A new seqid on a busy slot is out of order.
    expect((await h.run([sequenceOp(sessionid, 2), putrootOp, getattrOp], conn)).status).toBe(
      nfsstat4.NFS4ERR_SEQ_MISORDERED,
    );
    block.release();
    const done = await original;
    expect(done.status).toBe(nfsstat4.NFS4_OK);
    expect((await h.run([sequenceOp(sessionid, 1), putrootOp, getattrOp], conn)).bytes).toEqual(
      done.bytes,
    );
    expect(block.runs()).toBe(1);
  });

  it("uses slots independently", async () => {
    const h = new Harness();
    const conn = h.conn();
    const { sessionid } = await newSession(h, conn);
    for (let slot = 0; slot < 5; slot++)
      expect((await h.run([sequenceOp(sessionid, 1, slot)], conn)).status).toBe(nfsstat4.NFS4_OK);
    expect((await h.run([sequenceOp(sessionid, 2, 4)], conn)).status).toBe(nfsstat4.NFS4_OK);
  });

  it("rejects a slot beyond the table with NFS4ERR_BADSLOT", async () => {
    const h = new Harness({ maxSlotsPerSession: 4 });
    const conn = h.conn();
    const { sessionid } = await newSession(h, conn);
    expect((await h.run([sequenceOp(sessionid, 1, 4)], conn)).status).toBe(
      nfsstat4.NFS4ERR_BADSLOT,
    );
  });

  it("rejects an unknown session with NFS4ERR_BADSESSION", async () => {
    const h = new Harness();
    const res = await h.run([sequenceOp(new Uint8Array(16).fill(9), 1)], h.conn());
    expect(res.status).toBe(nfsstat4.NFS4ERR_BADSESSION);
  });

  it("enforces ca_maxoperations with NFS4ERR_TOO_MANY_OPS, leaving the slot untouched", async () => {
    const h = new Harness();
    const conn = h.conn();
    const { sessionid } = await newSession(h, conn); // asks for 16 operations
    const ops = [sequenceOp(sessionid, 1), ...Array<nfs_argop4>(16).fill(reclaimCompleteOp)];
    expect((await h.run(ops, conn)).status).toBe(nfsstat4.NFS4ERR_TOO_MANY_OPS);
    expect((await h.run([sequenceOp(sessionid, 1)], conn)).status).toBe(nfsstat4.NFS4_OK);
  });

  it("enforces ca_maxrequestsize with NFS4ERR_REQ_TOO_BIG", async () => {
    const h = new Harness();
    const conn = h.conn();
    const { clientid, sequenceid } = await newClient(h, conn);
    const cs = await h.run(
      [createSessionOp(clientid, sequenceid, { fore: { ca_maxrequestsize: 600 } })],
      conn,
    );
    const sessionid = arm<{ csr_resok4: { csr_sessionid: Uint8Array } }>(
      cs.resarray[0],
      "opcreate_session",
    ).csr_resok4.csr_sessionid;
    const big: nfs_argop4 = {
      argop: nfs_opnum4.OP_PUTFH,
      opputfh: { object: new Uint8Array(128) },
    };
    const res = await h.run([sequenceOp(sessionid, 1), big, big, big, big, big], conn);
    expect(res.status).toBe(nfsstat4.NFS4ERR_REQ_TOO_BIG);
  });

  /** A session whose fore channel has these reply limits. */
  async function sessionWith(
    h: Harness,
    conn: RpcConnection,
    fore: Partial<channel_attrs4>,
  ): Promise<Uint8Array> {
    const { clientid, sequenceid } = await newClient(h, conn);
    const cs = await h.run([createSessionOp(clientid, sequenceid, { fore })], conn);
    expect(cs.status).toBe(nfsstat4.NFS4_OK);
    return arm<{ csr_resok4: { csr_sessionid: Uint8Array } }>(cs.resarray[0], "opcreate_session")
      .csr_resok4.csr_sessionid;
  }

  // A reply of SEQUENCE alone with tag "t" is 84 bytes with its RPC header;
  // RECLAIM_COMPLETE adds 8.
  it("answers NFS4ERR_REP_TOO_BIG_TO_CACHE on the operation that makes a reply to cache too big", async () => {
    const h = new Harness();
    const conn = h.conn();
    const sessionid = await sessionWith(h, conn, { ca_maxresponsesize_cached: 88 });
    const res = await h.run([sequenceOp(sessionid, 1, 0, true), reclaimCompleteOp], conn);
    expect(res.status).toBe(nfsstat4.NFS4ERR_REP_TOO_BIG_TO_CACHE);
    expect(res.resarray.map((r) => r.resop)).toEqual([
      nfs_opnum4.OP_SEQUENCE,
      nfs_opnum4.OP_RECLAIM_COMPLETE,
    ]);
    // Uncached, the same request fits.
    const uncached = await h.run([sequenceOp(sessionid, 2, 0, false), reclaimCompleteOp], conn);
    expect(uncached.status).not.toBe(nfsstat4.NFS4ERR_REP_TOO_BIG_TO_CACHE);
  });

  it("fails SEQUENCE itself, leaving the slot alone, when not even its reply can be cached or sent", async () => {
    const h = new Harness();
    const conn = h.conn();
    const tiny = await sessionWith(h, conn, { ca_maxresponsesize_cached: 10 });
    expect((await h.run([sequenceOp(tiny, 1, 0, true)], conn)).status).toBe(
      nfsstat4.NFS4ERR_REP_TOO_BIG_TO_CACHE,
    );
    expect((await h.run([sequenceOp(tiny, 1, 0, false)], conn)).status).toBe(nfsstat4.NFS4_OK);
  });

  it("reports CB_PATH_DOWN while no back channel is bound", async () => {
    const h = new Harness();
    const conn = h.conn();
    const { clientid, sequenceid } = await newClient(h, conn);
    const cs = await h.run([createSessionOp(clientid, sequenceid, { flags: 0 })], conn);
    const sessionid = arm<{ csr_resok4: { csr_sessionid: Uint8Array } }>(
      cs.resarray[0],
      "opcreate_session",
    ).csr_resok4.csr_sessionid;
    const down = arm<SeqOk>(
      (await h.run([sequenceOp(sessionid, 1)], conn)).resarray[0],
      "opsequence",
    );
    expect(down.sr_resok4.sr_status_flags).toBe(
      SEQ4_STATUS_CB_PATH_DOWN | SEQ4_STATUS_CB_PATH_DOWN_SESSION,
    );
    const bind: nfs_argop4 = {
      argop: nfs_opnum4.OP_BIND_CONN_TO_SESSION,
      opbind_conn_to_session: {
        bctsa_sessid: sessionid,
        bctsa_dir: channel_dir_from_client4.CDFC4_BACK_OR_BOTH,
        bctsa_use_conn_in_rdma_mode: false,
      },
    };
    expect((await h.run([bind], conn)).status).toBe(nfsstat4.NFS4_OK);
    const up = arm<SeqOk>(
      (await h.run([sequenceOp(sessionid, 2)], conn)).resarray[0],
      "opsequence",
    );
    expect(up.sr_resok4.sr_status_flags).toBe(0);
  });

  it("renews the lease; an expired client loses its sessions", async () => {
    const h = new Harness({ leaseTimeSec: 10 });
    const conn = h.conn();
    const { sessionid } = await newSession(h, conn);
    h.clock.now += 8_000;
    await h.run([sequenceOp(sessionid, 1)], conn);
    h.clock.now += 8_000;
    expect(h.state.expireLeases()).toBe(0);
    h.clock.now += 3_000;
    expect(h.state.expireLeases()).toBe(1);
    expect((await h.run([sequenceOp(sessionid, 2)], conn)).status).toBe(
      nfsstat4.NFS4ERR_BADSESSION,
    );
  });

  it("keeps a session when one of its connections closes", async () => {
    const h = new Harness();
    const a = h.conn();
    const b = h.conn();
    const { sessionid } = await newSession(h, a);
    await h.run([sequenceOp(sessionid, 1)], b);
    a.close();
    const session = h.state.session(sessionid)!;
    expect(session.isBound(a.id)).toBe(false);
    expect((await h.run([sequenceOp(sessionid, 2)], b)).status).toBe(nfsstat4.NFS4_OK);
  });
});

describe("CREATE_SESSION (RFC 8881 §18.36)", () => {
  it("answers the contrived first reply for eir_sequenceid - 1 with NFS4ERR_SEQ_MISORDERED", async () => {
    const h = new Harness();
    const conn = h.conn();
    const { clientid, sequenceid } = await newClient(h, conn);
    const res = await h.run([createSessionOp(clientid, (sequenceid - 1) >>> 0)], conn);
    expect(res.status).toBe(nfsstat4.NFS4ERR_SEQ_MISORDERED);
  });

  it("replays a retried CREATE_SESSION with the same session, creating nothing", async () => {
    const h = new Harness();
    const conn = h.conn();
    const { clientid, sequenceid } = await newClient(h, conn);
    const first = await h.run([createSessionOp(clientid, sequenceid)], conn);
    const again = await h.run([createSessionOp(clientid, sequenceid)], conn);
    expect(again.bytes).toEqual(first.bytes);
    expect(h.state.sessionCount).toBe(1);
    expect((await h.run([createSessionOp(clientid, sequenceid + 1)], conn)).status).toBe(
      nfsstat4.NFS4_OK,
    );
    expect(h.state.sessionCount).toBe(2);
  });

  it("rejects a sequence ID out of order", async () => {
    const h = new Harness();
    const conn = h.conn();
    const { clientid, sequenceid } = await newClient(h, conn);
    expect((await h.run([createSessionOp(clientid, sequenceid + 1)], conn)).status).toBe(
      nfsstat4.NFS4ERR_SEQ_MISORDERED,
    );
    expect(h.state.client(clientid)?.confirmed).toBe(false);
  });

  it("rejects an unknown client ID with NFS4ERR_STALE_CLIENTID", async () => {
    const h = new Harness();
    expect((await h.run([createSessionOp(123n, 1)], h.conn())).status).toBe(
      nfsstat4.NFS4ERR_STALE_CLIENTID,
    );
  });

  it("clamps the channel attributes to the server's limits", async () => {
    const h = new Harness({
      maxSlotsPerSession: 32,
      maxOperations: 8,
      maxResponseSizeCached: 4096,
      maxRequestSize: 65536,
    });
    const conn = h.conn();
    const { clientid, sequenceid } = await newClient(h, conn);
    const res = await h.run(
      [
        createSessionOp(clientid, sequenceid, {
          flags:
            CREATE_SESSION4_FLAG_PERSIST |
            CREATE_SESSION4_FLAG_CONN_RDMA |
            CREATE_SESSION4_FLAG_CONN_BACK_CHAN,
          fore: {
            ca_headerpadsize: 64,
            ca_maxrequests: 1000,
            ca_maxoperations: 100,
            ca_maxresponsesize_cached: 1 << 20,
            ca_rdma_ird: [5],
          },
          back: { ca_maxrequests: 50 },
        }),
      ],
      conn,
    );
    const ok = arm<{ csr_resok4: Record<string, unknown> }>(
      res.resarray[0],
      "opcreate_session",
    ).csr_resok4;
    expect(ok.csr_flags).toBe(CREATE_SESSION4_FLAG_CONN_BACK_CHAN);
    expect(ok.csr_fore_chan_attrs).toEqual({
      ca_headerpadsize: 0,
      ca_maxrequestsize: 65536,
      ca_maxresponsesize: 1049480,
      ca_maxresponsesize_cached: 4096,
      ca_maxoperations: 8,
      ca_maxrequests: 32,
      ca_rdma_ird: [],
    });
    expect(ok.csr_back_chan_attrs).toMatchObject({
      ca_maxrequests: 16,
      ca_maxresponsesize_cached: 0,
    });
  });

  it.each([
    ["a tiny fore request size", { fore: { ca_maxrequestsize: 100 } }],
    ["a tiny fore response size", { fore: { ca_maxresponsesize: 100 } }],
    ["one fore operation", { fore: { ca_maxoperations: 1 } }],
    ["no fore slots", { fore: { ca_maxrequests: 0 } }],
    ["a tiny back request size", { back: { ca_maxrequestsize: 64 } }],
    ["one back operation", { back: { ca_maxoperations: 1 } }],
  ])("answers NFS4ERR_TOOSMALL to %s", async (_name, options) => {
    const h = new Harness();
    const conn = h.conn();
    const { clientid, sequenceid } = await newClient(h, conn);
    expect((await h.run([createSessionOp(clientid, sequenceid, options)], conn)).status).toBe(
      nfsstat4.NFS4ERR_TOOSMALL,
    );
  });

  it("confirms the client and binds the connection to both channels with CONN_BACK_CHAN", async () => {
    const h = new Harness();
    const conn = h.conn();
    const { clientid, sessionid } = await newSession(h, conn);
    expect(h.state.client(clientid)?.confirmed).toBe(true);
    expect(h.state.session(sessionid)?.connections.get(conn.id)).toMatchObject({
      fore: true,
      back: true,
    });
  });
});

describe("CREATE_SESSION principals and flags", () => {
  it("lets only the creating principal confirm a record; a confirmed one replays to anyone", async () => {
    const h = new Harness();
    const conn = h.conn();
    const { clientid, sequenceid } = await newClient(h, conn);
    const other = { cred: sysCred(1111, 37) };
    const a = await h.run([createSessionOp(clientid, sequenceid)], conn, other);
    expect(a.status).toBe(nfsstat4.NFS4ERR_CLID_INUSE);
    expect((await h.run([createSessionOp(clientid, sequenceid)], conn, other)).bytes).toEqual(
      a.bytes,
    );
    const ok = await h.run([createSessionOp(clientid, sequenceid)], conn);
    expect(ok.status).toBe(nfsstat4.NFS4_OK);
    expect((await h.run([createSessionOp(clientid, sequenceid)], conn, other)).bytes).toEqual(
      ok.bytes,
    );
  });

  it("rejects undefined flags with NFS4ERR_INVAL", async () => {
    const h = new Harness();
    const conn = h.conn();
    const { clientid, sequenceid } = await newClient(h, conn);
    expect(
      (await h.run([createSessionOp(clientid, sequenceid, { flags: 0xf })], conn)).status,
    ).toBe(nfsstat4.NFS4ERR_INVAL);
  });

  it("requires DESTROY_SESSION without SEQUENCE to come on a bound connection", async () => {
    const h = new Harness();
    const { sessionid } = await newSession(h, h.conn());
    const other = h.conn();
    const destroy: nfs_argop4 = {
      argop: nfs_opnum4.OP_DESTROY_SESSION,
      opdestroy_session: { dsa_sessionid: sessionid },
    };
    expect((await h.run([destroy], other)).status).toBe(nfsstat4.NFS4ERR_CONN_NOT_BOUND_TO_SESSION);
    expect((await h.run([sequenceOp(sessionid, 1)], other)).status).toBe(nfsstat4.NFS4_OK);
    expect((await h.run([destroy], other)).status).toBe(nfsstat4.NFS4_OK);
  });
});

describe("EXCHANGE_ID (RFC 8881 §18.35.5)", () => {
  const eid = async (h: Harness, op: nfs_argop4, cred = sysCred()) => {
    const res = await h.run([op], h.conn(), { cred });
    return {
      status: res.status,
      ok: arm<{ eir_resok4?: Record<string, unknown> }>(res.resarray[0], "opexchange_id")
        .eir_resok4,
    };
  };

  it("case 1: a new owner gets a new unconfirmed client ID", async () => {
    const h = new Harness();
    const { status, ok } = await eid(h, exchangeIdOp("a"));
    expect(status).toBe(nfsstat4.NFS4_OK);
    expect(ok).toMatchObject({
      eir_sequenceid: 1,
      eir_flags: EXCHGID4_FLAG_USE_NON_PNFS,
      eir_state_protect: { spr_how: 0 },
    });
    expect(ok?.eir_server_owner).toEqual({ so_minor_id: 0n, so_major_id: h.state.serverOwner });
  });

  it("case 2: the same owner, verifier and principal after confirmation get the same ID, CONFIRMED_R", async () => {
    const h = new Harness();
    const conn = h.conn();
    const { clientid } = await newSession(h, conn, "a");
    const { ok } = await eid(h, exchangeIdOp("a"));
    expect(ok?.eir_clientid).toBe(clientid);
    expect(ok?.eir_flags).toBe((EXCHGID4_FLAG_USE_NON_PNFS | EXCHGID4_FLAG_CONFIRMED_R) >>> 0);
    expect(ok?.eir_sequenceid).toBe(2);
  });

  it("case 3: another principal with live state gets NFS4ERR_CLID_INUSE", async () => {
    const h = new Harness();
    await newSession(h, h.conn(), "a");
    expect((await eid(h, exchangeIdOp("a"), sysCred(1000))).status).toBe(
      nfsstat4.NFS4ERR_CLID_INUSE,
    );
  });

  it("case 3: another principal takes over an owner whose record holds no state; the old ID is stale at once", async () => {
    const h = new Harness();
    const conn = h.conn();
    const old = await newSession(h, conn, "a");
    await h.run(
      [
        {
          argop: nfs_opnum4.OP_DESTROY_SESSION,
          opdestroy_session: { dsa_sessionid: old.sessionid },
        },
      ],
      conn,
    );
    const { status, ok } = await eid(h, exchangeIdOp("a", "other"), sysCred(1111));
    expect(status).toBe(nfsstat4.NFS4_OK);
    expect(ok?.eir_clientid).not.toBe(old.clientid);
    expect((await h.run([createSessionOp(old.clientid, 2)], conn)).status).toBe(
      nfsstat4.NFS4ERR_STALE_CLIENTID,
    );
  });

  it("case 4: a rebooted client (new verifier) gets a new ID; confirming it replaces the old", async () => {
    const h = new Harness();
    const conn = h.conn();
    const old = await newSession(h, conn, "a");
    const { ok } = await eid(h, exchangeIdOp("a", "rebooted"));
    const fresh = ok?.eir_clientid as bigint;
    expect(fresh).not.toBe(old.clientid);
    expect(h.state.client(old.clientid)?.confirmed).toBe(true);
    expect((await h.run([createSessionOp(fresh, 1)], conn)).status).toBe(nfsstat4.NFS4_OK);
    expect(h.state.client(old.clientid)).toBeUndefined();
    expect((await h.run([sequenceOp(old.sessionid, 1)], conn)).status).toBe(
      nfsstat4.NFS4ERR_BADSESSION,
    );
  });

  it("case 5: an unconfirmed record is replaced", async () => {
    const h = new Harness();
    const first = (await eid(h, exchangeIdOp("a", "one"))).ok?.eir_clientid as bigint;
    const second = (await eid(h, exchangeIdOp("a", "two"))).ok?.eir_clientid as bigint;
    expect(second).not.toBe(first);
    expect(h.state.client(first)).toBeUndefined();
    expect((await h.run([createSessionOp(first, 1)], h.conn())).status).toBe(
      nfsstat4.NFS4ERR_STALE_CLIENTID,
    );
  });

  it("case 6: an update of a confirmed record keeps the ID", async () => {
    const h = new Harness();
    const { clientid } = await newSession(h, h.conn(), "a");
    const { ok } = await eid(h, exchangeIdOp("a", "verifier", EXCHGID4_FLAG_UPD_CONFIRMED_REC_A));
    expect(ok?.eir_clientid).toBe(clientid);
  });

  it("cases 7-9: updates that cannot apply", async () => {
    const h = new Harness();
    const upd = EXCHGID4_FLAG_UPD_CONFIRMED_REC_A;
    expect((await eid(h, exchangeIdOp("none", "v", upd))).status).toBe(nfsstat4.NFS4ERR_NOENT);
    await newSession(h, h.conn(), "a");
    expect((await eid(h, exchangeIdOp("a", "other", upd))).status).toBe(nfsstat4.NFS4ERR_NOT_SAME);
    expect((await eid(h, exchangeIdOp("a", "verifier", upd), sysCred(7))).status).toBe(
      nfsstat4.NFS4ERR_PERM,
    );
  });

  it("rejects undefined flags and the reply-only CONFIRMED_R with NFS4ERR_INVAL", async () => {
    const h = new Harness();
    expect((await eid(h, exchangeIdOp("a", "v", 0x00000800))).status).toBe(nfsstat4.NFS4ERR_INVAL);
    expect((await eid(h, exchangeIdOp("a", "v", EXCHGID4_FLAG_CONFIRMED_R))).status).toBe(
      nfsstat4.NFS4ERR_INVAL,
    );
  });

  it("refuses SP4_MACH_CRED over AUTH_SYS and SP4_SSV", async () => {
    const h = new Harness();
    const mach = exchangeIdOp("a") as Extract<nfs_argop4, { argop: 42 }>;
    mach.opexchange_id.eia_state_protect = {
      spa_how: state_protect_how4.SP4_MACH_CRED,
      spa_mach_ops: { spo_must_enforce: [], spo_must_allow: [] },
    };
    expect((await eid(h, mach)).status).toBe(nfsstat4.NFS4ERR_INVAL);
  });
});

describe("COMPOUND placement and decoding", () => {
  it("requires SEQUENCE first: NFS4ERR_OP_NOT_IN_SESSION", async () => {
    const h = new Harness();
    const res = await h.run([reclaimCompleteOp], h.conn());
    expect(res.status).toBe(nfsstat4.NFS4ERR_OP_NOT_IN_SESSION);
    expect(res.resarray).toHaveLength(1);
  });

  it("allows SEQUENCE only first: NFS4ERR_SEQUENCE_POS", async () => {
    const h = new Harness();
    const conn = h.conn();
    const { sessionid } = await newSession(h, conn);
    const res = await h.run([sequenceOp(sessionid, 1), sequenceOp(sessionid, 1, 1)], conn);
    expect(res.status).toBe(nfsstat4.NFS4ERR_SEQUENCE_POS);
    expect(res.resarray).toHaveLength(2);
  });

  it("requires a session-less operation to be alone: NFS4ERR_NOT_ONLY_OP", async () => {
    const h = new Harness();
    const res = await h.run([exchangeIdOp("a"), reclaimCompleteOp], h.conn());
    expect(res.status).toBe(nfsstat4.NFS4ERR_NOT_ONLY_OP);
    expect(h.state.clientCount).toBe(0);
  });

  it("answers an unknown operation number with NFS4ERR_OP_ILLEGAL", async () => {
    const h = new Harness();
    const conn = h.conn();
    const { sessionid } = await newSession(h, conn);
    const bytes = Harness.encode([sequenceOp(sessionid, 1)]);
    // Append an operation number that is no operation; the count follows the tag ("t", 8 bytes) and minor version.
    const withBad = new Uint8Array([...bytes, 0, 0, 0x03, 0xe7]);
    new DataView(withBad.buffer).setUint32(12, 2);
    const outcome = await h.raw(withBad, conn);
    expect(outcome.kind).toBe("success");
    const res = decodeCOMPOUND4res(
      new XdrReader(joinResult((outcome as { result: Uint8Array }).result)),
    );
    expect(res.status).toBe(nfsstat4.NFS4ERR_OP_ILLEGAL);
    expect(res.resarray.at(-1)?.resop).toBe(nfs_opnum4.OP_ILLEGAL);
  });

  it("answers OP_ILLEGAL itself with NFS4ERR_OP_ILLEGAL", async () => {
    const h = new Harness();
    const res = await h.run([{ argop: nfs_opnum4.OP_ILLEGAL }], h.conn());
    expect(res.status).toBe(nfsstat4.NFS4ERR_OP_ILLEGAL);
  });

  it.each([0, 3, 7])(
    "answers minor version %i with NFS4ERR_MINOR_VERS_MISMATCH and no results",
    async (minor) => {
      const h = new Harness();
      const res = await h.run([reclaimCompleteOp], h.conn(), { minorversion: minor });
      expect(res.status).toBe(nfsstat4.NFS4ERR_MINOR_VERS_MISMATCH);
      expect(res.resarray).toEqual([]);
      expect(new TextDecoder().decode(res.tag)).toBe("t");
    },
  );

  it("treats an NFSv4.2 operation in a 4.1 COMPOUND as OP_ILLEGAL, and serves it in 4.2", async () => {
    const h = new Harness();
    const conn = h.conn();
    const { sessionid } = await newSession(h, conn);
    const seek: nfs_argop4 = {
      argop: nfs_opnum4.OP_SEEK,
      opseek: { sa_stateid: { seqid: 0, other: new Uint8Array(12) }, sa_offset: 0n, sa_what: 0 },
    };
    const v41 = await h.run([sequenceOp(sessionid, 1), seek], conn);
    expect(v41.status).toBe(nfsstat4.NFS4ERR_OP_ILLEGAL);
    expect(v41.resarray.at(-1)?.resop).toBe(nfs_opnum4.OP_ILLEGAL);
    const v42 = await h.run([sequenceOp(sessionid, 2), seek], conn, { minorversion: 2 });
    expect(v42.status).toBe(nfsstat4.NFS4ERR_NOFILEHANDLE);
  });

  it("answers arguments that do not decode with NFS4ERR_BADXDR for that operation", async () => {
    const h = new Harness();
    const conn = h.conn();
    const { sessionid } = await newSession(h, conn);
    const bytes = Harness.encode([sequenceOp(sessionid, 1), reclaimCompleteOp]);
    // rca_one_fs is the last word: make it 7, not a bool.
    bytes.set([0, 0, 0, 7], bytes.length - 4);
    const outcome = await h.raw(bytes, conn);
    const res = decodeCOMPOUND4res(
      new XdrReader(joinResult((outcome as { result: Uint8Array }).result)),
    );
    expect(res.status).toBe(nfsstat4.NFS4ERR_BADXDR);
    expect(res.resarray.map((r) => r.resop)).toEqual([
      nfs_opnum4.OP_SEQUENCE,
      nfs_opnum4.OP_RECLAIM_COMPLETE,
    ]);
  });

  it("answers a COMPOUND header that does not decode with GARBAGE_ARGS", async () => {
    const h = new Harness();
    expect(await h.raw(new Uint8Array([0, 0, 0, 9, 1]), h.conn())).toEqual({
      kind: "garbage_args",
    });
  });

  it("answers NFSv4.0-only operations with NFS4ERR_NOTSUPP", async () => {
    const h = new Harness();
    const conn = h.conn();
    const { sessionid } = await newSession(h, conn);
    const renew: nfs_argop4 = { argop: nfs_opnum4.OP_RENEW, oprenew: { clientid: 1n } };
    expect((await h.run([sequenceOp(sessionid, 1), renew], conn)).status).toBe(
      nfsstat4.NFS4ERR_NOTSUPP,
    );
  });
});

describe("DESTROY_SESSION, DESTROY_CLIENTID, BIND_CONN_TO_SESSION, RECLAIM_COMPLETE", () => {
  it("destroys a session alone or as the last operation of its own COMPOUND", async () => {
    const h = new Harness();
    const conn = h.conn();
    const a = await newSession(h, conn);
    const destroy = (id: Uint8Array): nfs_argop4 => ({
      argop: nfs_opnum4.OP_DESTROY_SESSION,
      opdestroy_session: { dsa_sessionid: id },
    });
    expect((await h.run([destroy(a.sessionid)], conn)).status).toBe(nfsstat4.NFS4_OK);
    expect((await h.run([destroy(a.sessionid)], conn)).status).toBe(nfsstat4.NFS4ERR_BADSESSION);
    const b = await newSession(h, conn, "b");
    expect(
      (await h.run([sequenceOp(b.sessionid, 1), destroy(b.sessionid), reclaimCompleteOp], conn))
        .status,
    ).toBe(nfsstat4.NFS4ERR_NOT_ONLY_OP);
    expect((await h.run([sequenceOp(b.sessionid, 2), destroy(b.sessionid)], conn)).status).toBe(
      nfsstat4.NFS4_OK,
    );
    expect(h.state.sessionCount).toBe(0);
  });

  it("refuses to destroy a client with sessions, then forgets it", async () => {
    const h = new Harness();
    const conn = h.conn();
    const { clientid, sessionid } = await newSession(h, conn);
    const destroyClient: nfs_argop4 = {
      argop: nfs_opnum4.OP_DESTROY_CLIENTID,
      opdestroy_clientid: { dca_clientid: clientid },
    };
    expect((await h.run([destroyClient], conn)).status).toBe(nfsstat4.NFS4ERR_CLIENTID_BUSY);
    await h.run(
      [{ argop: nfs_opnum4.OP_DESTROY_SESSION, opdestroy_session: { dsa_sessionid: sessionid } }],
      conn,
    );
    expect((await h.run([destroyClient], conn)).status).toBe(nfsstat4.NFS4_OK);
    expect((await h.run([destroyClient], conn)).status).toBe(nfsstat4.NFS4ERR_STALE_CLIENTID);
  });

  it.each([
    [
      channel_dir_from_client4.CDFC4_FORE,
      channel_dir_from_server4.CDFS4_FORE,
      { fore: true, back: false },
    ],
    [
      channel_dir_from_client4.CDFC4_BACK,
      channel_dir_from_server4.CDFS4_BACK,
      { fore: false, back: true },
    ],
    [
      channel_dir_from_client4.CDFC4_FORE_OR_BOTH,
      channel_dir_from_server4.CDFS4_BOTH,
      { fore: true, back: true },
    ],
    [
      channel_dir_from_client4.CDFC4_BACK_OR_BOTH,
      channel_dir_from_server4.CDFS4_BOTH,
      { fore: true, back: true },
    ],
  ] as const)("binds a connection in direction %i", async (dir, expected, binding) => {
    const h = new Harness();
    const { sessionid } = await newSession(h, h.conn());
    const other = h.conn();
    const res = await h.run(
      [
        {
          argop: nfs_opnum4.OP_BIND_CONN_TO_SESSION,
          opbind_conn_to_session: {
            bctsa_sessid: sessionid,
            bctsa_dir: dir,
            bctsa_use_conn_in_rdma_mode: true,
          },
        },
      ],
      other,
    );
    const ok = arm<{ bctsr_resok4: Record<string, unknown> }>(
      res.resarray[0],
      "opbind_conn_to_session",
    ).bctsr_resok4;
    expect(ok).toEqual({
      bctsr_sessid: sessionid,
      bctsr_dir: expected,
      bctsr_use_conn_in_rdma_mode: false,
    });
    expect(h.state.session(sessionid)?.connections.get(other.id)).toMatchObject(binding);
  });

  it("reports the directions a connection is bound to, not only the one asked for", async () => {
    const h = new Harness();
    const { sessionid } = await newSession(h, h.conn());
    const other = h.conn();
    // SEQUENCE on a new connection binds it to the fore channel.
    expect((await h.run([sequenceOp(sessionid, 1)], other)).status).toBe(nfsstat4.NFS4_OK);
    const res = await h.run(
      [
        {
          argop: nfs_opnum4.OP_BIND_CONN_TO_SESSION,
          opbind_conn_to_session: {
            bctsa_sessid: sessionid,
            bctsa_dir: channel_dir_from_client4.CDFC4_BACK,
            bctsa_use_conn_in_rdma_mode: false,
          },
        },
      ],
      other,
    );
    const ok = arm<{ bctsr_resok4: Record<string, unknown> }>(
      res.resarray[0],
      "opbind_conn_to_session",
    ).bctsr_resok4;
    expect(ok.bctsr_dir).toBe(channel_dir_from_server4.CDFS4_BOTH);
    expect(h.state.session(sessionid)?.connections.get(other.id)).toMatchObject({
      fore: true,
      back: true,
    });
  });

  it("answers a second global RECLAIM_COMPLETE with NFS4ERR_COMPLETE_ALREADY", async () => {
    const h = new Harness();
    const conn = h.conn();
    const { sessionid } = await newSession(h, conn);
    expect((await h.run([sequenceOp(sessionid, 1), reclaimCompleteOp], conn)).status).toBe(
      nfsstat4.NFS4_OK,
    );
    expect((await h.run([sequenceOp(sessionid, 2), reclaimCompleteOp], conn)).status).toBe(
      nfsstat4.NFS4ERR_COMPLETE_ALREADY,
    );
  });
});

describe("two sessions of one client share a connection", () => {
  it("keeps their slot tables apart", async () => {
    const h = new Harness();
    const conn = h.conn();
    const { clientid, sessionid: s1 } = await newSession(h, conn);
    const cs = await h.run([createSessionOp(clientid, 2)], conn);
    const s2 = arm<{ csr_resok4: { csr_sessionid: Uint8Array } }>(
      cs.resarray[0],
      "opcreate_session",
    ).csr_resok4.csr_sessionid;
    expect(s2).not.toEqual(s1);
    expect((await h.run([sequenceOp(s1, 1)], conn)).status).toBe(nfsstat4.NFS4_OK);
    expect((await h.run([sequenceOp(s2, 1)], conn)).status).toBe(nfsstat4.NFS4_OK);
    expect((await h.run([sequenceOp(s1, 2)], conn)).status).toBe(nfsstat4.NFS4_OK);
    expect(h.state.sessionsOf(conn.id).size).toBe(2);
  });
});

// --- issue 7: exactly-once that holds for real clients -----------------------

type SeqResok = {
  sr_highest_slotid: number;
  sr_target_highest_slotid: number;
  sr_status_flags: number;
};
const seqOk = (res: { resarray: unknown[] }): SeqResok =>
  arm<{ sr_resok4: SeqResok }>(res.resarray[0] as Parameters<typeof arm>[0], "opsequence")
    .sr_resok4;

/** LOOKUP of a long name: the bytes that differ can lie far past SEQUENCE. */
function lookupOp(name: string): nfs_argop4 {
  return { argop: nfs_opnum4.OP_LOOKUP, oplookup: { objname: new TextEncoder().encode(name) } };
}

/** Decodes a reply's results after SEQUENCE, to compare a replay with the original. */
function afterSequence(res: { status: number; resarray: unknown[] }): unknown {
  return { status: res.status, rest: res.resarray.slice(1) };
}

describe("retry identity (RFC 8881 §2.10.6.1.3)", () => {
  it("replays a retry whose SEQUENCE differs only in sa_highest_slotid, executing once", async () => {
    const h = new Harness();
    const conn = h.conn();
    const { sessionid } = await newSession(h, conn);
    const first = await h.run([sequenceOp(sessionid, 1, 2, true, 2), reclaimCompleteOp], conn);
    expect(first.status).toBe(nfsstat4.NFS4_OK);
    // Re-encoded after a reconnect: same slot and seqid, another sa_highest_slotid.
    const retry = await h.run([sequenceOp(sessionid, 1, 2, true, 9), reclaimCompleteOp], h.conn());
    expect(retry.status).toBe(nfsstat4.NFS4_OK); // executed again it would be COMPLETE_ALREADY
    expect(afterSequence(retry)).toEqual(afterSequence(first));
    expect(h.processor.executed.get(nfs_opnum4.OP_RECLAIM_COMPLETE)).toBe(1);
  });

  it("tells apart two requests that differ only after byte 1024", async () => {
    const h = new Harness();
    const conn = h.conn();
    const { sessionid } = await newSession(h, conn);
    const long = "a".repeat(3000);
    const request = [sequenceOp(sessionid, 1), lookupOp(long)];
    const first = await h.run(request, conn);
    expect(Harness.encode(request).length).toBeGreaterThan(2048);
    // Byte-identical: a true retry, replayed.
    expect((await h.run(request, conn)).bytes).toEqual(first.bytes);
    // The last byte differs: a false retry.
    const other = await h.run([sequenceOp(sessionid, 1), lookupOp(long.slice(0, -1) + "b")], conn);
    expect(other.status).toBe(nfsstat4.NFS4ERR_SEQ_FALSE_RETRY);
  });

  it("treats a different operation count as a false retry, even with the same bytes after SEQUENCE", async () => {
    const h = new Harness();
    const conn = h.conn();
    const { sessionid } = await newSession(h, conn);
    // The same bytes twice, the COMPOUND header counting two operations and
    // then three: the first request ignores the third operation's bytes.
    const bytes = Harness.encode([sequenceOp(sessionid, 1), reclaimCompleteOp, putrootOp]);
    const view = new DataView(bytes.buffer, bytes.byteOffset);
    const countAt = 4 + 4 + 4; // tag "t" (length + 4 padded bytes), minorversion
    expect(view.getUint32(countAt)).toBe(3);
    view.setUint32(countAt, 2);
    const first = await h.raw(new Uint8Array(bytes), conn);
    if (first.kind !== "success") throw new Error(first.kind);
    expect(decodeCOMPOUND4res(new XdrReader(joinResult(first.result))).resarray).toHaveLength(2);
    view.setUint32(countAt, 3);
    const outcome = await h.raw(bytes, conn);
    expect(outcome.kind).toBe("success");
    if (outcome.kind !== "success") return;
    const res = decodeCOMPOUND4res(new XdrReader(joinResult(outcome.result)));
    expect(res.status).toBe(nfsstat4.NFS4ERR_SEQ_FALSE_RETRY);
  });

  it("answers a retried lone SEQUENCE as a fresh SEQUENCE, cached or not", async () => {
    const h = new Harness();
    const conn = h.conn();
    const { sessionid } = await newSession(h, conn);
    expect((await h.run([sequenceOp(sessionid, 1, 0, false)], conn)).status).toBe(nfsstat4.NFS4_OK);
    const retry = await h.run([sequenceOp(sessionid, 1, 0, false, 3)], conn);
    expect(retry.status).toBe(nfsstat4.NFS4_OK);
    expect(retry.resarray).toHaveLength(1);
    expect(arm<SeqOk>(retry.resarray[0], "opsequence").sr_resok4).toMatchObject({
      sr_sequenceid: 1,
      sr_slotid: 0,
    });
    // The slot did not advance: seqid 2 is the next new request.
    expect((await h.run([sequenceOp(sessionid, 2)], conn)).status).toBe(nfsstat4.NFS4_OK);
  });

  it("encodes a replayed SEQUENCE anew: current status flags, binding and lease", async () => {
    const h = new Harness();
    const a = h.conn();
    const { sessionid } = await newSession(h, a); // CONN_BACK_CHAN: a carries the back channel
    const request = [sequenceOp(sessionid, 1), reclaimCompleteOp];
    const first = await h.run(request, a);
    expect(seqOk(first).sr_status_flags).toBe(0);
    a.close(); // the back channel goes with it
    h.clock.now += 10_000;
    const b = h.conn();
    const retry = await h.run(request, b);
    expect(seqOk(retry).sr_status_flags).toBe(
      SEQ4_STATUS_CB_PATH_DOWN | SEQ4_STATUS_CB_PATH_DOWN_SESSION,
    );
    expect(afterSequence(retry)).toEqual(afterSequence(first));
    const session = h.state.session(sessionid)!;
    expect(session.isBound(b.id)).toBe(true);
    expect(session.client.renewedAt).toBe(h.clock.now);
  });

  it("replays across the seqid wrap (0xffffffff, then 0)", async () => {
    const h = new Harness();
    const conn = h.conn();
    const { sessionid } = await newSession(h, conn);
    Object.assign(h.state.session(sessionid)!.slots.slot(1), { seqid: 0xfffffffe, used: true });
    const atTop = [sequenceOp(sessionid, 0xffffffff, 1), reclaimCompleteOp];
    const top = await h.run(atTop, conn);
    expect(top.status).toBe(nfsstat4.NFS4_OK);
    expect((await h.run(atTop, conn)).bytes).toEqual(top.bytes);
    const atZero = [sequenceOp(sessionid, 0, 1), reclaimCompleteOp];
    const zero = await h.run(atZero, conn);
    expect(zero.status).toBe(nfsstat4.NFS4ERR_COMPLETE_ALREADY); // new, so it ran
    expect((await h.run(atZero, conn)).bytes).toEqual(zero.bytes); // and its retry replays
    expect(h.processor.executed.get(nfs_opnum4.OP_RECLAIM_COMPLETE)).toBe(2);
  });

  it("gives a request that failed in its handler no reply to replay (abandoned slot)", async () => {
    const h = new Harness({}, undefined, {
      [nfs_opnum4.OP_PUTROOTFH]: fakeRoot,
      [nfs_opnum4.OP_GETATTR]: () => {
        throw new Error("boom");
      },
    });
    const conn = h.conn();
    const { sessionid } = await newSession(h, conn);
    const request = [sequenceOp(sessionid, 1), putrootOp, getattrOp];
    expect((await h.run(request, conn)).status).toBe(nfsstat4.NFS4ERR_SERVERFAULT);
    // SERVERFAULT is a reply like any other: it is cached and replayed.
    expect((await h.run(request, conn)).status).toBe(nfsstat4.NFS4ERR_SERVERFAULT);
    expect((await h.run([sequenceOp(sessionid, 2)], conn)).status).toBe(nfsstat4.NFS4_OK);
  });
});

describe("COMPOUND decodes every operation before any runs", () => {
  it("answers GARBAGE_ARGS, runs nothing and leaves the slot alone when the array ends early", async () => {
    const h = new Harness();
    const conn = h.conn();
    const { sessionid } = await newSession(h, conn);
    // SEQUENCE + RECLAIM_COMPLETE, the header counting one operation more than follows.
    const bytes = Harness.encode([sequenceOp(sessionid, 1), reclaimCompleteOp]);
    new DataView(bytes.buffer, bytes.byteOffset).setUint32(4 + 4 + 4, 3);
    expect((await h.raw(bytes, conn)).kind).toBe("garbage_args");
    expect(h.processor.executed.get(nfs_opnum4.OP_RECLAIM_COMPLETE)).toBeUndefined();
    // Sequence ID 1 is still new on the slot: the request never took it.
    const next = await h.run([sequenceOp(sessionid, 1), reclaimCompleteOp], conn);
    expect(next.status).toBe(nfsstat4.NFS4_OK);
    expect(h.processor.executed.get(nfs_opnum4.OP_RECLAIM_COMPLETE)).toBe(1);
  });

  it("answers an operation whose arguments do not decode NFS4ERR_BADXDR, after the ones before it ran", async () => {
    const h = new Harness({}, undefined, { [nfs_opnum4.OP_PUTROOTFH]: fakeRoot });
    const conn = h.conn();
    const { sessionid } = await newSession(h, conn);
    // SEQUENCE, RECLAIM_COMPLETE, then a LOOKUP whose name length runs past the end.
    const bytes = Harness.encode([
      sequenceOp(sessionid, 1),
      reclaimCompleteOp,
      putrootOp,
      { argop: nfs_opnum4.OP_LOOKUP, oplookup: { objname: utf8("name") } },
    ]);
    new DataView(bytes.buffer, bytes.byteOffset).setUint32(bytes.length - 8, 0x7fffffff);
    const outcome = await h.raw(bytes, conn);
    if (outcome.kind !== "success") throw new Error(outcome.kind);
    const res = decodeCOMPOUND4res(new XdrReader(joinResult(outcome.result)));
    expect(res.status).toBe(nfsstat4.NFS4ERR_BADXDR);
    expect(res.resarray.map((r) => r.resop)).toEqual([
      nfs_opnum4.OP_SEQUENCE,
      nfs_opnum4.OP_RECLAIM_COMPLETE,
      nfs_opnum4.OP_PUTROOTFH,
      nfs_opnum4.OP_LOOKUP,
    ]);
    expect(h.processor.executed.get(nfs_opnum4.OP_RECLAIM_COMPLETE)).toBe(1);
  });
});

describe("CREATE_SESSION's slot shares the seqid rule", () => {
  it("wraps csa_sequence from 0xffffffff to 0 and replays each", async () => {
    const h = new Harness();
    const conn = h.conn();
    const { clientid } = await newClient(h, conn);
    const record = h.state.client(clientid)!;
    record.createSessionSeqid = 0xfffffffe;
    const top = await h.run([createSessionOp(clientid, 0xffffffff)], conn);
    expect(top.status).toBe(nfsstat4.NFS4_OK);
    expect((await h.run([createSessionOp(clientid, 0xffffffff)], conn)).bytes).toEqual(top.bytes);
    expect((await h.run([createSessionOp(clientid, 0)], conn)).status).toBe(nfsstat4.NFS4_OK);
    expect((await h.run([createSessionOp(clientid, 2)], conn)).status).toBe(
      nfsstat4.NFS4ERR_SEQ_MISORDERED,
    );
    expect(h.state.sessionCount).toBe(2);
  });
});

describe("stored fields are copies, not views of the request", () => {
  /** The value owns an ArrayBuffer of exactly its size (a view would share the record's). */
  const owned = (v: Uint8Array): boolean => v.byteOffset === 0 && v.buffer.byteLength === v.length;

  it("copies co_ownerid, co_verifier, eia_client_impl_id, csa_sec_parms and cached replies", async () => {
    const h = new Harness();
    const conn = h.conn();
    const exchange = exchangeIdOp("owner-copied");
    if (exchange.argop !== nfs_opnum4.OP_EXCHANGE_ID) throw new Error("not EXCHANGE_ID");
    exchange.opexchange_id.eia_client_impl_id = [
      {
        nii_domain: utf8("example.org"),
        nii_name: utf8("kernel"),
        nii_date: { seconds: 1n, nseconds: 2 },
      },
    ];
    const request = Harness.encode([exchange]);
    const outcome = await h.raw(request, conn);
    if (outcome.kind !== "success") throw new Error(outcome.kind);
    const res = decodeCOMPOUND4res(new XdrReader(joinResult(outcome.result)));
    const clientid = arm<{ eir_resok4: { eir_clientid: bigint } }>(res.resarray[0], "opexchange_id")
      .eir_resok4.eir_clientid;
    const record = h.state.client(clientid)!;
    for (const v of [
      record.ownerId,
      record.verifier,
      record.implId[0]!.nii_domain,
      record.implId[0]!.nii_name,
    ]) {
      expect(v.buffer).not.toBe(request.buffer);
      expect(owned(v)).toBe(true);
    }
    expect(new TextDecoder().decode(record.implId[0]!.nii_name)).toBe("kernel");

    const cs = createSessionOp(clientid, 1);
    if (cs.argop !== nfs_opnum4.OP_CREATE_SESSION) throw new Error("not CREATE_SESSION");
    cs.opcreate_session.csa_sec_parms = [
      {
        cb_secflavor: 6,
        cbsp_gss_handles: {
          gcbp_service: 1,
          gcbp_handle_from_server: utf8("server-handle"),
          gcbp_handle_from_client: utf8("client-handle"),
        },
      },
    ];
    const csBytes = Harness.encode([cs]);
    const csOut = await h.raw(csBytes, conn);
    if (csOut.kind !== "success") throw new Error(csOut.kind);
    const session = [...h.state.clientSessions(record).values()][0]!;
    const parms = session.cbSecParms[0]!;
    if (parms.cb_secflavor !== 6) throw new Error("flavor");
    for (const v of [
      parms.cbsp_gss_handles.gcbp_handle_from_server,
      parms.cbsp_gss_handles.gcbp_handle_from_client,
    ]) {
      expect(v.buffer).not.toBe(csBytes.buffer);
      expect(owned(v)).toBe(true);
    }

    const seqBytes = Harness.encode([sequenceOp(session.id, 1), reclaimCompleteOp]);
    await h.raw(seqBytes, conn);
    const cached = session.slots.slot(0).cached!;
    expect(cached.tail.length).toBeGreaterThan(0);
    expect(owned(cached.tail)).toBe(true);
  });

  it("keeps at most MAX_STORED_OPAQUE bytes of unbounded fields, whatever the request holds", async () => {
    const h = new Harness();
    const conn = h.conn();
    const exchange = exchangeIdOp("owner-padded");
    if (exchange.argop !== nfs_opnum4.OP_EXCHANGE_ID) throw new Error("not EXCHANGE_ID");
    const padded = new Uint8Array(200_000).fill(0x64);
    exchange.opexchange_id.eia_client_impl_id = [
      { nii_domain: padded, nii_name: padded, nii_date: { seconds: 0n, nseconds: 0 } },
    ];
    const outcome = await h.raw(Harness.encode([exchange]), conn);
    if (outcome.kind !== "success") throw new Error(outcome.kind);
    const res = decodeCOMPOUND4res(new XdrReader(joinResult(outcome.result)));
    const clientid = arm<{ eir_resok4: { eir_clientid: bigint } }>(res.resarray[0], "opexchange_id")
      .eir_resok4.eir_clientid;
    const record = h.state.client(clientid)!;
    expect(record.implId[0]!.nii_domain.length).toBe(MAX_STORED_OPAQUE);
    expect(record.implId[0]!.nii_name.length).toBe(MAX_STORED_OPAQUE);

    const cs = createSessionOp(clientid, 1);
    if (cs.argop !== nfs_opnum4.OP_CREATE_SESSION) throw new Error("not CREATE_SESSION");
    cs.opcreate_session.csa_sec_parms = [
      { cb_secflavor: 0 },
      {
        cb_secflavor: 6,
        cbsp_gss_handles: {
          gcbp_service: 1,
          gcbp_handle_from_server: padded,
          gcbp_handle_from_client: new Uint8Array(0),
        },
      },
    ];
    const csOut = await h.raw(Harness.encode([cs]), conn);
    if (csOut.kind !== "success") throw new Error(csOut.kind);
    const session = [...h.state.clientSessions(record).values()][0]!;
    // The oversized RPCSEC_GSS entry (unusable here: no RPCSEC_GSS) is not kept.
    expect(session.cbSecParms).toEqual([{ cb_secflavor: 0 }]);
  });
});

describe("replay-cache reservation (RFC 8881 §18.36.3)", () => {
  // Room for ten slots of 1000 cached bytes.
  const settings = {
    replayCacheBudget: 10_000,
    maxResponseSizeCached: 1000,
    maxSlotsPerSession: 64,
  };
  const fore = { ca_maxrequests: 64, ca_maxresponsesize_cached: 1000 };

  async function createSession(
    h: Harness,
    conn: RpcConnection,
    owner: string,
  ): Promise<{ status: number; sessionid?: Uint8Array; slots?: number }> {
    const cred = sysCred(owner.length);
    const { clientid, sequenceid } = await newClient(h, conn, owner, cred);
    const res = await h.run([createSessionOp(clientid, sequenceid, { fore })], conn, { cred });
    if (res.status !== nfsstat4.NFS4_OK) return { status: res.status };
    const ok = arm<{
      csr_resok4: { csr_sessionid: Uint8Array; csr_fore_chan_attrs: channel_attrs4 };
    }>(res.resarray[0], "opcreate_session").csr_resok4;
    return {
      status: res.status,
      sessionid: ok.csr_sessionid,
      slots: ok.csr_fore_chan_attrs.ca_maxrequests,
    };
  }

  it("reserves slots × ca_maxresponsesize_cached, grants fewer slots when short, NOSPC when none", async () => {
    const h = new Harness(settings);
    const conn = h.conn();
    const a = await createSession(h, conn, "a");
    expect(a).toMatchObject({ status: nfsstat4.NFS4_OK, slots: 10 });
    expect(h.state.stats()).toMatchObject({
      replayCacheReserved: 10_000,
      replayCacheBudget: 10_000,
    });
    expect((await createSession(h, conn, "b")).status).toBe(nfsstat4.NFS4ERR_NOSPC);
    // A slot beyond the granted table does not exist.
    expect((await h.run([sequenceOp(a.sessionid!, 1, 10)], conn)).status).toBe(
      nfsstat4.NFS4ERR_BADSLOT,
    );
    expect(
      (
        await h.run(
          [
            {
              argop: nfs_opnum4.OP_DESTROY_SESSION,
              opdestroy_session: { dsa_sessionid: a.sessionid! },
            },
          ],
          conn,
        )
      ).status,
    ).toBe(nfsstat4.NFS4_OK);
    expect(h.state.stats().replayCacheReserved).toBe(0);
  });

  it("keeps every cached reply of a client while others fill the budget", async () => {
    const h = new Harness({ ...settings, replayCacheBudget: 4000 });
    const conn = h.conn();
    const victim = await createSession(h, conn, "victim");
    expect(victim.slots).toBe(4);
    const replies = [];
    for (let slot = 0; slot < 4; slot++)
      replies.push(await h.run([sequenceOp(victim.sessionid!, 1, slot), reclaimCompleteOp], conn));
    // Anonymous clients ask for sessions until the server says no.
    const anon = { ...sysCred(), flavor: 0, principal: "none" };
    for (let i = 0; i < 20; i++) {
      const { clientid, sequenceid } = await newClient(h, conn, `anon-${i}`, anon);
      const res = await h.run([createSessionOp(clientid, sequenceid, { fore })], conn, {
        cred: anon,
      });
      expect([nfsstat4.NFS4_OK, nfsstat4.NFS4ERR_NOSPC]).toContain(res.status);
    }
    // The replies were lost: all four requests are outstanding (sa_highest_slotid 3).
    for (let slot = 0; slot < 4; slot++) {
      const retry = await h.run(
        [sequenceOp(victim.sessionid!, 1, slot, true, 3), reclaimCompleteOp],
        conn,
      );
      expect(afterSequence(retry)).toEqual(afterSequence(replies[slot]!));
    }
    expect(h.processor.executed.get(nfs_opnum4.OP_RECLAIM_COMPLETE)).toBe(4);
  });

  it("answers NFS4ERR_NOSPC beyond maxSessionsPerClient", async () => {
    const h = new Harness({ maxSessionsPerClient: 2 });
    const conn = h.conn();
    const { clientid, sequenceid } = await newClient(h, conn);
    expect((await h.run([createSessionOp(clientid, sequenceid)], conn)).status).toBe(
      nfsstat4.NFS4_OK,
    );
    expect((await h.run([createSessionOp(clientid, sequenceid + 1)], conn)).status).toBe(
      nfsstat4.NFS4_OK,
    );
    expect((await h.run([createSessionOp(clientid, sequenceid + 2)], conn)).status).toBe(
      nfsstat4.NFS4ERR_NOSPC,
    );
  });
});

describe("the dynamic slot table", () => {
  const settings = { replayCacheBudget: 8000, maxResponseSizeCached: 1000, maxSlotsPerSession: 16 };
  const fore = { ca_maxrequests: 16, ca_maxresponsesize_cached: 1000 };

  async function session(
    h: Harness,
    conn: RpcConnection,
    owner: string,
  ): Promise<Uint8Array | null> {
    const { clientid, sequenceid } = await newClient(h, conn, owner);
    const res = await h.run([createSessionOp(clientid, sequenceid, { fore })], conn);
    if (res.status !== nfsstat4.NFS4_OK) return null;
    return arm<{ csr_resok4: { csr_sessionid: Uint8Array } }>(res.resarray[0], "opcreate_session")
      .csr_resok4.csr_sessionid;
  }

  it("shrinks under pressure through sr_target_highest_slotid, freeing slots only once acknowledged", async () => {
    const h = new Harness(settings);
    const conn = h.conn();
    const a = (await session(h, conn, "a"))!;
    expect(h.state.session(a)!.slots.size).toBe(8); // the whole budget
    expect(await session(h, conn, "b")).toBeNull(); // NOSPC, and pressure: a is asked to halve
    // The client learns the target from a reply on slot 0 (sent before it knew it).
    let ok = seqOk(await h.run([sequenceOp(a, 1, 0, true, 0)], conn));
    expect(ok).toMatchObject({ sr_highest_slotid: 7, sr_target_highest_slotid: 3 });
    // It still has a request outstanding on slot 6: nothing is freed.
    ok = seqOk(await h.run([sequenceOp(a, 2, 0, true, 6)], conn));
    expect(ok).toMatchObject({ sr_highest_slotid: 7, sr_target_highest_slotid: 3 });
    expect(h.state.stats().replayCacheReserved).toBe(8000);
    // The client acknowledges: it has seen the target, nothing outstanding above slot 0.
    ok = seqOk(await h.run([sequenceOp(a, 3, 0, true, 0)], conn));
    expect(ok).toMatchObject({ sr_highest_slotid: 3, sr_target_highest_slotid: 3 });
    expect(h.state.stats().replayCacheReserved).toBe(4000);
    expect((await h.run([sequenceOp(a, 1, 6)], conn)).status).toBe(nfsstat4.NFS4ERR_BADSLOT);
    // The memory went back to the budget: another session fits now.
    expect(await session(h, conn, "b")).not.toBeNull();
  });

  it("grows when the client uses its highest slot and the budget has room", async () => {
    const h = new Harness(settings);
    const conn = h.conn();
    const a = (await session(h, conn, "a"))!;
    const b = (await session(h, conn, "b")) ?? null;
    expect(b).toBeNull();
    await h.run([sequenceOp(a, 1, 0, true, 0)], conn); // the reply carries the halved target
    await h.run([sequenceOp(a, 2, 0, true, 0)], conn); // which this request acknowledges: 4 slots
    const table = h.state.session(a)!.slots;
    expect(table.size).toBe(4);
    // Slot 3 is the highest: the table grows by a fifth (one slot) while the budget allows.
    let ok = seqOk(await h.run([sequenceOp(a, 1, 3)], conn));
    expect(ok).toMatchObject({ sr_highest_slotid: 4, sr_target_highest_slotid: 4 });
    ok = seqOk(await h.run([sequenceOp(a, 1, 4)], conn));
    expect(ok).toMatchObject({ sr_highest_slotid: 5, sr_target_highest_slotid: 5 });
    expect(h.state.stats().replayCacheReserved).toBe(6000);
    // A new slot starts fresh: seqid 1.
    expect((await h.run([sequenceOp(a, 1, 5)], conn)).status).toBe(nfsstat4.NFS4_OK);
    await h.run([sequenceOp(a, 1, 6)], conn);
    await h.run([sequenceOp(a, 1, 7)], conn);
    expect(table.size).toBe(8);
    // The budget is spent: using the highest slot again grows nothing.
    ok = seqOk(await h.run([sequenceOp(a, 2, 7)], conn));
    expect(ok).toMatchObject({ sr_highest_slotid: 7, sr_target_highest_slotid: 7 });
  });
});

describe("the slot module and the replay budget, directly", () => {
  const id = (digest: number, opCount = 2): RetryIdentity => ({
    principal: "sys:0",
    opCount,
    length: 8,
    digest,
  });

  it("applies one seqid rule: next is new (wrapping), same is a retry, unused accepts only 1", () => {
    expect(seqidVerdict(0, false, 1)).toBe("new");
    expect(seqidVerdict(0, false, 0)).toBe("misordered");
    expect(seqidVerdict(5, true, 6)).toBe("new");
    expect(seqidVerdict(5, true, 5)).toBe("retry");
    expect(seqidVerdict(5, true, 4)).toBe("misordered");
    expect(seqidVerdict(0xffffffff, true, 0)).toBe("new");
    expect(seqidVerdict(0, true, 0)).toBe("retry");
  });

  it("takes, completes and abandons a slot; an abandoned request has nothing to replay", () => {
    const t = new SlotTable(2, 4);
    const taken = t.begin(0, 1, id(7));
    if (taken.kind !== "new") throw new Error(taken.kind);
    expect(t.begin(0, 1, id(7))).toEqual({ kind: "error", status: nfsstat4.NFS4ERR_DELAY });
    t.complete(taken.slot, { status: 0, count: 2, tail: new Uint8Array([1, 2, 3, 4]) });
    expect(t.begin(0, 1, id(7))).toMatchObject({ kind: "replay" });
    expect(t.begin(0, 1, id(8))).toEqual({
      kind: "error",
      status: nfsstat4.NFS4ERR_SEQ_FALSE_RETRY,
    });
    const next = t.begin(0, 2, id(9));
    if (next.kind !== "new") throw new Error(next.kind);
    t.abandon(next.slot);
    expect(t.begin(0, 2, id(9))).toEqual({
      kind: "error",
      status: nfsstat4.NFS4ERR_RETRY_UNCACHED_REP,
    });
    expect(() => t.complete(next.slot, null)).toThrow(/not held/);
  });

  it("frees slots above a lowered target only once acknowledged, never a busy one", () => {
    const t = new SlotTable(4, 4);
    // The client's view of the target comes with replies: slot 0 has had one.
    expect(t.acknowledge(0, 0)).toBe(0);
    expect(t.lowerTarget(1)).toBe(3);
    // Slot 0's last reply carried the old target: the client has not seen the new one.
    expect(t.acknowledge(0, 0)).toBe(0);
    // Now it has (the reply just sent carried it), but slot 2 is outstanding.
    expect(t.acknowledge(0, 2)).toBe(0);
    const held = t.begin(3, 1, id(1));
    if (held.kind !== "new") throw new Error(held.kind);
    // Acknowledged, but slot 3 is busy: it stays, and so do those below it.
    expect(t.acknowledge(0, 0)).toBe(0);
    t.complete(held.slot, null);
    expect(t.acknowledge(0, 0)).toBe(3);
    expect(t.size).toBe(1);
    expect(t.highestSlotId).toBe(0);
  });

  it("logs pressure once per interval, with a count", () => {
    const warnings: unknown[] = [];
    const log = pino({ level: "warn" }, { write: (line: string) => void warnings.push(line) });
    let now = 0;
    const budget = new ReplayBudget(1000, log, () => now);
    for (let i = 0; i < 50; i++) budget.notePressure("test");
    expect(warnings).toHaveLength(1);
    now += PRESSURE_LOG_INTERVAL_MS;
    budget.notePressure("test");
    expect(warnings).toHaveLength(2);
    expect(JSON.parse(String(warnings[1]))).toMatchObject({ events: 50, budget: 1000 });
  });
});

// The server's back channel over TCP (RFC 8881 §2.10.3.1, §18.33, §18.36,
// §20.9): the CB_NULL probe, the credentials of callbacks, CB_PATH_DOWN and
// BACKCHANNEL_FAULT, CallbackService.send() and its retry rules, driven by the
// client library's callback handler.

import { describe, expect, it } from "vitest";
import type {
  CB_COMPOUND4args,
  CB_COMPOUND4res,
  CB_SEQUENCE4args,
  callback_sec_parms4,
  nfs_cb_argop4,
  nfs_cb_resop4,
} from "../../generated/nfs4/index.js";
import {
  NFS4_CALLBACK,
  SEQ4_STATUS_BACKCHANNEL_FAULT,
  SEQ4_STATUS_CB_PATH_DOWN,
  SEQ4_STATUS_CB_PATH_DOWN_SESSION,
  channel_dir_from_client4,
  nfs_cb_opnum4,
  nfsstat4,
} from "../../generated/nfs4/index.js";
import type { CallbackResult } from "../../src/callback/service.js";
import type {
  CallbackCallInfo,
  ClientSession,
  NfsClient,
  NfsClientOptions,
} from "../../src/client/index.js";
import { ops } from "../../src/client/index.js";
import { cbStatusResult } from "../../src/protocol/results.js";
import type { ClientRecord } from "../../src/state/client.js";
import { ST, connectClient, startServer, uniqueOwner, until, useServer } from "./support.js";

const TIMEOUT_MS = 300;
const RETRY_MS = 50;
const running = useServer({
  settings: { callbackTimeoutMs: TIMEOUT_MS, callbackRetryDelayMs: RETRY_MS },
});

type Behaviour = "ok" | "drop" | "delay" | "badslot" | "misordered" | "badsession";

interface Received {
  readonly args: CB_COMPOUND4args;
  readonly seq: CB_SEQUENCE4args;
  readonly info: CallbackCallInfo;
  readonly at: number;
}

/** A client's callback side for tests: records what arrives, answers as told. */
class Recorder {
  readonly compounds: Received[] = [];
  readonly nulls: CallbackCallInfo[] = [];
  /** How to answer the next CB_COMPOUNDs, in order; "ok" once empty. */
  readonly plan: Behaviour[] = [];

  readonly options: Partial<NfsClientOptions> = {
    onCallback: (args, info) => this.answer(args, info),
    onCallbackNull: (info) => this.nulls.push(info),
  };

  private answer(args: CB_COMPOUND4args, info: CallbackCallInfo): CB_COMPOUND4res | null {
    const first = args.argarray[0];
    if (first?.argop !== nfs_cb_opnum4.OP_CB_SEQUENCE) throw new Error("no CB_SEQUENCE first");
    const seq = first.opcbsequence;
    this.compounds.push({ args, seq, info, at: Date.now() });
    const failure = (status: nfsstat4): CB_COMPOUND4res => ({
      status,
      tag: args.tag,
      resarray: [cbStatusResult(nfs_cb_opnum4.OP_CB_SEQUENCE, status)],
    });
    switch (this.plan.shift() ?? "ok") {
      case "drop":
        return null;
      case "delay":
        return failure(nfsstat4.NFS4ERR_DELAY);
      case "badslot":
        return failure(nfsstat4.NFS4ERR_BADSLOT);
      case "misordered":
        return failure(nfsstat4.NFS4ERR_SEQ_MISORDERED);
      case "badsession":
        return failure(nfsstat4.NFS4ERR_BADSESSION);
      case "ok":
        break;
    }
    const resarray: nfs_cb_resop4[] = [
      {
        resop: nfs_cb_opnum4.OP_CB_SEQUENCE,
        opcbsequence: {
          csr_status: nfsstat4.NFS4_OK,
          csr_resok4: {
            csr_sessionid: seq.csa_sessionid,
            csr_sequenceid: seq.csa_sequenceid,
            csr_slotid: seq.csa_slotid,
            csr_highest_slotid: seq.csa_highest_slotid,
            csr_target_highest_slotid: seq.csa_highest_slotid,
          },
        },
      },
    ];
    for (const op of args.argarray.slice(1))
      resarray.push(
        op.argop === nfs_cb_opnum4.OP_CB_RECALL || op.argop === nfs_cb_opnum4.OP_CB_RECALL_ANY
          ? cbStatusResult(op.argop, nfsstat4.NFS4_OK)
          : cbStatusResult(op.argop, nfsstat4.NFS4ERR_NOTSUPP),
      );
    return { status: nfsstat4.NFS4_OK, tag: args.tag, resarray };
  }
}

const recallAny: nfs_cb_argop4 = {
  argop: nfs_cb_opnum4.OP_CB_RECALL_ANY,
  opcbrecall_any: { craa_objects_to_keep: 0, craa_type_mask: [1] },
};

function recall(n: number): nfs_cb_argop4 {
  return {
    argop: nfs_cb_opnum4.OP_CB_RECALL,
    opcbrecall: {
      stateid: { seqid: 1, other: new Uint8Array(12).fill(n) },
      truncate: false,
      fh: new Uint8Array([1, 2, 3, n]),
    },
  };
}

async function setUp(
  clientOptions: Partial<NfsClientOptions> = {},
  sessionOptions: Parameters<NfsClient["createSession"]>[0] = {},
): Promise<{ client: NfsClient; session: ClientSession; rec: Recorder; record: ClientRecord }> {
  const rec = new Recorder();
  const client = await connectClient(running.port, { ...rec.options, ...clientOptions });
  await client.exchangeId(uniqueOwner("cb"));
  const session = await client.createSession(sessionOptions);
  const record = running.server.state.session(session.id)!.client;
  return { client, session, rec, record };
}

function send(
  record: ClientRecord,
  op: nfs_cb_argop4,
  deadlineMs = 10_000,
): Promise<CallbackResult> {
  return running.server.callbacks.send(record, { ops: [op], deadlineMs });
}

async function flagsOf(session: ClientSession): Promise<number> {
  const r = await session.sequenceOnly();
  expect(r.status).toBe(ST.NFS4_OK);
  return session.statusFlags;
}

describe("the CB_NULL probe", () => {
  it("arrives after CREATE_SESSION with CONN_BACK_CHAN, with csa_cb_program and the AUTH_SYS credential", async () => {
    const { record, rec } = await setUp({
      callbackProgram: 0x40000004,
      cred: { uid: 1234, gid: 5678, gids: [7, 8], machinename: "cb-test" },
    });
    await until(() => rec.nulls.length > 0, "the CB_NULL probe");
    expect(rec.nulls[0]).toMatchObject({
      prog: 0x40000004,
      vers: 1,
      proc: 0,
      cred: { flavor: 1, uid: 1234, gid: 5678, gids: [7, 8], machinename: "cb-test" },
    });
    await until(() => running.server.callbacks.canCallBack(record), "the channel to be up");
  });

  it("is not sent for a session created without CONN_BACK_CHAN, until BIND_CONN_TO_SESSION", async () => {
    const { client, session, rec, record } = await setUp({}, { flags: 0 });
    expect(await flagsOf(session)).toBe(
      SEQ4_STATUS_CB_PATH_DOWN | SEQ4_STATUS_CB_PATH_DOWN_SESSION,
    );
    expect(running.server.callbacks.canCallBack(record)).toBe(false);
    // A callback waits for a back channel…
    const pending = send(record, recallAny);
    await session.bindConnection(client.connection, channel_dir_from_client4.CDFC4_BACK_OR_BOTH);
    // …which BIND_CONN_TO_SESSION provides: probe first, then the call.
    const r = await pending;
    expect(r).toMatchObject({ kind: "answered", status: ST.NFS4_OK });
    expect(rec.nulls).toHaveLength(1);
    expect(await flagsOf(session)).toBe(0);
    expect(running.server.callbacks.canCallBack(record)).toBe(true);
  });
});

describe("callback security (csa_sec_parms)", () => {
  it("sends AUTH_NONE when the client offers it", async () => {
    const { record, rec } = await setUp({ cred: "none" });
    const r = await send(record, recallAny);
    expect(r.kind).toBe("answered");
    expect(rec.compounds[0]!.info.cred.flavor).toBe(0);
    expect(rec.nulls[0]!.cred.flavor).toBe(0);
  });

  it("sends exactly the AUTH_SYS credential given, not the client's own", async () => {
    const sys: callback_sec_parms4 = {
      cb_secflavor: 1,
      cbsp_sys_cred: { stamp: 99, machinename: "given", uid: 4242, gid: 4343, gids: [1, 2, 3] },
    };
    const { record, rec } = await setUp({}, { secParms: [sys] });
    await send(record, recallAny);
    expect(rec.compounds[0]!.info.cred).toMatchObject({
      flavor: 1,
      uid: 4242,
      gid: 4343,
      gids: [1, 2, 3],
      machinename: "given",
    });
  });

  it("uses the first usable entry, skipping RPCSEC_GSS", async () => {
    const gss: callback_sec_parms4 = {
      cb_secflavor: 6,
      cbsp_gss_handles: {
        gcbp_service: 1,
        gcbp_handle_from_server: new Uint8Array(4),
        gcbp_handle_from_client: new Uint8Array(4),
      },
    };
    const { record, rec } = await setUp({}, { secParms: [gss, { cb_secflavor: 0 }] });
    await send(record, recallAny);
    expect(rec.compounds[0]!.info.cred.flavor).toBe(0);
  });

  it("reports a session offering only RPCSEC_GSS as down, and never calls it", async () => {
    const gss: callback_sec_parms4 = {
      cb_secflavor: 6,
      cbsp_gss_handles: {
        gcbp_service: 1,
        gcbp_handle_from_server: new Uint8Array(4),
        gcbp_handle_from_client: new Uint8Array(4),
      },
    };
    const { client, session, rec, record } = await setUp({}, { secParms: [gss] });
    // Its only session: CB_PATH_DOWN too.
    expect(await flagsOf(session)).toBe(
      SEQ4_STATUS_CB_PATH_DOWN | SEQ4_STATUS_CB_PATH_DOWN_SESSION,
    );
    expect(await send(record, recallAny, 200)).toEqual({ kind: "unreachable" });
    expect(rec.nulls).toHaveLength(0);
    expect(rec.compounds).toHaveLength(0);
    // A second session with AUTH_SYS: the first is still down, the client is not.
    const good = await client.createSession();
    expect(await flagsOf(session)).toBe(SEQ4_STATUS_CB_PATH_DOWN_SESSION);
    expect(await flagsOf(good)).toBe(0);
  });
});

describe("send()", () => {
  it("delivers CB_COMPOUND(CB_SEQUENCE, CB_RECALL) and returns the results after CB_SEQUENCE", async () => {
    const { session, rec, record } = await setUp();
    const r = await send(record, recall(5));
    expect(r).toEqual({
      kind: "answered",
      status: ST.NFS4_OK,
      results: [{ resop: nfs_cb_opnum4.OP_CB_RECALL, opcbrecall: { status: ST.NFS4_OK } }],
    });
    const got = rec.compounds[0]!;
    expect(got.args.minorversion).toBe(1);
    expect(got.args.callback_ident).toBe(0);
    expect(got.info).toMatchObject({ prog: NFS4_CALLBACK, vers: 1, proc: 1 });
    expect(Buffer.from(got.seq.csa_sessionid).equals(Buffer.from(session.id))).toBe(true);
    expect(got.seq).toMatchObject({
      csa_slotid: 0,
      csa_sequenceid: 1,
      csa_cachethis: false,
      csa_referring_call_lists: [],
    });
    const recalled = got.args.argarray[1];
    expect(recalled?.argop === nfs_cb_opnum4.OP_CB_RECALL && recalled.opcbrecall.fh).toEqual(
      new Uint8Array([1, 2, 3, 5]),
    );
    // The next call on the slot carries the next sequence ID.
    await send(record, recall(6));
    expect(rec.compounds[1]!.seq).toMatchObject({ csa_slotid: 0, csa_sequenceid: 2 });
  });

  it("sends concurrent calls on different slots, within the negotiated table", async () => {
    const { rec, record } = await setUp({}, { back: { ca_maxrequests: 2 } });
    rec.plan.push("drop", "drop");
    const calls = [1, 2, 3].map((n) => send(record, recall(n), 200));
    await until(() => rec.compounds.length >= 2, "two calls");
    expect(rec.compounds.map((c) => c.seq.csa_slotid).sort()).toEqual([0, 1]);
    for (const c of rec.compounds) expect(c.seq.csa_highest_slotid).toBe(1);
    await Promise.all(calls);
  });

  it("names the referring call when it is a session of the same client", async () => {
    const { session, rec, record } = await setUp();
    const other = await setUp();
    const referring = { sessionId: session.id, slotid: 3, sequenceid: 9 };
    await running.server.callbacks.send(record, { ops: [recallAny], deadlineMs: 5000, referring });
    expect(rec.compounds[0]!.seq.csa_referring_call_lists).toEqual([
      { rcl_sessionid: session.id, rcl_referring_calls: [{ rc_sequenceid: 9, rc_slotid: 3 }] },
    ]);
    // Another client's session is not named.
    await running.server.callbacks.send(other.record, {
      ops: [recallAny],
      deadlineMs: 5000,
      referring,
    });
    expect(other.rec.compounds[0]!.seq.csa_referring_call_lists).toEqual([]);
  });

  it("gives up at the deadline when the client never answers", async () => {
    const { rec, record } = await setUp();
    rec.plan.push("drop", "drop", "drop", "drop");
    expect(await send(record, recall(1), TIMEOUT_MS / 2)).toEqual({ kind: "unreachable" });
  });

  it("is cancelled by the caller's AbortSignal and when the client goes away", async () => {
    const { rec, record } = await setUp();
    rec.plan.push("drop", "drop");
    const abort = new AbortController();
    const aborted = running.server.callbacks.send(record, {
      ops: [recallAny],
      deadlineMs: 10_000,
      signal: abort.signal,
    });
    abort.abort();
    expect(await aborted).toEqual({ kind: "cancelled" });
    const pending = send(record, recallAny);
    running.server.state.removeClient(record);
    expect(await pending).toEqual({ kind: "cancelled" });
    expect(await send(record, recallAny)).toEqual({ kind: "cancelled" });
  });
});

describe("retry rules", () => {
  it("no reply, connection closed: the same slot and seqid once the client binds a new connection", async () => {
    const { client, session, rec, record } = await setUp();
    await send(record, recallAny); // slot 0 at seqid 2 now
    rec.plan.push("drop");
    const pending = send(record, recall(1));
    await until(() => rec.compounds.length === 2, "the unanswered call");
    const spare = await client.addConnection();
    client.connections[0]!.destroy();
    await until(
      () => running.server.state.session(session.id)!.backChannel() === null,
      "the server to see the back channel's connection close",
    );
    const down = await session.sequenceOnly({ conn: spare });
    expect(down.status).toBe(ST.NFS4_OK);
    expect(session.statusFlags).toBe(
      SEQ4_STATUS_CB_PATH_DOWN | SEQ4_STATUS_CB_PATH_DOWN_SESSION | SEQ4_STATUS_BACKCHANNEL_FAULT,
    );
    await session.bindConnection(spare, channel_dir_from_client4.CDFC4_BACK_OR_BOTH);
    expect(await pending).toMatchObject({ kind: "answered", status: ST.NFS4_OK });
    const [lost, resent] = rec.compounds.slice(1);
    expect(resent!.seq.csa_slotid).toBe(lost!.seq.csa_slotid);
    expect(resent!.seq.csa_sequenceid).toBe(lost!.seq.csa_sequenceid);
    expect(resent!.seq.csa_sequenceid).toBe(2);
  });

  it("no reply, timeout: BACKCHANNEL_FAULT until the client re-offers the channel; then the same slot and seqid", async () => {
    const { client, session, rec, record } = await setUp();
    rec.plan.push("drop");
    const timedOut = running.server.callbacks.stats().timedOut;
    const pending = send(record, recall(1));
    await until(() => running.server.callbacks.stats().timedOut > timedOut, "the call to time out");
    const flags = await flagsOf(session);
    expect(flags & SEQ4_STATUS_BACKCHANNEL_FAULT).not.toBe(0);
    expect(flags & SEQ4_STATUS_CB_PATH_DOWN_SESSION).not.toBe(0);
    expect(running.server.callbacks.canCallBack(record)).toBe(false);
    // Not resent on the connection that did not answer…
    expect(rec.compounds).toHaveLength(1);
    // …until the client binds it (again) for the back channel.
    await session.bindConnection(client.connection, channel_dir_from_client4.CDFC4_BACK_OR_BOTH);
    expect(await pending).toMatchObject({ kind: "answered" });
    expect(rec.compounds[1]!.seq).toMatchObject({ csa_slotid: 0, csa_sequenceid: 1 });
    expect(await flagsOf(session)).toBe(0);
  });

  it("no reply: resent at once on another connection bound to the back channel", async () => {
    const { client, session, rec, record } = await setUp();
    const second = await client.addConnection();
    await session.bindConnection(second, channel_dir_from_client4.CDFC4_BACK_OR_BOTH);
    await until(() => rec.nulls.length >= 2, "the probe of the second connection");
    rec.plan.push("drop");
    expect(await send(record, recall(1))).toMatchObject({ kind: "answered" });
    expect(rec.compounds).toHaveLength(2);
    expect(rec.compounds[1]!.seq).toMatchObject({ csa_slotid: 0, csa_sequenceid: 1 });
  });

  it("NFS4ERR_DELAY: resent after callbackRetryDelayMs; the slot is unchanged by the error", async () => {
    const { rec, record } = await setUp();
    rec.plan.push("delay", "delay");
    expect(await send(record, recall(1))).toMatchObject({ kind: "answered" });
    expect(rec.compounds).toHaveLength(3);
    const [a, b, c] = rec.compounds;
    // RFC 8881 §20.9.3: a CB_SEQUENCE error leaves the client's slot as it was.
    for (const x of [b!, c!]) expect(x.seq).toMatchObject({ csa_slotid: 0, csa_sequenceid: 1 });
    expect(a!.seq.csa_sequenceid).toBe(1);
    expect(await send(record, recall(2))).toMatchObject({ kind: "answered" });
    expect(rec.compounds[3]!.seq).toMatchObject({ csa_slotid: 0, csa_sequenceid: 2 });
  });

  it("NFS4ERR_BADSLOT: another slot, and the bad one is not used again", async () => {
    const { rec, record } = await setUp();
    rec.plan.push("badslot");
    expect(await send(record, recall(1))).toMatchObject({ kind: "answered" });
    expect(rec.compounds.map((c) => c.seq.csa_slotid)).toEqual([0, 1]);
    await send(record, recall(2));
    expect(rec.compounds[2]!.seq).toMatchObject({ csa_slotid: 1, csa_sequenceid: 2 });
  });

  it("NFS4ERR_SEQ_MISORDERED: the slot is resynchronised at sequence ID 1", async () => {
    const { rec, record } = await setUp();
    await send(record, recallAny);
    await send(record, recallAny);
    rec.plan.push("misordered");
    expect(await send(record, recall(1))).toMatchObject({ kind: "answered" });
    expect(rec.compounds.slice(2).map((c) => [c.seq.csa_slotid, c.seq.csa_sequenceid])).toEqual([
      [0, 3],
      [0, 1],
    ]);
  });

  it("NFS4ERR_BADSESSION: the call moves to another session of the client", async () => {
    const { client, session, rec, record } = await setUp();
    const second = await client.createSession();
    await until(() => rec.nulls.length >= 2, "both probes");
    rec.plan.push("badsession");
    expect(await send(record, recall(1))).toMatchObject({ kind: "answered" });
    const ids = rec.compounds.map((c) => Buffer.from(c.seq.csa_sessionid).toString("hex"));
    expect(ids).toHaveLength(2);
    expect(ids[0]).not.toBe(ids[1]);
    // The session the client disowned is reported down.
    const disowned = [session, second].find((s) => Buffer.from(s.id).toString("hex") === ids[0])!;
    expect((await flagsOf(disowned)) & SEQ4_STATUS_CB_PATH_DOWN_SESSION).not.toBe(0);
  });

  it("a session destroyed while a call is unanswered: resent on the client's next session (pynfs DSESS9003)", async () => {
    const { client, session, rec, record } = await setUp();
    rec.plan.push("drop");
    const pending = send(record, recall(7));
    await until(() => rec.compounds.length === 1, "the unanswered recall");
    await session.destroy();
    const next = await client.createSession();
    expect(await pending).toMatchObject({ kind: "answered" });
    expect(rec.compounds).toHaveLength(2);
    const again = rec.compounds[1]!;
    expect(Buffer.from(again.seq.csa_sessionid).equals(Buffer.from(next.id))).toBe(true);
    expect(again.seq).toMatchObject({ csa_slotid: 0, csa_sequenceid: 1 });
    expect(again.args.argarray[1]).toEqual(rec.compounds[0]!.args.argarray[1]);
  });
});

describe("BACKCHANNEL_CTL", () => {
  it("changes the program and the credential of the probe and of the next calls", async () => {
    const { session, rec, record } = await setUp({ extraCallbackPrograms: [0x40000099] });
    await until(() => rec.nulls.length === 1, "the first probe");
    const sys: callback_sec_parms4 = {
      cb_secflavor: 1,
      cbsp_sys_cred: { stamp: 1, machinename: "ctl", uid: 42, gid: 43, gids: [] },
    };
    const r = await session.compound([ops.backchannelCtl(0x40000099, [sys])]);
    expect(r.status).toBe(ST.NFS4_OK);
    await until(() => rec.nulls.length === 2, "the probe with the new program");
    expect(rec.nulls[1]).toMatchObject({ prog: 0x40000099, cred: { uid: 42, gid: 43 } });
    await send(record, recallAny);
    expect(rec.compounds[0]!.info).toMatchObject({
      prog: 0x40000099,
      cred: { uid: 42, gid: 43, machinename: "ctl" },
    });
  });

  it("refuses a list with no usable flavor (NFS4ERR_INVAL) and keeps the old parameters", async () => {
    const { session, rec, record } = await setUp();
    const gss: callback_sec_parms4 = {
      cb_secflavor: 6,
      cbsp_gss_handles: {
        gcbp_service: 1,
        gcbp_handle_from_server: new Uint8Array(0),
        gcbp_handle_from_client: new Uint8Array(0),
      },
    };
    const r = await session.compound([ops.backchannelCtl(0x40000099, [gss])]);
    expect(r.status).toBe(ST.NFS4ERR_INVAL);
    await send(record, recallAny);
    expect(rec.compounds[0]!.info.prog).toBe(NFS4_CALLBACK);
  });

  it("a program the client does not serve: the probe fails and the session reports its back channel down", async () => {
    const { session, record } = await setUp();
    await until(() => running.server.callbacks.canCallBack(record), "the first probe");
    const r = await session.compound([ops.backchannelCtl(0x40000123, [{ cb_secflavor: 0 }])]);
    expect(r.status).toBe(ST.NFS4_OK);
    await until(async () => (await flagsOf(session)) !== 0, "the failed probe");
    expect(session.statusFlags).toBe(SEQ4_STATUS_CB_PATH_DOWN | SEQ4_STATUS_CB_PATH_DOWN_SESSION);
    expect(running.server.callbacks.canCallBack(record)).toBe(false);
  });
});

describe("bounded memory", () => {
  it("refuses calls beyond maxCallbacksPerClient at once", async () => {
    const small = await startServer({ settings: { maxCallbacksPerClient: 3 } });
    try {
      const rec = new Recorder();
      const client = await connectClient(small.port, rec.options);
      await client.exchangeId(uniqueOwner("cb-bound"));
      const session = await client.createSession();
      const record = small.server.state.session(session.id)!.client;
      rec.plan.push("drop", "drop", "drop");
      const calls = [1, 2, 3].map((n) =>
        small.server.callbacks.send(record, { ops: [recall(n)], deadlineMs: 300 }),
      );
      expect(
        await small.server.callbacks.send(record, { ops: [recallAny], deadlineMs: 300 }),
      ).toEqual({ kind: "unreachable" });
      const stats = small.server.callbacks.stats();
      expect(stats.inFlight + stats.waiting).toBe(3);
      expect(await Promise.all(calls)).toEqual(Array(3).fill({ kind: "unreachable" }));
      expect(small.server.callbacks.stats()).toMatchObject({ inFlight: 0, waiting: 0 });
    } finally {
      await small.server.close();
    }
  });
});

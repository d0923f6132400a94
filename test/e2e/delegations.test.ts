// File delegations over TCP (RFC 8881 §10.2, §10.4, §20.2, §20.9): a real
// NfsServer on loopback and clients from src/client whose callback handlers
// play the holder. What test/nfs/delegations.test.ts shows in-process with a
// fake sender is shown here on the wire: the grant needs a working back
// channel, another client's conflicting request is answered NFS4ERR_DELAY
// while CB_COMPOUND(CB_SEQUENCE, CB_RECALL) reaches the holder, DELEGRETURN
// lets the request through, an unreturned delegation is revoked after a lease,
// and a recall survives a lost connection, a destroyed session and the
// CB_SEQUENCE errors the holder answers. No timing decides a verdict: every
// wait is a poll with a generous deadline (support.ts's until()).

import { describe, expect, it } from "vitest";
import type {
  CB_COMPOUND4args,
  CB_COMPOUND4res,
  CB_GETATTR4args,
  CB_RECALL4args,
  CB_SEQUENCE4args,
  callback_sec_parms4,
  fattr4,
  nfs_argop4,
  nfs_cb_resop4,
  nfs_opnum4,
  open_delegation4,
  stateid4,
} from "../../generated/nfs4/index.js";
import {
  FATTR4_CHANGE,
  FATTR4_SIZE,
  OPEN4_SHARE_ACCESS_BOTH,
  OPEN4_SHARE_ACCESS_READ,
  OPEN4_SHARE_ACCESS_WANT_READ_DELEG,
  OPEN4_SHARE_ACCESS_WANT_WRITE_DELEG,
  OPEN4_SHARE_DENY_NONE,
  SEQ4_STATUS_BACKCHANNEL_FAULT,
  SEQ4_STATUS_CB_PATH_DOWN,
  SEQ4_STATUS_CB_PATH_DOWN_SESSION,
  SEQ4_STATUS_RECALLABLE_STATE_REVOKED,
  channel_dir_from_client4,
  createmode4,
  decodefattr4_change,
  decodefattr4_size,
  encodefattr4_change,
  encodefattr4_size,
  nfs_cb_opnum4,
  nfs_lock_type4,
  nfsstat4,
  open_claim_type4,
  open_delegation_type4,
  opentype4,
  stable_how4,
  why_no_delegation4,
} from "../../generated/nfs4/index.js";
import type { CallbackStats } from "../../src/callback/service.js";
import type {
  ClientSession,
  CreateSessionOptions,
  NfsClient,
  ResultOf,
  SessionReply,
} from "../../src/client/index.js";
import { ops, resultOf } from "../../src/client/index.js";
import { bitmapOf, bitsOf } from "../../src/nfs/attrs/index.js";
import type { DelegationStats } from "../../src/nfs/delegations.js";
import type { NfsServer } from "../../src/nfs/server.js";
import { cbStatusResult } from "../../src/protocol/results.js";
import type { ClientRecord } from "../../src/state/client.js";
import { XdrReader, XdrWriter } from "../../src/xdr/index.js";
import type { Running } from "./support.js";
import { OP, ST, connectClient, uniqueOwner, until, useServer } from "./support.js";

const utf8 = new TextEncoder();

// --- the holder's callback side ---------------------------------------------------

/** How the holder answers the next CB_COMPOUND: normally, not at all, or with a CB_SEQUENCE error. */
type Answer = "ok" | "drop" | "delay" | "badslot";

interface Received {
  readonly args: CB_COMPOUND4args;
  readonly seq: CB_SEQUENCE4args;
  readonly answer: Answer;
}

/**
 * A client's callback handler for these tests: records every CB_COMPOUND,
 * answers as planned, and — like a real client — gives a recalled delegation
 * back with DELEGRETURN right after answering the CB_RECALL.
 */
class CallbackSide {
  readonly received: Received[] = [];
  /** How to answer the next CB_COMPOUNDs, in order; "ok" once empty. */
  readonly plan: Answer[] = [];
  /** DELEGRETURN after answering a CB_RECALL (on the current session). */
  returnOnRecall = true;
  /** The DELEGRETURNs sent after recalls, in order. */
  readonly returns: Promise<SessionReply>[] = [];
  /** What CB_GETATTR answers (change, size); NFS4ERR_NOTSUPP while null. */
  getattrAnswer: { readonly change: bigint; readonly size: bigint } | null = null;
  /** The session DELEGRETURN goes on (a test replaces it after DESTROY_SESSION). */
  session: ClientSession | null = null;

  answer(args: CB_COMPOUND4args): CB_COMPOUND4res | null {
    const first = args.argarray[0];
    if (first?.argop !== nfs_cb_opnum4.OP_CB_SEQUENCE) throw new Error("no CB_SEQUENCE first");
    const seq = first.opcbsequence;
    const answer = this.plan.shift() ?? "ok";
    this.received.push({ args, seq, answer });
    const failure = (status: nfsstat4): CB_COMPOUND4res => ({
      status,
      tag: args.tag,
      resarray: [cbStatusResult(nfs_cb_opnum4.OP_CB_SEQUENCE, status)],
    });
    switch (answer) {
      case "drop":
        return null;
      case "delay":
        return failure(nfsstat4.NFS4ERR_DELAY);
      case "badslot":
        return failure(nfsstat4.NFS4ERR_BADSLOT);
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
    for (const op of args.argarray.slice(1)) {
      if (op.argop === nfs_cb_opnum4.OP_CB_RECALL) {
        resarray.push(cbStatusResult(op.argop, nfsstat4.NFS4_OK));
        if (this.returnOnRecall) this.giveBackLater(op.opcbrecall);
      } else if (op.argop === nfs_cb_opnum4.OP_CB_GETATTR && this.getattrAnswer !== null) {
        resarray.push({
          resop: nfs_cb_opnum4.OP_CB_GETATTR,
          opcbgetattr: {
            status: nfsstat4.NFS4_OK,
            resok4: {
              obj_attributes: changeAndSize(this.getattrAnswer.change, this.getattrAnswer.size),
            },
          },
        });
      } else {
        resarray.push(cbStatusResult(op.argop, nfsstat4.NFS4ERR_NOTSUPP));
        return { status: nfsstat4.NFS4ERR_NOTSUPP, tag: args.tag, resarray };
      }
    }
    return { status: nfsstat4.NFS4_OK, tag: args.tag, resarray };
  }

  /** The CB_RECALLs received (answered or not), in order. */
  recalls(): CB_RECALL4args[] {
    return this.received.flatMap((r) =>
      r.args.argarray.flatMap((op) =>
        op.argop === nfs_cb_opnum4.OP_CB_RECALL ? [op.opcbrecall] : [],
      ),
    );
  }

  getattrs(): CB_GETATTR4args[] {
    return this.received.flatMap((r) =>
      r.args.argarray.flatMap((op) =>
        op.argop === nfs_cb_opnum4.OP_CB_GETATTR ? [op.opcbgetattr] : [],
      ),
    );
  }

  /** [csa_slotid, csa_sequenceid] of every CB_COMPOUND received. */
  slots(): [number, number][] {
    return this.received.map((r) => [r.seq.csa_slotid, r.seq.csa_sequenceid]);
  }

  /**
   * DELEGRETURN once this handler's answer is on its way: the reply is
   * queued on the connection before an immediate runs.
   */
  private giveBackLater(recall: CB_RECALL4args): void {
    const fh = new Uint8Array(recall.fh);
    const stateid = { seqid: recall.stateid.seqid, other: new Uint8Array(recall.stateid.other) };
    this.returns.push(
      new Promise<void>((resolve) => setImmediate(resolve)).then(() => {
        if (this.session === null) throw new Error("no session to return the delegation on");
        return this.session.compound([ops.putfh(fh), delegreturnOp(stateid)]);
      }),
    );
  }
}

// --- operations ----------------------------------------------------------------------

const ANONYMOUS: stateid4 = { seqid: 0, other: new Uint8Array(12) };
const inExport = (): nfs_argop4[] => [ops.putrootfh(), ops.lookup("export")];
const savefh: nfs_argop4 = { argop: OP.OP_SAVEFH };

function openOp(name: string, owner: string, shareAccess: number): nfs_argop4 {
  return {
    argop: OP.OP_OPEN,
    opopen: {
      seqid: 0,
      share_access: shareAccess,
      share_deny: OPEN4_SHARE_DENY_NONE,
      owner: { clientid: 0n, owner: utf8.encode(owner) },
      openhow: {
        opentype: opentype4.OPEN4_CREATE,
        how: {
          mode: createmode4.UNCHECKED4,
          createattrs: { attrmask: [], attr_vals: new Uint8Array() },
        },
      },
      claim: { claim: open_claim_type4.CLAIM_NULL, file: utf8.encode(name) },
    },
  };
}

const readOp = (s: stateid4): nfs_argop4 => ({
  argop: OP.OP_READ,
  opread: { stateid: s, offset: 0n, count: 100 },
});
const writeOp = (s: stateid4, data: string): nfs_argop4 => ({
  argop: OP.OP_WRITE,
  opwrite: { stateid: s, offset: 0n, stable: stable_how4.FILE_SYNC4, data: utf8.encode(data) },
});
function truncateOp(s: stateid4): nfs_argop4 {
  const w = new XdrWriter();
  encodefattr4_size(w, 0n);
  return {
    argop: OP.OP_SETATTR,
    opsetattr: {
      stateid: s,
      obj_attributes: { attrmask: bitmapOf([FATTR4_SIZE]), attr_vals: w.toBytes() },
    },
  };
}
const removeOp = (name: string): nfs_argop4 => ({
  argop: OP.OP_REMOVE,
  opremove: { target: utf8.encode(name) },
});
const renameOp = (from: string, to: string): nfs_argop4 => ({
  argop: OP.OP_RENAME,
  oprename: { oldname: utf8.encode(from), newname: utf8.encode(to) },
});
const linkOp = (name: string): nfs_argop4 => ({
  argop: OP.OP_LINK,
  oplink: { newname: utf8.encode(name) },
});
const delegreturnOp = (s: stateid4): nfs_argop4 => ({
  argop: OP.OP_DELEGRETURN,
  opdelegreturn: { deleg_stateid: s },
});
const testStateidOp = (s: stateid4): nfs_argop4 => ({
  argop: OP.OP_TEST_STATEID,
  optest_stateid: { ts_stateids: [s] },
});
const freeStateidOp = (s: stateid4): nfs_argop4 => ({
  argop: OP.OP_FREE_STATEID,
  opfree_stateid: { fsa_stateid: s },
});
const getSizeAndChange = (): nfs_argop4 => ops.getattr(bitmapOf([FATTR4_CHANGE, FATTR4_SIZE]));

/** fattr4 with change and size (in bit order, as fattr4 requires). */
function changeAndSize(change: bigint, size: bigint): fattr4 {
  const w = new XdrWriter();
  encodefattr4_change(w, change);
  encodefattr4_size(w, size);
  return { attrmask: bitmapOf([FATTR4_CHANGE, FATTR4_SIZE]), attr_vals: w.toBytes() };
}

/** The change and size a GETATTR reported (the request asked for nothing else). */
function decodeChangeAndSize(f: fattr4): { change?: bigint; size?: bigint } {
  const r = new XdrReader(f.attr_vals);
  const out: { change?: bigint; size?: bigint } = {};
  for (const bit of bitsOf(f.attrmask)) {
    if (bit === FATTR4_CHANGE) out.change = decodefattr4_change(r);
    else if (bit === FATTR4_SIZE) out.size = decodefattr4_size(r);
    else throw new Error(`unexpected attribute ${bit}`);
  }
  return out;
}

/** The result of the reply's operation `op` (the first of its kind), which must be there. */
function resultIn<N extends nfs_opnum4>(reply: SessionReply, op: N): ResultOf<N> {
  for (const res of reply.resarray) {
    const r = resultOf(res, op);
    if (r !== undefined) return r;
  }
  throw new Error(`no result of operation ${op} in the reply (status ${reply.status})`);
}

function delegStateid(d: open_delegation4): stateid4 {
  if (d.delegation_type === open_delegation_type4.OPEN_DELEGATE_READ) return d.read.stateid;
  if (d.delegation_type === open_delegation_type4.OPEN_DELEGATE_WRITE) return d.write.stateid;
  throw new Error(`no delegation granted (type ${d.delegation_type})`);
}

function whyNone(d: open_delegation4): number {
  if (d.delegation_type !== open_delegation_type4.OPEN_DELEGATE_NONE_EXT)
    throw new Error(`not OPEN_DELEGATE_NONE_EXT but ${d.delegation_type}`);
  return d.od_whynone.ond_why;
}

// --- parties ---------------------------------------------------------------------------

interface Party {
  readonly client: NfsClient;
  readonly session: ClientSession;
  readonly cb: CallbackSide;
  readonly record: ClientRecord;
}

async function party(running: Running, session: CreateSessionOptions = {}): Promise<Party> {
  const cb = new CallbackSide();
  const client = await connectClient(running.port, { onCallback: (args) => cb.answer(args) });
  await client.exchangeId(uniqueOwner("deleg"));
  const s = await client.createSession(session);
  cb.session = s;
  // Out of the grace period for this client: OPEN may create files (RFC 8881 §18.51).
  const rc = await s.compound([ops.reclaimComplete(false)]);
  expect(rc.status).toBe(ST.NFS4_OK);
  const record = running.server.state.session(s.id)?.client;
  if (record === undefined) throw new Error("the server does not know the new session");
  return { client, session: s, cb, record };
}

interface Opened {
  readonly name: string;
  readonly fh: Uint8Array;
  readonly open: stateid4;
  readonly delegation: open_delegation4;
  /** The change attribute right after the OPEN. */
  readonly change: bigint;
  readonly reply: SessionReply;
}

let files = 0;
/** A file name no other test of this file uses (a recalled file is not delegated again for a while). */
function fileName(prefix: string): string {
  return `${prefix}-${++files}`;
}

/** OPEN (creating) `name` in /export with share access and wants; GETFH and the change attribute. */
async function openIn(p: Party, name: string, shareAccess: number): Promise<Opened> {
  const reply = await p.session.compound([
    ...inExport(),
    openOp(name, "owner", shareAccess),
    ops.getfh(),
    ops.getattr(bitmapOf([FATTR4_CHANGE])),
  ]);
  expect(reply.status).toBe(ST.NFS4_OK);
  const open = resultIn(reply, OP.OP_OPEN);
  const fh = resultIn(reply, OP.OP_GETFH);
  const attrs = resultIn(reply, OP.OP_GETATTR);
  if (open.status !== ST.NFS4_OK || fh.status !== ST.NFS4_OK || attrs.status !== ST.NFS4_OK)
    throw new Error("OPEN, GETFH or GETATTR failed");
  const { change } = decodeChangeAndSize(attrs.resok4.obj_attributes);
  if (change === undefined) throw new Error("no change attribute");
  return {
    name,
    fh: fh.resok4.object,
    open: open.resok4.stateid,
    delegation: open.resok4.delegation,
    change,
    reply,
  };
}

const READ_DELEG = OPEN4_SHARE_ACCESS_READ | OPEN4_SHARE_ACCESS_WANT_READ_DELEG;
const WRITE_DELEG = OPEN4_SHARE_ACCESS_BOTH | OPEN4_SHARE_ACCESS_WANT_WRITE_DELEG;

/** `p`'s SEQUENCE status flags now. */
async function flagsOf(p: Party): Promise<number> {
  const r = await p.session.sequenceOnly();
  expect(r.status).toBe(ST.NFS4_OK);
  return p.session.statusFlags;
}

// --- counters ----------------------------------------------------------------------------

interface Counters {
  readonly delegations: DelegationStats;
  readonly callbacks: CallbackStats;
}

function counters(server: NfsServer): Counters {
  return { delegations: { ...server.delegations.stats }, callbacks: server.callbacks.stats() };
}

/** What the delegation counters did since `before`. */
function delegationsSince(server: NfsServer, before: Counters): DelegationStats {
  const now = server.delegations.stats;
  const was = before.delegations;
  return {
    granted: now.granted - was.granted,
    recalled: now.recalled - was.recalled,
    returned: now.returned - was.returned,
    revoked: now.revoked - was.revoked,
    recallAnySent: now.recallAnySent - was.recallAnySent,
    cbGetattrSent: now.cbGetattrSent - was.cbGetattrSent,
  };
}

/** What the callback counters did since `before` (timeouts left out: they may land late). */
function callbacksSince(
  server: NfsServer,
  before: Counters,
): {
  sent: number;
  answered: number;
  retried: number;
  unreachable: number;
  cancelled: number;
  probes: number;
} {
  const now = server.callbacks.stats();
  const was = before.callbacks;
  return {
    sent: now.sent - was.sent,
    answered: now.answered - was.answered,
    retried: now.retried - was.retried,
    unreachable: now.unreachable - was.unreachable,
    cancelled: now.cancelled - was.cancelled,
    probes: now.probes - was.probes,
  };
}

const DELEGATION_COUNTERS: DelegationStats = {
  granted: 0,
  recalled: 0,
  returned: 0,
  revoked: 0,
  recallAnySent: 0,
  cbGetattrSent: 0,
};

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a).equals(Buffer.from(b));
}

// --- the tests ------------------------------------------------------------------------------

describe("with the default lease", () => {
  const running = useServer({
    settings: { callbackTimeoutMs: 2000, callbackRetryDelayMs: 50 },
  });

  /**
   * The holder `a` opens a fresh file with a delegation of `kind`; `b` is
   * another client. Returns both and the opened file.
   */
  async function delegated(
    kind: "read" | "write",
  ): Promise<{ a: Party; b: Party; file: Opened; sid: stateid4; before: Counters }> {
    const a = await party(running);
    const b = await party(running);
    const before = counters(running.server);
    const file = await openIn(a, fileName(kind), kind === "read" ? READ_DELEG : WRITE_DELEG);
    expect(file.delegation.delegation_type).toBe(
      kind === "read"
        ? open_delegation_type4.OPEN_DELEGATE_READ
        : open_delegation_type4.OPEN_DELEGATE_WRITE,
    );
    return { a, b, file, sid: delegStateid(file.delegation), before };
  }

  /** The one CB_COMPOUND `a` received is CB_SEQUENCE + CB_RECALL of `file` under `sid`. */
  function expectRecallOf(a: Party, file: Opened, sid: stateid4): void {
    const got = a.cb.received[0]!;
    expect(got.args.minorversion).toBe(1);
    expect(got.args.argarray.map((op) => op.argop)).toEqual([
      nfs_cb_opnum4.OP_CB_SEQUENCE,
      nfs_cb_opnum4.OP_CB_RECALL,
    ]);
    expect(sameBytes(got.seq.csa_sessionid, a.session.id)).toBe(true);
    expect(got.seq.csa_cachethis).toBe(false);
    // §2.10.6.3: the OPEN that granted the delegation is the referring call.
    expect(got.seq.csa_referring_call_lists).toEqual([
      {
        rcl_sessionid: a.session.id,
        rcl_referring_calls: [{ rc_sequenceid: file.reply.seqid, rc_slotid: file.reply.slotid }],
      },
    ]);
    const recall = a.cb.recalls()[0]!;
    expect(recall.stateid).toEqual(sid);
    expect(recall.truncate).toBe(false);
    expect(sameBytes(recall.fh, file.fh)).toBe(true);
  }

  describe("1. another client's conflicting request recalls the delegation (§10.4.6, §20.2)", () => {
    const cases: {
      readonly what: string;
      readonly kind: "read" | "write";
      readonly request: (file: Opened) => nfs_argop4[];
    }[] = [
      {
        what: "OPEN for write",
        kind: "read",
        request: (f) => [...inExport(), openOp(f.name, "b", OPEN4_SHARE_ACCESS_BOTH)],
      },
      {
        what: "WRITE with the anonymous stateid",
        kind: "read",
        request: (f) => [ops.putfh(f.fh), writeOp(ANONYMOUS, "hello")],
      },
      {
        what: "SETATTR of the size",
        kind: "read",
        request: (f) => [ops.putfh(f.fh), truncateOp(ANONYMOUS)],
      },
      {
        what: "REMOVE",
        kind: "read",
        request: (f) => [...inExport(), removeOp(f.name)],
      },
      {
        what: "RENAME",
        kind: "read",
        request: (f) => [...inExport(), savefh, renameOp(f.name, `${f.name}.moved`)],
      },
      {
        what: "LINK",
        kind: "read",
        request: (f) => [ops.putfh(f.fh), savefh, ...inExport(), linkOp(`${f.name}.link`)],
      },
      {
        what: "READ, of a write delegation",
        kind: "write",
        request: (f) => [ops.putfh(f.fh), readOp(ANONYMOUS)],
      },
      {
        what: "OPEN for read, of a write delegation",
        kind: "write",
        request: (f) => [...inExport(), openOp(f.name, "b", OPEN4_SHARE_ACCESS_READ)],
      },
    ];

    it.each(cases)(
      "$what: DELAY, CB_RECALL to the holder, DELEGRETURN, then the retry succeeds",
      async ({ kind, request }) => {
        const { a, b, file, sid, before } = await delegated(kind);

        const first = await b.session.compound(request(file));
        expect(first.status).toBe(ST.NFS4ERR_DELAY);

        // The holder hears of it on its back channel, answers, and gives it back.
        await until(() => a.cb.returns.length === 1, "the holder to answer the CB_RECALL");
        expect(a.cb.received).toHaveLength(1);
        expectRecallOf(a, file, sid);
        const returned = await a.cb.returns[0]!;
        expect(returned.status).toBe(ST.NFS4_OK);

        const retried = await b.session.compound(request(file));
        expect(retried.status).toBe(ST.NFS4_OK);

        // 9. The counters match: one grant, one recall, one return; one callback, answered.
        expect(delegationsSince(running.server, before)).toEqual({
          ...DELEGATION_COUNTERS,
          granted: 1,
          recalled: 1,
          returned: 1,
        });
        expect(callbacksSince(running.server, before)).toEqual({
          sent: 1,
          answered: 1,
          retried: 0,
          unreachable: 0,
          cancelled: 0,
          probes: 0,
        });
        expect(running.server.delegations.recallsInProgress).toBe(0);
        expect(running.server.state.delegationsOf(a.record).size).toBe(0);
      },
    );
  });

  it("2. the conflicting client gets DELAY until the holder returns the delegation, however often it asks", async () => {
    const { a, b, file, sid, before } = await delegated("read");
    a.cb.returnOnRecall = false;
    const request = [...inExport(), openOp(file.name, "b", OPEN4_SHARE_ACCESS_BOTH)];
    expect((await b.session.compound(request)).status).toBe(ST.NFS4ERR_DELAY);
    await until(
      () => running.server.callbacks.stats().answered > before.callbacks.answered,
      "the holder's answer to reach the server",
    );
    expectRecallOf(a, file, sid);
    // Answered, not returned: still DELAY, and no second CB_RECALL.
    for (let i = 0; i < 3; i++)
      expect((await b.session.compound(request)).status).toBe(ST.NFS4ERR_DELAY);
    expect(running.server.delegations.recallsInProgress).toBe(1);
    expect(a.cb.received).toHaveLength(1);

    const returned = await a.session.compound([ops.putfh(file.fh), delegreturnOp(sid)]);
    expect(returned.status).toBe(ST.NFS4_OK);
    expect((await b.session.compound(request)).status).toBe(ST.NFS4_OK);
    expect(delegationsSince(running.server, before)).toEqual({
      ...DELEGATION_COUNTERS,
      granted: 1,
      recalled: 1,
      returned: 1,
    });
    expect(callbacksSince(running.server, before)).toMatchObject({ sent: 1, answered: 1 });
  });

  it("LOCKT by another client recalls the delegation first: its holder may hold locks only it knows of", async () => {
    const { a, b, file, sid } = await delegated("write");
    a.cb.returnOnRecall = false;
    const lockt = {
      argop: OP.OP_LOCKT,
      oplockt: {
        locktype: nfs_lock_type4.READ_LT,
        offset: 0n,
        length: 1n,
        owner: { clientid: 0n, owner: utf8.encode("b-lockt") },
      },
    } as const;
    expect((await b.session.compound([ops.putfh(file.fh), lockt])).status).toBe(ST.NFS4ERR_DELAY);
    await until(() => a.cb.received.length > 0, "the recall to reach the holder");
    expectRecallOf(a, file, sid);
    const returned = await a.session.compound([ops.putfh(file.fh), delegreturnOp(sid)]);
    expect(returned.status).toBe(ST.NFS4_OK);
    expect((await b.session.compound([ops.putfh(file.fh), lockt])).status).toBe(ST.NFS4_OK);
  });

  it("4. a recall survives the loss of the back channel's connection: resent with the same slot and seqid once a new one is bound", async () => {
    const { a, b, file, sid, before } = await delegated("read");
    a.cb.plan.push("drop");
    const request = [...inExport(), openOp(file.name, "b", OPEN4_SHARE_ACCESS_BOTH)];
    expect((await b.session.compound(request)).status).toBe(ST.NFS4ERR_DELAY);
    await until(() => a.cb.received.length === 1, "the unanswered CB_RECALL");

    // The holder's only connection (fore and back) goes.
    a.client.connections[0]!.destroy();
    await until(
      () => running.server.state.session(a.session.id)?.backChannel() === null,
      "the server to see the connection close",
    );
    expect((await b.session.compound(request)).status).toBe(ST.NFS4ERR_DELAY);

    // The client connects again; SEQUENCE on the new connection binds only the fore channel.
    const again = await a.client.addConnection();
    const seq = await a.session.sequenceOnly({ conn: again });
    expect(seq.status).toBe(ST.NFS4_OK);
    expect(a.session.statusFlags).toBe(
      SEQ4_STATUS_CB_PATH_DOWN | SEQ4_STATUS_CB_PATH_DOWN_SESSION | SEQ4_STATUS_BACKCHANNEL_FAULT,
    );
    expect(a.cb.received).toHaveLength(1);

    await a.session.bindConnection(again, channel_dir_from_client4.CDFC4_BACK_OR_BOTH);
    await until(() => a.cb.returns.length === 1, "the CB_RECALL again, answered");
    expect((await a.cb.returns[0]!).status).toBe(ST.NFS4_OK);

    // RFC 8881 §2.10.6.3, §20.9.3: the same slot and sequence ID (a retry, as far as the client knows).
    const [lost, resent] = a.cb.received;
    expect(resent!.seq.csa_slotid).toBe(lost!.seq.csa_slotid);
    expect(resent!.seq.csa_sequenceid).toBe(lost!.seq.csa_sequenceid);
    expect(resent!.args.argarray[1]).toEqual(lost!.args.argarray[1]);
    expect(a.cb.recalls()[1]!.stateid).toEqual(sid);

    expect((await b.session.compound(request)).status).toBe(ST.NFS4_OK);
    expect(await flagsOf(a)).toBe(0);
    expect(delegationsSince(running.server, before)).toEqual({
      ...DELEGATION_COUNTERS,
      granted: 1,
      recalled: 1,
      returned: 1,
    });
    expect(callbacksSince(running.server, before)).toEqual({
      sent: 2,
      answered: 1,
      retried: 1,
      unreachable: 0,
      cancelled: 0,
      // The connection just bound is probed (CB_NULL) before the recall is resent.
      probes: 1,
    });
  });

  it("5. an unanswered recall reaches the client's next session after DESTROY_SESSION (pynfs DSESS9003)", async () => {
    const { a, b, file, sid, before } = await delegated("read");
    a.cb.plan.push("drop");
    const request = [...inExport(), openOp(file.name, "b", OPEN4_SHARE_ACCESS_BOTH)];
    expect((await b.session.compound(request)).status).toBe(ST.NFS4ERR_DELAY);
    await until(() => a.cb.received.length === 1, "the unanswered CB_RECALL");

    await a.session.destroy();
    expect((await b.session.compound(request)).status).toBe(ST.NFS4ERR_DELAY);
    const next = await a.client.createSession();
    a.cb.session = next;
    await until(() => a.cb.returns.length === 1, "the CB_RECALL on the new session, answered");
    expect((await a.cb.returns[0]!).status).toBe(ST.NFS4_OK);

    const resent = a.cb.received[1]!;
    expect(sameBytes(resent.seq.csa_sessionid, next.id)).toBe(true);
    // A new session's back channel: its first slot, first sequence ID.
    expect(resent.seq).toMatchObject({ csa_slotid: 0, csa_sequenceid: 1, csa_cachethis: false });
    expect(a.cb.recalls()[1]!.stateid).toEqual(sid);
    expect(sameBytes(a.cb.recalls()[1]!.fh, file.fh)).toBe(true);
    // The OPEN that granted it was on the destroyed session: no referring call is named.
    expect(a.cb.received[0]!.seq.csa_referring_call_lists).toHaveLength(1);
    expect(resent.seq.csa_referring_call_lists).toEqual([]);

    expect((await b.session.compound(request)).status).toBe(ST.NFS4_OK);
    expect(delegationsSince(running.server, before)).toEqual({
      ...DELEGATION_COUNTERS,
      granted: 1,
      recalled: 1,
      returned: 1,
    });
    expect(callbacksSince(running.server, before)).toMatchObject({
      sent: 2,
      answered: 1,
      retried: 1,
      // The new session's back channel is probed (CB_NULL) before the recall is resent.
      probes: 1,
    });
  });

  describe("6. CB_SEQUENCE errors the holder answers (callback/service.ts's rules)", () => {
    it("NFS4ERR_DELAY: the recall comes again after callbackRetryDelayMs on the same slot with the same seqid", async () => {
      const { a, b, file, sid, before } = await delegated("read");
      a.cb.plan.push("delay");
      const request = [...inExport(), openOp(file.name, "b", OPEN4_SHARE_ACCESS_BOTH)];
      expect((await b.session.compound(request)).status).toBe(ST.NFS4ERR_DELAY);
      await until(() => a.cb.returns.length === 1, "the CB_RECALL again, answered");
      expect((await a.cb.returns[0]!).status).toBe(ST.NFS4_OK);
      // The error left the slot as it was (§20.9.3); slot 0 is the lowest free one again.
      expect(a.cb.slots()).toEqual([
        [0, 1],
        [0, 1],
      ]);
      expect(a.cb.recalls().map((r) => r.stateid)).toEqual([sid, sid]);
      expect((await b.session.compound(request)).status).toBe(ST.NFS4_OK);
      expect(callbacksSince(running.server, before)).toEqual({
        sent: 2,
        answered: 1,
        retried: 1,
        unreachable: 0,
        cancelled: 0,
        probes: 0,
      });
    });

    it("NFS4ERR_BADSLOT: the recall comes again at once on another slot, and the bad one is not used again", async () => {
      const { a, b, file, sid, before } = await delegated("read");
      a.cb.plan.push("badslot");
      const request = [...inExport(), openOp(file.name, "b", OPEN4_SHARE_ACCESS_BOTH)];
      expect((await b.session.compound(request)).status).toBe(ST.NFS4ERR_DELAY);
      await until(() => a.cb.returns.length === 1, "the CB_RECALL again, answered");
      expect((await a.cb.returns[0]!).status).toBe(ST.NFS4_OK);
      expect(a.cb.slots()).toEqual([
        [0, 1],
        [1, 1],
      ]);
      expect(a.cb.recalls().map((r) => r.stateid)).toEqual([sid, sid]);
      expect((await b.session.compound(request)).status).toBe(ST.NFS4_OK);

      // The next recall skips the retired slot 0.
      const second = await openIn(a, fileName("badslot"), READ_DELEG);
      const other = [...inExport(), openOp(second.name, "b", OPEN4_SHARE_ACCESS_BOTH)];
      expect((await b.session.compound(other)).status).toBe(ST.NFS4ERR_DELAY);
      await until(() => a.cb.returns.length === 2, "the second CB_RECALL, answered");
      expect((await a.cb.returns[1]!).status).toBe(ST.NFS4_OK);
      expect(a.cb.slots()[2]).toEqual([1, 2]);
      expect((await b.session.compound(other)).status).toBe(ST.NFS4_OK);
      expect(callbacksSince(running.server, before)).toEqual({
        sent: 3,
        answered: 2,
        retried: 1,
        unreachable: 0,
        cancelled: 0,
        probes: 0,
      });
    });
  });

  describe("7. a client without a usable back channel gets no delegation (§10.2)", () => {
    const gss: callback_sec_parms4 = {
      cb_secflavor: 6,
      cbsp_gss_handles: {
        gcbp_service: 1,
        gcbp_handle_from_server: new Uint8Array(4),
        gcbp_handle_from_client: new Uint8Array(4),
      },
    };

    it("a session created without CONN_BACK_CHAN: WND4_RESOURCE, until BIND_CONN_TO_SESSION binds a back channel", async () => {
      const a = await party(running, { flags: 0 });
      const before = counters(running.server);
      expect(await flagsOf(a)).toBe(SEQ4_STATUS_CB_PATH_DOWN | SEQ4_STATUS_CB_PATH_DOWN_SESSION);
      const name = fileName("nobackchan");
      const none = await openIn(a, name, READ_DELEG);
      expect(whyNone(none.delegation)).toBe(why_no_delegation4.WND4_RESOURCE);
      expect(none.delegation).toMatchObject({
        od_whynone: { ond_server_will_signal_avail: false },
      });

      await a.session.bindConnection(
        a.client.connection,
        channel_dir_from_client4.CDFC4_BACK_OR_BOTH,
      );
      const granted = await openIn(a, name, READ_DELEG);
      expect(granted.delegation.delegation_type).toBe(open_delegation_type4.OPEN_DELEGATE_READ);
      expect(delegationsSince(running.server, before)).toMatchObject({ granted: 1 });
      // And it is recallable over the channel just bound.
      const b = await party(running);
      const request = [...inExport(), openOp(name, "b", OPEN4_SHARE_ACCESS_BOTH)];
      expect((await b.session.compound(request)).status).toBe(ST.NFS4ERR_DELAY);
      await until(() => a.cb.returns.length === 1, "the CB_RECALL, answered");
      expect((await a.cb.returns[0]!).status).toBe(ST.NFS4_OK);
      expect((await b.session.compound(request)).status).toBe(ST.NFS4_OK);
    });

    it("a session whose csa_sec_parms offer only RPCSEC_GSS: WND4_RESOURCE", async () => {
      const a = await party(running, { secParms: [gss] });
      const before = counters(running.server);
      expect(await flagsOf(a)).toBe(SEQ4_STATUS_CB_PATH_DOWN | SEQ4_STATUS_CB_PATH_DOWN_SESSION);
      const none = await openIn(a, fileName("gssonly"), READ_DELEG);
      expect(whyNone(none.delegation)).toBe(why_no_delegation4.WND4_RESOURCE);
      expect(delegationsSince(running.server, before)).toEqual(DELEGATION_COUNTERS);
      expect(a.cb.received).toHaveLength(0);
    });
  });

  it("8. a write delegation: another client's GETATTR(size, change) is answered from the holder's CB_GETATTR (§10.4.3)", async () => {
    const { a, b, file, before } = await delegated("write");
    // The holder has written 5 bytes the server has not seen: one modification.
    a.cb.getattrAnswer = { change: file.change + 1n, size: 5n };

    const r = await b.session.compound([ops.putfh(file.fh), getSizeAndChange()]);
    expect(r.status).toBe(ST.NFS4_OK);
    const got = resultIn(r, OP.OP_GETATTR);
    if (got.status !== ST.NFS4_OK) throw new Error("GETATTR failed");
    expect(decodeChangeAndSize(got.resok4.obj_attributes)).toEqual({
      change: file.change + 1n,
      size: 5n,
    });

    const asked = a.cb.getattrs();
    expect(asked).toHaveLength(1);
    expect(sameBytes(asked[0]!.fh, file.fh)).toBe(true);
    expect(bitsOf(asked[0]!.attr_request)).toEqual([FATTR4_CHANGE, FATTR4_SIZE]);
    expect(a.cb.received[0]!.seq.csa_cachethis).toBe(false);

    // The holder's own GETATTR asks nobody; the delegation stays (no recall).
    const own = await a.session.compound([ops.putfh(file.fh), getSizeAndChange()]);
    expect(own.status).toBe(ST.NFS4_OK);
    expect(a.cb.received).toHaveLength(1);
    expect(delegationsSince(running.server, before)).toEqual({
      ...DELEGATION_COUNTERS,
      granted: 1,
      cbGetattrSent: 1,
    });
    expect(callbacksSince(running.server, before)).toMatchObject({ sent: 1, answered: 1 });
    expect(running.server.state.delegationsOf(a.record).size).toBe(1);
  });
});

describe("3. revocation after a lease (§10.2.1), with a two-second lease", () => {
  // The server's sweep runs every min(1 s, lease / 4) = 0.5 s.
  const running = useServer({ settings: { leaseTimeSec: 2 } });

  /** Renews `p`'s lease with a SEQUENCE every `everyMs` until stopped. */
  function keepAlive(p: Party, everyMs = 250): () => Promise<void> {
    let last: Promise<unknown> = Promise.resolve();
    const timer = setInterval(() => {
      last = p.session.sequenceOnly().catch(() => undefined);
    }, everyMs);
    return async () => {
      clearInterval(timer);
      await last;
    };
  }

  it(
    "a holder that answers CB_RECALL but never returns loses the delegation; DELEG_REVOKED and the SEQUENCE flag until FREE_STATEID",
    { timeout: 20_000 },
    async () => {
      const a = await party(running);
      const b = await party(running);
      a.cb.returnOnRecall = false;
      const stop = keepAlive(a);
      try {
        const before = counters(running.server);
        const file = await openIn(a, fileName("revoked"), READ_DELEG);
        const sid = delegStateid(file.delegation);
        const request = [...inExport(), openOp(file.name, "b", OPEN4_SHARE_ACCESS_BOTH)];
        expect((await b.session.compound(request)).status).toBe(ST.NFS4ERR_DELAY);
        await until(
          () => running.server.callbacks.stats().answered > before.callbacks.answered,
          "the holder's answer",
        );
        // Within a lease and a sweep (plus a generous margin) the request goes through.
        await until(
          async () => (await b.session.compound(request)).status === ST.NFS4_OK,
          "the delegation to be revoked",
          15_000,
        );
        expect(delegationsSince(running.server, before)).toEqual({
          ...DELEGATION_COUNTERS,
          granted: 1,
          recalled: 1,
          revoked: 1,
        });
        expect(a.cb.recalls()).toHaveLength(1);

        // The holder's lease was kept: it is told on every SEQUENCE (§18.46.3)…
        expect((await flagsOf(a)) & SEQ4_STATUS_RECALLABLE_STATE_REVOKED).not.toBe(0);
        // …and its stateid is DELEG_REVOKED for READ, TEST_STATEID and DELEGRETURN.
        const read = await a.session.compound([ops.putfh(file.fh), readOp(sid)]);
        expect(read.status).toBe(ST.NFS4ERR_DELEG_REVOKED);
        const tested = resultIn(await a.session.compound([testStateidOp(sid)]), OP.OP_TEST_STATEID);
        if (tested.tsr_status !== ST.NFS4_OK) throw new Error("TEST_STATEID failed");
        expect(tested.tsr_resok4.tsr_status_codes).toEqual([ST.NFS4ERR_DELEG_REVOKED]);
        const late = await a.session.compound([ops.putfh(file.fh), delegreturnOp(sid)]);
        expect(late.status).toBe(ST.NFS4ERR_DELEG_REVOKED);

        // FREE_STATEID clears the flag.
        expect((await a.session.compound([freeStateidOp(sid)])).status).toBe(ST.NFS4_OK);
        expect((await flagsOf(a)) & SEQ4_STATUS_RECALLABLE_STATE_REVOKED).toBe(0);
        const gone = resultIn(await a.session.compound([testStateidOp(sid)]), OP.OP_TEST_STATEID);
        if (gone.tsr_status !== ST.NFS4_OK) throw new Error("TEST_STATEID failed");
        expect(gone.tsr_resok4.tsr_status_codes).toEqual([ST.NFS4ERR_BAD_STATEID]);
      } finally {
        await stop();
      }
    },
  );

  it(
    "a holder whose lease expired (a courtesy client) loses the delegation to the first conflict, without a recall",
    { timeout: 20_000 },
    async () => {
      const a = await party(running);
      const before = counters(running.server);
      const file = await openIn(a, fileName("courtesy"), READ_DELEG);
      expect(file.delegation.delegation_type).toBe(open_delegation_type4.OPEN_DELEGATE_READ);
      // No SEQUENCE from the holder from here on: polled on the server's side.
      await until(
        () => running.server.state.client(a.record.clientid)?.courtesy === true,
        "the holder's lease to expire",
        15_000,
      );
      const b = await party(running);
      const request = [...inExport(), openOp(file.name, "b", OPEN4_SHARE_ACCESS_BOTH)];
      const opened = await b.session.compound(request);
      expect(opened.status).toBe(ST.NFS4_OK);
      expect(a.cb.received).toHaveLength(0);
      expect(running.server.state.client(a.record.clientid)).toBeUndefined();
      // Nothing was recalled, so nothing holds the file back: B's OPEN for
      // writing (no preference stated) gets a write delegation of its own.
      const theirs = resultIn(opened, OP.OP_OPEN);
      if (theirs.status !== ST.NFS4_OK) throw new Error("OPEN failed");
      expect(theirs.resok4.delegation.delegation_type).toBe(
        open_delegation_type4.OPEN_DELEGATE_WRITE,
      );
      expect(delegationsSince(running.server, before)).toEqual({
        ...DELEGATION_COUNTERS,
        granted: 2,
      });
      expect((await a.session.sequenceOnly()).status).toBe(ST.NFS4ERR_BADSESSION);
    },
  );
});

describe("a recall outstanding when the holder's lease expires, on an injected clock", () => {
  const clock = { now: Date.now() };
  const running = useServer(() => ({ settings: { leaseTimeSec: 2 }, now: () => clock.now }));

  it("the conflict evicts the courtesy holder instead of waiting out the recall; the delegation is counted neither returned nor revoked", async () => {
    const a = await party(running);
    const b = await party(running);
    a.cb.returnOnRecall = false;
    const before = counters(running.server);
    const file = await openIn(a, fileName("silent"), READ_DELEG);
    // B's conflict comes late in A's lease, so A's lease ends before the recall is a lease old.
    clock.now += 1500;
    const request = [...inExport(), openOp(file.name, "b", OPEN4_SHARE_ACCESS_BOTH)];
    expect((await b.session.compound(request)).status).toBe(ST.NFS4ERR_DELAY);
    await until(
      () => running.server.callbacks.stats().answered > before.callbacks.answered,
      "the holder's answer",
    );
    // A answered but neither returns the delegation nor renews its lease.
    clock.now += 600;
    await until(
      () => running.server.state.client(a.record.clientid)?.courtesy === true,
      "the holder's lease to expire",
    );
    expect(running.server.delegations.recallsInProgress).toBe(1);
    expect((await b.session.compound(request)).status).toBe(ST.NFS4_OK);
    expect(running.server.state.client(a.record.clientid)).toBeUndefined();
    expect(running.server.delegations.recallsInProgress).toBe(0);
    expect(delegationsSince(running.server, before)).toEqual({
      ...DELEGATION_COUNTERS,
      granted: 1,
      recalled: 1,
    });
  });
});

// File delegations through the COMPOUND path (RFC 8881 §10.2, §10.4): when
// OPEN and WANT_DELEGATION grant one and why not, which requests of another
// client recall it (CB_RECALL) and are answered NFS4ERR_DELAY until it is
// returned, revocation (§10.2.1) and the stateid and SEQUENCE answers that
// follow it, CLAIM_DELEGATE_CUR / CLAIM_DELEG_CUR_FH, CB_GETATTR for a write
// delegation (§10.4.3), the recall cooldown and the limits. The callback
// channel is a fake CallbackSender that records what is sent and answers as
// each test says; the harness checks every status against RFC 8881 §15.2.

import { beforeEach, describe, expect, it, vi } from "vitest";
import type {
  CB_GETATTR4args,
  CB_RECALL4args,
  CB_RECALL_ANY4args,
  COMPOUND4res,
  GET_DIR_DELEGATION4res_non_fatal,
  nfs_argop4,
  open_claim4,
  open_delegation4,
  stateid4,
} from "../../generated/nfs4/index.js";
import {
  FATTR4_CHANGE,
  FATTR4_MODE,
  FATTR4_SIZE,
  FATTR4_TYPE,
  OPEN4_SHARE_ACCESS_BOTH,
  OPEN4_SHARE_ACCESS_READ,
  OPEN4_SHARE_ACCESS_WANT_ANY_DELEG,
  OPEN4_SHARE_ACCESS_WANT_CANCEL,
  OPEN4_SHARE_ACCESS_WANT_NO_DELEG,
  OPEN4_SHARE_ACCESS_WANT_NO_PREFERENCE,
  OPEN4_SHARE_ACCESS_WANT_READ_DELEG,
  OPEN4_SHARE_ACCESS_WANT_WRITE_DELEG,
  OPEN4_SHARE_ACCESS_WRITE,
  OPEN4_SHARE_DENY_NONE,
  SEQ4_STATUS_RECALLABLE_STATE_REVOKED,
  gddrnf4_status,
  nfs_ftype4,
  createmode4,
  decodefattr4_change,
  decodefattr4_size,
  encodefattr4_change,
  encodefattr4_mode,
  encodefattr4_size,
  nfs_cb_opnum4,
  nfs_opnum4,
  nfsstat4,
  open_claim_type4,
  open_delegation_type4,
  opentype4,
  setxattr_option4,
  stable_how4,
  why_no_delegation4,
} from "../../generated/nfs4/index.js";
import { bitmapOf, bitsOf } from "../../src/nfs/attrs/index.js";
import type { CallbackResult } from "../../src/callback/service.js";
import type { CallbackSender } from "../../src/nfs/delegations.js";
import { MemoryFileSystem } from "../../src/fs/memory.js";
import type { NfsSettings } from "../../src/nfs/settings.js";
import type { RpcConnection } from "../../src/rpc/types.js";
import type { ClientRecord } from "../../src/state/client.js";
import { XdrReader, XdrWriter } from "../../src/xdr/index.js";
import { Harness, sysCred } from "./harness.js";
import { arm, newSession, reclaimCompleteOp, sequenceOp, utf8 } from "./session-helpers.js";

// --- the fake callback channel ------------------------------------------------

type CallbackRequest = Parameters<CallbackSender["send"]>[1];
type Answer = CallbackResult | Promise<CallbackResult>;

const ANSWERED_OK: CallbackResult = { kind: "answered", status: nfsstat4.NFS4_OK, results: [] };

/** Records every callback; answers what the test says; a back channel per client unless told otherwise. */
class FakeCallbacks implements CallbackSender {
  readonly sent: { client: ClientRecord; request: CallbackRequest }[] = [];
  /** Clients (by client ID) with no usable back channel. */
  readonly unreachable = new Set<bigint>();
  answer: (client: ClientRecord, request: CallbackRequest) => Answer = () => ANSWERED_OK;

  send(client: ClientRecord, request: CallbackRequest): Promise<CallbackResult> {
    this.sent.push({ client, request });
    return Promise.resolve(this.answer(client, request));
  }

  canCallBack(client: ClientRecord): boolean {
    return !this.unreachable.has(client.clientid);
  }

  /** Room for any test's notifications (ca_maxrequestsize is the client library's 1 MiB). */
  operationBudget(): number {
    return 1 << 20;
  }

  /** The CB_RECALLs sent, with the client each went to. */
  recalls(): { clientid: bigint; args: CB_RECALL4args; request: CallbackRequest }[] {
    return this.sent.flatMap(({ client, request }) =>
      request.ops.flatMap((op) =>
        op.argop === nfs_cb_opnum4.OP_CB_RECALL
          ? [{ clientid: client.clientid, args: op.opcbrecall, request }]
          : [],
      ),
    );
  }

  getattrs(): { clientid: bigint; args: CB_GETATTR4args }[] {
    return this.sent.flatMap(({ client, request }) =>
      request.ops.flatMap((op) =>
        op.argop === nfs_cb_opnum4.OP_CB_GETATTR
          ? [{ clientid: client.clientid, args: op.opcbgetattr }]
          : [],
      ),
    );
  }

  recallAnys(): { clientid: bigint; args: CB_RECALL_ANY4args }[] {
    return this.sent.flatMap(({ client, request }) =>
      request.ops.flatMap((op) =>
        op.argop === nfs_cb_opnum4.OP_CB_RECALL_ANY
          ? [{ clientid: client.clientid, args: op.opcbrecall_any }]
          : [],
      ),
    );
  }
}

/** A CB_GETATTR answer carrying change and size (in bit order, as fattr4 requires). */
function cbGetattrAnswer(change: bigint, size: bigint): CallbackResult {
  const w = new XdrWriter();
  encodefattr4_change(w, change);
  encodefattr4_size(w, size);
  return {
    kind: "answered",
    status: nfsstat4.NFS4_OK,
    results: [
      {
        resop: nfs_cb_opnum4.OP_CB_GETATTR,
        opcbgetattr: {
          status: nfsstat4.NFS4_OK,
          resok4: {
            obj_attributes: {
              attrmask: bitmapOf([FATTR4_CHANGE, FATTR4_SIZE]),
              attr_vals: w.toBytes(),
            },
          },
        },
      },
    ],
  };
}

// --- operations -----------------------------------------------------------------

const ANONYMOUS: stateid4 = { seqid: 0, other: new Uint8Array(12) };
const putroot: nfs_argop4 = { argop: nfs_opnum4.OP_PUTROOTFH };
const lookup = (name: string): nfs_argop4 => ({
  argop: nfs_opnum4.OP_LOOKUP,
  oplookup: { objname: utf8(name) },
});
const inExport: nfs_argop4[] = [putroot, lookup("export")];
const getfh: nfs_argop4 = { argop: nfs_opnum4.OP_GETFH };
const savefh: nfs_argop4 = { argop: nfs_opnum4.OP_SAVEFH };
const putfh = (fh: Uint8Array): nfs_argop4 => ({
  argop: nfs_opnum4.OP_PUTFH,
  opputfh: { object: fh },
});

/** OPEN of `name` in the current directory (created if missing), with share access and wants. */
function openOp(
  name: string,
  owner: string,
  shareAccess: number,
  options: { create?: boolean; truncate?: boolean; claim?: open_claim4 } = {},
): nfs_argop4 {
  const size = new XdrWriter();
  encodefattr4_size(size, 0n);
  return {
    argop: nfs_opnum4.OP_OPEN,
    opopen: {
      seqid: 0,
      share_access: shareAccess,
      share_deny: OPEN4_SHARE_DENY_NONE,
      owner: { clientid: 0n, owner: utf8(owner) },
      openhow:
        options.create === false
          ? { opentype: opentype4.OPEN4_NOCREATE }
          : {
              opentype: opentype4.OPEN4_CREATE,
              how: {
                mode: createmode4.UNCHECKED4,
                // O_TRUNC: the size set to 0 as the file is opened.
                createattrs: options.truncate
                  ? { attrmask: bitmapOf([FATTR4_SIZE]), attr_vals: size.toBytes() }
                  : { attrmask: [], attr_vals: new Uint8Array() },
              },
            },
      claim: options.claim ?? { claim: open_claim_type4.CLAIM_NULL, file: utf8(name) },
    },
  };
}
const closeOp = (s: stateid4): nfs_argop4 => ({
  argop: nfs_opnum4.OP_CLOSE,
  opclose: { seqid: 0, open_stateid: s },
});
const readOp = (s: stateid4): nfs_argop4 => ({
  argop: nfs_opnum4.OP_READ,
  opread: { stateid: s, offset: 0n, count: 100 },
});
const writeOp = (s: stateid4, data = "x"): nfs_argop4 => ({
  argop: nfs_opnum4.OP_WRITE,
  opwrite: { stateid: s, offset: 0n, stable: stable_how4.FILE_SYNC4, data: utf8(data) },
});
function setModeOp(mode: number): nfs_argop4 {
  const w = new XdrWriter();
  encodefattr4_mode(w, mode);
  return {
    argop: nfs_opnum4.OP_SETATTR,
    opsetattr: {
      stateid: ANONYMOUS,
      obj_attributes: { attrmask: bitmapOf([FATTR4_MODE]), attr_vals: w.toBytes() },
    },
  };
}
const removeOp = (name: string): nfs_argop4 => ({
  argop: nfs_opnum4.OP_REMOVE,
  opremove: { target: utf8(name) },
});
const renameOp = (from: string, to: string): nfs_argop4 => ({
  argop: nfs_opnum4.OP_RENAME,
  oprename: { oldname: utf8(from), newname: utf8(to) },
});
const linkOp = (name: string): nfs_argop4 => ({
  argop: nfs_opnum4.OP_LINK,
  oplink: { newname: utf8(name) },
});
const getattrOp = (bits: number[]): nfs_argop4 => ({
  argop: nfs_opnum4.OP_GETATTR,
  opgetattr: { attr_request: bitmapOf(bits) },
});
const delegreturnOp = (s: stateid4): nfs_argop4 => ({
  argop: nfs_opnum4.OP_DELEGRETURN,
  opdelegreturn: { deleg_stateid: s },
});
const freeStateidOp = (s: stateid4): nfs_argop4 => ({
  argop: nfs_opnum4.OP_FREE_STATEID,
  opfree_stateid: { fsa_stateid: s },
});
const testStateidOp = (s: stateid4): nfs_argop4 => ({
  argop: nfs_opnum4.OP_TEST_STATEID,
  optest_stateid: { ts_stateids: [s] },
});
const wantDelegationOp = (want: number): nfs_argop4 => ({
  argop: nfs_opnum4.OP_WANT_DELEGATION,
  opwant_delegation: { wda_want: want, wda_claim: { dc_claim: open_claim_type4.CLAIM_FH } },
});

// --- clients and results --------------------------------------------------------

interface Client {
  readonly clientid: bigint;
  readonly sessionid: Uint8Array;
  readonly conn: RpcConnection;
  /** The sequence ID the next COMPOUND uses on slot 0. */
  nextSeq: number;
  /** Runs ops after SEQUENCE on slot 0 (in minor version 1 unless told). */
  run(ops: nfs_argop4[], minorversion?: number): Promise<COMPOUND4res>;
}

/** A client with a session that has done RECLAIM_COMPLETE. */
async function newClient(h: Harness, name: string): Promise<Client> {
  const conn = h.conn();
  const cred = sysCred();
  const { clientid, sessionid } = await newSession(h, conn, name, cred);
  const c: Client = {
    clientid,
    sessionid,
    conn,
    nextSeq: 1,
    run: (ops, minorversion) =>
      h.run([sequenceOp(sessionid, c.nextSeq++), ...ops], conn, { cred, minorversion }),
  };
  expect((await c.run([reclaimCompleteOp])).status).toBe(nfsstat4.NFS4_OK);
  return c;
}

function result<T>(res: COMPOUND4res, op: number, name: string): T {
  return arm<T>(
    res.resarray.find((r) => r.resop === op),
    name,
  );
}

interface Opened {
  readonly stateid: stateid4;
  readonly delegation: open_delegation4;
  readonly fh: Uint8Array;
  /** The SEQUENCE slot and sequence ID of the COMPOUND that opened. */
  readonly seq: number;
}

/** OPENs `name` in /export (GETFH after it) and expects NFS4_OK. */
async function openFile(
  c: Client,
  name: string,
  shareAccess: number,
  owner = "o",
): Promise<Opened> {
  const seq = c.nextSeq;
  const res = await c.run([...inExport, openOp(name, owner, shareAccess), getfh]);
  expect(res.status).toBe(nfsstat4.NFS4_OK);
  const ok = result<{ resok4: { stateid: stateid4; delegation: open_delegation4 } }>(
    res,
    nfs_opnum4.OP_OPEN,
    "opopen",
  ).resok4;
  const fh = result<{ resok4: { object: Uint8Array } }>(res, nfs_opnum4.OP_GETFH, "opgetfh").resok4
    .object;
  return { stateid: ok.stateid, delegation: ok.delegation, fh, seq };
}

/** The delegation stateid of a granted delegation (fails the test if none). */
function delegStateid(d: open_delegation4): stateid4 {
  if (d.delegation_type === open_delegation_type4.OPEN_DELEGATE_READ) return d.read.stateid;
  if (d.delegation_type === open_delegation_type4.OPEN_DELEGATE_WRITE) return d.write.stateid;
  throw new Error(`no delegation granted: ${JSON.stringify(d)}`);
}

/** The reason no delegation was granted (OPEN_DELEGATE_NONE_EXT), or fails. */
function whyNone(d: open_delegation4): number {
  expect(d.delegation_type).toBe(open_delegation_type4.OPEN_DELEGATE_NONE_EXT);
  if (d.delegation_type !== open_delegation_type4.OPEN_DELEGATE_NONE_EXT) return -1;
  return d.od_whynone.ond_why;
}

const sameBytes = (a: Uint8Array, b: Uint8Array): boolean => Buffer.compare(a, b) === 0;

function seqFlags(res: COMPOUND4res): number {
  return result<{ sr_resok4: { sr_status_flags: number } }>(
    res,
    nfs_opnum4.OP_SEQUENCE,
    "opsequence",
  ).sr_resok4.sr_status_flags;
}

/** Lets promise callbacks (the fake's answers) run. */
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

const READ_DELEG = OPEN4_SHARE_ACCESS_READ | OPEN4_SHARE_ACCESS_WANT_READ_DELEG;
const WRITE_DELEG = OPEN4_SHARE_ACCESS_BOTH | OPEN4_SHARE_ACCESS_WANT_WRITE_DELEG;
// Opens that want no delegation (with no preference, a client with a back channel may get one).
const READ_ONLY = OPEN4_SHARE_ACCESS_READ | OPEN4_SHARE_ACCESS_WANT_NO_DELEG;
const BOTH_ONLY = OPEN4_SHARE_ACCESS_BOTH | OPEN4_SHARE_ACCESS_WANT_NO_DELEG;

let h: Harness;
let cb: FakeCallbacks;
let A: Client;
let B: Client;

function setup(settings: Partial<NfsSettings> = {}): Promise<void> {
  cb = new FakeCallbacks();
  h = new Harness(settings, new MemoryFileSystem({ exportMode: 0o777 }), {}, cb);
  return (async () => {
    A = await newClient(h, "client-a");
    B = await newClient(h, "client-b");
  })();
}

beforeEach(() => setup());

// --- 1. granting ----------------------------------------------------------------

describe("OPEN grants delegations by want, back channel and policy (§10.4, §18.16.3)", () => {
  it("OPEN(read, WANT_READ_DELEG) with a back channel grants a read delegation", async () => {
    const o = await openFile(A, "f", READ_DELEG);
    expect(o.delegation.delegation_type).toBe(open_delegation_type4.OPEN_DELEGATE_READ);
    const sid = delegStateid(o.delegation);
    // A stateid of its own, not the open's.
    expect(sameBytes(sid.other, o.stateid.other)).toBe(false);
    expect(h.state.delegationCount).toBe(1);
    expect(h.delegations.stats.granted).toBe(1);
    // The client may read with it (§10.4: a delegation stateid is good for I/O).
    const r = await A.run([putfh(o.fh), readOp(sid)]);
    expect(r.status).toBe(nfsstat4.NFS4_OK);
  });

  it("without a back channel a wanted delegation is OPEN_DELEGATE_NONE_EXT / WND4_RESOURCE", async () => {
    cb.unreachable.add(A.clientid);
    const o = await openFile(A, "f", READ_DELEG);
    expect(o.delegation).toEqual({
      delegation_type: open_delegation_type4.OPEN_DELEGATE_NONE_EXT,
      od_whynone: {
        ond_why: why_no_delegation4.WND4_RESOURCE,
        ond_server_will_signal_avail: false,
      },
    });
    expect(h.state.delegationCount).toBe(0);
  });

  it("with no want and no back channel the answer is plain OPEN_DELEGATE_NONE", async () => {
    cb.unreachable.add(A.clientid);
    const o = await openFile(
      A,
      "f",
      OPEN4_SHARE_ACCESS_READ | OPEN4_SHARE_ACCESS_WANT_NO_PREFERENCE,
    );
    expect(o.delegation).toEqual({ delegation_type: open_delegation_type4.OPEN_DELEGATE_NONE });
  });

  it("WANT_NO_DELEG is answered NONE_EXT / WND4_NOT_WANTED", async () => {
    const o = await openFile(A, "f", OPEN4_SHARE_ACCESS_READ | OPEN4_SHARE_ACCESS_WANT_NO_DELEG);
    expect(o.delegation).toEqual({
      delegation_type: open_delegation_type4.OPEN_DELEGATE_NONE_EXT,
      od_whynone: { ond_why: why_no_delegation4.WND4_NOT_WANTED },
    });
    expect(h.state.delegationCount).toBe(0);
  });

  it("WANT_CANCEL is answered NONE_EXT / WND4_CANCELLED", async () => {
    const o = await openFile(A, "f", OPEN4_SHARE_ACCESS_READ | OPEN4_SHARE_ACCESS_WANT_CANCEL);
    expect(o.delegation).toEqual({
      delegation_type: open_delegation_type4.OPEN_DELEGATE_NONE_EXT,
      od_whynone: { ond_why: why_no_delegation4.WND4_CANCELLED },
    });
  });

  it('nfs.delegationPolicy "none" grants none, whatever is asked', async () => {
    await setup({ delegationPolicy: "none" });
    for (const [name, access] of [
      ["r", READ_DELEG],
      ["w", WRITE_DELEG],
      ["any", OPEN4_SHARE_ACCESS_READ | OPEN4_SHARE_ACCESS_WANT_ANY_DELEG],
    ] as const) {
      const o = await openFile(A, name, access);
      expect(o.delegation.delegation_type).toBe(open_delegation_type4.OPEN_DELEGATE_NONE_EXT);
    }
    // Not asking: plain NONE.
    const o = await openFile(A, "plain", OPEN4_SHARE_ACCESS_READ);
    expect(o.delegation.delegation_type).toBe(open_delegation_type4.OPEN_DELEGATE_NONE);
    expect(h.state.delegationCount).toBe(0);
  });

  it('nfs.delegationPolicy "read" never grants a write delegation', async () => {
    await setup({ delegationPolicy: "read" });
    const w = await openFile(A, "w", WRITE_DELEG);
    expect(w.delegation.delegation_type).toBe(open_delegation_type4.OPEN_DELEGATE_NONE_EXT);
    const any = await openFile(
      A,
      "any",
      OPEN4_SHARE_ACCESS_BOTH | OPEN4_SHARE_ACCESS_WANT_ANY_DELEG,
    );
    expect(any.delegation.delegation_type).not.toBe(open_delegation_type4.OPEN_DELEGATE_WRITE);
    const plain = await openFile(A, "plain", OPEN4_SHARE_ACCESS_BOTH);
    expect(plain.delegation.delegation_type).not.toBe(open_delegation_type4.OPEN_DELEGATE_WRITE);
    // Read delegations still are.
    const r = await openFile(A, "r", READ_DELEG);
    expect(r.delegation.delegation_type).toBe(open_delegation_type4.OPEN_DELEGATE_READ);
  });
});

// --- 2. write delegations ---------------------------------------------------------

describe("write delegations (§10.4)", () => {
  it("OPEN(BOTH, WANT_WRITE_DELEG) of a file nobody else has open grants one", async () => {
    const o = await openFile(A, "f", WRITE_DELEG);
    expect(o.delegation.delegation_type).toBe(open_delegation_type4.OPEN_DELEGATE_WRITE);
    // The holder may write with it.
    const w = await A.run([putfh(o.fh), writeOp(delegStateid(o.delegation), "abc")]);
    expect(w.status).toBe(nfsstat4.NFS4_OK);
  });

  it("with no preference, a write-only OPEN of a file nobody else has open gets one too", async () => {
    // Unlike Linux nfsd (read-write opens only): the Linux client holding it
    // need not wait for its writeback at close(), and reads the file back
    // without an OPEN (BENCHMARKS.md, eleventh pass).
    const o = await openFile(A, "w", OPEN4_SHARE_ACCESS_WRITE);
    expect(o.delegation.delegation_type).toBe(open_delegation_type4.OPEN_DELEGATE_WRITE);
  });

  it("is not granted while another client has the file open: WND4_CONTENTION", async () => {
    await openFile(B, "f", READ_ONLY);
    const o = await openFile(A, "f", WRITE_DELEG);
    expect(whyNone(o.delegation)).toBe(why_no_delegation4.WND4_CONTENTION);
    expect(cb.recalls()).toHaveLength(0);
  });

  it("a read delegation is not granted while another client has the file open for write", async () => {
    await openFile(B, "f", BOTH_ONLY);
    const o = await openFile(A, "f", READ_DELEG);
    expect(whyNone(o.delegation)).toBe(why_no_delegation4.WND4_CONTENTION);
    expect(h.state.delegationCount).toBe(0);
  });
});

// --- 3. conflicts and recalls -----------------------------------------------------

describe("conflicting requests of another client recall (§10.4.6, §20.2)", () => {
  it("B's OPEN for write: DELAY, one CB_RECALL naming A's stateid, file and OPEN; DELEGRETURN lets B in", async () => {
    const a = await openFile(A, "f", READ_DELEG);
    const sid = delegStateid(a.delegation);

    const first = await B.run([...inExport, openOp("f", "b", OPEN4_SHARE_ACCESS_BOTH)]);
    expect(first.status).toBe(nfsstat4.NFS4ERR_DELAY);
    const recalls = cb.recalls();
    expect(recalls).toHaveLength(1);
    const [recall] = recalls;
    expect(recall!.clientid).toBe(A.clientid);
    expect(recall!.args.stateid).toEqual(sid);
    expect(sameBytes(recall!.args.fh, a.fh)).toBe(true);
    expect(recall!.args.truncate).toBe(false);
    // csa_referring_call_lists (§2.10.6.3): the OPEN that granted it.
    expect(recall!.request.referring).toEqual({
      sessionId: A.sessionid,
      slotid: 0,
      sequenceid: a.seq,
    });

    // Retries while the recall is outstanding: DELAY again, no second CB_RECALL.
    for (let i = 0; i < 3; i++) {
      const again = await B.run([...inExport, openOp("f", "b", OPEN4_SHARE_ACCESS_BOTH)]);
      expect(again.status).toBe(nfsstat4.NFS4ERR_DELAY);
    }
    expect(cb.recalls()).toHaveLength(1);
    expect(h.delegations.recallsInProgress).toBe(1);

    const ret = await A.run([putfh(a.fh), delegreturnOp(sid)]);
    expect(ret.status).toBe(nfsstat4.NFS4_OK);
    expect(h.delegations.recallsInProgress).toBe(0);
    expect(h.delegations.stats.returned).toBe(1);
    expect(h.state.delegationCount).toBe(0);

    const after = await B.run([...inExport, openOp("f", "b", OPEN4_SHARE_ACCESS_BOTH)]);
    expect(after.status).toBe(nfsstat4.NFS4_OK);
    expect(cb.recalls()).toHaveLength(1);
  });

  it("B's OPEN for read does not recall a read delegation (they coexist)", async () => {
    await openFile(A, "f", READ_DELEG);
    const b = await openFile(B, "f", READ_DELEG);
    expect(b.delegation.delegation_type).toBe(open_delegation_type4.OPEN_DELEGATE_READ);
    expect(cb.recalls()).toHaveLength(0);
    expect(h.state.delegationCount).toBe(2);
  });

  const conflicting: [string, (fh: Uint8Array) => nfs_argop4[]][] = [
    ["WRITE", (fh) => [putfh(fh), writeOp(ANONYMOUS)]],
    ["SETATTR", (fh) => [putfh(fh), setModeOp(0o600)]],
    ["REMOVE", () => [...inExport, removeOp("f")]],
    ["RENAME (as source)", () => [...inExport, savefh, renameOp("f", "g")]],
    ["RENAME (as target)", () => [...inExport, savefh, renameOp("other", "f")]],
    ["LINK", (fh) => [putfh(fh), savefh, ...inExport, linkOp("f2")]],
  ];
  it.each(conflicting)("B's %s: DELAY and a recall of A's read delegation", async (_, ops) => {
    await openFile(B, "other", READ_ONLY, "b0");
    const a = await openFile(A, "f", READ_DELEG);
    const res = await B.run(ops(a.fh));
    expect(res.status).toBe(nfsstat4.NFS4ERR_DELAY);
    const recalls = cb.recalls();
    expect(recalls).toHaveLength(1);
    expect(recalls[0]!.clientid).toBe(A.clientid);
    expect(recalls[0]!.args.stateid).toEqual(delegStateid(a.delegation));
    // Once returned, the same request goes through.
    expect((await A.run([putfh(a.fh), delegreturnOp(delegStateid(a.delegation))])).status).toBe(
      nfsstat4.NFS4_OK,
    );
    expect((await B.run(ops(a.fh))).status).toBe(nfsstat4.NFS4_OK);
  });

  // RFC 8276 xattr changes (NFSv4.2) conflict like SETATTR.
  const xattrChanges: [string, nfs_argop4][] = [
    [
      "SETXATTR",
      {
        argop: nfs_opnum4.OP_SETXATTR,
        opsetxattr: {
          sxa_option: setxattr_option4.SETXATTR4_EITHER,
          sxa_key: utf8("user.k"),
          sxa_value: utf8("v2"),
        },
      },
    ],
    [
      "REMOVEXATTR",
      { argop: nfs_opnum4.OP_REMOVEXATTR, opremovexattr: { rxa_name: utf8("user.k") } },
    ],
  ];
  it.each(xattrChanges)("B's %s: DELAY and a recall of A's read delegation", async (_, op) => {
    const a = await openFile(A, "f", READ_DELEG);
    await h.ctx.fs.setxattr(a.fh, "user.k", utf8("v"), "either");
    const res = await B.run([putfh(a.fh), op], 2);
    expect(res.status).toBe(nfsstat4.NFS4ERR_DELAY);
    expect(cb.recalls()).toHaveLength(1);
    expect(cb.recalls()[0]!.clientid).toBe(A.clientid);
    expect(await h.ctx.fs.getxattr(a.fh, "user.k")).toEqual(utf8("v"));
    expect((await A.run([putfh(a.fh), delegreturnOp(delegStateid(a.delegation))])).status).toBe(
      nfsstat4.NFS4_OK,
    );
    expect((await B.run([putfh(a.fh), op], 2)).status).toBe(nfsstat4.NFS4_OK);
  });

  it("A's own SETXATTR does not recall A's delegation", async () => {
    const a = await openFile(A, "f", READ_DELEG);
    const res = await A.run([putfh(a.fh), xattrChanges[0]![1]], 2);
    expect(res.status).toBe(nfsstat4.NFS4_OK);
    expect(cb.recalls()).toHaveLength(0);
  });

  it("B's OPEN with O_TRUNC (UNCHECKED4, size 0): DELAY and a recall before the file is truncated", async () => {
    const a = await openFile(A, "f", OPEN4_SHARE_ACCESS_BOTH | OPEN4_SHARE_ACCESS_WANT_READ_DELEG);
    expect(a.delegation.delegation_type).toBe(open_delegation_type4.OPEN_DELEGATE_READ);
    expect((await A.run([putfh(a.fh), writeOp(a.stateid, "abc")])).status).toBe(nfsstat4.NFS4_OK);
    const res = await B.run([
      ...inExport,
      openOp("f", "b", OPEN4_SHARE_ACCESS_BOTH, { truncate: true }),
    ]);
    expect(res.status).toBe(nfsstat4.NFS4ERR_DELAY);
    expect(cb.recalls()).toHaveLength(1);
    // The holder's cached data is still what the file holds.
    expect((await h.ctx.fs.getattr(a.fh)).size).toBe(3n);
    // Returned: the open truncates.
    expect((await A.run([putfh(a.fh), delegreturnOp(delegStateid(a.delegation))])).status).toBe(
      nfsstat4.NFS4_OK,
    );
    const again = await B.run([
      ...inExport,
      openOp("f", "b", OPEN4_SHARE_ACCESS_BOTH, { truncate: true }),
    ]);
    expect(again.status).toBe(nfsstat4.NFS4_OK);
    expect((await h.ctx.fs.getattr(a.fh)).size).toBe(0n);
  });

  it("B's READ does not recall a read delegation", async () => {
    const a = await openFile(A, "f", READ_DELEG);
    const res = await B.run([putfh(a.fh), readOp(ANONYMOUS)]);
    expect(res.status).toBe(nfsstat4.NFS4_OK);
    expect(cb.recalls()).toHaveLength(0);
  });

  it("B's READ recalls a write delegation", async () => {
    const a = await openFile(A, "f", WRITE_DELEG);
    expect(a.delegation.delegation_type).toBe(open_delegation_type4.OPEN_DELEGATE_WRITE);
    const res = await B.run([putfh(a.fh), readOp(ANONYMOUS)]);
    expect(res.status).toBe(nfsstat4.NFS4ERR_DELAY);
    expect(cb.recalls()).toHaveLength(1);
    expect(cb.recalls()[0]!.args.stateid).toEqual(delegStateid(a.delegation));
  });

  it("B's OPEN for read recalls a write delegation", async () => {
    const a = await openFile(A, "f", WRITE_DELEG);
    const res = await B.run([...inExport, openOp("f", "b", OPEN4_SHARE_ACCESS_READ)]);
    expect(res.status).toBe(nfsstat4.NFS4ERR_DELAY);
    expect(cb.recalls()).toHaveLength(1);
    expect(cb.recalls()[0]!.clientid).toBe(A.clientid);
    expect(a.delegation.delegation_type).toBe(open_delegation_type4.OPEN_DELEGATE_WRITE);
  });

  it("A's own OPEN for write, WRITE, SETATTR and REMOVE never recall A's delegation (pynfs DELEG23)", async () => {
    const a = await openFile(A, "f", READ_DELEG);
    // A opens again for write (another owner): no recall, no second delegation.
    const again = await openFile(A, "f", OPEN4_SHARE_ACCESS_BOTH, "o2");
    expect(again.delegation.delegation_type).not.toBe(open_delegation_type4.OPEN_DELEGATE_READ);
    expect(again.delegation.delegation_type).not.toBe(open_delegation_type4.OPEN_DELEGATE_WRITE);
    const w = await A.run([putfh(a.fh), writeOp(again.stateid, "mine")]);
    expect(w.status).toBe(nfsstat4.NFS4_OK);
    const s = await A.run([putfh(a.fh), setModeOp(0o644)]);
    expect(s.status).toBe(nfsstat4.NFS4_OK);
    expect(cb.recalls()).toHaveLength(0);
    // Then B's write open recalls it.
    const b = await B.run([...inExport, openOp("f", "b", OPEN4_SHARE_ACCESS_WRITE)]);
    expect(b.status).toBe(nfsstat4.NFS4ERR_DELAY);
    expect(cb.recalls()).toHaveLength(1);
    expect(cb.recalls()[0]!.clientid).toBe(A.clientid);
    // A removing its own delegated file recalls nothing either.
    const g = await openFile(A, "g", READ_DELEG);
    expect(g.delegation.delegation_type).toBe(open_delegation_type4.OPEN_DELEGATE_READ);
    const r = await A.run([...inExport, removeOp("g")]);
    expect(r.status).toBe(nfsstat4.NFS4_OK);
    expect(cb.recalls()).toHaveLength(1);
  });
});

// --- 4. revocation ----------------------------------------------------------------

describe("revocation (§10.2.1)", () => {
  /** A holds a read delegation of f; B's write open recalled it. */
  async function recalled(): Promise<{ a: Opened; sid: stateid4 }> {
    const a = await openFile(A, "f", READ_DELEG);
    const sid = delegStateid(a.delegation);
    const b = await B.run([...inExport, openOp("f", "b", OPEN4_SHARE_ACCESS_BOTH)]);
    expect(b.status).toBe(nfsstat4.NFS4ERR_DELAY);
    return { a, sid };
  }

  it("a delegation not returned within a lease is revoked; its stateid answers DELEG_REVOKED until freed", async () => {
    const { a, sid } = await recalled();
    // Not yet a lease: nothing happens.
    h.delegations.sweep();
    expect(h.delegations.stats.revoked).toBe(0);
    h.clock.now += (h.ctx.settings.leaseTimeSec + 1) * 1000;
    h.delegations.sweep();
    expect(h.delegations.stats.revoked).toBe(1);
    expect(h.delegations.recallsInProgress).toBe(0);
    expect(h.state.delegationCount).toBe(0);

    // The conflicting client goes ahead.
    const b = await B.run([...inExport, openOp("f", "b", OPEN4_SHARE_ACCESS_BOTH)]);
    expect(b.status).toBe(nfsstat4.NFS4_OK);

    // The holder is told on every SEQUENCE (§18.46.3)…
    const seq = await A.run([]);
    expect(seqFlags(seq) & SEQ4_STATUS_RECALLABLE_STATE_REVOKED).not.toBe(0);
    // …and its stateid is DELEG_REVOKED everywhere but FREE_STATEID.
    expect((await A.run([putfh(a.fh), readOp(sid)])).status).toBe(nfsstat4.NFS4ERR_DELEG_REVOKED);
    const t = await A.run([testStateidOp(sid)]);
    expect(
      result<{ tsr_resok4: { tsr_status_codes: number[] } }>(
        t,
        nfs_opnum4.OP_TEST_STATEID,
        "optest_stateid",
      ).tsr_resok4.tsr_status_codes,
    ).toEqual([nfsstat4.NFS4ERR_DELEG_REVOKED]);
    expect((await A.run([putfh(a.fh), delegreturnOp(sid)])).status).toBe(
      nfsstat4.NFS4ERR_DELEG_REVOKED,
    );

    const freed = await A.run([freeStateidOp(sid)]);
    expect(freed.status).toBe(nfsstat4.NFS4_OK);
    const next = await A.run([]);
    expect(seqFlags(next) & SEQ4_STATUS_RECALLABLE_STATE_REVOKED).toBe(0);
    // Gone now: an unknown stateid.
    const t2 = await A.run([testStateidOp(sid)]);
    expect(
      result<{ tsr_resok4: { tsr_status_codes: number[] } }>(
        t2,
        nfs_opnum4.OP_TEST_STATEID,
        "optest_stateid",
      ).tsr_resok4.tsr_status_codes,
    ).toEqual([nfsstat4.NFS4ERR_BAD_STATEID]);
  });

  it("FREE_STATEID of a delegation in force is LOCKS_HELD", async () => {
    const a = await openFile(A, "f", READ_DELEG);
    const res = await A.run([freeStateidOp(delegStateid(a.delegation))]);
    expect(res.status).toBe(nfsstat4.NFS4ERR_LOCKS_HELD);
    expect(h.state.delegationCount).toBe(1);
  });

  it.each([
    [
      "answers CB_RECALL with an error",
      { kind: "answered", status: nfsstat4.NFS4ERR_BADHANDLE, results: [] },
    ],
    ["is unreachable", { kind: "unreachable" }],
  ] as [string, CallbackResult][])(
    "a holder that %s has the delegation revoked at once",
    async (_, answer) => {
      cb.answer = () => answer;
      const { sid } = await recalled();
      await vi.waitFor(() => expect(h.delegations.stats.revoked).toBe(1));
      expect(h.state.delegationCount).toBe(0);
      const b = await B.run([...inExport, openOp("f", "b", OPEN4_SHARE_ACCESS_BOTH)]);
      expect(b.status).toBe(nfsstat4.NFS4_OK);
      const seq = await A.run([testStateidOp(sid)]);
      expect(seqFlags(seq) & SEQ4_STATUS_RECALLABLE_STATE_REVOKED).not.toBe(0);
    },
  );

  it("an answer that comes after the delegation was returned changes nothing", async () => {
    let answerRecall: (r: CallbackResult) => void = () => undefined;
    cb.answer = () => new Promise<CallbackResult>((resolve) => (answerRecall = resolve));
    const { a, sid } = await recalled();
    const signal = cb.recalls()[0]!.request.signal;
    expect(signal?.aborted).toBe(false);
    expect((await A.run([putfh(a.fh), delegreturnOp(sid)])).status).toBe(nfsstat4.NFS4_OK);
    // Nothing is left to recall: the CB_RECALL still unanswered is stopped (not resent).
    expect(signal?.aborted).toBe(true);
    answerRecall({ kind: "unreachable" });
    await settle();
    expect(h.delegations.stats.revoked).toBe(0);
    expect(h.delegations.stats.returned).toBe(1);
    expect(seqFlags(await A.run([])) & SEQ4_STATUS_RECALLABLE_STATE_REVOKED).toBe(0);
  });
});

// --- 5. opens under a delegation being recalled ------------------------------------

describe("CLAIM_DELEG_CUR_FH and CLAIM_DELEGATE_CUR (§10.2.1, §18.16.3)", () => {
  async function recalledRead(): Promise<{ a: Opened; sid: stateid4 }> {
    const a = await openFile(A, "f", READ_DELEG);
    const sid = delegStateid(a.delegation);
    const b = await B.run([...inExport, openOp("f", "b", OPEN4_SHARE_ACCESS_BOTH)]);
    expect(b.status).toBe(nfsstat4.NFS4ERR_DELAY);
    return { a, sid };
  }

  function openResult(res: COMPOUND4res): { stateid: stateid4; delegation: open_delegation4 } {
    return result<{ resok4: { stateid: stateid4; delegation: open_delegation4 } }>(
      res,
      nfs_opnum4.OP_OPEN,
      "opopen",
    ).resok4;
  }

  it("CLAIM_DELEG_CUR_FH by the holder during a recall succeeds, with no second delegation", async () => {
    const { a, sid } = await recalledRead();
    const res = await A.run([
      putfh(a.fh),
      openOp("", "local", OPEN4_SHARE_ACCESS_READ | OPEN4_SHARE_ACCESS_WANT_READ_DELEG, {
        create: false,
        claim: { claim: open_claim_type4.CLAIM_DELEG_CUR_FH, oc_delegate_stateid: sid },
      }),
    ]);
    expect(res.status).toBe(nfsstat4.NFS4_OK);
    expect(openResult(res).delegation).toEqual({
      delegation_type: open_delegation_type4.OPEN_DELEGATE_NONE,
    });
    expect(h.state.delegationCount).toBe(1);
    expect(cb.recalls()).toHaveLength(1);
  });

  it("CLAIM_DELEGATE_CUR by the holder during a recall succeeds, with no second delegation", async () => {
    const { sid } = await recalledRead();
    const res = await A.run([
      ...inExport,
      openOp("f", "local", OPEN4_SHARE_ACCESS_READ, {
        create: false,
        claim: {
          claim: open_claim_type4.CLAIM_DELEGATE_CUR,
          delegate_cur_info: { delegate_stateid: sid, file: utf8("f") },
        },
      }),
    ]);
    expect(res.status).toBe(nfsstat4.NFS4_OK);
    expect(openResult(res).delegation).toEqual({
      delegation_type: open_delegation_type4.OPEN_DELEGATE_NONE,
    });
  });

  it("another client's delegation stateid, or one for another file, is BAD_STATEID", async () => {
    // B holds a read delegation of g; A one of f.
    const bg = await openFile(B, "g", READ_DELEG);
    const { sid } = await recalledRead();
    const bsid = delegStateid(bg.delegation);
    const wrongClientFh = await A.run([
      putfh(bg.fh),
      openOp("", "x", OPEN4_SHARE_ACCESS_READ, {
        create: false,
        claim: { claim: open_claim_type4.CLAIM_DELEG_CUR_FH, oc_delegate_stateid: bsid },
      }),
    ]);
    expect(wrongClientFh.status).toBe(nfsstat4.NFS4ERR_BAD_STATEID);
    const wrongClientName = await A.run([
      ...inExport,
      openOp("g", "x", OPEN4_SHARE_ACCESS_READ, {
        create: false,
        claim: {
          claim: open_claim_type4.CLAIM_DELEGATE_CUR,
          delegate_cur_info: { delegate_stateid: bsid, file: utf8("g") },
        },
      }),
    ]);
    expect(wrongClientName.status).toBe(nfsstat4.NFS4ERR_BAD_STATEID);
    // A's own stateid, but for f, used on g.
    const wrongFileFh = await A.run([
      putfh(bg.fh),
      openOp("", "x", OPEN4_SHARE_ACCESS_READ, {
        create: false,
        claim: { claim: open_claim_type4.CLAIM_DELEG_CUR_FH, oc_delegate_stateid: sid },
      }),
    ]);
    expect(wrongFileFh.status).toBe(nfsstat4.NFS4ERR_BAD_STATEID);
    const wrongFileName = await A.run([
      ...inExport,
      openOp("g", "x", OPEN4_SHARE_ACCESS_READ, {
        create: false,
        claim: {
          claim: open_claim_type4.CLAIM_DELEGATE_CUR,
          delegate_cur_info: { delegate_stateid: sid, file: utf8("g") },
        },
      }),
    ]);
    expect(wrongFileName.status).toBe(nfsstat4.NFS4ERR_BAD_STATEID);
  });
});

// --- 6. CB_GETATTR ----------------------------------------------------------------

describe("CB_GETATTR for a write delegation (§10.4.3)", () => {
  /** A holds a write delegation of f, which has 3 bytes on the server. */
  async function writeDelegated(): Promise<{ a: Opened; change: bigint }> {
    const a = await openFile(A, "f", WRITE_DELEG);
    expect(a.delegation.delegation_type).toBe(open_delegation_type4.OPEN_DELEGATE_WRITE);
    expect((await A.run([putfh(a.fh), writeOp(a.stateid, "abc")])).status).toBe(nfsstat4.NFS4_OK);
    const change = (await h.ctx.fs.getattr(a.fh)).change;
    return { a, change };
  }

  async function sizeAndChange(
    c: Client,
    fh: Uint8Array,
  ): Promise<{ change: bigint; size: bigint }> {
    const res = await c.run([putfh(fh), getattrOp([FATTR4_CHANGE, FATTR4_SIZE])]);
    expect(res.status).toBe(nfsstat4.NFS4_OK);
    const attrs = result<{
      resok4: { obj_attributes: { attrmask: number[]; attr_vals: Uint8Array } };
    }>(res, nfs_opnum4.OP_GETATTR, "opgetattr").resok4.obj_attributes;
    expect(bitsOf(attrs.attrmask)).toEqual([FATTR4_CHANGE, FATTR4_SIZE]);
    const r = new XdrReader(attrs.attr_vals);
    const change = decodefattr4_change(r);
    const size = decodefattr4_size(r);
    r.assertDone();
    return { change, size };
  }

  it("B's GETATTR(size, change) asks A; an unchanged change means the server's values", async () => {
    const { a, change } = await writeDelegated();
    cb.answer = () => cbGetattrAnswer(change, 3n);
    expect(await sizeAndChange(B, a.fh)).toEqual({ change, size: 3n });
    const sent = cb.getattrs();
    expect(sent).toHaveLength(1);
    expect(sent[0]!.clientid).toBe(A.clientid);
    expect(sameBytes(sent[0]!.args.fh, a.fh)).toBe(true);
    expect(bitsOf(sent[0]!.args.attr_request)).toEqual([FATTR4_CHANGE, FATTR4_SIZE]);
    // GETATTR is no conflict: nothing is recalled.
    expect(cb.recalls()).toHaveLength(0);
  });

  it("a holder that modified the file: B sees its size and a change greater than the server's", async () => {
    const { a, change } = await writeDelegated();
    cb.answer = () => cbGetattrAnswer(change + 1n, 5n);
    const seen = await sizeAndChange(B, a.fh);
    expect(seen.size).toBe(5n);
    expect(seen.change > change).toBe(true);
  });

  it("each further modification the holder reports moves the change B sees on", async () => {
    const { a, change } = await writeDelegated();
    cb.answer = () => cbGetattrAnswer(change + 1n, 5n);
    const first = await sizeAndChange(B, a.fh);
    cb.answer = () => cbGetattrAnswer(change + 2n, 7n);
    const second = await sizeAndChange(B, a.fh);
    expect(second.size).toBe(7n);
    expect(second.change > first.change).toBe(true);
    // No further modification: the same answer as last time.
    const third = await sizeAndChange(B, a.fh);
    expect(third).toEqual(second);
  });

  it("GETATTR without size or change sends nothing; neither does the holder's own", async () => {
    const { a } = await writeDelegated();
    const res = await B.run([putfh(a.fh), getattrOp([FATTR4_TYPE, FATTR4_MODE])]);
    expect(res.status).toBe(nfsstat4.NFS4_OK);
    const own = await A.run([putfh(a.fh), getattrOp([FATTR4_CHANGE, FATTR4_SIZE])]);
    expect(own.status).toBe(nfsstat4.NFS4_OK);
    expect(cb.getattrs()).toHaveLength(0);
  });

  it("an unreachable holder: the server's values", async () => {
    const { a, change } = await writeDelegated();
    cb.answer = () => ({ kind: "unreachable" });
    expect(await sizeAndChange(B, a.fh)).toEqual({ change, size: 3n });
    expect(cb.getattrs()).toHaveLength(1);
  });

  it("a read delegation is never asked", async () => {
    const a = await openFile(A, "f", READ_DELEG);
    const res = await B.run([putfh(a.fh), getattrOp([FATTR4_CHANGE, FATTR4_SIZE])]);
    expect(res.status).toBe(nfsstat4.NFS4_OK);
    expect(cb.getattrs()).toHaveLength(0);
  });
});

// --- 7. recall cooldown ---------------------------------------------------------------

describe("recall cooldown (nfs.recallCooldownSec)", () => {
  it("a file recalled lately is not delegated (CONTENTION) until the cooldown has passed", async () => {
    const a = await openFile(A, "f", READ_DELEG);
    const sid = delegStateid(a.delegation);
    expect((await B.run([...inExport, openOp("f", "b", OPEN4_SHARE_ACCESS_BOTH)])).status).toBe(
      nfsstat4.NFS4ERR_DELAY,
    );
    expect((await A.run([putfh(a.fh), delegreturnOp(sid)])).status).toBe(nfsstat4.NFS4_OK);
    const b = await openFile(B, "f", OPEN4_SHARE_ACCESS_BOTH, "b");
    expect((await B.run([putfh(b.fh), closeOp(b.stateid)])).status).toBe(nfsstat4.NFS4_OK);

    const soon = await openFile(A, "f", READ_DELEG, "o2");
    expect(whyNone(soon.delegation)).toBe(why_no_delegation4.WND4_CONTENTION);

    h.clock.now += (h.ctx.settings.recallCooldownSec + 1) * 1000;
    h.delegations.sweep();
    const later = await openFile(A, "f", READ_DELEG, "o3");
    expect(later.delegation.delegation_type).toBe(open_delegation_type4.OPEN_DELEGATE_READ);
  });
});

// --- 8. limits ------------------------------------------------------------------------

describe("limits", () => {
  it("nfs.maxDelegations = 2: the third OPEN asking gets WND4_RESOURCE; near it, CB_RECALL_ANY", async () => {
    await setup({ maxDelegations: 2 });
    const one = await openFile(A, "f1", READ_DELEG);
    const two = await openFile(B, "f2", READ_DELEG);
    expect(one.delegation.delegation_type).toBe(open_delegation_type4.OPEN_DELEGATE_READ);
    expect(two.delegation.delegation_type).toBe(open_delegation_type4.OPEN_DELEGATE_READ);
    const three = await openFile(A, "f3", READ_DELEG);
    expect(three.delegation).toEqual({
      delegation_type: open_delegation_type4.OPEN_DELEGATE_NONE_EXT,
      od_whynone: {
        ond_why: why_no_delegation4.WND4_RESOURCE,
        ond_server_will_signal_avail: false,
      },
    });
    expect(h.state.delegationCount).toBe(2);
    // At the high-water mark each holder was asked to give back half (§20.6).
    const asked = cb.recallAnys();
    expect(asked.map((x) => x.clientid).sort()).toEqual([A.clientid, B.clientid].sort());
    for (const x of asked) expect(x.args.craa_objects_to_keep).toBe(0);
    // One returned: the next one asking gets one.
    expect((await A.run([putfh(one.fh), delegreturnOp(delegStateid(one.delegation))])).status).toBe(
      nfsstat4.NFS4_OK,
    );
    const four = await openFile(A, "f4", READ_DELEG);
    expect(four.delegation.delegation_type).toBe(open_delegation_type4.OPEN_DELEGATE_READ);
  });

  it("a client at nfs.maxStateidsPerClient gets no delegation", async () => {
    await setup({ maxStateidsPerClient: 2 });
    const one = await openFile(A, "f1", READ_DELEG);
    expect(one.delegation.delegation_type).toBe(open_delegation_type4.OPEN_DELEGATE_READ);
    // Its open and its delegation are its two stateids: the next open's… would be a third.
    const res = await A.run([...inExport, openOp("f2", "o", READ_DELEG)]);
    expect(res.status).toBe(nfsstat4.NFS4ERR_NOSPC);
    // Closing the open leaves room for one open, and none for a delegation.
    expect((await A.run([putfh(one.fh), closeOp(one.stateid)])).status).toBe(nfsstat4.NFS4_OK);
    const two = await openFile(A, "f2", READ_DELEG);
    expect(whyNone(two.delegation)).toBe(why_no_delegation4.WND4_RESOURCE);
    expect(h.state.delegationCount).toBe(1);
  });

  it("DESTROY_CLIENTID is CLIENTID_BUSY while a delegation is held; a client's revoked delegations go with it", async () => {
    const a = await openFile(A, "f", READ_DELEG);
    const sid = delegStateid(a.delegation);
    const destroySession: nfs_argop4 = {
      argop: nfs_opnum4.OP_DESTROY_SESSION,
      opdestroy_session: { dsa_sessionid: A.sessionid },
    };
    const destroyClient: nfs_argop4 = {
      argop: nfs_opnum4.OP_DESTROY_CLIENTID,
      opdestroy_clientid: { dca_clientid: A.clientid },
    };
    // Close the open: only the delegation is left.
    expect((await A.run([putfh(a.fh), closeOp(a.stateid)])).status).toBe(nfsstat4.NFS4_OK);
    expect((await A.run([destroySession])).status).toBe(nfsstat4.NFS4_OK);
    // §18.50.3: delegations of the client ID make it busy.
    const busy = await h.run([destroyClient], A.conn);
    expect(busy.status).toBe(nfsstat4.NFS4ERR_CLIENTID_BUSY);
    expect(h.state.delegationCount).toBe(1);

    // B's conflict; A cannot be reached; its delegation is revoked, kept for FREE_STATEID.
    cb.answer = () => ({ kind: "unreachable" });
    expect((await B.run([...inExport, openOp("f", "b", OPEN4_SHARE_ACCESS_BOTH)])).status).toBe(
      nfsstat4.NFS4ERR_DELAY,
    );
    await vi.waitFor(() => expect(h.delegations.stats.revoked).toBe(1));
    expect(h.state.stateids.lookup(sid, ["delegation"])).toHaveProperty("ok");

    const gone = await h.run([destroyClient], A.conn);
    expect(gone.status).toBe(nfsstat4.NFS4_OK);
    expect(h.state.stateids.lookup(sid, ["delegation"])).toEqual({
      error: nfsstat4.NFS4ERR_BAD_STATEID,
    });
  });

  it("lease expiry frees a client's delegations and the count drops", async () => {
    await openFile(A, "f1", READ_DELEG);
    await openFile(A, "f2", READ_DELEG);
    await openFile(B, "f3", READ_DELEG);
    expect(h.state.delegationCount).toBe(3);
    // B keeps renewing; A goes silent past its lease and the courtesy period.
    const s = h.ctx.settings;
    h.clock.now += (s.leaseTimeSec + s.courtesyTimeSec + 1) * 1000;
    expect((await B.run([])).status).toBe(nfsstat4.NFS4_OK);
    expect(h.state.expireLeases()).toBe(1);
    expect(h.state.client(A.clientid)).toBeUndefined();
    expect(h.state.delegationCount).toBe(1);
  });

  it("a courtesy client's delegation is not waited for: the conflict frees it without a recall", async () => {
    const a = await openFile(A, "f", READ_DELEG);
    h.clock.now += (h.ctx.settings.leaseTimeSec + 1) * 1000;
    expect((await B.run([])).status).toBe(nfsstat4.NFS4_OK);
    expect(h.state.expireLeases()).toBe(0); // A is kept, courteously
    const b = await B.run([...inExport, openOp("f", "b", BOTH_ONLY)]);
    expect(b.status).toBe(nfsstat4.NFS4_OK);
    expect(cb.recalls()).toHaveLength(0);
    expect(h.state.delegationCount).toBe(0);
    expect(h.state.client(A.clientid)).toBeUndefined();
    expect(h.state.stateids.lookup(delegStateid(a.delegation), ["delegation"])).toEqual({
      error: nfsstat4.NFS4ERR_BAD_STATEID,
    });
  });

  it("a recalled delegation that goes with its courtesy client counts neither returned nor revoked", async () => {
    await openFile(A, "f", READ_DELEG);
    // B's conflict comes late in A's lease: A's lease ends before the recall is a lease old.
    h.clock.now += (h.ctx.settings.leaseTimeSec - 1) * 1000;
    const b = [...inExport, openOp("f", "b", BOTH_ONLY)];
    expect((await B.run(b)).status).toBe(nfsstat4.NFS4ERR_DELAY);
    h.clock.now += 2000;
    h.delegations.sweep();
    expect(h.state.expireLeases()).toBe(0); // A is kept, courteously
    expect((await B.run(b)).status).toBe(nfsstat4.NFS4_OK);
    expect(h.state.client(A.clientid)).toBeUndefined();
    expect(h.delegations.recallsInProgress).toBe(0);
    expect(h.delegations.stats).toMatchObject({ recalled: 1, returned: 0, revoked: 0 });
  });
});

// --- 9. WANT_DELEGATION ---------------------------------------------------------------

describe("WANT_DELEGATION (§18.49)", () => {
  it("on a regular file with a back channel: a delegation", async () => {
    const a = await openFile(A, "f", READ_ONLY);
    expect((await A.run([putfh(a.fh), closeOp(a.stateid)])).status).toBe(nfsstat4.NFS4_OK);
    const res = await A.run([putfh(a.fh), wantDelegationOp(OPEN4_SHARE_ACCESS_WANT_READ_DELEG)]);
    expect(res.status).toBe(nfsstat4.NFS4_OK);
    const d = result<{ wdr_resok4: open_delegation4 }>(
      res,
      nfs_opnum4.OP_WANT_DELEGATION,
      "opwant_delegation",
    ).wdr_resok4;
    expect(d.delegation_type).toBe(open_delegation_type4.OPEN_DELEGATE_READ);
    expect(h.state.delegationCount).toBe(1);
    // It is recalled like any other.
    const b = await B.run([...inExport, openOp("f", "b", OPEN4_SHARE_ACCESS_BOTH)]);
    expect(b.status).toBe(nfsstat4.NFS4ERR_DELAY);
    expect(cb.recalls()[0]!.args.stateid).toEqual(delegStateid(d));
  });

  it("on a directory: WND4_IS_DIR", async () => {
    const res = await A.run([...inExport, wantDelegationOp(OPEN4_SHARE_ACCESS_WANT_READ_DELEG)]);
    expect(res.status).toBe(nfsstat4.NFS4_OK);
    const d = result<{ wdr_resok4: open_delegation4 }>(
      res,
      nfs_opnum4.OP_WANT_DELEGATION,
      "opwant_delegation",
    ).wdr_resok4;
    expect(whyNone(d)).toBe(why_no_delegation4.WND4_IS_DIR);
  });
});

// --- directory delegations (§10.9, §18.39): the caching kind, no notifications -------

describe("directory delegations without notifications (§10.9.2, §18.39)", () => {
  // The "caching" policy: whatever is asked, no notifications are granted.
  beforeEach(() => setup({ directoryDelegations: "caching" }));
  const mkdirOp = (name: string): nfs_argop4 => ({
    argop: nfs_opnum4.OP_CREATE,
    opcreate: {
      objtype: { type: nfs_ftype4.NF4DIR },
      objname: utf8(name),
      createattrs: { attrmask: [], attr_vals: new Uint8Array() },
    },
  });
  const lookupOp = (name: string): nfs_argop4 => lookup(name);
  const getDirDelegationOp: nfs_argop4 = {
    argop: nfs_opnum4.OP_GET_DIR_DELEGATION,
    opget_dir_delegation: {
      gdda_signal_deleg_avail: false,
      // Asked for every notification: the "caching" policy grants none.
      gdda_notification_types: bitmapOf([0, 1, 2, 3, 4, 5, 6]),
      gdda_child_attr_delay: { seconds: 0n, nseconds: 0 },
      gdda_dir_attr_delay: { seconds: 0n, nseconds: 0 },
      gdda_child_attributes: bitmapOf([FATTR4_SIZE]),
      gdda_dir_attributes: bitmapOf([FATTR4_CHANGE]),
    },
  };
  const readdirOp: nfs_argop4 = {
    argop: nfs_opnum4.OP_READDIR,
    opreaddir: {
      cookie: 0n,
      cookieverf: new Uint8Array(8),
      dircount: 512,
      maxcount: 1024,
      attr_request: [],
    },
  };

  type Gdd = GET_DIR_DELEGATION4res_non_fatal;

  /** A creates /export/d holding file "f" (no delegation asked) and asks for a directory delegation of d. */
  async function delegatedDir(): Promise<{ dir: Uint8Array; gdd: Gdd }> {
    expect((await A.run([...inExport, mkdirOp("d")])).status).toBe(nfsstat4.NFS4_OK);
    const made = await A.run([...inExport, lookupOp("d"), openOp("f", "o", BOTH_ONLY)]);
    expect(made.status).toBe(nfsstat4.NFS4_OK);
    const res = await A.run([...inExport, lookupOp("d"), getfh, getDirDelegationOp]);
    expect(res.status).toBe(nfsstat4.NFS4_OK);
    const dir = result<{ resok4: { object: Uint8Array } }>(res, nfs_opnum4.OP_GETFH, "opgetfh")
      .resok4.object;
    const gdd = result<{ gddr_res_non_fatal4: Gdd }>(
      res,
      nfs_opnum4.OP_GET_DIR_DELEGATION,
      "opget_dir_delegation",
    ).gddr_res_non_fatal4;
    return { dir, gdd };
  }

  function granted(gdd: Gdd): stateid4 {
    if (gdd.gddrnf_status !== gddrnf4_status.GDD4_OK) throw new Error("no directory delegation");
    return gdd.gddrnf_resok4.gddr_stateid;
  }

  it("is granted with empty notification and attribute masks, a stateid and the READDIR cookie verifier", async () => {
    const { dir, gdd } = await delegatedDir();
    expect(gdd.gddrnf_status).toBe(gddrnf4_status.GDD4_OK);
    if (gdd.gddrnf_status !== gddrnf4_status.GDD4_OK) return;
    expect(gdd.gddrnf_resok4.gddr_notification).toEqual([]);
    expect(gdd.gddrnf_resok4.gddr_child_attributes).toEqual([]);
    expect(gdd.gddrnf_resok4.gddr_dir_attributes).toEqual([]);
    const listing = await A.run([putfh(dir), readdirOp]);
    const verf = result<{ resok4: { cookieverf: Uint8Array } }>(
      listing,
      nfs_opnum4.OP_READDIR,
      "opreaddir",
    ).resok4.cookieverf;
    expect(sameBytes(gdd.gddrnf_resok4.gddr_cookieverf, verf)).toBe(true);
    expect(h.state.delegationCount).toBe(1);
    // A second one for the same client and directory: declined, not duplicated.
    const again = await A.run([putfh(dir), getDirDelegationOp]);
    expect(
      result<{ gddr_res_non_fatal4: Gdd }>(
        again,
        nfs_opnum4.OP_GET_DIR_DELEGATION,
        "opget_dir_delegation",
      ).gddr_res_non_fatal4.gddrnf_status,
    ).toBe(gddrnf4_status.GDD4_UNAVAIL);
    expect(h.state.delegationCount).toBe(1);
  });

  it('declines (GDD4_UNAVAIL) without a back channel and under directoryDelegations "none"', async () => {
    cb.unreachable.add(A.clientid);
    expect((await delegatedDir()).gdd.gddrnf_status).toBe(gddrnf4_status.GDD4_UNAVAIL);
    await setup({ directoryDelegations: "none" });
    expect((await delegatedDir()).gdd.gddrnf_status).toBe(gddrnf4_status.GDD4_UNAVAIL);
    expect(h.state.delegationCount).toBe(0);
  });

  // Each change another client makes to the directory: DELAY, one CB_RECALL of
  // the directory's delegation, then, once it is returned, the change goes through.
  const changes: [string, (dir: Uint8Array) => nfs_argop4[]][] = [
    ["OPEN creating a file", (dir) => [putfh(dir), openOp("new", "b", BOTH_ONLY)]],
    ["CREATE of a directory", (dir) => [putfh(dir), mkdirOp("sub")]],
    ["REMOVE", (dir) => [putfh(dir), removeOp("f")]],
    ["RENAME within it", (dir) => [putfh(dir), savefh, renameOp("f", "g")]],
    ["RENAME out of it", (dir) => [putfh(dir), savefh, ...inExport, renameOp("f", "moved")]],
    [
      "RENAME into it",
      (dir) => [
        ...inExport,
        openOp("outside", "b", BOTH_ONLY),
        ...inExport,
        savefh,
        putfh(dir),
        renameOp("outside", "in"),
      ],
    ],
    ["LINK into it", (dir) => [putfh(dir), lookupOp("f"), savefh, putfh(dir), linkOp("f2")]],
    ["SETATTR of the directory", (dir) => [putfh(dir), setModeOp(0o755)]],
  ];
  for (const [what, ops] of changes) {
    it(`another client's ${what}: DELAY and CB_RECALL until returned`, async () => {
      const { dir, gdd } = await delegatedDir();
      const sid = granted(gdd);
      const first = await B.run(ops(dir));
      expect(first.status).toBe(nfsstat4.NFS4ERR_DELAY);
      const recalls = cb.recalls();
      expect(recalls).toHaveLength(1);
      expect(recalls[0]!.clientid).toBe(A.clientid);
      expect(sameBytes(recalls[0]!.args.fh, dir)).toBe(true);
      expect(recalls[0]!.args.stateid).toEqual(sid);
      expect((await A.run([putfh(dir), delegreturnOp(sid)])).status).toBe(nfsstat4.NFS4_OK);
      expect((await B.run(ops(dir))).status).toBe(nfsstat4.NFS4_OK);
      expect(cb.recalls()).toHaveLength(1);
    });
  }

  it("the holder's own changes, and other clients' LOOKUP, READDIR and reads, recall nothing", async () => {
    const { dir, gdd } = await delegatedDir();
    granted(gdd);
    expect((await B.run([putfh(dir), lookupOp("f")])).status).toBe(nfsstat4.NFS4_OK);
    expect((await B.run([putfh(dir), readdirOp])).status).toBe(nfsstat4.NFS4_OK);
    expect((await B.run([putfh(dir), getattrOp([FATTR4_CHANGE])])).status).toBe(nfsstat4.NFS4_OK);
    expect((await A.run([putfh(dir), openOp("mine", "o", BOTH_ONLY)])).status).toBe(
      nfsstat4.NFS4_OK,
    );
    expect((await A.run([putfh(dir), mkdirOp("sub")])).status).toBe(nfsstat4.NFS4_OK);
    expect((await A.run([putfh(dir), savefh, renameOp("mine", "mine2")])).status).toBe(
      nfsstat4.NFS4_OK,
    );
    expect((await A.run([putfh(dir), removeOp("mine2")])).status).toBe(nfsstat4.NFS4_OK);
    expect(cb.recalls()).toHaveLength(0);
    expect(h.state.delegationCount).toBe(1);
  });

  it("not returned within a lease: revoked, and the other client's change goes through", async () => {
    const { dir, gdd } = await delegatedDir();
    const sid = granted(gdd);
    cb.answer = () => new Promise<CallbackResult>(() => undefined);
    expect((await B.run([putfh(dir), removeOp("f")])).status).toBe(nfsstat4.NFS4ERR_DELAY);
    h.clock.now += (h.ctx.settings.leaseTimeSec + 1) * 1000;
    // Keep A's lease: only the delegation is overdue.
    await A.run([]);
    h.delegations.sweep();
    expect((await B.run([putfh(dir), removeOp("f")])).status).toBe(nfsstat4.NFS4_OK);
    const seq = await A.run([]);
    expect(seqFlags(seq) & SEQ4_STATUS_RECALLABLE_STATE_REVOKED).not.toBe(0);
    expect((await A.run([putfh(dir), delegreturnOp(sid)])).status).toBe(
      nfsstat4.NFS4ERR_DELEG_REVOKED,
    );
    expect((await A.run([freeStateidOp(sid)])).status).toBe(nfsstat4.NFS4_OK);
  });

  it("a directory delegation stateid is no authority for I/O", async () => {
    const { dir, gdd } = await delegatedDir();
    const sid = granted(gdd);
    const r = await A.run([putfh(dir), lookupOp("f"), readOp(sid)]);
    expect(r.status).toBe(nfsstat4.NFS4ERR_BAD_STATEID);
  });
});

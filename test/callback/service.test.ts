// CallbackService against scripted connections (no TCP): the rules the
// end-to-end suite cannot easily provoke with a real client — answers naming
// another slot, RETRY_UNCACHED_REP, RPC-level refusals, the client's slot
// limits, the back channel's size limits — and the status flags and hooks.

import { pino } from "pino";
import { describe, expect, it } from "vitest";
import type {
  CB_COMPOUND4args,
  CB_SEQUENCE4args,
  channel_attrs4,
  nfs_cb_argop4,
} from "../../generated/nfs4/index.js";
import {
  NFS4_CALLBACK,
  SEQ4_STATUS_BACKCHANNEL_FAULT,
  SEQ4_STATUS_CB_PATH_DOWN,
  SEQ4_STATUS_CB_PATH_DOWN_SESSION,
  decodeCB_COMPOUND4args,
  encodeCB_COMPOUND4res,
  nfs_cb_opnum4,
  nfsstat4,
} from "../../generated/nfs4/index.js";
import { accept_stat } from "../../generated/rpc/index.js";
import { CallbackService } from "../../src/callback/service.js";
import { DEFAULT_NFS_SETTINGS } from "../../src/nfs/settings.js";
import type { NfsSettings } from "../../src/nfs/settings.js";
import { RpcConnectionClosedError, RpcReplyError, RpcTimeoutError } from "../../src/rpc/errors.js";
import { accepted } from "../../src/rpc/message.js";
import type { OutgoingCall, RpcConnection } from "../../src/rpc/types.js";
import { ClientRecord } from "../../src/state/client.js";
import { StateManager } from "../../src/state/manager.js";
import type { Session } from "../../src/state/session.js";
import { XdrReader, XdrWriter } from "../../src/xdr/index.js";

type Answer = (args: CB_COMPOUND4args, seq: CB_SEQUENCE4args) => Promise<XdrReader>;

/** A CB_COMPOUND4res with CB_SEQUENCE answered `status` (echoing the call when NFS4_OK). */
function reply(
  seq: CB_SEQUENCE4args,
  status: nfsstat4 = nfsstat4.NFS4_OK,
  limits: { highest?: number; target?: number; seqid?: number } = {},
): Promise<XdrReader> {
  const w = new XdrWriter();
  encodeCB_COMPOUND4res(w, {
    status,
    tag: new Uint8Array(0),
    resarray: [
      status === nfsstat4.NFS4_OK
        ? {
            resop: nfs_cb_opnum4.OP_CB_SEQUENCE,
            opcbsequence: {
              csr_status: nfsstat4.NFS4_OK,
              csr_resok4: {
                csr_sessionid: seq.csa_sessionid,
                csr_sequenceid: limits.seqid ?? seq.csa_sequenceid,
                csr_slotid: seq.csa_slotid,
                csr_highest_slotid: limits.highest ?? seq.csa_highest_slotid,
                csr_target_highest_slotid: limits.target ?? seq.csa_highest_slotid,
              },
            },
          }
        : { resop: nfs_cb_opnum4.OP_CB_SEQUENCE, opcbsequence: { csr_status: status } },
    ],
  });
  return Promise.resolve(new XdrReader(w.finish()));
}

const ok: Answer = (_a, seq) => reply(seq);

/** A connection whose callbacks the test answers; CB_NULL succeeds. */
class ScriptedConnection implements RpcConnection {
  open = true;
  readonly remote = "peer";
  readonly local = "us";
  readonly sent: { req: OutgoingCall; args: CB_COMPOUND4args; seq: CB_SEQUENCE4args }[] = [];
  readonly probes: OutgoingCall[] = [];
  /** Answers for the next CB_COMPOUNDs in order; then `fallback`. */
  readonly script: Answer[] = [];
  fallback: Answer = ok;
  private readonly listeners: (() => void)[] = [];
  constructor(readonly id: number) {}
  onClose(l: () => void): void {
    if (this.open) this.listeners.push(l);
    else l();
  }
  close(): void {
    this.open = false;
    for (const l of this.listeners.splice(0)) l();
  }
  call(req: OutgoingCall): Promise<XdrReader> {
    if (!this.open) return Promise.reject(new RpcConnectionClosedError(this.remote));
    if (req.proc === 0) {
      this.probes.push(req);
      return Promise.resolve(new XdrReader(new Uint8Array(0)));
    }
    const args = decodeCB_COMPOUND4args(
      new XdrReader(req.args instanceof Uint8Array ? req.args : Buffer.concat(req.args)),
    );
    const first = args.argarray[0];
    if (first?.argop !== nfs_cb_opnum4.OP_CB_SEQUENCE) throw new Error("no CB_SEQUENCE");
    this.sent.push({ req, args, seq: first.opcbsequence });
    return (this.script.shift() ?? this.fallback)(args, first.opcbsequence);
  }
}

const never: Answer = () => new Promise(() => undefined);
const timeout: Answer = () => Promise.reject(new RpcTimeoutError(1, 1));

const fore: channel_attrs4 = {
  ca_headerpadsize: 0,
  ca_maxrequestsize: 65536,
  ca_maxresponsesize: 65536,
  ca_maxresponsesize_cached: 1024,
  ca_maxoperations: 16,
  ca_maxrequests: 4,
  ca_rdma_ird: [],
};
const back: channel_attrs4 = { ...fore, ca_maxresponsesize_cached: 0, ca_maxrequests: 2 };

const recallAny: nfs_cb_argop4 = {
  argop: nfs_cb_opnum4.OP_CB_RECALL_ANY,
  opcbrecall_any: { craa_objects_to_keep: 0, craa_type_mask: [1] },
};

function world(settings: Partial<NfsSettings> = {}) {
  const log = pino({ level: "silent" });
  const full: NfsSettings = {
    ...DEFAULT_NFS_SETTINGS,
    callbackTimeoutMs: 100,
    callbackRetryDelayMs: 10,
    ...settings,
  };
  const hooks = {
    destroyed: (s: Session): void => svc.sessionDestroyed(s),
    removed: (c: ClientRecord): void => svc.clientRemoved(c),
  };
  const state = new StateManager({
    settings: full,
    log,
    onSessionDestroyed: (s) => hooks.destroyed(s),
    onClientRemoved: (c) => hooks.removed(c),
  });
  const svc = new CallbackService({ settings: full, log, state });
  const client = new ClientRecord(
    state.newClientId(),
    new TextEncoder().encode(`owner-${Math.random()}`),
    new Uint8Array(8),
    "sys:0",
    0,
    [],
    0,
    1,
    { csr_status: nfsstat4.NFS4ERR_SEQ_MISORDERED },
  );
  state.addClient(client);
  let nextConn = 1;
  const session = (
    opts: { backChan?: channel_attrs4; conn?: ScriptedConnection; bindBack?: boolean } = {},
  ): { s: Session; conn: ScriptedConnection } => {
    const conn = opts.conn ?? new ScriptedConnection(nextConn++);
    const s = state.createSession(client, 1, fore, opts.backChan ?? back, NFS4_CALLBACK, [
      { cb_secflavor: 0 },
    ]);
    const bindBack = opts.bindBack ?? true;
    state.bind(s, conn, true, bindBack);
    if (bindBack) svc.backChannelChanged(s, conn);
    return { s, conn };
  };
  const send = (ops: nfs_cb_argop4[] = [recallAny], deadlineMs = 2000) =>
    svc.send(client, { ops, deadlineMs });
  return {
    state,
    svc,
    client,
    session,
    send,
    conn: (id = nextConn++) => new ScriptedConnection(id),
  };
}

/** Resolves once `p` holds (polling; the safety net is generous, not a timing assertion). */
async function until(p: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!p()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

describe("CallbackService", () => {
  it("probes with CB_NULL, the session's program and AUTH_NONE; canCallBack while the probe is under way", async () => {
    const w = world();
    const { conn } = w.session();
    // Clients open files before the probe is answered: a bound channel counts until it fails.
    expect(w.svc.canCallBack(w.client)).toBe(true);
    await until(() => conn.probes.length > 0, "the probe");
    expect(w.svc.canCallBack(w.client)).toBe(true);
    expect(conn.probes[0]).toMatchObject({ prog: NFS4_CALLBACK, vers: 1, proc: 0 });
    expect(conn.probes[0]!.cred.flavor).toBe(0);
  });

  it("carries the minor version the session was created with (RFC 8881 §20.1)", async () => {
    const w = world();
    const { s, conn } = w.session();
    s.minorVersion = 2;
    expect((await w.send()).kind).toBe("answered");
    expect(conn.sent[0]!.args.minorversion).toBe(2);
  });

  it("NFS4ERR_RETRY_UNCACHED_REP: the client holds the seqid already; resent with the next one", async () => {
    const w = world();
    const { conn } = w.session();
    conn.script.push((_a, seq) => reply(seq, nfsstat4.NFS4ERR_RETRY_UNCACHED_REP));
    expect((await w.send()).kind).toBe("answered");
    expect(conn.sent.map((x) => x.seq.csa_sequenceid)).toEqual([1, 2]);
  });

  it("an answer naming another sequence ID is treated as no answer: same slot and seqid, fault raised", async () => {
    const w = world();
    const { s, conn } = w.session();
    conn.script.push((_a, seq) => reply(seq, nfsstat4.NFS4_OK, { seqid: 77 }));
    const pending = w.send();
    await until(() => conn.sent.length === 1, "the first send");
    await until(() => (w.svc.statusFlags(s) & SEQ4_STATUS_BACKCHANNEL_FAULT) !== 0, "the fault");
    // Only that connection, and it did not answer properly: the call waits for another.
    const second = w.conn();
    w.state.bind(s, second, false, true);
    w.svc.backChannelChanged(s, second);
    expect((await pending).kind).toBe("answered");
    expect(second.sent[0]!.seq).toMatchObject({ csa_slotid: 0, csa_sequenceid: 1 });
    expect(w.svc.statusFlags(s)).toBe(0);
  });

  it("a timeout with no other connection: PATH_DOWN_SESSION + BACKCHANNEL_FAULT (and CB_PATH_DOWN for the only session)", async () => {
    const w = world();
    const { s, conn } = w.session();
    conn.script.push(timeout);
    const pending = w.send([recallAny], 300);
    await until(() => w.svc.stats().timedOut === 1, "the timeout");
    await until(() => w.svc.statusFlags(s) !== 0, "the flags");
    expect(w.svc.statusFlags(s)).toBe(
      SEQ4_STATUS_CB_PATH_DOWN | SEQ4_STATUS_CB_PATH_DOWN_SESSION | SEQ4_STATUS_BACKCHANNEL_FAULT,
    );
    expect(w.svc.canCallBack(w.client)).toBe(false);
    expect(await pending).toEqual({ kind: "unreachable" });
    expect(conn.sent).toHaveLength(1);
  });

  it("a refusal at the RPC level marks the channel down and retries after callbackRetryDelayMs", async () => {
    const w = world();
    const { s, conn } = w.session();
    await until(() => w.svc.canCallBack(w.client), "the probe");
    conn.script.push(() =>
      Promise.reject(new RpcReplyError(1, accepted({ stat: accept_stat.SYSTEM_ERR }))),
    );
    let down = false;
    let grantable = true;
    conn.script.push((_a, seq) => {
      down = (w.svc.statusFlags(s) & SEQ4_STATUS_CB_PATH_DOWN_SESSION) !== 0;
      grantable = w.svc.canCallBack(w.client);
      return reply(seq);
    });
    expect((await w.send()).kind).toBe("answered");
    expect(down).toBe(true);
    // A channel known to fail is no ground for a delegation.
    expect(grantable).toBe(false);
    expect(conn.sent.map((x) => x.seq.csa_sequenceid)).toEqual([1, 1]);
    expect(w.svc.canCallBack(w.client)).toBe(true);
  });

  it("honours the client's csr_target_highest_slotid", async () => {
    const w = world();
    const { conn } = w.session();
    conn.script.push((_a, seq) => reply(seq, nfsstat4.NFS4_OK, { target: 0 }));
    await w.send();
    conn.fallback = never;
    const calls = [w.send([recallAny], 100), w.send([recallAny], 100)];
    await until(() => conn.sent.length >= 2, "one more send");
    await Promise.all(calls);
    // Slot 1 was never used: the second call waited for slot 0.
    expect(conn.sent.slice(1).map((x) => x.seq.csa_slotid)).toEqual([0]);
    expect(conn.sent[1]!.seq.csa_highest_slotid).toBe(0);
  });

  it("a call larger than the client's back channel allows is unreachable at once", async () => {
    const w = world();
    const tiny = { ...back, ca_maxrequestsize: 200, ca_maxoperations: 2 };
    const { conn } = w.session({ backChan: tiny });
    expect(await w.send([recallAny, recallAny])).toEqual({ kind: "unreachable" });
    const big: nfs_cb_argop4 = {
      argop: nfs_cb_opnum4.OP_CB_RECALL,
      opcbrecall: {
        stateid: { seqid: 1, other: new Uint8Array(12) },
        truncate: false,
        fh: new Uint8Array(128),
      },
    };
    expect(await w.send([big])).toEqual({ kind: "unreachable" });
    expect(conn.sent).toHaveLength(0);
    expect((await w.send([recallAny])).kind).toBe("answered");
  });

  it("the session destroyed with the call in flight: it waits, then goes to the client's next session", async () => {
    const w = world();
    const first = w.session();
    first.conn.fallback = never;
    const pending = w.send();
    await until(() => first.conn.sent.length === 1, "the send");
    w.state.destroySession(first.s);
    expect(w.svc.statusFlags(first.s) & SEQ4_STATUS_CB_PATH_DOWN_SESSION).not.toBe(0);
    expect(w.svc.stats(w.client)).toMatchObject({ inFlight: 0, waiting: 1 });
    const next = w.session({ conn: first.conn });
    first.conn.fallback = ok;
    expect((await pending).kind).toBe("answered");
    const resent = first.conn.sent[1]!;
    expect(Buffer.from(resent.seq.csa_sessionid).equals(Buffer.from(next.s.id))).toBe(true);
    expect(resent.seq).toMatchObject({ csa_slotid: 0, csa_sequenceid: 1 });
  });

  it("a session whose back channel has no connection yet: the call waits for BIND_CONN_TO_SESSION", async () => {
    const w = world();
    const { s, conn } = w.session({ bindBack: false });
    expect(w.svc.statusFlags(s)).toBe(SEQ4_STATUS_CB_PATH_DOWN | SEQ4_STATUS_CB_PATH_DOWN_SESSION);
    const pending = w.send();
    await new Promise((r) => setTimeout(r, 20));
    expect(conn.sent).toHaveLength(0);
    w.state.bind(s, conn, true, true);
    w.svc.backChannelChanged(s, conn);
    expect((await pending).kind).toBe("answered");
    expect(conn.probes).toHaveLength(1);
  });

  it("connection closed mid-call: resent on the session's other back-channel connection", async () => {
    const w = world();
    const { s, conn } = w.session();
    const other = w.conn();
    w.state.bind(s, other, false, true);
    conn.script.push(() => {
      conn.close();
      return Promise.reject(new RpcConnectionClosedError("peer"));
    });
    expect((await w.send()).kind).toBe("answered");
    expect(other.sent[0]!.seq).toMatchObject({ csa_slotid: 0, csa_sequenceid: 1 });
  });

  it("removeClient and close() cancel; nothing is left unfinished", async () => {
    const w = world();
    const { conn } = w.session();
    conn.fallback = never;
    const a = w.send();
    const b = w.send();
    w.state.removeClient(w.client);
    expect(await Promise.all([a, b])).toEqual([{ kind: "cancelled" }, { kind: "cancelled" }]);
    const v = world();
    v.session().conn.fallback = never;
    const c = v.send();
    v.svc.close();
    expect(await c).toEqual({ kind: "cancelled" });
    expect(await v.send()).toEqual({ kind: "cancelled" });
    expect(v.svc.stats()).toMatchObject({ inFlight: 0, waiting: 0 });
  });

  it("a deadline of 0 is unreachable at once", async () => {
    const w = world();
    w.session();
    expect(await w.send([recallAny], 0)).toEqual({ kind: "unreachable" });
  });
});

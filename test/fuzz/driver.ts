// The fuzz driver: talks to a running server over TCP as a hostile client
// would. It sets up a real client ID and session with the client library, then
// sends raw records on its own connection: SEQUENCE with the right session,
// slot and sequence ID, then operations generated from the metadata, mutated
// at the XDR structure level and fragmented on the wire. Several slots run at
// once, one request each. Every reply is checked (the oracle):
// - it is an RPC REPLY, MSG_ACCEPTED, and never SYSTEM_ERR;
// - SUCCESS results decode completely as COMPOUND4res, and the COMPOUND status
//   is that of its last result, all earlier ones NFS4_OK (RFC 8881 §16.2.3);
//   GARBAGE_ARGS is a fine answer to arguments that do not decode;
// - it comes within the per-reply timeout, and the connection stays open.
// Slots stay usable: a successful SEQUENCE says which sequence ID the slot
// holds; a lost session (a mutated SEQUENCE can become DESTROY_SESSION) is
// replaced by a new one.

import { connect } from "node:net";
import type { Socket } from "node:net";
import type { COMPOUND4res } from "../../generated/nfs4/index.js";
import {
  NFS4_PROGRAM,
  NFSPROC4_COMPOUND,
  NFS_V4,
  decodeCOMPOUND4res,
  encodenfs_resop4,
  nfs_opnum4,
  nfs_opnum4_names,
  nfsstat4,
  nfsstat4_names,
} from "../../generated/nfs4/index.js";
import {
  accept_stat,
  accept_stat_names,
  auth_flavor,
  decoderpc_msg,
  encoderpc_msg,
  msg_type,
  reply_stat,
} from "../../generated/rpc/index.js";
import type { ClientSession } from "../../src/client/index.js";
import { NfsClient, ops, resultOf, statusOf } from "../../src/client/index.js";
import { authSysCredential } from "../../src/rpc/auth.js";
import { RecordAssembler } from "../../src/rpc/record.js";
import { XdrReader, XdrWriter } from "../../src/xdr/index.js";
import type { EncodedOp, Pools } from "./compose.js";
import { Composer, OP_NUMBERS } from "./compose.js";
import type { CompoundPlan } from "./mutate.js";
import { encodePlan, fragment, mutate, writeChunks } from "./mutate.js";
import { Prng } from "./prng.js";

export interface FuzzOptions {
  readonly host?: string;
  readonly port: number;
  readonly seed: number;
  /** Records to send (the run stops earlier on a fatal failure). */
  readonly records: number;
  /** Slots used at once, one request in flight on each. Default 8. */
  readonly concurrency?: number;
  /** A reply later than this is a hang. Default 10 s. */
  readonly replyTimeoutMs?: number;
  /** The share of records mutated; the rest are valid. Default 0.85. */
  readonly mutateRate?: number;
  /** Send only record `only` of the seed (a reproducer), after the usual setup. */
  readonly only?: number;
  /** Stop after this many failures. Default 20. */
  readonly maxFailures?: number;
  /** Called about every `progressEveryMs` (default 5 s) with the figures so far. */
  readonly onProgress?: (stats: FuzzStats) => void;
  readonly progressEveryMs?: number;
}

export type FailureKind =
  | "system_err"
  | "rpc_refused"
  | "undecodable_reply"
  | "inconsistent_reply"
  | "replay_mismatch"
  | "hang"
  | "connection_closed"
  | "unrecoverable";

export interface FuzzFailure {
  readonly kind: FailureKind;
  readonly seed: number;
  readonly record: number;
  readonly detail: string;
  /** The operations as sent (after mutation) and the mutations applied. */
  readonly ops: string;
  readonly mutations: readonly string[];
  /** The RPC record (without record marks), hex. */
  readonly hex: string;
}

export interface FuzzStats {
  records: number;
  replies: number;
  garbageArgs: number;
  systemErr: number;
  /** COMPOUND status → count. */
  readonly statuses: Map<number, number>;
  /** Operation → how many of its results were NFS4_OK (how far records get). */
  readonly succeeded: Map<number, number>;
  /** "OP_X" → {count, first record} for results with NFS4ERR_SERVERFAULT (a handler threw). */
  readonly serverFaults: Map<string, { count: number; record: number }>;
  sessions: number;
  replays: number;
  /** Retries of a cached request whose replay was compared with the original. */
  replaysChecked: number;
  misordered: number;
  /** Why sessions were replaced: SEQUENCE's status → count. */
  readonly lostSessions: Map<string, number>;
  readonly failures: FuzzFailure[];
  elapsedMs: number;
  /** Why the run ended before its count, if it did without a failure. */
  stoppedBy?: string;
}

/** SEQUENCE errors meaning our session is no longer usable on this connection. */
const SESSION_GONE: ReadonlySet<number> = new Set([
  nfsstat4.NFS4ERR_BADSESSION,
  nfsstat4.NFS4ERR_DEADSESSION,
  nfsstat4.NFS4ERR_CONN_NOT_BOUND_TO_SESSION,
]);

const FATAL: ReadonlySet<FailureKind> = new Set(["hang", "connection_closed", "unrecoverable"]);

interface SlotState {
  readonly id: number;
  /** The last sequence ID the server holds for this slot (the next request uses +1). */
  seqid: number;
  /** The last request sent on the slot, for retries. */
  last: Built | null;
  /**
   * What a retry of sequence ID `seqid` must replay (RFC 8881 §2.10.6.1.3):
   * the results after SEQUENCE, encoded, of a request that asked to be cached
   * and that the server took.
   */
  cached: { readonly seqid: number; readonly status: number; readonly results: string } | null;
}

interface SessionState {
  readonly epoch: number;
  readonly id: Uint8Array;
  readonly slots: SlotState[];
}

interface Built {
  readonly record: Uint8Array;
  readonly chunks: Uint8Array[];
  readonly ops: string;
  readonly mutations: readonly string[];
  readonly sessionEpoch: number;
  readonly seqid: number;
  /** Whether the first operation is still our own SEQUENCE, its number unmutated. */
  readonly ownSequenceFirst: boolean;
  /** sa_cachethis as sent (true only if it is still a valid TRUE). */
  readonly cachethis: boolean;
  /** Whether this is a retry of the slot's previous request. */
  readonly retry: boolean;
}

const TAG = new TextEncoder().encode("fuzz");
/** Operations that use an open file's state: what follows an OPEN in the records that open one. */
const STATEFUL_OPS: readonly number[] = [
  nfs_opnum4.OP_WRITE,
  nfs_opnum4.OP_READ,
  nfs_opnum4.OP_READ_PLUS,
  nfs_opnum4.OP_LOCK,
  nfs_opnum4.OP_LOCKT,
  nfs_opnum4.OP_LOCKU,
  nfs_opnum4.OP_CLOSE,
  nfs_opnum4.OP_OPEN_DOWNGRADE,
  nfs_opnum4.OP_SETATTR,
  nfs_opnum4.OP_GETATTR,
  nfs_opnum4.OP_COMMIT,
  nfs_opnum4.OP_SEEK,
  nfs_opnum4.OP_ALLOCATE,
  nfs_opnum4.OP_DEALLOCATE,
  nfs_opnum4.OP_TEST_STATEID,
  nfs_opnum4.OP_FREE_STATEID,
  nfs_opnum4.OP_DELEGRETURN,
  nfs_opnum4.OP_SAVEFH,
  nfs_opnum4.OP_RESTOREFH,
  nfs_opnum4.OP_OPEN,
];
const ROOT_CRED = {
  flavor: auth_flavor.AUTH_SYS,
  body: authSysCredential({ machinename: "fuzz", uid: 0, gid: 0 }).body,
};
const NONE_CRED = { flavor: auth_flavor.AUTH_NONE, body: new Uint8Array(0) };
const FH_POOL_MAX = 32;
const STATEID_POOL_MAX = 32;

export const opName = (op: number): string => nfs_opnum4_names[op as nfs_opnum4] ?? `op${op}`;
export const statusName = (s: number): string => nfsstat4_names[s as nfsstat4] ?? `status${s}`;

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

/** The results after SEQUENCE, encoded, as a string to compare. */
function encodeResults(res: COMPOUND4res): string {
  const w = new XdrWriter(256);
  for (const r of res.resarray.slice(1)) encodenfs_resop4(w, r);
  return hex(w.finish());
}

function hex(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString("hex");
}

/** Reads the op numbers of the plan (as sent) for reports. */
function describeOps(list: readonly EncodedOp[]): string {
  return list
    .map((o) => opName(new DataView(o.bytes.buffer, o.bytes.byteOffset).getUint32(0)))
    .join(",");
}

export class Fuzzer {
  readonly stats: FuzzStats = {
    records: 0,
    replies: 0,
    garbageArgs: 0,
    systemErr: 0,
    statuses: new Map(),
    succeeded: new Map(),
    serverFaults: new Map(),
    sessions: 0,
    replays: 0,
    replaysChecked: 0,
    misordered: 0,
    lostSessions: new Map(),
    failures: [],
    elapsedMs: 0,
  };
  private readonly host: string;
  private readonly concurrency: number;
  private readonly timeoutMs: number;
  private readonly mutateRate: number;
  private readonly maxFailures: number;
  private readonly pools: Pools = {
    fhs: [],
    stateids: [],
    sessionid: new Uint8Array(16),
    clientid: 0n,
    preferCurrent: false,
  };
  private readonly composer = new Composer(this.pools);
  private client: NfsClient | null = null;
  private session: SessionState | null = null;
  private recovering: Promise<void> | null = null;
  private socket: Socket | null = null;
  private readonly pending = new Map<number, (record: Uint8Array | null) => void>();
  private writing: Promise<void> = Promise.resolve();
  private nextXid: number;
  private nextRecord = 0;
  private stopped = false;
  private owners = 0;

  constructor(private readonly options: FuzzOptions) {
    this.host = options.host ?? "127.0.0.1";
    this.concurrency = options.concurrency ?? 8;
    this.timeoutMs = options.replyTimeoutMs ?? 10_000;
    this.mutateRate = options.mutateRate ?? 0.85;
    this.maxFailures = options.maxFailures ?? 20;
    this.nextXid = new Prng(options.seed, -1).u32();
  }

  async run(): Promise<FuzzStats> {
    const started = performance.now();
    await this.newSession();
    await this.learnFilehandles();
    this.socket = await this.openSocket();
    const ticker = this.options.onProgress
      ? setInterval(() => {
          this.stats.elapsedMs = performance.now() - started;
          this.options.onProgress!(this.stats);
        }, this.options.progressEveryMs ?? 5000)
      : null;
    try {
      if (this.options.only !== undefined) {
        this.nextRecord = this.options.only;
        await this.worker(0, this.options.only + 1);
      } else {
        const n = Math.min(this.concurrency, this.session!.slots.length);
        await Promise.all(
          Array.from({ length: n }, (_, i) => this.worker(i, this.options.records)),
        );
      }
    } finally {
      if (ticker) clearInterval(ticker);
      this.stats.elapsedMs = performance.now() - started;
      this.socket.destroy();
      this.client?.destroy();
    }
    return this.stats;
  }

  /** Ends the run after the records in flight (for a time limit). */
  stop(reason: string): void {
    this.stats.stoppedBy ??= reason;
    this.stopped = true;
  }

  private async worker(slotIndex: number, end: number): Promise<void> {
    while (!this.stopped && this.nextRecord < end) {
      const index = this.nextRecord++;
      if (this.recovering) await this.recovering;
      if (this.stopped) return;
      const session = this.session!;
      // A replacement session may have fewer slots: this worker then retires.
      const slot = session.slots[slotIndex];
      if (slot === undefined) return;
      const built = this.build(index, session, slot);
      if (!built.retry) slot.last = built;
      this.stats.records++;
      const reply = await this.send(built);
      if (reply === "hang" || reply === "closed") {
        this.fail(
          reply === "hang" ? "hang" : "connection_closed",
          index,
          built,
          `no reply (${reply})`,
        );
        return;
      }
      this.stats.replies++;
      const res = this.check(index, built, reply);
      if (res) await this.settle(session, slot, index, built, res);
    }
  }

  /** Record `index` of the seed: SEQUENCE on `slot`, then generated operations, maybe mutated. */
  private build(index: number, session: SessionState, slot: SlotState): Built {
    const p = new Prng(this.options.seed, index);
    const xid = this.nextXid++ >>> 0;
    // Drawn first and always, so the rest of the stream does not depend on the slot's history.
    const retry = p.chance(0.03);
    if (retry && slot.last !== null) {
      // A retry of the slot's last request, byte for byte but the xid (RFC 8881 §2.10.6.2).
      const original = slot.last;
      const record = original.record.slice();
      new DataView(record.buffer).setUint32(0, xid);
      this.stats.replays++;
      return {
        ...original,
        record,
        chunks: [fragment(p, record)],
        mutations: ["retry", ...original.mutations],
        retry: true,
      };
    }
    const seqid = (slot.seqid + 1) >>> 0;
    const own = this.composer.sequence(slot.id, seqid, session.slots.length - 1, p.chance(0.5));
    const list: EncodedOp[] = [own];
    const prefix = p.below(10);
    // Three records in ten open (creating) a file first, so the stateful
    // operations after it meet a real open, its stateid as the current one.
    const opened = prefix >= 7;
    this.pools.preferCurrent = opened;
    if (prefix < 3) {
      list.push(this.composer.fixed(nfs_opnum4.OP_PUTROOTFH, () => {}));
      if (p.chance(0.6)) list.push(this.composer.op(p, nfs_opnum4.OP_LOOKUP));
    } else if (prefix < 5) {
      list.push(this.composer.op(p, nfs_opnum4.OP_PUTFH));
    } else if (opened) {
      list.push(this.composer.putfh(this.pools.fhs[1] ?? new Uint8Array(0)));
      list.push(this.composer.openCreate(p));
    }
    for (let n = p.between(0, 4); n > 0; n--) {
      const op = opened && p.chance(0.7) ? p.pick(STATEFUL_OPS) : p.pick(OP_NUMBERS);
      list.push(this.composer.op(p, op));
    }
    if (p.chance(0.3)) list.push(this.composer.fixed(nfs_opnum4.OP_GETFH, () => {}));
    const plan: CompoundPlan = {
      tag: TAG,
      tagLength: null,
      minorversion: p.chance(0.6) ? 2 : 1,
      count: null,
      ops: list,
      truncateAt: null,
    };
    const mutations = p.chance(this.mutateRate) ? mutate(p, plan) : [];
    const args = encodePlan(p, plan);
    const w = new XdrWriter(128);
    encoderpc_msg(w, {
      xid,
      body: {
        mtype: msg_type.CALL,
        cbody: {
          rpcvers: 2,
          prog: NFS4_PROGRAM,
          vers: NFS_V4,
          proc: NFSPROC4_COMPOUND,
          cred: p.chance(0.05) ? NONE_CRED : ROOT_CRED,
          verf: NONE_CRED,
        },
      },
    });
    const header = w.finish();
    const record = new Uint8Array(header.length + args.length);
    record.set(header);
    record.set(args, header.length);
    return {
      record,
      chunks: writeChunks(p, fragment(p, record)),
      ops: describeOps(plan.ops),
      mutations,
      sessionEpoch: session.epoch,
      seqid,
      ownSequenceFirst:
        plan.ops[0] === own &&
        new DataView(own.bytes.buffer, own.bytes.byteOffset).getUint32(0) ===
          nfs_opnum4.OP_SEQUENCE,
      cachethis: new DataView(own.bytes.buffer, own.bytes.byteOffset).getUint32(32) === 1,
      retry: false,
    };
  }

  private send(built: Built): Promise<Uint8Array | "hang" | "closed"> {
    const xid = new DataView(built.record.buffer, built.record.byteOffset).getUint32(0);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.pending.delete(xid);
        resolve("hang");
      }, this.timeoutMs);
      this.pending.set(xid, (record) => {
        clearTimeout(timer);
        resolve(record ?? "closed");
      });
      const socket = this.socket!;
      // Whole records in order: a record split over several writes holds the line meanwhile.
      this.writing = this.writing.then(async () => {
        for (let i = 0; i < built.chunks.length; i++) {
          if (socket.destroyed) return;
          socket.write(built.chunks[i]!);
          if (i < built.chunks.length - 1) await new Promise((r) => setImmediate(r));
        }
      });
    });
  }

  /** The oracle; returns the decoded COMPOUND4res when there is one to settle the slot with. */
  private check(index: number, built: Built, record: Uint8Array): COMPOUND4res | null {
    let r: XdrReader;
    let stat: number;
    try {
      r = new XdrReader(record);
      const msg = decoderpc_msg(r);
      if (msg.body.mtype !== msg_type.REPLY) throw new Error("not a REPLY");
      const rbody = msg.body.rbody;
      if (rbody.stat !== reply_stat.MSG_ACCEPTED) {
        this.fail("rpc_refused", index, built, `MSG_DENIED ${JSON.stringify(rbody.rreply)}`);
        return null;
      }
      stat = rbody.areply.reply_data.stat;
    } catch (e) {
      this.fail("undecodable_reply", index, built, `RPC reply: ${String(e)}`);
      return null;
    }
    if (stat === accept_stat.GARBAGE_ARGS) {
      this.stats.garbageArgs++;
      return null;
    }
    if (stat === accept_stat.SYSTEM_ERR) {
      this.stats.systemErr++;
      this.fail("system_err", index, built, "SYSTEM_ERR");
      return null;
    }
    if (stat !== accept_stat.SUCCESS) {
      this.fail("rpc_refused", index, built, accept_stat_names[stat as accept_stat] ?? `${stat}`);
      return null;
    }
    let res: COMPOUND4res;
    try {
      res = decodeCOMPOUND4res(r);
      r.assertDone();
    } catch (e) {
      this.fail("undecodable_reply", index, built, `COMPOUND4res: ${String(e)}`);
      return null;
    }
    this.stats.statuses.set(res.status, (this.stats.statuses.get(res.status) ?? 0) + 1);
    const n = res.resarray.length;
    for (let i = 0; i < n; i++) {
      const s = statusOf(res.resarray[i]!);
      if (s === nfsstat4.NFS4_OK) {
        const op = res.resarray[i]!.resop;
        this.stats.succeeded.set(op, (this.stats.succeeded.get(op) ?? 0) + 1);
      }
      if (s === nfsstat4.NFS4ERR_SERVERFAULT) {
        const key = opName(res.resarray[i]!.resop);
        const seen = this.stats.serverFaults.get(key);
        if (seen) seen.count++;
        else this.stats.serverFaults.set(key, { count: 1, record: index });
      }
      // When even the next operation's number is missing (the count claims more
      // operations than the arguments hold) there is no result to carry the
      // status: NFS4ERR_BADXDR after results that all succeeded.
      const unreadable =
        i === n - 1 && s === nfsstat4.NFS4_OK && res.status === nfsstat4.NFS4ERR_BADXDR;
      const expected = i === n - 1 ? res.status : nfsstat4.NFS4_OK;
      if (s !== expected && !unreadable) {
        this.fail(
          "inconsistent_reply",
          index,
          built,
          `result ${i} (${opName(res.resarray[i]!.resop)}) is ${statusName(s)}, COMPOUND status ${statusName(res.status)}`,
        );
        return null;
      }
    }
    this.harvest(res);
    return res;
  }

  /** Keeps filehandles and stateids the server handed out, for later records to use. */
  private harvest(res: COMPOUND4res): void {
    for (const r of res.resarray) {
      const fh = resultOf(r, nfs_opnum4.OP_GETFH);
      if (fh?.status === nfsstat4.NFS4_OK)
        this.keep(this.pools.fhs, fh.resok4.object.slice(), FH_POOL_MAX);
      const open = resultOf(r, nfs_opnum4.OP_OPEN);
      if (open?.status === nfsstat4.NFS4_OK) {
        const s = open.resok4.stateid;
        this.keep(
          this.pools.stateids,
          { seqid: s.seqid, other: s.other.slice() },
          STATEID_POOL_MAX,
        );
      }
      const lock = resultOf(r, nfs_opnum4.OP_LOCK);
      if (lock?.status === nfsstat4.NFS4_OK) {
        const s = lock.resok4.lock_stateid;
        this.keep(
          this.pools.stateids,
          { seqid: s.seqid, other: s.other.slice() },
          STATEID_POOL_MAX,
        );
      }
    }
  }

  private keep<T>(pool: T[], v: T, max: number): void {
    // The first entries (root, /export) stay; later ones are replaced at random.
    if (pool.length < max) pool.push(v);
    else pool[2 + (this.stats.replies % (max - 2))] = v;
  }

  /** Brings our slots (or the session) in line with what the server did (RFC 8881 §2.10.6.1). */
  private async settle(
    session: SessionState,
    slot: SlotState,
    index: number,
    built: Built,
    res: COMPOUND4res,
  ): Promise<void> {
    const seq = resultOf(res.resarray[0], nfs_opnum4.OP_SEQUENCE);
    if (seq === undefined || built.sessionEpoch !== session.epoch) return;
    if (built.ownSequenceFirst) this.exactlyOnce(slot, index, built, res);
    if (seq.sr_status === nfsstat4.NFS4_OK) {
      // Whoever sent it (a generated SEQUENCE may name our session too), the
      // server now holds this sequence ID on this slot.
      const ok = seq.sr_resok4;
      const held = session.slots[ok.sr_slotid];
      if (held && sameBytes(ok.sr_sessionid, session.id)) held.seqid = ok.sr_sequenceid;
      return;
    }
    // An error from a generated SEQUENCE says nothing about our session.
    if (!built.ownSequenceFirst) return;
    switch (seq.sr_status) {
      case nfsstat4.NFS4ERR_SEQ_MISORDERED:
      case nfsstat4.NFS4ERR_BADSESSION:
      case nfsstat4.NFS4ERR_DEADSESSION:
      case nfsstat4.NFS4ERR_CONN_NOT_BOUND_TO_SESSION: {
        const why = statusName(seq.sr_status);
        this.stats.lostSessions.set(why, (this.stats.lostSessions.get(why) ?? 0) + 1);
        if (seq.sr_status === nfsstat4.NFS4ERR_SEQ_MISORDERED) this.stats.misordered++;
        return this.recover(session.epoch);
      }
      default:
        return;
    }
  }

  /**
   * The exactly-once check: a request on our slot that the server took with
   * sa_cachethis must, when retried, get the same results back (RFC 8881
   * §2.10.6.1.3); SEQUENCE's own result may differ (it is built anew).
   */
  private exactlyOnce(slot: SlotState, index: number, built: Built, res: COMPOUND4res): void {
    const seq = resultOf(res.resarray[0], nfs_opnum4.OP_SEQUENCE);
    const took =
      seq?.sr_status === nfsstat4.NFS4_OK &&
      seq.sr_resok4.sr_slotid === slot.id &&
      seq.sr_resok4.sr_sequenceid === built.seqid;
    const expected = slot.cached?.seqid === built.seqid ? slot.cached : null;
    if (!built.retry) {
      slot.cached =
        took && built.cachethis
          ? { seqid: built.seqid, status: res.status, results: encodeResults(res) }
          : slot.cached?.seqid === built.seqid
            ? null
            : slot.cached;
      return;
    }
    if (expected === null) return;
    // The session itself is gone (another record destroyed it): nothing is left to replay.
    if (seq !== undefined && SESSION_GONE.has(seq.sr_status)) return;
    this.stats.replaysChecked++;
    if (!took) {
      this.fail(
        "replay_mismatch",
        index,
        built,
        `retry of a cached request answered SEQUENCE ${statusName(seq?.sr_status ?? -1)}`,
      );
    } else if (res.status !== expected.status || encodeResults(res) !== expected.results) {
      this.fail(
        "replay_mismatch",
        index,
        built,
        `retry replayed ${statusName(res.status)} with other results than the original's ${statusName(expected.status)}`,
      );
    }
  }

  /** Replaces the session of `epoch` by a new one (once, whoever asks first). */
  private recover(epoch: number): Promise<void> {
    if (this.session?.epoch !== epoch) return this.recovering ?? Promise.resolve();
    this.recovering ??= (async () => {
      try {
        await this.client?.compound([ops.destroySession(this.pools.sessionid)]).catch(() => {});
        await this.newSession();
      } catch (e) {
        this.fail("unrecoverable", -1, null, `cannot establish a new session: ${String(e)}`);
      } finally {
        this.recovering = null;
      }
    })();
    return this.recovering;
  }

  private async newSession(): Promise<void> {
    let session: ClientSession;
    try {
      if (!this.client) throw new Error("no client yet");
      session = await this.client.createSession();
    } catch {
      // The client ID may be gone too (DESTROY_CLIENTID, a lost connection): start over.
      this.client?.destroy();
      this.client = await NfsClient.connect({
        host: this.host,
        port: this.options.port,
        timeoutMs: this.timeoutMs,
      });
      await this.client.exchangeId(`fuzz-${process.pid}-${this.options.seed}-${++this.owners}`);
      // A new client has nothing to reclaim: say so (RFC 8881 §18.51), or every
      // OPEN of a new file waits out the grace period with NFS4ERR_GRACE. On a
      // session of its own, so the fuzzing session's slots start fresh.
      const setup = await this.client.createSession();
      await setup.compound([ops.reclaimComplete()]);
      await setup.destroy();
      session = await this.client.createSession();
    }
    this.pools.sessionid = session.id;
    this.pools.clientid = session.clientid;
    const slots = Math.max(1, Math.min(this.concurrency, session.fore.ca_maxrequests));
    this.session = {
      epoch: (this.session?.epoch ?? 0) + 1,
      id: session.id,
      slots: Array.from({ length: slots }, (_, id) => ({ id, seqid: 0, last: null, cached: null })),
    };
    this.stats.sessions++;
  }

  /** The root's and /export's filehandles, through the library's own session. */
  private async learnFilehandles(): Promise<void> {
    const client = this.client!;
    const session = await client.createSession();
    const r = await session.compound([
      ops.putrootfh(),
      ops.getfh(),
      ops.lookup("export"),
      ops.getfh(),
    ]);
    for (const res of r.resarray) {
      const fh = resultOf(res, nfs_opnum4.OP_GETFH);
      if (fh?.status === nfsstat4.NFS4_OK) this.pools.fhs.push(fh.resok4.object.slice());
    }
    await session.destroy();
  }

  private openSocket(): Promise<Socket> {
    return new Promise((resolve, reject) => {
      const s = connect({ host: this.host, port: this.options.port, noDelay: true });
      const assembler = new RecordAssembler(16 * 1024 * 1024);
      s.once("error", reject);
      s.once("connect", () => {
        s.off("error", reject);
        s.on("error", () => {});
        resolve(s);
      });
      s.on("data", (chunk: Buffer) => {
        assembler.push(chunk);
        for (let rec = assembler.next(); rec !== undefined; rec = assembler.next()) {
          if (rec.length < 4) continue;
          const xid = new DataView(rec.buffer, rec.byteOffset).getUint32(0);
          const waiter = this.pending.get(xid);
          this.pending.delete(xid);
          // Stored beyond this callback: copy out of the receive buffer.
          waiter?.(rec.slice());
        }
      });
      s.on("close", () => {
        for (const w of this.pending.values()) w(null);
        this.pending.clear();
      });
    });
  }

  private fail(kind: FailureKind, record: number, built: Built | null, detail: string): void {
    this.stats.failures.push({
      kind,
      seed: this.options.seed,
      record,
      detail,
      ops: built?.ops ?? "",
      mutations: built?.mutations ?? [],
      hex: built ? hex(built.record) : "",
    });
    if (FATAL.has(kind) || this.stats.failures.length >= this.maxFailures) this.stopped = true;
  }
}

/** A one-line summary of a failure, with what reproduces it. */
export function describeFailure(f: FuzzFailure): string {
  return (
    `${f.kind}: ${f.detail} — seed ${f.seed} record ${f.record} ` +
    `(reproduce: --seed ${f.seed} --only ${f.record}); ops ${f.ops}; mutations [${f.mutations.join("; ")}]`
  );
}

// A client session (RFC 8881 §2.10): the slot table, the connections it uses,
// and compound(), which prepends SEQUENCE with the next sequence ID of a free
// slot and settles the slot from the reply.
//
// When does a slot's sequence ID advance? (RFC 8881 §2.10.6.1, §18.46.3)
// - SEQUENCE succeeded: the server processed the request on this slot, whatever
//   the later operations answered → advance.
// - SEQUENCE failed with NFS4ERR_SEQ_FALSE_RETRY or NFS4ERR_RETRY_UNCACHED_REP:
//   the server's slot already holds our sequence ID (it took our request for a
//   retry) → advance, as the Linux client does.
// - SEQUENCE failed with a status meaning the server did not take the slot
//   (SLOT_UNTOUCHED below: BADSESSION, BADSLOT, SEQ_MISORDERED, DELAY, the
//   size/operation-count limits, …), or the COMPOUND was refused before
//   SEQUENCE ran, or the RPC layer refused the call → keep the sequence ID.
// - SEQUENCE failed with any other status → advance (RFC 8881 §2.10.6.1: only
//   the errors above say the slot was not processed; the Linux client does the
//   same for unknown errors). §18.46.3 says a server leaves the slot alone on
//   every SEQUENCE error; a server that does so only ever sends the listed ones.
// - No reply (connection lost, timeout) or an undecodable one: unknown → the slot is "in doubt" and,
//   before its next use, is resynchronised with a lone SEQUENCE carrying the
//   same sequence ID: success (the server never saw the lost request) or a
//   retry error (it did) both leave the server at that ID, so we advance.

import type {
  channel_attrs4,
  channel_dir_from_client4,
  COMPOUND4args,
  COMPOUND4res,
  CREATE_SESSION4resok,
  BIND_CONN_TO_SESSION4resok,
  nfs_argop4,
  nfs_resop4,
  SEQUENCE4res,
} from "../../generated/nfs4/index.js";
import {
  channel_dir_from_client4 as Dir,
  nfs_opnum4,
  nfsstat4,
} from "../../generated/nfs4/index.js";
import { RpcReplyError } from "../rpc/errors.js";
import { NfsClientClosedError, NfsError } from "./errors.js";
import * as ops from "./ops.js";
import { resultOf } from "../protocol/results.js";
import { ClientSlotTable } from "./slots.js";
import type { ClientSlot, SlotOutcome } from "./slots.js";
import type { ClientConnection } from "./transport.js";

/** A COMPOUND reply with its raw bytes. */
export interface RawReply {
  readonly res: COMPOUND4res;
  /**
   * The COMPOUND4res exactly as received, for byte-for-byte comparisons. A
   * large one is the received buffer itself, which the results' opaques are
   * views into: the caller may give it back with ClientConnection.releaseReply
   * once it keeps none of them.
   */
  readonly bytes: Uint8Array;
}

/** What a session needs from its client. */
export interface SessionHost {
  compoundRaw(args: COMPOUND4args, conn?: ClientConnection): Promise<RawReply>;
  addConnection(): Promise<ClientConnection>;
  /** Some open connection of the client; throws if there is none. */
  readonly connection: ClientConnection;
  readonly tag: Uint8Array;
}

export interface CompoundOptions {
  /** sa_cachethis: ask the server to keep the reply for retries. Default false. */
  readonly cachethis?: boolean;
  /** Use this slot (waiting until it is free) rather than any free one. */
  readonly slot?: number;
  /** Send on this connection rather than the next of the session's, round robin. */
  readonly conn?: ClientConnection;
}

export interface SessionReply extends RawReply {
  /** The COMPOUND's status: that of the first operation that failed, or NFS4_OK. */
  readonly status: nfsstat4;
  /** SEQUENCE's own result. */
  readonly sequence: SEQUENCE4res | undefined;
  /** The results of the caller's operations, SEQUENCE removed. */
  readonly resarray: nfs_resop4[];
  /** The request exactly as sent, SEQUENCE included: compoundRaw(args) retries it. */
  readonly args: COMPOUND4args;
  readonly slotid: number;
  readonly seqid: number;
  readonly conn: ClientConnection;
}

/** SEQUENCE errors after which the server's slot is as it was before the request. */
const SLOT_UNTOUCHED: ReadonlySet<number> = new Set([
  nfsstat4.NFS4ERR_BADSESSION,
  nfsstat4.NFS4ERR_DEADSESSION,
  nfsstat4.NFS4ERR_BADSLOT,
  nfsstat4.NFS4ERR_SEQ_MISORDERED,
  nfsstat4.NFS4ERR_DELAY,
  nfsstat4.NFS4ERR_REQ_TOO_BIG,
  nfsstat4.NFS4ERR_TOO_MANY_OPS,
  nfsstat4.NFS4ERR_REP_TOO_BIG,
  nfsstat4.NFS4ERR_REP_TOO_BIG_TO_CACHE,
  nfsstat4.NFS4ERR_CONN_NOT_BOUND_TO_SESSION,
  nfsstat4.NFS4ERR_BADXDR,
  nfsstat4.NFS4ERR_SEQUENCE_POS,
  nfsstat4.NFS4ERR_OP_NOT_IN_SESSION,
  nfsstat4.NFS4ERR_MINOR_VERS_MISMATCH,
]);

/** SEQUENCE errors meaning the server already holds the sequence ID we sent. */
const ALREADY_SEEN: ReadonlySet<number> = new Set([
  nfsstat4.NFS4ERR_SEQ_FALSE_RETRY,
  nfsstat4.NFS4ERR_RETRY_UNCACHED_REP,
]);

/** The rule of the header comment, for a reply whose first result should be SEQUENCE's. */
export function slotOutcomeOf(res: COMPOUND4res): SlotOutcome {
  const seq = resultOf(res.resarray[0], nfs_opnum4.OP_SEQUENCE);
  if (seq === undefined) return "keep";
  if (seq.sr_status === nfsstat4.NFS4_OK) return "advance";
  return SLOT_UNTOUCHED.has(seq.sr_status) ? "keep" : "advance";
}

/** The status and operation of the result that ended a COMPOUND. */
export function failureOf(res: COMPOUND4res): NfsError | null {
  if (res.status === nfsstat4.NFS4_OK) return null;
  const last = res.resarray[res.resarray.length - 1];
  return new NfsError(res.status, last === undefined ? null : last.resop);
}

/** How long a resynchronisation waits between NFS4ERR_DELAY answers, and how often it tries. */
const RESYNC_DELAY_MS = 20;
const RESYNC_ATTEMPTS = 50;

export class ClientSession {
  readonly id: Uint8Array;
  readonly clientid: bigint;
  readonly flags: number;
  readonly fore: channel_attrs4;
  readonly back: channel_attrs4;
  readonly slots: ClientSlotTable;
  /** sr_status_flags of the last successful SEQUENCE (CB_PATH_DOWN, lease state, …). */
  statusFlags = 0;
  private readonly host: SessionHost;
  private conns: ClientConnection[];
  private nextConn = 0;
  private destroyed = false;

  constructor(
    host: SessionHost,
    clientid: bigint,
    resok: CREATE_SESSION4resok,
    conn: ClientConnection,
  ) {
    this.host = host;
    this.clientid = clientid;
    this.id = new Uint8Array(resok.csr_sessionid);
    this.flags = resok.csr_flags;
    this.fore = resok.csr_fore_chan_attrs;
    this.back = resok.csr_back_chan_attrs;
    this.slots = new ClientSlotTable(resok.csr_fore_chan_attrs.ca_maxrequests);
    // CREATE_SESSION bound the connection it came on.
    this.conns = [conn];
  }

  /** The session's open connections. */
  get connections(): readonly ClientConnection[] {
    return this.conns.filter((c) => c.open);
  }

  /**
   * Sends SEQUENCE followed by `ops` on a free slot, and settles the slot from
   * the reply. Returns the statuses, never throws for an NFS error; throws for
   * transport failures (RpcTimeoutError, RpcConnectionClosedError) and RPC-level
   * refusals (RpcReplyError).
   */
  async compound(
    argops: readonly nfs_argop4[],
    options: CompoundOptions = {},
  ): Promise<SessionReply> {
    if (this.destroyed) throw new NfsClientClosedError("the session");
    const slot = await this.slots.acquire(options.slot);
    let outcome: SlotOutcome = "keep";
    try {
      const conn = options.conn ?? this.pickConnection();
      if (slot.inDoubt) await this.resync(slot, conn);
      const args = this.request(slot, argops, options.cachethis ?? false);
      let raw: RawReply;
      try {
        raw = await this.host.compoundRaw(args, conn);
      } catch (e) {
        // Refused at the RPC level, the COMPOUND never ran; anything else (no
        // reply, or one we could not decode) leaves us not knowing.
        if (!(e instanceof RpcReplyError)) outcome = "doubt";
        throw e;
      }
      outcome = slotOutcomeOf(raw.res);
      const sequence = resultOf(raw.res.resarray[0], nfs_opnum4.OP_SEQUENCE);
      if (sequence?.sr_status === nfsstat4.NFS4_OK) {
        // The server bound a connection new to the session: use it from now on.
        if (!this.conns.includes(conn)) this.conns.push(conn);
        const ok = sequence.sr_resok4;
        this.statusFlags = ok.sr_status_flags;
        this.slots.applyServerLimits(ok.sr_highest_slotid, ok.sr_target_highest_slotid);
      }
      return {
        ...raw,
        status: raw.res.status,
        sequence,
        resarray: raw.res.resarray.slice(sequence === undefined ? 0 : 1),
        args,
        slotid: slot.id,
        seqid: slot.seqid,
        conn,
      };
    } finally {
      this.slots.release(slot, outcome);
    }
  }

  /** SEQUENCE alone: renews the lease, binds the connection, reports the status flags. */
  sequenceOnly(options: CompoundOptions = {}): Promise<SessionReply> {
    return this.compound([], options);
  }

  /**
   * Opens another TCP connection to the server for this session. The server
   * binds it to the fore channel on the first SEQUENCE sent over it
   * (RFC 8881 §2.10.3.1); until then it is only ours.
   */
  async addConnection(): Promise<ClientConnection> {
    const conn = await this.host.addConnection();
    this.conns.push(conn);
    return conn;
  }

  /** Binds `conn` explicitly with BIND_CONN_TO_SESSION (sent alone on that connection). */
  async bindConnection(
    conn: ClientConnection,
    dir: channel_dir_from_client4 = Dir.CDFC4_FORE_OR_BOTH,
  ): Promise<BIND_CONN_TO_SESSION4resok> {
    const { res } = await this.host.compoundRaw(
      { tag: this.host.tag, minorversion: 1, argarray: [ops.bindConnToSession(this.id, dir)] },
      conn,
    );
    const r = resultOf(res.resarray[0], nfs_opnum4.OP_BIND_CONN_TO_SESSION);
    if (r === undefined || r.bctsr_status !== nfsstat4.NFS4_OK)
      throw failureOf(res) ?? new NfsError(nfsstat4.NFS4ERR_SERVERFAULT, null, "BIND_CONN");
    if (!this.conns.includes(conn)) this.conns.push(conn);
    return r.bctsr_resok4;
  }

  /** DESTROY_SESSION in this session; afterwards compound() refuses to run. */
  async destroy(): Promise<void> {
    const reply = await this.compound([ops.destroySession(this.id)]);
    const err = failureOf(reply.res);
    if (err) throw err;
    this.forget();
  }

  /** Marks the session unusable locally (the client closed, or it was destroyed). */
  forget(): void {
    this.destroyed = true;
    this.slots.close(new NfsClientClosedError("the session"));
  }

  private request(
    slot: ClientSlot,
    argops: readonly nfs_argop4[],
    cachethis: boolean,
  ): COMPOUND4args {
    return {
      tag: this.host.tag,
      minorversion: 1,
      argarray: [
        ops.sequence({
          sa_sessionid: this.id,
          sa_sequenceid: slot.seqid,
          sa_slotid: slot.id,
          sa_highest_slotid: Math.max(this.slots.highestBusy, slot.id),
          sa_cachethis: cachethis,
        }),
        ...argops,
      ],
    };
  }

  /** The session's connections in turn; the client's if all of the session's have closed. */
  private pickConnection(): ClientConnection {
    const open = this.connections;
    if (open.length === 0) {
      const conn = this.host.connection;
      this.conns = [conn];
      return conn;
    }
    this.conns = [...open];
    return open[this.nextConn++ % open.length]!;
  }

  /** Brings an in-doubt slot back in step with the server (see the header comment). */
  private async resync(slot: ClientSlot, conn: ClientConnection): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      const { res } = await this.host.compoundRaw(this.request(slot, [], false), conn);
      const seq = resultOf(res.resarray[0], nfs_opnum4.OP_SEQUENCE);
      const status = seq?.sr_status ?? res.status;
      if (status === nfsstat4.NFS4_OK || ALREADY_SEEN.has(status)) {
        slot.seqid = (slot.seqid + 1) >>> 0;
        slot.inDoubt = false;
        return;
      }
      // DELAY: the lost request is still running on the server; wait for it.
      if (status !== nfsstat4.NFS4ERR_DELAY || attempt >= RESYNC_ATTEMPTS)
        throw new NfsError(status, nfs_opnum4.OP_SEQUENCE, `resynchronising slot ${slot.id}`);
      await new Promise((r) => setTimeout(r, RESYNC_DELAY_MS));
    }
  }
}

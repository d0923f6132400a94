// The server's side of the NFSv4.1 back channel (RFC 8881 §2.10.3.1, §20):
// sends CB_COMPOUND(CB_SEQUENCE, ...ops) to a client over a connection bound
// to the back channel of one of its sessions, probes each back channel with
// CB_NULL when it (re)appears, and tells SEQUENCE what to report about it
// (SEQ4_STATUS_CB_PATH_DOWN[_SESSION], SEQ4_STATUS_BACKCHANNEL_FAULT).
//
// Every callback is retried until the client answers it, its deadline passes
// or it is cancelled; the retry rules follow Linux nfsd's
// nfsd4_cb_sequence_done() (2025 rework):
// - no reply (timeout, connection lost): the slot keeps its sequence ID and the
//   call is resent with the same slot and sequence ID on another connection of
//   the session, or once the client binds one (BIND_CONN_TO_SESSION) or
//   re-offers the channel; meanwhile the session reports BACKCHANNEL_FAULT.
//   If the session cannot take it but another session of the client can, the
//   call moves there (a new request: the slot is left as it was);
// - NFS4ERR_DELAY: the slot is left as it was; resent after
//   callbackRetryDelayMs on whatever slot is free then;
// - NFS4ERR_BADSLOT: the slot is retired; resent at once on another;
// - NFS4ERR_SEQ_MISORDERED: the slot restarts at sequence ID 1 (retired if it
//   already was at 1); resent at once;
// - NFS4ERR_RETRY_UNCACHED_REP / SEQ_FALSE_RETRY (the client already holds
//   this sequence ID: it saw a send whose reply was lost): the slot advances;
//   resent at once;
// - NFS4ERR_BADSESSION: the session is not used for callbacks until the client
//   re-offers it; the call moves to another session of the client, or waits;
// - the session destroyed: calls on it (even sent and unanswered ones) move to
//   another session of the client, or wait for one (pynfs DSESS9003).
// Calls never block the fore channel: a connection's call() hands the record
// to its writer and returns.
//
// Memory: at most maxCallbacksPerClient unfinished calls per client, each
// holding its operations and two timers; a back channel holds a slot table of
// at most maxBackchannelSlots slots.

import type { Logger } from "pino";
import type { referring_call_list4 } from "../../generated/nfs4/index.js";
import {
  CB_COMPOUND,
  CB_NULL,
  NFS_CB,
  SEQ4_STATUS_BACKCHANNEL_FAULT,
  SEQ4_STATUS_CB_PATH_DOWN,
  SEQ4_STATUS_CB_PATH_DOWN_SESSION,
  nfsstat4,
  nfsstat4_names,
} from "../../generated/nfs4/index.js";
import { RpcConnectionClosedError, RpcReplyError, RpcTimeoutError } from "../rpc/errors.js";
import type { RpcConnection } from "../rpc/types.js";
import type { ClientRecord } from "../state/client.js";
import { sameBytes } from "../state/keys.js";
import type { StateManager } from "../state/manager.js";
import type { Session } from "../state/session.js";
import { XdrError } from "../xdr/index.js";
import type { XdrReader } from "../xdr/index.js";
import type { CbSlot, CbSlotOutcome } from "./cb-slot-table.js";
import type { CbCompoundReply } from "./cb-compound.js";
import { decodeCbCompoundReply, encodeCbCompound } from "./cb-compound.js";
import type { CallbackRequest, CallbackResult, CallbackStats, Flight } from "./call.js";
import { PendingCall } from "./call.js";
import { BackChannel, type ChannelState } from "./channel.js";
import { CB_NULL_TYPE, CallbackCounters, callbackType } from "./counters.js";
import type { CallbackSettings } from "./settings.js";

export type { CallbackRequest, CallbackResult, CallbackStats } from "./call.js";
export type { CallbackSettings } from "./settings.js";

export interface CallbackServiceOptions {
  readonly settings: CallbackSettings;
  readonly log: Logger;
  readonly state: StateManager;
}

/** setTimeout's largest delay; a larger deadline would fire at once. */
const MAX_TIMER_MS = 0x7fffffff;
/** An RPC CALL header without the credential body: xid … cred flavor and length, verifier (RFC 5531 §9). */
const CALL_HEADER_BYTES = 40;
const EMPTY = new Uint8Array(0);
/**
 * The most a callback takes besides its operations after CB_SEQUENCE: the
 * RPC header, an AUTH_SYS credential at its largest (400 bytes, RFC 5531
 * §8.2), the CB_COMPOUND header and CB_SEQUENCE with one referring call.
 */
const CB_FRAMING_BYTES = CALL_HEADER_BYTES + 400 + 16 + 64 + 32;

/** The unfinished calls of one client, in the order they were sent (a Set keeps insertion order). */
interface ClientCalls {
  readonly calls: Set<PendingCall>;
  pumpScheduled: boolean;
  /** The queue-full condition has been logged (once per burst). */
  fullLogged: boolean;
}

/**
 * NFS4ERR_BADSESSION answers in a row, callbackRetryDelayMs apart, before a
 * session's back channel is given up (until the client offers it again).
 */
const BAD_SESSION_ANSWERS = 3;

/** A session's back channel, as dfsctl shows it. */
export interface BackChannelReport {
  readonly state: ChannelState;
  /** A callback can be sent and nothing says the client does not answer. */
  readonly usable: boolean;
  readonly faulted: boolean;
  readonly badSession: boolean;
  /** The connection the next callback would use; null: none bound to the back channel and open. */
  readonly connection: number | null;
  readonly slots: number;
  readonly lastError: { readonly at: number; readonly what: string } | null;
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export class CallbackService {
  private readonly settings: CallbackSettings;
  private readonly log: Logger;
  private readonly state: StateManager;
  /** Per session, created on first use; a destroyed session's channel goes with it. */
  private readonly channels = new WeakMap<Session, BackChannel>();
  private readonly queues = new Map<ClientRecord, ClientCalls>();
  private closed = false;
  private counters = {
    sent: 0,
    answered: 0,
    timedOut: 0,
    retried: 0,
    unreachable: 0,
    cancelled: 0,
    probes: 0,
  };
  /** Callbacks by type and outcome (the metrics endpoint's). */
  readonly byType = new CallbackCounters();

  constructor(options: CallbackServiceOptions) {
    this.settings = options.settings;
    this.log = options.log;
    this.state = options.state;
  }

  // --- the API -----------------------------------------------------------------

  /**
   * Sends CB_COMPOUND(CB_SEQUENCE, ...ops) to `client` over a back channel of
   * one of its sessions; retries per the rules above until answered, the
   * deadline, or cancellation. Never rejects.
   */
  send(client: ClientRecord, request: CallbackRequest): Promise<CallbackResult> {
    if (this.closed || request.signal?.aborted || this.state.client(client.clientid) !== client) {
      this.counters.cancelled++;
      this.byType.add(callbackType(request.ops), "cancelled");
      return Promise.resolve({ kind: "cancelled" });
    }
    const q = this.queueFor(client);
    if (q.calls.size >= this.settings.maxCallbacksPerClient || !(request.deadlineMs > 0)) {
      if (q.calls.size > 0 && !q.fullLogged) {
        q.fullLogged = true;
        this.log.warn(
          {
            clientid: client.clientid.toString(16),
            maxCallbacksPerClient: this.settings.maxCallbacksPerClient,
          },
          "client has maxCallbacksPerClient callbacks unfinished; refusing more",
        );
      }
      this.counters.unreachable++;
      this.byType.add(callbackType(request.ops), "failed");
      if (q.calls.size === 0) this.queues.delete(client);
      return Promise.resolve({ kind: "unreachable" });
    }
    // Copies: the caller's values may be views into a received record.
    const referring = request.referring && {
      sessionId: new Uint8Array(request.referring.sessionId),
      slotid: request.referring.slotid,
      sequenceid: request.referring.sequenceid,
    };
    return new Promise<CallbackResult>((resolve) => {
      const call = new PendingCall(client, [...request.ops], referring, resolve);
      q.calls.add(call);
      call.deadlineTimer = setTimeout(
        () => this.finish(call, { kind: "unreachable" }),
        Math.min(request.deadlineMs, MAX_TIMER_MS),
      );
      call.deadlineTimer.unref();
      const signal = request.signal;
      if (signal) {
        const onAbort = (): void => this.finish(call, { kind: "cancelled" });
        signal.addEventListener("abort", onAbort, { once: true });
        call.removeAbortListener = () => signal.removeEventListener("abort", onAbort);
      }
      this.schedulePump(client);
    });
  }

  /**
   * SEQUENCE's sr_status_flags contributions for this session (RFC 8881
   * §18.46.3): CB_PATH_DOWN_SESSION when it has no usable back channel,
   * CB_PATH_DOWN when no session of the client has one, BACKCHANNEL_FAULT
   * while a call on it went unanswered and the client has not answered since.
   */
  statusFlags(session: Session): number {
    const ch = this.channelFor(session);
    let flags = 0;
    if (!ch.usable) {
      flags |= SEQ4_STATUS_CB_PATH_DOWN_SESSION;
      const others = this.state.clientSessions(session.client).values();
      if (![...others].some((s) => this.channelFor(s).usable)) flags |= SEQ4_STATUS_CB_PATH_DOWN;
    }
    if (ch.faulted) flags |= SEQ4_STATUS_BACKCHANNEL_FAULT;
    return flags >>> 0;
  }

  /**
   * True when some session of the client has a back channel that is bound,
   * has usable security, and is not known to fail: its probe (or last call)
   * succeeded or is still under way. Clients open files right after
   * CREATE_SESSION, before the CB_NULL probe is answered (the Linux client,
   * pynfs DSESS9002); a delegation granted then and never recallable is
   * revoked within a lease like any unreturned one.
   */
  canCallBack(client: ClientRecord): boolean {
    for (const s of this.state.clientSessions(client).values())
      if (this.channelFor(s).usable) return true;
    return false;
  }

  /**
   * The most bytes of operations after CB_SEQUENCE that one call to `client`
   * can carry on any of its back channels (csr_back_chan_attrs'
   * ca_maxrequestsize, less the largest RPC header, credential and
   * CB_COMPOUND/CB_SEQUENCE framing); 0 when it has no session. Lets a
   * caller split what it sends into calls the client accepts.
   */
  operationBudget(client: ClientRecord): number {
    let smallest = Infinity;
    for (const s of this.state.clientSessions(client).values())
      smallest = Math.min(smallest, s.back.ca_maxrequestsize);
    return smallest === Infinity ? 0 : Math.max(0, smallest - CB_FRAMING_BYTES);
  }

  /**
   * The session's back channel may have changed (CREATE_SESSION with
   * CONN_BACK_CHAN, BIND_CONN_TO_SESSION for the back channel,
   * BACKCHANNEL_CTL): probe it with CB_NULL, then send the calls waiting for
   * a back channel. Both happen after the current request's reply is on its
   * way, so the client knows the session before its first callback. `conn`,
   * the connection just bound, is the one probed if it is still bound.
   */
  backChannelChanged(session: Session, conn?: RpcConnection): void {
    if (this.closed || session.destroyed) return;
    const ch = this.channelFor(session);
    ch.probeOn = conn ?? null;
    // The client offers the channel (again): it may be used, and a held call
    // may be resent on a connection that got it before.
    ch.badSession = false;
    ch.badSessionAnswers = 0;
    for (const call of this.queues.get(session.client)?.calls ?? [])
      if (call.held?.channel === ch) call.reuseTried = true;
    const generation = ++ch.probeGeneration;
    // Not unref'd: an unref'd immediate may wait for unrelated I/O to run.
    setImmediate(() => this.probe(ch, generation));
  }

  /**
   * DESTROY_SESSION / client teardown: calls in flight on it (even ones sent
   * and not answered) move to another session of the client, or wait for one.
   */
  sessionDestroyed(session: Session): void {
    const ch = this.channels.get(session);
    if (ch === undefined) return;
    this.channels.delete(session);
    ch.probeGeneration++;
    for (const call of this.queues.get(session.client)?.calls ?? []) {
      // Its answer, if it ever comes, is about a session that no longer exists.
      if (call.flight?.channel === ch) call.flight = null;
      if (call.held?.channel === ch) {
        call.held = null;
        call.tried.clear();
      }
    }
    this.schedulePump(session.client);
  }

  /** The client record is gone: its calls finish with "cancelled". */
  clientRemoved(client: ClientRecord): void {
    const q = this.queues.get(client);
    if (q === undefined) return;
    for (const call of [...q.calls]) this.finish(call, { kind: "cancelled" });
    this.queues.delete(client);
  }

  /** What the server knows of a session's back channel now (for the control API). */
  channelReport(session: Session): BackChannelReport {
    const ch = this.channelFor(session);
    return {
      state: ch.state,
      usable: ch.usable,
      faulted: ch.faulted,
      badSession: ch.badSession,
      connection: ch.connection()?.id ?? null,
      slots: ch.table.size,
      lastError: ch.lastError,
    };
  }

  /** The counters since start; inFlight and waiting of `client` alone when given. */
  stats(client?: ClientRecord): CallbackStats {
    let inFlight = 0;
    let waiting = 0;
    const queues = client === undefined ? [...this.queues.values()] : [this.queues.get(client)];
    for (const q of queues)
      for (const c of q?.calls ?? []) {
        if (c.flight !== null) inFlight++;
        else waiting++;
      }
    return { ...this.counters, inFlight, waiting };
  }

  /** Server shutdown: every call finishes "cancelled"; no timer is left. */
  close(): void {
    this.closed = true;
    for (const client of [...this.queues.keys()]) this.clientRemoved(client);
  }

  // --- channels -----------------------------------------------------------------

  private channelFor(session: Session): BackChannel {
    let ch = this.channels.get(session);
    if (ch === undefined) {
      ch = new BackChannel(session);
      // A destroyed session's channel is never kept (sessionDestroyed may have run already).
      if (!session.destroyed) this.channels.set(session, ch);
    }
    return ch;
  }

  /** Sends CB_NULL with the session's program and security, then the calls waiting. */
  private probe(ch: BackChannel, generation: number): void {
    if (this.closed || generation !== ch.probeGeneration || ch.session.destroyed) return;
    const session = ch.session;
    const client = session.client;
    const cred = ch.credential();
    if (cred === null) {
      ch.state = "down";
      ch.failed("no usable callback security flavor");
      if (!ch.securityLogged) {
        ch.securityLogged = true;
        this.log.warn(
          {
            clientid: client.clientid.toString(16),
            flavors: session.cbSecParms.map((p) => p.cb_secflavor),
          },
          "no usable callback security flavor (AUTH_NONE or AUTH_SYS) for the session: its back channel is down",
        );
      }
      this.schedulePump(client);
      return;
    }
    const wanted = ch.probeOn;
    ch.probeOn = null;
    const conn =
      wanted !== null && wanted.open && session.connections.get(wanted.id)?.back === true
        ? wanted
        : ch.connection();
    if (conn === null) {
      this.schedulePump(client);
      return;
    }
    ch.state = "unknown";
    this.counters.probes++;
    this.byType.add(CB_NULL_TYPE, "sent");
    conn
      .call({
        prog: session.cbProgram,
        vers: NFS_CB,
        proc: CB_NULL,
        cred,
        args: EMPTY,
        timeoutMs: this.settings.callbackTimeoutMs,
      })
      .then(
        () => {
          this.byType.add(CB_NULL_TYPE, "answered");
          if (generation !== ch.probeGeneration) return;
          ch.answered();
          this.schedulePump(client);
        },
        (err: unknown) => {
          this.byType.add(CB_NULL_TYPE, err instanceof RpcTimeoutError ? "timeout" : "failed");
          if (generation !== ch.probeGeneration) return;
          // The connection went: probe another one, if the session has it.
          if (err instanceof RpcConnectionClosedError && ch.connection() !== null) {
            this.probe(ch, generation);
            return;
          }
          ch.state = "down";
          ch.failed(`CB_NULL probe failed: ${errorText(err)}`);
          this.log.info(
            { clientid: client.clientid.toString(16), prog: session.cbProgram, err },
            "CB_NULL probe failed: back channel down",
          );
          this.schedulePump(client);
        },
      );
    // The calls waiting go right after the probe, on the same connection.
    this.schedulePump(client);
  }

  /**
   * The best channel of the client's sessions that can take a call now, with
   * a slot taken on it: known good first, then not yet probed, then suspect.
   */
  private pickChannel(
    client: ClientRecord,
    exclude?: BackChannel,
    exceptConns?: ReadonlySet<number>,
  ): { channel: BackChannel; slot: CbSlot; conn: RpcConnection } | null {
    const candidates = [...this.state.clientSessions(client).values()]
      .map((s) => this.channelFor(s))
      .filter((ch) => ch !== exclude && ch.sendable)
      .sort((a, b) => a.rank - b.rank);
    for (const channel of candidates) {
      const conn = channel.connection(exceptConns);
      if (conn === null) continue;
      const slot = channel.table.acquire();
      if (slot !== null) return { channel, slot, conn };
    }
    return null;
  }

  // --- calls ----------------------------------------------------------------------

  private queueFor(client: ClientRecord): ClientCalls {
    let q = this.queues.get(client);
    if (q === undefined) {
      q = { calls: new Set(), pumpScheduled: false, fullLogged: false };
      this.queues.set(client, q);
    }
    return q;
  }

  /** Dispatches the client's waiting calls soon (after the current request's reply). */
  private schedulePump(client: ClientRecord): void {
    const q = this.queues.get(client);
    if (q === undefined || q.pumpScheduled || this.closed) return;
    q.pumpScheduled = true;
    setImmediate(() => {
      q.pumpScheduled = false;
      this.pump(client);
    });
  }

  /** Sends every waiting call that has a channel and a slot now, oldest first. */
  private pump(client: ClientRecord): void {
    if (this.closed) return;
    const q = this.queues.get(client);
    if (q === undefined) return;
    // Once a call without a held slot finds no channel and slot, the later ones
    // will not either: only calls holding a slot are still tried.
    let room = true;
    for (const call of q.calls) {
      if (!call.ready || (!room && call.held === null)) continue;
      if (!this.dispatch(call) && call.held === null) room = false;
    }
  }

  /** Sends `call` if a channel, connection and slot can take it now; false if it must wait. */
  private dispatch(call: PendingCall): boolean {
    const held = call.held;
    if (held !== null) {
      const own = held.channel;
      if (own.sendable) {
        const conn = own.connection(call.tried) ?? (call.reuseTried ? own.connection() : null);
        if (conn !== null) {
          this.transmit(call, own, held.slot, conn);
          return true;
        }
      }
      // Its session cannot take the resend now; another session of the client
      // may, on a connection that has not already failed to answer it.
      const other = this.pickChannel(call.client, own, call.tried);
      if (other === null) return false;
      if (!own.session.destroyed) own.table.release(held.slot.slotid, "keep");
      call.held = null;
      call.tried.clear();
      call.reuseTried = false;
      this.transmit(call, other.channel, other.slot, other.conn);
      return true;
    }
    const picked = this.pickChannel(call.client);
    if (picked === null) return false;
    this.transmit(call, picked.channel, picked.slot, picked.conn);
    return true;
  }

  private transmit(
    call: PendingCall,
    channel: BackChannel,
    slot: CbSlot,
    conn: RpcConnection,
  ): void {
    const session = channel.session;
    const cred = channel.credential();
    let args: Uint8Array;
    try {
      if (cred === null) throw new Error("transmit on a channel without security");
      args = encodeCbCompound({
        sessionId: session.id,
        minorVersion: session.minorVersion,
        slot,
        highestSlotId: channel.table.highestSlotId,
        referring: this.referringFor(call),
        ops: call.ops,
      });
    } catch (err) {
      channel.table.release(slot.slotid, "keep");
      call.held = null;
      this.log.error(
        { err, clientid: call.client.clientid.toString(16) },
        "cannot encode callback",
      );
      this.finish(call, { kind: "unreachable" });
      return;
    }
    // What the client said it accepts (csr_back_chan_attrs): a larger call would be refused.
    const size = CALL_HEADER_BYTES + ((cred.body.length + 3) & ~3) + args.length;
    if (
      size > session.back.ca_maxrequestsize ||
      call.ops.length + 1 > session.back.ca_maxoperations
    ) {
      channel.table.release(slot.slotid, "keep");
      call.held = null;
      this.log.warn(
        {
          clientid: call.client.clientid.toString(16),
          size,
          ops: call.ops.length + 1,
          maxrequestsize: session.back.ca_maxrequestsize,
          maxoperations: session.back.ca_maxoperations,
        },
        "callback exceeds the client's back-channel limits",
      );
      this.finish(call, { kind: "unreachable" });
      return;
    }
    const flight: Flight = { call, channel, slot, conn };
    call.flight = flight;
    call.held = null;
    if (call.sends > 0) this.counters.retried++;
    call.sends++;
    this.counters.sent++;
    this.byType.add(callbackType(call.ops), "sent");
    conn
      .call({
        prog: session.cbProgram,
        vers: NFS_CB,
        proc: CB_COMPOUND,
        cred,
        args,
        timeoutMs: this.settings.callbackTimeoutMs,
      })
      .then(
        (r) => this.onReply(flight, r),
        (err: unknown) => this.onFailure(flight, err),
      );
  }

  /** csa_referring_call_lists: the causing request, if it was on a session of the same client. */
  private referringFor(call: PendingCall): referring_call_list4[] {
    const r = call.referring;
    if (r === undefined) return [];
    if (this.state.session(r.sessionId)?.client !== call.client) return [];
    return [
      {
        rcl_sessionid: r.sessionId,
        rcl_referring_calls: [{ rc_sequenceid: r.sequenceid, rc_slotid: r.slotid }],
      },
    ];
  }

  /** The flight's RPC settled: true if its call still waits on it. */
  private land(flight: Flight): boolean {
    const call = flight.call;
    const live = call.flight === flight && !call.done;
    if (call.flight === flight) call.flight = null;
    return live;
  }

  /** Leaves the flight's slot as `outcome` says (nothing to do on a destroyed session). */
  private settleSlot(flight: Flight, outcome: CbSlotOutcome): void {
    if (!flight.channel.session.destroyed)
      flight.channel.table.release(flight.slot.slotid, outcome);
  }

  private onReply(flight: Flight, r: XdrReader): void {
    const live = this.land(flight);
    const { call, channel, slot } = flight;
    let reply: CbCompoundReply;
    try {
      reply = decodeCbCompoundReply(r);
    } catch (err) {
      if (!(err instanceof XdrError)) throw err;
      this.log.info(
        { err, clientid: call.client.clientid.toString(16) },
        "undecodable CB_COMPOUND reply",
      );
      this.noReply(flight, live);
      return;
    }
    if (reply.kind === "ok") {
      const s = reply.sequence;
      if (
        !sameBytes(s.csr_sessionid, channel.session.id) ||
        s.csr_slotid !== slot.slotid ||
        s.csr_sequenceid !== slot.seqid
      ) {
        // The sequence information is untrustworthy (nfsd: ESERVERFAULT): as if unanswered.
        this.log.info(
          { clientid: call.client.clientid.toString(16), slot: slot.slotid, seqid: slot.seqid },
          "CB_SEQUENCE reply names another session, slot or sequence ID",
        );
        this.noReply(flight, live);
        return;
      }
      this.settleSlot(flight, "advance");
      if (!channel.session.destroyed)
        channel.table.applyClientLimits(s.csr_highest_slotid, s.csr_target_highest_slotid);
      channel.answered();
      channel.badSessionAnswers = 0;
      if (live)
        this.finish(call, { kind: "answered", status: reply.status, results: reply.results });
      this.schedulePump(call.client);
      return;
    }
    // The client answered: it is reachable.
    channel.answered();
    if (reply.kind === "no_sequence") {
      this.settleSlot(flight, "keep");
      if (live) this.finish(call, { kind: "answered", status: reply.status, results: [] });
      this.schedulePump(call.client);
      return;
    }
    switch (reply.status) {
      case nfsstat4.NFS4ERR_DELAY:
        this.settleSlot(flight, "keep");
        if (live) this.retryLater(call);
        break;
      case nfsstat4.NFS4ERR_BADSLOT:
        this.settleSlot(flight, "retire");
        break;
      case nfsstat4.NFS4ERR_SEQ_MISORDERED:
        // Resynchronise at 1; a slot that was at 1 already cannot be resynchronised.
        this.settleSlot(flight, slot.seqid === 1 ? "retire" : "resync");
        break;
      case nfsstat4.NFS4ERR_RETRY_UNCACHED_REP:
      case nfsstat4.NFS4ERR_SEQ_FALSE_RETRY:
        this.settleSlot(flight, "advance");
        break;
      case nfsstat4.NFS4ERR_BADSESSION:
      case nfsstat4.NFS4ERR_DEADSESSION:
        this.settleSlot(flight, "keep");
        // The call moves to another session of the client, if it has one.
        channel.badSession = true;
        channel.failed(`CB_SEQUENCE answered ${nfsstat4_names[reply.status] ?? reply.status}`);
        // The client may not have processed our CREATE_SESSION reply yet: the
        // session is tried again a little later, a few times, before it is
        // given up (until the client offers it again).
        if (++channel.badSessionAnswers < BAD_SESSION_ANSWERS) {
          const retry = setTimeout(() => {
            if (this.closed || channel.session.destroyed) return;
            channel.badSession = false;
            this.schedulePump(call.client);
          }, this.settings.callbackRetryDelayMs);
          retry.unref();
          break;
        }
        this.log.info(
          { clientid: call.client.clientid.toString(16), status: reply.status },
          "client does not know the session: not using its back channel",
        );
        break;
      default:
        this.settleSlot(flight, "keep");
        if (live) this.finish(call, { kind: "answered", status: reply.status, results: [] });
        break;
    }
    this.schedulePump(call.client);
  }

  private onFailure(flight: Flight, err: unknown): void {
    const live = this.land(flight);
    const { call, channel } = flight;
    channel.failed(errorText(err));
    if (err instanceof RpcTimeoutError) {
      this.counters.timedOut++;
      this.byType.add(callbackType(call.ops), "timeout");
    }
    if (err instanceof RpcConnectionClosedError || err instanceof RpcTimeoutError) {
      this.noReply(flight, live);
      return;
    }
    this.settleSlot(flight, "keep");
    if (err instanceof RpcReplyError) {
      // Refused at the RPC level (PROG_UNAVAIL, AUTH_ERROR, …): CB_SEQUENCE never ran.
      if (channel.state !== "down")
        this.log.info(
          { clientid: call.client.clientid.toString(16), err },
          "CB_COMPOUND refused: back channel down",
        );
      channel.state = "down";
      if (live) this.retryLater(call);
      this.schedulePump(call.client);
      return;
    }
    this.log.error({ err, clientid: call.client.clientid.toString(16) }, "callback failed");
    if (live) this.finish(call, { kind: "unreachable" });
  }

  /**
   * No reply (timeout, connection lost, nothing usable in the reply): the
   * client may or may not have seen the call, so its slot keeps the sequence
   * ID and the call holds it for the resend, on another connection.
   */
  private noReply(flight: Flight, live: boolean): void {
    const { call, channel, slot, conn } = flight;
    if (!channel.session.destroyed) channel.faulted = true;
    if (live && !channel.session.destroyed) {
      call.held = { channel, slot };
      call.tried.add(conn.id);
      call.reuseTried = false;
    } else {
      this.settleSlot(flight, "keep");
    }
    this.schedulePump(call.client);
  }

  private retryLater(call: PendingCall): void {
    call.retryTimer = setTimeout(() => {
      call.retryTimer = null;
      this.pump(call.client);
    }, this.settings.callbackRetryDelayMs);
    call.retryTimer.unref();
  }

  private finish(call: PendingCall, result: CallbackResult): void {
    if (call.done) return;
    call.done = true;
    if (call.deadlineTimer !== null) clearTimeout(call.deadlineTimer);
    if (call.retryTimer !== null) clearTimeout(call.retryTimer);
    call.retryTimer = null;
    call.removeAbortListener?.();
    const held = call.held;
    if (held !== null && !held.channel.session.destroyed)
      held.channel.table.release(held.slot.slotid, "keep");
    call.held = null;
    // An RPC still outstanding settles its slot when it lands.
    call.flight = null;
    const q = this.queues.get(call.client);
    q?.calls.delete(call);
    // No entry is kept for a client with nothing unfinished.
    if (q?.calls.size === 0) this.queues.delete(call.client);
    switch (result.kind) {
      case "answered":
        this.counters.answered++;
        this.byType.add(
          callbackType(call.ops),
          result.status === nfsstat4.NFS4_OK ? "answered" : "failed",
        );
        break;
      case "unreachable":
        this.counters.unreachable++;
        this.byType.add(callbackType(call.ops), "failed");
        break;
      case "cancelled":
        this.counters.cancelled++;
        this.byType.add(callbackType(call.ops), "cancelled");
        break;
    }
    call.resolve(result);
    this.schedulePump(call.client);
  }
}

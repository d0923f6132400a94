// The whole pipeline of `dfsctl decode`: capture file → frames → TCP segments
// of connections to the NFS port → each direction reassembled → RPC records →
// calls and replies decoded, replies matched to their calls by xid on the same
// connection (RFC 5531 §9: the xid is only meaningful to the caller). On an
// NFSv4.1 connection the server also calls the client, on the same connection
// (RFC 8881 §2.10.3.1 back channel): a CALL sent by the server is a callback,
// and its reply comes back from the client.

import { capturePackets } from "./capture-file.js";
import type { Display, Ids } from "./display.js";
import { Renderer, emptyIds, isDisplayRecord } from "./display.js";
import { parseFrame } from "./packet.js";
import type { TcpSegment } from "./packet.js";
import type { CompoundBody, DecodedOp, Procedure } from "./rpc-message.js";
import { decodeRecord } from "./rpc-message.js";
import type { SplitEvent } from "./record-splitter.js";
import { RecordSplitter } from "./record-splitter.js";
import type { DecodeSettings } from "./settings.js";
import { DEFAULT_DECODE_SETTINGS } from "./settings.js";
import { TcpDirection } from "./tcp-stream.js";

/** One call or reply, decoded. */
export interface DecodedRecord {
  readonly type: "call" | "reply";
  /** Seconds since the epoch of the frame that completed the record. */
  readonly time: number;
  readonly frame: number;
  /** Connection number, from 1 in order of appearance. */
  readonly conn: number;
  readonly src: string;
  readonly dst: string;
  readonly xid: number;
  /** "fore": a client's call to the server or its reply; "back": a callback or its reply. */
  readonly channel: "fore" | "back";
  /** NULL, COMPOUND, CB_NULL, CB_COMPOUND, or "program P version V procedure N". */
  readonly procedure: string;
  /** Calls: the credential. */
  readonly auth?: Display;
  /** Replies: the RPC status (SUCCESS, GARBAGE_ARGS, AUTH_ERROR/...). */
  readonly rpcStatus?: string;
  readonly compound?: CompoundBody;
  /** From SEQUENCE / CB_SEQUENCE (the call's, for a reply). */
  readonly session?: string;
  readonly slot?: number;
  readonly seqid?: number;
  /** Session and client ids the record (and, for a reply, its call) names, as hex. */
  readonly sessions: readonly string[];
  readonly clients: readonly string[];
  /** Replies: the call's operation names (what --op matches on). */
  readonly callOps?: readonly string[];
  /** Replies: seconds since the call; absent when the call was not captured. */
  readonly latency?: number;
  /** Replies whose call was not captured (decoded by the channel's program). */
  readonly unmatched?: boolean;
  /** Why the record did not decode entirely. */
  readonly error?: string;
  /** Replies: the call did not decode, and this reply says the server could not either. */
  readonly rejectsCall?: boolean;
  /**
   * How the record counts: "decoded"; "undecoded" (valid as far as anyone can
   * tell, but this decoder failed); "rejected" (did not decode, and the server
   * refused it too: GARBAGE_ARGS, NFS4ERR_BADXDR...). A call's verdict on a
   * failure waits for its reply; until then it is "pending".
   */
  readonly verdict: "decoded" | "undecoded" | "rejected" | "pending";
}

/** Something about the capture rather than a record. */
export interface DecodeNotice {
  readonly type: "notice";
  readonly time: number | null;
  readonly conn: number | null;
  readonly message: string;
}

export interface DecodeSummary {
  frames: number;
  /** TCP segments to or from the port. */
  segments: number;
  /** Frames skipped: not TCP to the port, or not parseable. */
  otherFrames: number;
  connections: number;
  calls: number;
  replies: number;
  /** Records that decoded entirely. */
  decoded: number;
  /** Records this decoder could not decode although nothing says they were invalid. */
  undecoded: number;
  /** Records that did not decode and that the server rejected as undecodable. */
  rejected: number;
  /** Records with bytes missing from the capture. */
  incomplete: number;
  /** Replies whose call was not in the capture. */
  unmatched: number;
  /** Calls with no reply in the capture. */
  unanswered: number;
  /** Stream bytes the capture missed, and bytes passed over to find a record start. */
  lostBytes: number;
  skippedBytes: number;
  /** Problems with the capture file itself. */
  problems: string[];
  /**
   * The most bytes one connection held at once (out-of-order segments, partial
   * records, bytes searched for a record start): what the limits bound.
   */
  peakHeldBytes: number;
}

export interface DecodeSink {
  record(r: DecodedRecord): void;
  notice(n: DecodeNotice): void;
}

interface PendingCall {
  readonly record: DecodedRecord;
  readonly procedure: Procedure;
  readonly ops: readonly string[];
  readonly ids: Ids;
  /** The call did not decode: its verdict waits for the reply. */
  readonly failed: boolean;
}

interface Side {
  readonly endpoint: string;
  readonly tcp: TcpDirection;
  readonly splitter: RecordSplitter;
  /** Calls this side sent, awaiting the other side's reply, by xid. */
  readonly calls: Map<number, PendingCall>;
  fin: boolean;
}

interface Connection {
  readonly id: number;
  readonly client: Side;
  readonly server: Side;
  lastSeen: number;
}

/** Decodes a whole capture, reporting records and notices to `sink` in capture order. */
export function decodeCapture(
  bytes: Uint8Array,
  sink: DecodeSink,
  settings: DecodeSettings = DEFAULT_DECODE_SETTINGS,
): DecodeSummary {
  const decoder = new CaptureDecoder(sink, settings);
  return decoder.run(bytes);
}

class CaptureDecoder {
  private readonly renderer: Renderer;
  private readonly connections = new Map<string, Connection>();
  private readonly sessionClients = new Map<string, string>();
  private nextConn = 1;
  private now = 0;
  private frame = 0;
  readonly summary: DecodeSummary = {
    frames: 0,
    segments: 0,
    otherFrames: 0,
    connections: 0,
    calls: 0,
    replies: 0,
    decoded: 0,
    undecoded: 0,
    rejected: 0,
    incomplete: 0,
    unmatched: 0,
    unanswered: 0,
    lostBytes: 0,
    skippedBytes: 0,
    problems: [],
    peakHeldBytes: 0,
  };

  constructor(
    private readonly sink: DecodeSink,
    private readonly settings: DecodeSettings,
  ) {
    this.renderer = new Renderer(settings.maxOpaqueShown);
  }

  run(bytes: Uint8Array): DecodeSummary {
    const problem = (message: string): void => {
      this.summary.problems.push(message);
      this.sink.notice({ type: "notice", time: null, conn: null, message });
    };
    for (const p of capturePackets(bytes, problem)) {
      this.summary.frames++;
      this.now = p.time;
      this.frame = p.frame;
      const parsed = parseFrame(p.linkType, p.data, p.originalLength);
      if (parsed.kind !== "tcp") {
        this.summary.otherFrames++;
        continue;
      }
      const s = parsed.segment;
      if (s.srcPort !== this.settings.port && s.dstPort !== this.settings.port) {
        this.summary.otherFrames++;
        continue;
      }
      this.summary.segments++;
      this.segment(s);
    }
    for (const key of [...this.connections.keys()]) this.close(key);
    return this.summary;
  }

  private segment(s: TcpSegment): void {
    const toServer = s.dstPort === this.settings.port;
    const clientEnd = toServer ? `${endpoint(s.src, s.srcPort)}` : endpoint(s.dst, s.dstPort);
    const serverEnd = toServer ? endpoint(s.dst, s.dstPort) : endpoint(s.src, s.srcPort);
    const key = `${clientEnd}>${serverEnd}`;
    let c = this.connections.get(key);
    const from = (conn: Connection): Side => (toServer ? conn.client : conn.server);
    if (c !== undefined && s.syn && from(c).tcp.startedOtherThan(s.seq)) {
      // A new connection on the same addresses and ports.
      this.close(key);
      c = undefined;
    }
    if (c === undefined) {
      // The ACKs and FINs that trail a closed connection open nothing.
      if (!s.syn && s.payload.length + s.missing === 0) return;
      c = this.open(key, clientEnd, serverEnd);
    }
    c.lastSeen = this.now;
    const side = from(c);
    if (s.syn) side.tcp.syn(s.seq);
    side.tcp.segment(s.syn ? (s.seq + 1) >>> 0 : s.seq, s.payload, s.missing);
    const held =
      c.client.tcp.held + c.client.splitter.held + c.server.tcp.held + c.server.splitter.held;
    if (held > this.summary.peakHeldBytes) this.summary.peakHeldBytes = held;
    if (s.rst) {
      this.close(key);
      return;
    }
    if (s.fin) side.fin = true;
    if (c.client.fin && c.server.fin) this.close(key);
  }

  private open(key: string, clientEnd: string, serverEnd: string): Connection {
    if (this.connections.size >= this.settings.maxConnections) {
      let oldest: string | null = null;
      let at = Infinity;
      for (const [k, conn] of this.connections) {
        if (conn.lastSeen < at) {
          at = conn.lastSeen;
          oldest = k;
        }
      }
      if (oldest !== null) {
        this.notice(
          null,
          `more than ${this.settings.maxConnections} connections: closing the idlest`,
        );
        this.close(oldest);
      }
    }
    const id = this.nextConn++;
    this.summary.connections++;
    const side = (endpoint: string, fromServer: boolean): Side => {
      const splitter = new RecordSplitter(
        (e) => this.split(conn, fromServer, e),
        this.settings.maxRecordBytes,
        this.settings.maxResyncBytes,
      );
      return {
        endpoint,
        splitter,
        tcp: new TcpDirection(
          splitter,
          this.settings.maxOutOfOrderBytes,
          this.settings.maxOutOfOrderSegments,
        ),
        calls: new Map(),
        fin: false,
      };
    };
    // `conn` is referenced by the splitters' callbacks, which only run once it is assigned.
    const conn: Connection = {
      id,
      client: side(clientEnd, false),
      server: side(serverEnd, true),
      lastSeen: this.now,
    };
    this.connections.set(key, conn);
    return conn;
  }

  private close(key: string): void {
    const c = this.connections.get(key);
    if (c === undefined) return;
    this.connections.delete(key);
    for (const side of [c.client, c.server]) {
      side.tcp.finish();
      side.splitter.finish();
      this.summary.lostBytes += side.tcp.lost;
    }
    for (const side of [c.client, c.server]) {
      for (const call of side.calls.values()) this.unanswered(call);
      side.calls.clear();
    }
  }

  private unanswered(call: PendingCall): void {
    this.summary.unanswered++;
    // A call that did not decode and got no answer: nothing says it was invalid.
    if (call.failed) this.summary.undecoded++;
  }

  private notice(conn: number | null, message: string): void {
    this.sink.notice({ type: "notice", time: this.now, conn, message });
  }

  private split(c: Connection, fromServer: boolean, e: SplitEvent): void {
    const sender = fromServer ? c.server : c.client;
    const receiver = fromServer ? c.client : c.server;
    switch (e.kind) {
      case "skipped":
        this.summary.skippedBytes += e.bytes;
        this.notice(c.id, `${sender.endpoint}: skipped ${e.bytes} bytes (${e.reason})`);
        return;
      case "incomplete":
        this.summary.incomplete++;
        this.notice(
          c.id,
          `${sender.endpoint}: a record of ${e.length} bytes, ${e.missing} of them not captured`,
        );
        return;
      case "record":
        this.message(c, sender, receiver, fromServer, e.bytes);
    }
  }

  private message(
    c: Connection,
    sender: Side,
    receiver: Side,
    fromServer: boolean,
    bytes: Uint8Array,
  ): void {
    const ids = emptyIds();
    const msg = decodeRecord(
      bytes,
      fromServer,
      (xid) => receiver.calls.get(xid)?.procedure,
      this.renderer,
      ids,
    );
    const base = {
      time: this.now,
      frame: this.frame,
      conn: c.id,
      src: sender.endpoint,
      dst: receiver.endpoint,
    };
    if (msg.kind === "garbage") {
      this.summary.undecoded++;
      this.notice(
        c.id,
        `${sender.endpoint}: a record of ${bytes.length} bytes is not RPC: ${msg.error}`,
      );
      return;
    }
    if (msg.kind === "call") {
      this.summary.calls++;
      const seq = sequenceOf(msg.compound?.ops);
      const opNames = msg.compound?.ops.map((o) => o.name) ?? [];
      const record: DecodedRecord = {
        type: "call",
        ...base,
        xid: msg.xid,
        channel: fromServer ? "back" : "fore",
        procedure: msg.procedure ?? `program ${msg.prog} version ${msg.vers} procedure ${msg.proc}`,
        auth: msg.auth,
        ...(msg.compound !== undefined ? { compound: msg.compound } : {}),
        ...seq,
        sessions: [...ids.sessions],
        clients: this.clientsOf(ids),
        ...(msg.error !== undefined ? { error: msg.error } : {}),
        verdict: msg.error === undefined ? "decoded" : "pending",
      };
      if (msg.error === undefined) this.summary.decoded++;
      const calls = sender.calls;
      calls.delete(msg.xid);
      calls.set(msg.xid, {
        record,
        procedure: msg.procedure,
        ops: opNames,
        ids,
        failed: msg.error !== undefined,
      });
      if (calls.size > this.settings.maxPendingCalls) {
        const oldest = calls.keys().next().value;
        if (oldest !== undefined) {
          this.unanswered(calls.get(oldest)!);
          calls.delete(oldest);
        }
      }
      this.sink.record(record);
      return;
    }
    this.summary.replies++;
    const call = receiver.calls.get(msg.xid);
    receiver.calls.delete(msg.xid);
    if (call === undefined) this.summary.unmatched++;
    // The call's verdict, now that the server has answered it.
    if (call !== undefined && call.failed) {
      if (msg.rejected) this.summary.rejected++;
      else this.summary.undecoded++;
    }
    for (const s of call?.ids.sessions ?? []) ids.sessions.add(s);
    for (const cl of call?.ids.clients ?? []) ids.clients.add(cl);
    this.learnSessions(ids);
    const seq =
      call !== undefined ? sequenceOf(call.record.compound?.ops) : sequenceOf(msg.compound?.ops);
    const replyFailed = msg.error !== undefined;
    // A non-SUCCESS reply carries no results: nothing in it failed to decode.
    if (replyFailed) this.summary.undecoded++;
    else this.summary.decoded++;
    const record: DecodedRecord = {
      type: "reply",
      ...base,
      xid: msg.xid,
      channel: fromServer ? "fore" : "back",
      procedure: call?.record.procedure ?? (fromServer ? "COMPOUND" : "CB_COMPOUND"),
      rpcStatus: msg.rpcStatus,
      ...(msg.compound !== undefined ? { compound: msg.compound } : {}),
      ...seq,
      sessions: [...ids.sessions],
      clients: this.clientsOf(ids),
      ...(call !== undefined
        ? { callOps: call.ops, latency: Math.max(0, this.now - call.record.time) }
        : { unmatched: true }),
      ...(msg.error !== undefined ? { error: msg.error } : {}),
      ...(call !== undefined && call.failed && msg.rejected ? { rejectsCall: true } : {}),
      verdict: replyFailed ? "undecoded" : "decoded",
    };
    this.sink.record(record);
  }

  /** CREATE_SESSION: the client id of its arguments owns the session id of its results. */
  private learnSessions(ids: Ids): void {
    if (ids.clients.size !== 1) return;
    const [client] = ids.clients;
    for (const s of ids.sessions) {
      if (this.sessionClients.has(s)) continue;
      this.sessionClients.set(s, client!);
      if (this.sessionClients.size > this.settings.maxSessions) {
        const oldest = this.sessionClients.keys().next().value;
        if (oldest !== undefined) this.sessionClients.delete(oldest);
      }
    }
  }

  private clientsOf(ids: Ids): string[] {
    const out = new Set(ids.clients);
    for (const s of ids.sessions) {
      const c = this.sessionClients.get(s);
      if (c !== undefined) out.add(c);
    }
    return [...out];
  }
}

function endpoint(addr: string, port: number): string {
  return addr.includes(":") ? `[${addr}]:${port}` : `${addr}:${port}`;
}

/** Session, slot and sequence id from the first SEQUENCE or CB_SEQUENCE (RFC 8881 §18.46, §20.9). */
function sequenceOf(ops: readonly DecodedOp[] | undefined): {
  session?: string;
  slot?: number;
  seqid?: number;
} {
  const op = ops?.find((o) => o.name === "SEQUENCE" || o.name === "CB_SEQUENCE");
  if (op === undefined || !isDisplayRecord(op.value)) return {};
  const v = op.value;
  const prefix =
    op.name === "SEQUENCE"
      ? op.status === undefined
        ? "sa_"
        : "sr_"
      : op.status === undefined
        ? "csa_"
        : "csr_";
  const session = v[`${prefix}sessionid`];
  const slot = v[`${prefix}slotid`];
  const seqid = v[`${prefix}sequenceid`];
  return {
    ...(typeof session === "string" ? { session } : {}),
    ...(typeof slot === "number" ? { slot } : {}),
    ...(typeof seqid === "number" ? { seqid } : {}),
  };
}

// One TCP connection: reads records, answers CALLs concurrently (the NFS client
// pipelines, and replies go out in completion order), matches REPLY records to
// our own pending calls (the NFSv4.1 backchannel shares the client's socket), and
// writes everything through one RecordWriter.
//
// Flow control — the socket is read only while all of these hold:
// - fewer than maxInFlightPerConnection calls are being processed;
// - the connection's output bytes (reserved by calls in progress + written and
//   not yet sent) are under maxConnectionOutputBytes, and no reservation waits;
// - the output bytes of all connections are under maxTotalOutputBytes, and no
//   reservation waits for room there (output.ts);
// - no complete record is waiting to be dispatched;
// - the server is not shutting down and the peer has not finished sending.
// With the socket paused, memory per connection is bounded by one record in
// progress, one socket chunk, its output bytes and the unreserved (small)
// replies of the calls in flight. A peer that stops reading altogether is closed
// after sendStallTimeoutMs without write progress, which releases its bytes.

import type { Socket } from "node:net";
import { randomInt } from "node:crypto";
import type { Logger } from "pino";
import type { IoBufferPool } from "../xdr/io-buffers.js";
import type { XdrReader } from "../xdr/index.js";
import type { Dispatcher } from "./dispatch.js";
import { RpcConnectionClosedError } from "./errors.js";
import { decodeMessage, encodeCall, encodeReply } from "./message.js";
import { ConnectionOutput, OutputBudget } from "./output.js";
import type { OutputStats } from "./output.js";
import { PendingCalls } from "./pending.js";
import type { ChunkSink } from "./read-buffer.js";
import { RecordAssembler, RecordError } from "./record.js";
import type { RpcSettings } from "./settings.js";
import type { OutgoingCall, RpcConnection } from "./types.js";
import { RecordWriter } from "./writer.js";

/** Outgoing call timeouts must fit setTimeout (larger values would fire at once). */
const MAX_TIMEOUT_MS = 0x7fffffff;

export interface ConnectionOptions {
  readonly id: number;
  readonly settings: RpcSettings;
  readonly dispatcher: Dispatcher;
  readonly logger: Logger;
  /** Called once, after the socket has closed and the close listeners have run. */
  readonly onClosed: (conn: Connection) => void;
  /**
   * The output budget shared by the server's connections; default a budget of
   * this connection alone (maxTotalOutputBytes).
   */
  readonly outputBudget?: OutputBudget;
  /**
   * Lends the buffers large incoming records are joined into (RecordAssembler):
   * the server's requests, the client's replies; default none.
   */
  readonly recordBuffers?: IoBufferPool;
  /**
   * The socket reads into a shared buffer (read-buffer.ts) and hands each read
   * to this sink instead of emitting 'data'; default: 'data' events.
   */
  readonly chunks?: ChunkSink;
}

/** "address:port", with IPv6 addresses in brackets. */
function endpoint(address: string | undefined, port: number | undefined): string {
  if (address === undefined) return "unknown";
  return address.includes(":") ? `[${address}]:${port}` : `${address}:${port}`;
}

export class Connection implements RpcConnection {
  readonly id: number;
  readonly remote: string;
  readonly local: string;
  /** Resolves once the socket has closed. */
  readonly closed: Promise<void>;

  private readonly socket: Socket;
  private readonly settings: RpcSettings;
  private readonly dispatcher: Dispatcher;
  private readonly log: Logger;
  private readonly onClosed: (conn: Connection) => void;
  private readonly assembler: RecordAssembler;
  private readonly writer: RecordWriter;
  private readonly output: ConnectionOutput;
  private readonly pending = new PendingCalls();
  private closeListeners: (() => void)[] = [];
  private resolveClosed!: () => void;

  private isOpen = true;
  private inFlight = 0;
  private idleWaiters: (() => void)[] = [];
  /** The server is shutting down: no new record is dispatched. */
  private stopping = false;
  /** The peer half-closed: answer what was received, then end our side. */
  private peerEnded = false;
  private paused = false;
  private lastActivity = Date.now();
  private idleTimer: NodeJS.Timeout | null = null;
  /** When the kernel last took a record (or output started after none was pending). */
  private lastWriteProgress = 0;
  private stallTimer: NodeJS.Timeout | null = null;
  private nextXid: number;

  constructor(socket: Socket, options: ConnectionOptions) {
    this.socket = socket;
    this.id = options.id;
    this.settings = options.settings;
    this.dispatcher = options.dispatcher;
    this.onClosed = options.onClosed;
    this.remote = endpoint(socket.remoteAddress, socket.remotePort);
    this.local = endpoint(socket.localAddress, socket.localPort);
    this.log = options.logger.child({ conn: this.id, remote: this.remote });
    this.closed = new Promise((resolve) => (this.resolveClosed = resolve));
    this.assembler = new RecordAssembler(
      this.settings.maxRecordSize,
      this.settings.maxFragmentsPerRecord,
      options.recordBuffers ?? null,
      { copyChunks: options.chunks !== undefined },
    );
    this.output = new ConnectionOutput(
      this.settings.maxConnectionOutputBytes,
      options.outputBudget ?? new OutputBudget(this.settings.maxTotalOutputBytes),
      () => this.pump(),
    );
    this.writer = new RecordWriter(socket, {
      queued: (bytes) => this.onQueued(bytes),
      flushed: (bytes) => this.onFlushed(bytes),
    });
    // A random start, so our calls' xids after a restart or on a new connection
    // are unlikely to repeat recent ones (a client's duplicate request cache keys
    // on the xid).
    this.nextXid = randomInt(0, 0x100000000);

    if (options.chunks !== undefined)
      options.chunks.attach(
        (chunk) => this.onData(chunk),
        () => this.assembler.nextReadPlace(),
      );
    else socket.on("data", (chunk: Buffer) => this.onData(chunk));
    socket.on("end", () => {
      this.peerEnded = true;
      this.pump();
    });
    // Every socket error ends in 'close'; without a listener it would crash the process.
    socket.on("error", (err) => this.log.debug({ err }, "socket error"));
    socket.on("close", () => this.onSocketClose());
    this.armIdleTimer(this.settings.idleTimeoutMs);
  }

  get open(): boolean {
    return this.isOpen;
  }

  /** Calls being processed on this connection. */
  get callsInFlight(): number {
    return this.inFlight;
  }

  /** Bytes received from the peer so far. */
  get bytesReceived(): number {
    return this.socket.bytesRead;
  }

  /** Bytes written to the socket so far. */
  get bytesSent(): number {
    return this.socket.bytesWritten;
  }

  /** This connection's output bytes: reserved, buffered, waiting reservations. */
  outputStats(): OutputStats {
    return this.output.stats();
  }

  onClose(listener: () => void): void {
    if (this.isOpen) {
      this.closeListeners.push(listener);
    } else {
      listener();
    }
  }

  call(request: OutgoingCall): Promise<XdrReader> {
    if (!this.isOpen || this.stopping || this.peerEnded) {
      return Promise.reject(new RpcConnectionClosedError(this.remote));
    }
    const timeout = request.timeoutMs;
    if (!Number.isInteger(timeout) || timeout < 1 || timeout > MAX_TIMEOUT_MS) {
      return Promise.reject(
        new RangeError(`call timeoutMs must be in [1, ${MAX_TIMEOUT_MS}]: ${timeout}`),
      );
    }
    const xid = this.allocateXid();
    let chunks: Uint8Array[];
    try {
      chunks = encodeCall(xid, request);
    } catch (e) {
      return Promise.reject(e);
    }
    const reply = this.pending.add(xid, timeout);
    // Not counted as output bytes: see writer.ts.
    if (!this.writer.send(chunks, false)) {
      this.pending.fail(xid, new RpcConnectionClosedError(this.remote));
    }
    return reply;
  }

  /**
   * Server shutdown: stop dispatching records, wait for the calls in progress to
   * finish, flush their replies and close. Resolves when the socket has closed.
   * The caller bounds the wait and calls destroy() if it takes too long.
   */
  async drain(): Promise<void> {
    this.stopping = true;
    this.pump();
    await this.whenNoCallsInFlight();
    const s = this.socket;
    if (this.isOpen) {
      // end() flushes the buffered output (uncorking it) before sending FIN; the
      // peer need not close its side, so destroy once our output is all written.
      if (s.writableFinished) {
        s.destroy();
      } else {
        s.once("finish", () => s.destroy());
        if (!s.writableEnded) s.end();
      }
    }
    await this.closed;
  }

  /** Closes the socket at once; unsent output is lost. */
  destroy(): void {
    // Release the output bytes now: between destroy() and the 'close' event the
    // failed writes must not look like drained ones that make room for more.
    this.output.close();
    this.socket.destroy();
  }

  /**
   * A reply call() resolved with (or any view into its bytes) is no longer
   * referenced by anyone: its buffer goes back to `recordBuffers` if that lent
   * it. Anything else is ignored, and so is a second release.
   */
  releaseReply(bytes: Uint8Array): void {
    this.assembler.release(bytes);
  }

  private onData(chunk: Uint8Array): void {
    try {
      this.assembler.push(chunk);
    } catch (e) {
      if (!(e instanceof RecordError)) throw e;
      this.log.warn(
        { announced: e.announced, fragments: e.fragments, limit: e.limit },
        e.kind === "size"
          ? "record too large; closing connection"
          : "too many fragments in a record; closing connection",
      );
      this.destroy();
      return;
    }
    this.pump();
  }

  /** Dispatches the records that may be dispatched now, then decides whether to read on. */
  private pump(): void {
    if (!this.isOpen) return;
    while (this.mayDispatch()) {
      const record = this.assembler.next();
      if (record === undefined) break;
      try {
        this.onRecord(record);
      } catch (err) {
        // Decoding never throws on bad input; this is a bug, and must not crash the server.
        this.log.error({ err }, "unexpected error handling a record; closing connection");
        this.destroy();
        return;
      }
    }
    this.updateReading();
    // A half-closed peer gets its replies, then our FIN.
    if (
      this.peerEnded &&
      !this.stopping &&
      this.inFlight === 0 &&
      this.assembler.pending === 0 &&
      !this.socket.writableEnded
    ) {
      this.socket.end();
    }
  }

  private mayDispatch(): boolean {
    return (
      !this.stopping &&
      !this.output.mustPause &&
      this.inFlight < this.settings.maxInFlightPerConnection
    );
  }

  /** Reads from the socket only while records could be dispatched at once. */
  private updateReading(): void {
    const read = this.mayDispatch() && !this.peerEnded && this.assembler.pending === 0;
    if (read && this.paused) {
      this.paused = false;
      this.socket.resume();
    } else if (!read && !this.paused) {
      this.paused = true;
      this.socket.pause();
    }
    // Stopped by the other connections' output: ask to be told when it falls.
    if (!read && this.output.pausedByBudget) this.output.pauseForBudget();
  }

  private onRecord(record: Uint8Array): void {
    this.lastActivity = Date.now();
    const msg = decodeMessage(record);
    switch (msg.kind) {
      case "call": {
        this.inFlight++;
        const ledger = ConnectionOutput.ledger();
        this.dispatcher
          .dispatch(msg.xid, msg.call, msg.args, this, (bytes) =>
            this.output.reserve(ledger, bytes),
          )
          .then(
            (reply) => {
              // The reservation becomes the reply's buffered bytes, with no
              // grant in between (callDone grants).
              this.output.release(ledger);
              if (reply !== null && !this.writer.send(reply)) {
                this.log.debug(
                  { xid: msg.xid },
                  "connection closed before the reply could be sent",
                );
              }
            },
            // dispatch() never rejects; this is a last line of defence.
            (err: unknown) => this.log.error({ err, xid: msg.xid }, "RPC dispatch failed"),
          )
          .finally(() => {
            this.output.release(ledger);
            // Answered: the reply holds copies of what it needed from the
            // request (stored protocol data is always copied).
            this.assembler.release(record);
            this.callDone();
          });
        return;
      }
      case "reply":
        if (!this.pending.settle(msg.xid, msg.reply, msg.results)) {
          this.log.debug({ xid: msg.xid }, "REPLY matches no pending call; ignored");
          this.assembler.release(record);
        }
        return;
      case "bad_call":
        this.log.debug({ xid: msg.xid, reason: msg.reason }, "undecodable CALL header");
        this.writer.send(encodeReply(msg.xid, msg.reply));
        this.assembler.release(record);
        return;
      case "garbage":
        this.log.debug({ reason: msg.reason }, "undecodable record dropped");
        this.assembler.release(record);
        return;
    }
  }

  private callDone(): void {
    this.inFlight--;
    this.output.settled();
    if (this.inFlight === 0 && this.idleWaiters.length > 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of waiters) w();
    }
    this.pump();
  }

  private whenNoCallsInFlight(): Promise<void> {
    if (this.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private allocateXid(): number {
    let xid = this.nextXid;
    // 2^32 xids and at most a few hundred pending: this loop ends at once.
    while (this.pending.has(xid)) xid = (xid + 1) >>> 0;
    this.nextXid = (xid + 1) >>> 0;
    return xid;
  }

  /**
   * One timer per connection, re-armed lazily (records only bump lastActivity),
   * so a busy connection costs no timer churn.
   */
  private armIdleTimer(delay: number): void {
    if (this.settings.idleTimeoutMs === 0 || !this.isOpen) return;
    this.idleTimer = setTimeout(() => this.onIdleTimer(), delay);
    this.idleTimer.unref();
  }

  private onIdleTimer(): void {
    const limit = this.settings.idleTimeoutMs;
    const idleFor = Date.now() - this.lastActivity;
    // A connection with work under way (our calls or its) is not idle; calls
    // waiting for output room are not work: they wait on the peer reading.
    if (this.inFlight > this.output.waiting || this.pending.size > 0) {
      this.armIdleTimer(limit);
    } else if (idleFor >= limit) {
      this.log.info({ idleMs: idleFor }, "closing idle connection");
      this.destroy();
    } else {
      this.armIdleTimer(limit - idleFor);
    }
  }

  private onQueued(bytes: number): void {
    if (this.output.buffered === 0) {
      this.lastWriteProgress = Date.now();
      this.armStallTimer(this.settings.sendStallTimeoutMs);
    }
    this.output.queued(bytes);
  }

  private onFlushed(bytes: number): void {
    this.lastWriteProgress = Date.now();
    this.output.flushed(bytes);
  }

  /** Like the idle timer: one timer, armed while output is pending, re-armed lazily. */
  private armStallTimer(delay: number): void {
    if (this.settings.sendStallTimeoutMs === 0 || !this.isOpen || this.stallTimer !== null) return;
    this.stallTimer = setTimeout(() => this.onStallTimer(), delay);
    this.stallTimer.unref();
  }

  private onStallTimer(): void {
    this.stallTimer = null;
    if (this.output.buffered === 0) return;
    const limit = this.settings.sendStallTimeoutMs;
    const stalledFor = Date.now() - this.lastWriteProgress;
    if (stalledFor >= limit) {
      this.log.warn(
        { stalledMs: stalledFor, buffered: this.output.buffered },
        "peer is not reading its replies; closing connection",
      );
      this.destroy();
    } else {
      this.armStallTimer(limit - stalledFor);
    }
  }

  private onSocketClose(): void {
    this.isOpen = false;
    if (this.idleTimer !== null) clearTimeout(this.idleTimer);
    if (this.stallTimer !== null) clearTimeout(this.stallTimer);
    // Releases this connection's output bytes; calls waiting to reserve get false.
    this.output.close();
    this.assembler.abandon();
    this.pending.failAll(() => new RpcConnectionClosedError(this.remote));
    const listeners = this.closeListeners;
    this.closeListeners = [];
    for (const l of listeners) {
      try {
        l();
      } catch (err) {
        this.log.error({ err }, "connection close listener threw");
      }
    }
    this.resolveClosed();
    this.onClosed(this);
  }
}

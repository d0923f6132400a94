// The RPC server: listens on any number of TCP addresses, enforces the connection
// limit, owns the program registry shared by all connections, and shuts down
// cleanly (stop accepting, stop reading, answer what is in flight, close).

import { EventEmitter } from "node:events";
import type { Server, Socket } from "node:net";
import { createServer } from "node:net";
import { pino } from "pino";
import type { Logger } from "pino";
import { IoBufferPool } from "../xdr/io-buffers.js";
import { Connection } from "./connection.js";
import { Dispatcher } from "./dispatch.js";
import { OutputBudget } from "./output.js";
import type { BudgetStats, OutputStats } from "./output.js";
import { adoptWithReadBuffer } from "./read-buffer.js";
import type { RpcSettings } from "./settings.js";
import { resolveRpcSettings } from "./settings.js";
import type { RpcConnection, RpcProgram } from "./types.js";

export interface RpcServerOptions {
  /** Overrides of DEFAULT_RPC_SETTINGS. */
  readonly settings?: Partial<RpcSettings>;
  /** Where to log; default a silent logger. */
  readonly logger?: Logger;
}

export interface ListenAddress {
  /** An IP address or host name ("0.0.0.0", "::", "127.0.0.1"). */
  readonly host: string;
  /** 0 picks a free port (tests). */
  readonly port: number;
}

export interface BoundAddress {
  readonly host: string;
  readonly port: number;
  /** "IPv4" or "IPv6". */
  readonly family: string;
}

/** One connection's figures. */
export interface ConnectionStats extends OutputStats {
  readonly id: number;
  readonly remote: string;
  readonly callsInFlight: number;
}

/** A snapshot of the server's connections and output bytes (for tests and dfsctl). */
export interface RpcServerStats {
  readonly connections: readonly ConnectionStats[];
  /** The global output budget: bytes reserved + buffered over all connections. */
  readonly output: BudgetStats;
  /** Large requests joined into a lent buffer, how many of those reused one, how many a store kept (adopted), and the free buffers now. */
  readonly requestBuffers: {
    readonly taken: number;
    readonly reused: number;
    readonly adopted: number;
    readonly free: number;
  };
}

/** Connections and bytes since the server started (for the metrics endpoint). */
export interface RpcTraffic {
  /** Connections accepted, and refused (the maxConnections limit). */
  readonly accepted: number;
  readonly refused: number;
  /** Bytes received from and sent to clients, over all connections, open or closed. */
  readonly receivedBytes: number;
  readonly sentBytes: number;
}

/** Events of an RpcServer; each carries the connection concerned. */
export interface RpcServerEvents {
  /** A connection was accepted (after the connection limit check). */
  connection: [conn: RpcConnection];
  /** A connection closed, for any reason (after its own onClose listeners ran). */
  close: [conn: RpcConnection];
}

export class RpcServer extends EventEmitter<RpcServerEvents> {
  readonly settings: RpcSettings;
  private readonly log: Logger;
  private readonly dispatcher: Dispatcher;
  private readonly tcpServers: Server[] = [];
  private readonly conns = new Set<Connection>();
  private readonly outputBudget: OutputBudget;
  /** The buffers large requests are joined into, shared by the connections. */
  private readonly requestBuffers: IoBufferPool;
  /** What every connection's socket reads into (settings.readBufferBytes); null: Node's own buffers. */
  private readonly readBuffer: Buffer | null;
  private nextConnectionId = 1;
  private closing: Promise<void> | null = null;
  /** Connections refused since the last "connection limit" log line, and when that was. */
  private refused = 0;
  private refusedLoggedAt = 0;
  /** Totals since start: connections, and the bytes of connections that have closed. */
  private acceptedTotal = 0;
  private refusedTotal = 0;
  private closedReceived = 0;
  private closedSent = 0;

  constructor(options: RpcServerOptions = {}) {
    super();
    this.settings = resolveRpcSettings(options.settings);
    this.log = options.logger ?? pino({ level: "silent" });
    this.dispatcher = new Dispatcher(this.log);
    this.outputBudget = new OutputBudget(this.settings.maxTotalOutputBytes);
    // Adoptable: a store may keep a large WRITE's bytes where they arrived (io-buffers.ts).
    this.requestBuffers = new IoBufferPool(
      this.settings.maxRecordSize,
      this.settings.requestBuffersKept,
      true,
    );
    this.readBuffer =
      this.settings.readBufferBytes === 0
        ? null
        : Buffer.allocUnsafeSlow(this.settings.readBufferBytes);
  }

  /** The connections' figures and the global output budget, now. */
  stats(): RpcServerStats {
    return {
      connections: [...this.conns].map((c) => ({
        id: c.id,
        remote: c.remote,
        callsInFlight: c.callsInFlight,
        ...c.outputStats(),
      })),
      output: this.outputBudget.stats(),
      requestBuffers: { ...this.requestBuffers.stats, free: this.requestBuffers.freeCount },
    };
  }

  /** Connections and bytes since start, now. */
  traffic(): RpcTraffic {
    let receivedBytes = this.closedReceived;
    let sentBytes = this.closedSent;
    for (const c of this.conns) {
      receivedBytes += c.bytesReceived;
      sentBytes += c.bytesSent;
    }
    return {
      accepted: this.acceptedTotal,
      refused: this.refusedTotal,
      receivedBytes,
      sentBytes,
    };
  }

  /** Serves `program` on every connection, current and future. */
  register(program: RpcProgram): void {
    this.dispatcher.register(program);
  }

  /** The connections open now. */
  get connections(): ReadonlySet<RpcConnection> {
    return this.conns;
  }

  /**
   * Listens on every address (all or none: if one fails, the others opened by
   * this call are closed and the error is thrown). May be called more than once.
   * Resolves with the addresses actually bound, in the same order.
   */
  async listen(addresses: readonly ListenAddress[]): Promise<BoundAddress[]> {
    if (this.closing !== null) throw new Error("RpcServer is closed");
    const opened: Server[] = [];
    try {
      for (const a of addresses) opened.push(await this.listenOne(a));
    } catch (e) {
      await Promise.all(
        opened.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))),
      );
      throw e;
    }
    if (this.closing !== null) {
      // close() started while we were binding.
      for (const s of opened) s.close();
      throw new Error("RpcServer is closed");
    }
    this.tcpServers.push(...opened);
    return opened.map((s) => {
      const addr = s.address();
      if (addr === null || typeof addr === "string") throw new Error("TCP server has no address");
      return { host: addr.address, port: addr.port, family: addr.family };
    });
  }

  /**
   * Clean shutdown: stop accepting, stop reading new records, wait (at most
   * drainTimeoutMs) for calls in progress to be answered and their replies
   * written, then close every socket. Idempotent.
   */
  close(): Promise<void> {
    return (this.closing ??= this.shutdown());
  }

  private listenOne(a: ListenAddress): Promise<Server> {
    // allowHalfOpen: a peer that shuts down its sending side still gets the
    // replies to what it sent (the connection ends them, then closes).
    // pauseOnConnect: nothing is read before accept() has chosen how (read-buffer.ts).
    const server = createServer(
      { allowHalfOpen: true, noDelay: true, pauseOnConnect: true },
      (socket) => this.accept(socket),
    );
    return new Promise((resolve, reject) => {
      server.once("error", reject);
      server.listen({ host: a.host, port: a.port }, () => {
        server.off("error", reject);
        server.on("error", (err) => this.log.error({ err }, "listening socket error"));
        this.log.info({ address: server.address() }, "RPC server listening");
        resolve(server);
      });
    });
  }

  private accept(socket: Socket): void {
    if (this.closing !== null) {
      socket.destroy();
      return;
    }
    if (this.conns.size >= this.settings.maxConnections) {
      // One line per second at most, with a count: a flood of refused
      // connections must not become a flood of log lines.
      this.refused++;
      this.refusedTotal++;
      const now = Date.now();
      if (now - this.refusedLoggedAt >= 1000) {
        this.log.warn(
          {
            remote: `${socket.remoteAddress}:${socket.remotePort}`,
            limit: this.settings.maxConnections,
            refused: this.refused,
          },
          "connection limit reached; closing new connections",
        );
        this.refusedLoggedAt = now;
        this.refused = 0;
      }
      socket.destroy();
      return;
    }
    const adopted =
      this.readBuffer === null ? null : adoptWithReadBuffer(socket, this.readBuffer, true);
    if (adopted === null) socket.resume();
    const conn = new Connection(adopted?.socket ?? socket, {
      id: this.nextConnectionId++,
      settings: this.settings,
      dispatcher: this.dispatcher,
      logger: this.log,
      onClosed: (c) => this.onConnectionClosed(c),
      outputBudget: this.outputBudget,
      recordBuffers: this.requestBuffers,
      chunks: adopted?.sink,
    });
    this.conns.add(conn);
    this.acceptedTotal++;
    this.log.debug({ conn: conn.id, remote: conn.remote }, "connection accepted");
    this.emitSafely("connection", conn);
  }

  private onConnectionClosed(conn: Connection): void {
    this.conns.delete(conn);
    this.closedReceived += conn.bytesReceived;
    this.closedSent += conn.bytesSent;
    this.log.debug({ conn: conn.id }, "connection closed");
    this.emitSafely("close", conn);
  }

  /** A throwing event listener must not break the socket handler that emitted the event. */
  private emitSafely(event: keyof RpcServerEvents, conn: RpcConnection): void {
    try {
      this.emit(event, conn);
    } catch (err) {
      this.log.error({ err, event }, "RpcServer event listener threw");
    }
  }

  private async shutdown(): Promise<void> {
    const listenersClosed = this.tcpServers.map(
      (s) => new Promise<void>((resolve) => s.close(() => resolve())),
    );
    const conns = [...this.conns];
    this.log.info({ connections: conns.length }, "RPC server shutting down");
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(true), this.settings.drainTimeoutMs);
    });
    const drained = Promise.all(conns.map((c) => c.drain())).then(() => false);
    if (await Promise.race([drained, timedOut])) {
      const stuck = conns.filter((c) => c.open);
      this.log.warn(
        { connections: stuck.length, drainTimeoutMs: this.settings.drainTimeoutMs },
        "drain timeout; closing connections with calls or output pending",
      );
      for (const c of stuck) c.destroy();
    }
    clearTimeout(timer);
    await Promise.all(conns.map((c) => c.closed));
    await Promise.all(listenersClosed);
    this.log.info("RPC server closed");
  }
}

// One TCP connection of the client. It reuses the server's RPC Connection
// (src/rpc/connection.ts), which is symmetric: it sends our CALLs and matches
// their REPLYs by xid, and it answers the CALLs the server sends us on the same
// socket — the NFSv4.1 backchannel (CB_NULL, CB_COMPOUND) — through a
// Dispatcher holding the client's callback program.

import { connect } from "node:net";
import type { OnReadOpts, Socket } from "node:net";
import type { Logger } from "pino";
import { NFS4_PROGRAM, NFS_V4 } from "../../generated/nfs4/index.js";
import { Connection } from "../rpc/connection.js";
import type { Dispatcher } from "../rpc/dispatch.js";
import { RpcConnectionClosedError, RpcTimeoutError } from "../rpc/errors.js";
import { readIntoBuffer } from "../rpc/read-buffer.js";
import { resolveRpcSettings } from "../rpc/settings.js";
import type { RpcSettings } from "../rpc/settings.js";
import type { XdrReader } from "../xdr/index.js";
import { IoBufferPool } from "../xdr/io-buffers.js";

/** An RPC credential as sent on the wire (AUTH_NONE or AUTH_SYS). */
export interface WireCredential {
  readonly flavor: number;
  readonly body: Uint8Array;
}

export interface TransportOptions {
  readonly host: string;
  readonly port: number;
  /** The local address to connect from (the server sees it as the peer); default the system's choice. */
  readonly localAddress?: string;
  readonly cred: WireCredential;
  readonly timeoutMs: number;
  readonly dispatcher: Dispatcher;
  readonly logger: Logger;
  /** Client-local id, for logs and tests. */
  readonly id: number;
}

/**
 * The client end's transport limits: replies may be as large as the server's
 * largest (a 1 MiB READ plus headers, with room to spare), and the client never
 * closes a connection for being idle — that is the server's decision.
 */
const CLIENT_RPC_SETTINGS: RpcSettings = resolveRpcSettings({
  maxRecordSize: 4 * 1024 * 1024,
  idleTimeoutMs: 0,
});

/**
 * What every client socket of the process reads into: replies are copied out of
 * it, so reading allocates nothing but the replies (a new Node.js buffer per
 * read made the load generator collect garbage for a stream of 1 MiB READs).
 */
const CLIENT_READ_BUFFER_BYTES = 256 * 1024;

/**
 * Large replies (a 1 MiB READ with its headers) are received into buffers of
 * this size that the client keeps and reuses once the caller releases the
 * reply (releaseReply): a fresh 1 MiB buffer per reply costs page faults on
 * first touch and makes V8 collect garbage for the external memory, measured
 * (2026-12-04) at about three quarters of the load generator's CPU for a
 * stream of 1 MiB READs.
 */
export const CLIENT_REPLY_BUFFER_BYTES = 1024 * 1024 + 4096;

/** Reply buffers kept for reuse: one per READ in flight, up to this many. */
export const CLIENT_REPLY_BUFFERS_KEPT = 64;

/** True for the failures after which we cannot know whether the server executed the call. */
export function isTransportFailure(e: unknown): boolean {
  return e instanceof RpcConnectionClosedError || e instanceof RpcTimeoutError;
}

export class ClientConnection {
  readonly id: number;
  /** Resolves once the socket has closed. */
  readonly closed: Promise<void>;
  /** NFS calls sent on this connection (NULL and COMPOUND), for tests and metrics. */
  calls = 0;
  private readonly rpc: Connection;
  private readonly cred: WireCredential;
  private readonly timeoutMs: number;

  private constructor(rpc: Connection, options: TransportOptions) {
    this.rpc = rpc;
    this.id = options.id;
    this.cred = options.cred;
    this.timeoutMs = options.timeoutMs;
    this.closed = rpc.closed;
  }

  /** Opens a TCP connection; rejects if it cannot connect within `timeoutMs`. */
  static async open(options: TransportOptions): Promise<ClientConnection> {
    const { onread, sink } = readIntoBuffer(sharedReadBuffer());
    const socket = await dial(
      options.host,
      options.port,
      options.timeoutMs,
      options.localAddress,
      onread,
    );
    const rpc = new Connection(socket, {
      id: options.id,
      settings: CLIENT_RPC_SETTINGS,
      dispatcher: options.dispatcher,
      logger: options.logger,
      onClosed: () => {},
      chunks: sink,
      recordBuffers: sharedReplyBuffers(),
    });
    return new ClientConnection(rpc, options);
  }

  get open(): boolean {
    return this.rpc.open;
  }

  /** "address:port" of our end, as the server sees the peer. */
  get local(): string {
    return this.rpc.local;
  }

  /**
   * Calls NFS4_PROGRAM procedure `proc` with encoded `args`; resolves with the
   * reader positioned at the results. Rejects with RpcReplyError when the
   * server refuses the call at the RPC level, RpcTimeoutError, or
   * RpcConnectionClosedError.
   */
  call(proc: number, args: Uint8Array | readonly Uint8Array[]): Promise<XdrReader> {
    this.calls++;
    return this.rpc.call({
      prog: NFS4_PROGRAM,
      vers: NFS_V4,
      proc,
      cred: this.cred,
      args,
      timeoutMs: this.timeoutMs,
    });
  }

  /**
   * The reply `bytes` lie in (a reply of call(), or any view into it) is
   * referenced by nobody any more: its buffer can receive another reply. A
   * reply never released is simply left to the garbage collector.
   */
  releaseReply(bytes: Uint8Array): void {
    this.rpc.releaseReply(bytes);
  }

  /** Graceful close: our queued output is written, then the socket closes. */
  async close(): Promise<void> {
    await this.rpc.drain();
  }

  /** Abrupt close: the socket is destroyed at once; calls in flight fail. */
  destroy(): void {
    this.rpc.destroy();
  }
}

/** The pool every client connection of the process receives large replies into. */
let replyBuffers: IoBufferPool | null = null;
function sharedReplyBuffers(): IoBufferPool {
  return (replyBuffers ??= new IoBufferPool(CLIENT_REPLY_BUFFER_BYTES, CLIENT_REPLY_BUFFERS_KEPT));
}

/** The process's client sockets read into one buffer, made on first use (rpc/read-buffer.ts). */
let readBuffer: Buffer | null = null;
function sharedReadBuffer(): Buffer {
  return (readBuffer ??= Buffer.allocUnsafeSlow(CLIENT_READ_BUFFER_BYTES));
}

function dial(
  host: string,
  port: number,
  timeoutMs: number,
  localAddress: string | undefined,
  onread: OnReadOpts,
): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({
      host,
      port,
      noDelay: true,
      onread,
      ...(localAddress === undefined ? {} : { localAddress }),
    });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`cannot connect to ${host}:${port} within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.once("error", (err) => {
      clearTimeout(timer);
      reject(err);
    });
    socket.once("connect", () => {
      clearTimeout(timer);
      // From here on the RPC Connection owns the socket and its error handling.
      socket.removeAllListeners("error");
      resolve(socket);
    });
  });
}

// Test support for the RPC transport: a raw TCP client that speaks record-marked
// RPC built from the generated codecs (not from src/rpc's encoders, so the tests
// check the server against the spec rather than against itself), a configurable
// test program, and a server starter that closes everything after each test.

import { connect } from "node:net";
import type { Socket } from "node:net";
import { afterEach } from "vitest";
import type { opaque_auth, rpc_msg } from "../../generated/rpc/index.js";
import { auth_flavor, decoderpc_msg, encoderpc_msg, msg_type } from "../../generated/rpc/index.js";
import { RecordAssembler, RpcServer } from "../../src/rpc/index.js";
import type { RpcCall, RpcOutcome, RpcProgram, RpcSettings } from "../../src/rpc/index.js";
import { XdrReader, XdrWriter } from "../../src/xdr/index.js";

export const TEST_PROG = 0x20000099;
export const EMPTY = new Uint8Array(0);
export const AUTH_NONE: opaque_auth = { flavor: auth_flavor.AUTH_NONE, body: EMPTY };

/** Prefixes a record mark (one fragment) to `body`. */
export function framed(body: Uint8Array): Buffer {
  const out = Buffer.alloc(4 + body.length);
  out.writeUInt32BE((0x80000000 + body.length) >>> 0, 0);
  out.set(body, 4);
  return out;
}

export interface CallSpec {
  readonly xid: number;
  readonly prog?: number;
  readonly vers?: number;
  readonly proc?: number;
  readonly rpcvers?: number;
  readonly cred?: opaque_auth;
  readonly verf?: opaque_auth;
  readonly args?: Uint8Array;
}

/** A CALL message (unframed), encoded with the generated codec. */
export function callBytes(c: CallSpec): Uint8Array {
  const w = new XdrWriter();
  encoderpc_msg(w, {
    xid: c.xid,
    body: {
      mtype: msg_type.CALL,
      cbody: {
        rpcvers: c.rpcvers ?? 2,
        prog: c.prog ?? TEST_PROG,
        vers: c.vers ?? 1,
        proc: c.proc ?? 0,
        cred: c.cred ?? AUTH_NONE,
        verf: c.verf ?? AUTH_NONE,
      },
    },
  });
  const args = c.args ?? EMPTY;
  const out = new Uint8Array(w.length + args.length);
  out.set(w.finish(), 0);
  out.set(args, w.length);
  return out;
}

/** A REPLY message (unframed) to an xid, with the given rpc_msg body and results. */
export function replyBytes(msg: rpc_msg, results: Uint8Array = EMPTY): Uint8Array {
  const w = new XdrWriter();
  encoderpc_msg(w, msg);
  const out = new Uint8Array(w.length + results.length);
  out.set(w.finish(), 0);
  out.set(results, w.length);
  return out;
}

/** A received record decoded: the rpc_msg, and a reader positioned after it. */
export interface Received {
  readonly msg: rpc_msg;
  readonly rest: XdrReader;
  readonly bytes: Uint8Array;
}

interface Waiter<T> {
  resolve(v: T): void;
  reject(e: Error): void;
}

/**
 * A raw RPC client over TCP. Replies are kept by xid (await them in any order);
 * CALLs from the server (the backchannel) are queued for nextCall().
 */
export class RawClient {
  readonly socket: Socket;
  /** Resolves when the socket has closed (for any reason). */
  readonly closed: Promise<void>;
  /** Every REPLY xid in arrival order. */
  readonly replyOrder: number[] = [];
  private readonly assembler = new RecordAssembler(64 * 1024 * 1024);
  private readonly replies = new Map<number, Received>();
  private readonly replyWaiters = new Map<number, Waiter<Received>>();
  private readonly calls: Received[] = [];
  private callWaiters: Waiter<Received>[] = [];
  private isClosed = false;

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.on("data", (chunk: Buffer) => {
      this.assembler.push(chunk);
      for (let r = this.assembler.next(); r !== undefined; r = this.assembler.next()) {
        this.onRecord(r);
      }
    });
    socket.on("error", () => {});
    this.closed = new Promise((resolve) =>
      socket.on("close", () => {
        this.isClosed = true;
        const err = new Error("connection closed");
        for (const w of this.replyWaiters.values()) w.reject(err);
        for (const w of this.callWaiters) w.reject(err);
        this.replyWaiters.clear();
        this.callWaiters = [];
        resolve();
      }),
    );
  }

  static connect(port: number, host = "127.0.0.1"): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const s = connect({ port, host, noDelay: true });
      s.once("error", reject);
      s.once("connect", () => {
        s.off("error", reject);
        resolve(new RawClient(s));
      });
    });
  }

  get isOpen(): boolean {
    return !this.isClosed;
  }

  send(bytes: Uint8Array): void {
    this.socket.write(bytes);
  }

  sendCall(c: CallSpec): void {
    this.send(framed(callBytes(c)));
  }

  /** Sends a call and waits for its reply. */
  call(c: CallSpec): Promise<Received> {
    const p = this.reply(c.xid);
    this.sendCall(c);
    return p;
  }

  /** The reply with this xid (already received or yet to come). */
  reply(xid: number): Promise<Received> {
    const got = this.replies.get(xid);
    if (got !== undefined) {
      this.replies.delete(xid);
      return Promise.resolve(got);
    }
    if (this.isClosed) return Promise.reject(new Error("connection closed"));
    return new Promise((resolve, reject) => this.replyWaiters.set(xid, { resolve, reject }));
  }

  /** The next CALL the server sent us. */
  nextCall(): Promise<Received> {
    const c = this.calls.shift();
    if (c !== undefined) return Promise.resolve(c);
    if (this.isClosed) return Promise.reject(new Error("connection closed"));
    return new Promise((resolve, reject) => this.callWaiters.push({ resolve, reject }));
  }

  /** Replies received and not yet taken. */
  get unclaimedReplies(): number {
    return this.replies.size;
  }

  /** Closes abruptly (RST, so no TIME_WAIT piles up over many test runs). */
  close(): void {
    if (!this.socket.destroyed) this.socket.resetAndDestroy();
  }

  private onRecord(bytes: Uint8Array): void {
    const rest = new XdrReader(bytes);
    const msg = decoderpc_msg(rest);
    const received: Received = { msg, rest, bytes };
    if (msg.body.mtype === msg_type.CALL) {
      const w = this.callWaiters.shift();
      if (w !== undefined) w.resolve(received);
      else this.calls.push(received);
      return;
    }
    this.replyOrder.push(msg.xid);
    const w = this.replyWaiters.get(msg.xid);
    if (w !== undefined) {
      this.replyWaiters.delete(msg.xid);
      w.resolve(received);
    } else {
      this.replies.set(msg.xid, received);
    }
  }
}

/** A program whose handler is the test's function. */
export function testProgram(
  handle: (call: RpcCall) => Promise<RpcOutcome>,
  options: { prog?: number; low?: number; high?: number } = {},
): RpcProgram {
  return {
    prog: options.prog ?? TEST_PROG,
    lowVersion: options.low ?? 1,
    highVersion: options.high ?? 3,
    handle,
  };
}

const started: RpcServer[] = [];
const clients: RawClient[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await Promise.all(started.splice(0).map((s) => s.close()));
});

/** Starts a server on 127.0.0.1:0 with these programs; closed after the test. */
export async function startServer(
  programs: readonly RpcProgram[],
  settings: Partial<RpcSettings> = {},
): Promise<{ server: RpcServer; port: number }> {
  const server = new RpcServer({ settings });
  for (const p of programs) server.register(p);
  started.push(server);
  const [bound] = await server.listen([{ host: "127.0.0.1", port: 0 }]);
  return { server, port: bound!.port };
}

/** A client connected to `port`, closed after the test. */
export async function client(port: number): Promise<RawClient> {
  const c = await RawClient.connect(port);
  clients.push(c);
  return c;
}

/** Resolves once `predicate` holds, checking every few milliseconds. */
export async function until(predicate: () => boolean, what = "condition"): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** A promise plus its resolver, for handlers that wait on the test. */
export function deferred<T = void>(): { promise: Promise<T>; resolve: (v: T) => void } {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

/** uint32 big-endian words as bytes, for hand-made malformed messages. */
export function words(...ws: number[]): Uint8Array {
  const b = Buffer.alloc(ws.length * 4);
  ws.forEach((w, i) => b.writeUInt32BE(w >>> 0, i * 4));
  return b;
}

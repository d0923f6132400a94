// The table of our outgoing calls on one connection (the NFSv4.1 backchannel),
// waiting for their REPLY records. Each entry settles exactly once: by its reply,
// its timeout, or the connection closing.

import type { reply_body } from "../../generated/rpc/index.js";
import { accept_stat, reply_stat } from "../../generated/rpc/index.js";
import type { XdrReader } from "../xdr/index.js";
import { RpcReplyError, RpcTimeoutError } from "./errors.js";

interface Pending {
  readonly resolve: (results: XdrReader) => void;
  readonly reject: (err: Error) => void;
  readonly timer: NodeJS.Timeout;
}

export class PendingCalls {
  private readonly calls = new Map<number, Pending>();

  get size(): number {
    return this.calls.size;
  }

  has(xid: number): boolean {
    return this.calls.has(xid);
  }

  /** Registers `xid`; the promise settles with its reply, or rejects after `timeoutMs`. */
  add(xid: number, timeoutMs: number): Promise<XdrReader> {
    if (this.calls.has(xid)) throw new Error(`xid ${xid} is already pending`);
    return new Promise<XdrReader>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.calls.delete(xid);
        reject(new RpcTimeoutError(xid, timeoutMs));
      }, timeoutMs);
      // A pending callback alone must not keep the process alive.
      timer.unref();
      this.calls.set(xid, { resolve, reject, timer });
    });
  }

  /**
   * Settles the call `xid` with its reply: resolves with `results` on
   * MSG_ACCEPTED/SUCCESS, rejects with RpcReplyError otherwise. False if no call
   * with that xid is pending (a late or stray reply).
   */
  settle(xid: number, reply: reply_body, results: XdrReader): boolean {
    const p = this.take(xid);
    if (p === undefined) return false;
    if (
      reply.stat === reply_stat.MSG_ACCEPTED &&
      reply.areply.reply_data.stat === accept_stat.SUCCESS
    ) {
      p.resolve(results);
    } else {
      p.reject(new RpcReplyError(xid, reply));
    }
    return true;
  }

  /** Rejects the call `xid` (e.g. it could not be sent). */
  fail(xid: number, err: Error): void {
    this.take(xid)?.reject(err);
  }

  /** Rejects every pending call (the connection closed). */
  failAll(makeError: () => Error): void {
    const all = [...this.calls.values()];
    for (const p of all) clearTimeout(p.timer);
    this.calls.clear();
    for (const p of all) p.reject(makeError());
  }

  private take(xid: number): Pending | undefined {
    const p = this.calls.get(xid);
    if (p === undefined) return undefined;
    this.calls.delete(xid);
    clearTimeout(p.timer);
    return p;
  }
}

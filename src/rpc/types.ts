// The contract between the RPC transport (src/rpc) and the programs it serves
// (NFSv4 in src/nfs). The transport knows nothing of NFS: it frames records,
// decodes the RPC header and credential, dispatches by program/version, and
// writes replies through one ordered writer per connection.

import type { XdrReader } from "../xdr/index.js";

/** The caller's identity, from the RPC credential (RFC 5531 §8.2, Appendix A). */
export interface Credential {
  /** AUTH_NONE (0) or AUTH_SYS (1); other flavors are refused with AUTH_ERROR. */
  readonly flavor: number;
  /** AUTH_SYS fields; for AUTH_NONE uid/gid are 65534 (nobody) and gids empty. */
  readonly uid: number;
  readonly gid: number;
  readonly gids: readonly number[];
  readonly machinename: string;
  /**
   * A stable string naming the principal, for the NFSv4.1 rules that compare
   * principals (EXCHANGE_ID §18.35.5, SEQ_FALSE_RETRY): "none", or "sys:<uid>"
   * — RFC 8881 treats AUTH_SYS principals as the uid.
   */
  readonly principal: string;
}

/** One connection, as programs see it. */
export interface RpcConnection {
  /** Unique for the server's lifetime; never reused. */
  readonly id: number;
  /** "address:port" of the peer and of our end. */
  readonly remote: string;
  readonly local: string;
  /** False once the socket has closed. */
  readonly open: boolean;
  /** Calls `listener` once when the connection closes (at once if already closed). */
  onClose(listener: () => void): void;
  /**
   * Sends an RPC CALL on this connection (the NFSv4.1 backchannel) and resolves
   * with the reply's result bytes (positioned after the accepted-reply header),
   * or rejects if the reply is not MSG_ACCEPTED/SUCCESS, the connection closes,
   * or `timeoutMs` passes. `body` encodes the procedure arguments.
   */
  call(request: OutgoingCall): Promise<XdrReader>;
}

export interface OutgoingCall {
  readonly prog: number;
  readonly vers: number;
  readonly proc: number;
  /** The credential to send (AUTH_NONE or AUTH_SYS). */
  readonly cred: { readonly flavor: number; readonly body: Uint8Array };
  /**
   * The encoded procedure arguments, whole or as pieces to send in order
   * (XdrWriter.finishGather: large data referenced, not copied). They are
   * not copied: they must not change until the call has been answered.
   */
  readonly args: Uint8Array | readonly Uint8Array[];
  readonly timeoutMs: number;
}

/** An incoming CALL, decoded up to the procedure arguments. */
export interface RpcCall {
  readonly xid: number;
  readonly prog: number;
  readonly vers: number;
  readonly proc: number;
  readonly cred: Credential;
  /** Positioned at the procedure's arguments; ends at the end of the record. */
  readonly args: XdrReader;
  readonly conn: RpcConnection;
  /**
   * Call BEFORE building a large part of the reply (a READ's data, a READDIR's
   * entries): resolves true once `bytes` of the connection's output budget (and
   * of the global one) are reserved for this call, false if the connection
   * closed meanwhile — then stop working on the call, its reply cannot be sent.
   * Waits while the connection is at maxConnectionOutputBytes or all connections
   * at maxTotalOutputBytes. Count the whole reply as written: results plus the
   * RPC reply header and record mark (REPLY_HEADER_BYTES). Reserve once per call
   * if possible (a call holding bytes that waits for more is granted only when
   * every call holding bytes is waiting too). All of a call's reservations are
   * released when its reply is handed to the writer (they then count as the
   * writer's buffered bytes until the socket drains them) or the call ends
   * without a reply. Rejects with RangeError if `bytes` is not a non-negative
   * safe integer.
   */
  reserveReplyBytes(bytes: number): Promise<boolean>;
}

/** What a program answers to a call. */
export type RpcOutcome =
  /**
   * MSG_ACCEPTED/SUCCESS followed by these result bytes, or these pieces in
   * order (written with one gather write, e.g. a READ reply's data as it came
   * from the backend). Not copied: they must not change until written.
   */
  | { readonly kind: "success"; readonly result: Uint8Array | readonly Uint8Array[] }
  /** The arguments could not be decoded. */
  | { readonly kind: "garbage_args" }
  | { readonly kind: "proc_unavail" }
  | { readonly kind: "system_err" }
  /** Send nothing (e.g. a duplicate the program chose to ignore). */
  | { readonly kind: "drop" };

/** A program the server dispatches to, e.g. NFS4_PROGRAM version 4. */
export interface RpcProgram {
  readonly prog: number;
  /** The versions served: a call for another version gets PROG_MISMATCH(low, high). */
  readonly lowVersion: number;
  readonly highVersion: number;
  handle(call: RpcCall): Promise<RpcOutcome>;
  /**
   * Told of each call to the NULL procedure, which the dispatcher answers
   * itself (e.g. a client library observing the server's CB_NULL probes).
   */
  onNull?(call: NullCall): void;
}

/** A call to a program's NULL procedure, as RpcProgram.onNull sees it. */
export interface NullCall {
  readonly xid: number;
  readonly prog: number;
  readonly vers: number;
  readonly cred: Credential;
  readonly conn: RpcConnection;
}

/** The result bytes of a success outcome as one contiguous array (a copy when in pieces). */
export function joinResult(result: Uint8Array | readonly Uint8Array[]): Uint8Array {
  if (result instanceof Uint8Array) return result;
  const out = new Uint8Array(result.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of result) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

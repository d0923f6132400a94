// Why a backchannel call (RpcConnection.call) failed. Separate classes so the
// callback layer can tell a dead connection (try another one) from a peer that
// answered with an error.

import type { reply_body } from "../../generated/rpc/index.js";
import {
  accept_stat_names,
  auth_stat_names,
  reject_stat,
  reject_stat_names,
  reply_stat,
} from "../../generated/rpc/index.js";

/** The connection closed (or was already closed) before the reply arrived. */
export class RpcConnectionClosedError extends Error {
  constructor(connection: string) {
    super(`RPC connection ${connection} closed before the reply arrived`);
    this.name = "RpcConnectionClosedError";
  }
}

/** No reply within the call's timeoutMs. */
export class RpcTimeoutError extends Error {
  readonly xid: number;
  constructor(xid: number, timeoutMs: number) {
    super(`no reply to RPC call xid ${xid} within ${timeoutMs} ms`);
    this.name = "RpcTimeoutError";
    this.xid = xid;
  }
}

/** The peer replied, but not with MSG_ACCEPTED/SUCCESS. */
export class RpcReplyError extends Error {
  readonly xid: number;
  /** The decoded reply, to tell PROG_UNAVAIL from AUTH_ERROR etc. */
  readonly reply: reply_body;
  constructor(xid: number, reply: reply_body) {
    super(`RPC call xid ${xid} failed: ${describeReply(reply)}`);
    this.name = "RpcReplyError";
    this.xid = xid;
    this.reply = reply;
  }
}

/** "MSG_ACCEPTED/PROG_UNAVAIL", "MSG_DENIED/AUTH_ERROR/AUTH_TOOWEAK"… for logs and errors. */
export function describeReply(reply: reply_body): string {
  if (reply.stat === reply_stat.MSG_ACCEPTED) {
    return `MSG_ACCEPTED/${accept_stat_names[reply.areply.reply_data.stat]}`;
  }
  const r = reply.rreply;
  return r.stat === reject_stat.AUTH_ERROR
    ? `MSG_DENIED/AUTH_ERROR/${auth_stat_names[r.auth_error]}`
    : `MSG_DENIED/${reject_stat_names[r.stat]}(${r.mismatch_info.low}, ${r.mismatch_info.high})`;
}

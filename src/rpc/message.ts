// RPC message framing (RFC 5531 §9): decoding a received record into a CALL or a
// REPLY, and encoding outgoing replies and calls as record-marked chunks. The
// header goes in its own small buffer and the procedure's bytes follow as a
// separate chunk, so a 1 MiB READ result is never copied.

import type {
  accepted_reply_reply_data,
  auth_stat,
  call_body,
  opaque_auth,
  rejected_reply,
  reply_body,
} from "../../generated/rpc/index.js";
import {
  accept_stat,
  auth_flavor,
  decoderpc_msg,
  encoderpc_msg,
  msg_type,
  reject_stat,
  reply_stat,
} from "../../generated/rpc/index.js";
import { XdrError, XdrReader, XdrWriter } from "../xdr/index.js";
import { UNKNOWN_FLAVOR_STAT, UNKNOWN_VERIFIER_STAT } from "./auth.js";
import { recordMark } from "./record.js";
import type { OutgoingCall } from "./types.js";

/** The only RPC protocol version (RFC 5531 §9: rpcvers must be 2). */
export const RPC_VERSION = 2;

/** Room for a reply header: mark, xid, mtype, stat, verifier, accept stat, mismatch info. */
const REPLY_HEADER_CAPACITY = 64;
/** Room for a call header with an AUTH_SYS credential of typical size. */
const CALL_HEADER_CAPACITY = 256;

const EMPTY = new Uint8Array(0);

/**
 * The bytes a SUCCESS reply adds to its results on the wire: record mark (4),
 * xid, REPLY, MSG_ACCEPTED, the null verifier (flavor, length) and SUCCESS
 * (RFC 5531 §9). What a program adds to its results' size when it reserves
 * output bytes (RpcCall.reserveReplyBytes).
 */
export const REPLY_HEADER_BYTES = 28;

/** The verifier of every reply we send and every call we make. */
export const NULL_VERIFIER: opaque_auth = Object.freeze({
  flavor: auth_flavor.AUTH_NONE,
  body: EMPTY,
});

/** A received record, classified. */
export type InboundMessage =
  /** A CALL whose header decoded; `args` is positioned at the procedure arguments. */
  | {
      readonly kind: "call";
      readonly xid: number;
      readonly call: call_body;
      readonly args: XdrReader;
    }
  /** A REPLY; `results` is positioned after the header (at the procedure results on SUCCESS). */
  | {
      readonly kind: "reply";
      readonly xid: number;
      readonly reply: reply_body;
      readonly results: XdrReader;
    }
  /** A CALL whose header did not decode but whose xid did: answer it with `reply`. */
  | {
      readonly kind: "bad_call";
      readonly xid: number;
      readonly reply: reply_body;
      readonly reason: string;
    }
  /** Not even a readable CALL: drop it. */
  | { readonly kind: "garbage"; readonly reason: string };

/** Decodes the RPC header of one record. Never throws on bad input. */
export function decodeMessage(record: Uint8Array): InboundMessage {
  const r = new XdrReader(record);
  try {
    const msg = decoderpc_msg(r);
    return msg.body.mtype === msg_type.CALL
      ? { kind: "call", xid: msg.xid, call: msg.body.cbody, args: r }
      : { kind: "reply", xid: msg.xid, reply: msg.body.rbody, results: r };
  } catch (e) {
    if (!(e instanceof XdrError)) throw e;
    return salvage(record, e);
  }
}

/**
 * Decides what to answer to a record whose header failed to decode, reading the
 * fixed leading words by hand. Checks follow the order servers apply them
 * (Linux svc_process_common): RPC version first, then authentication.
 */
function salvage(record: Uint8Array, e: XdrError): InboundMessage {
  if (record.length < 8) return { kind: "garbage", reason: `record of ${record.length} bytes` };
  const view = new DataView(record.buffer, record.byteOffset, record.length);
  const xid = view.getUint32(0);
  const mtype = view.getUint32(4);
  // Only a CALL is answered: a broken REPLY, or an unknown message type, is dropped.
  if (mtype !== msg_type.CALL) return { kind: "garbage", reason: e.message };
  if (record.length >= 12 && view.getUint32(8) !== RPC_VERSION) {
    return { kind: "bad_call", xid, reply: rpcMismatch(), reason: e.message };
  }
  const path = e.pathString;
  if (e.code === "enum" && path === "body.cbody.cred.flavor") {
    return { kind: "bad_call", xid, reply: authError(UNKNOWN_FLAVOR_STAT), reason: e.message };
  }
  if (e.code === "enum" && path === "body.cbody.verf.flavor") {
    return { kind: "bad_call", xid, reply: authError(UNKNOWN_VERIFIER_STAT), reason: e.message };
  }
  return {
    kind: "bad_call",
    xid,
    reply: accepted({ stat: accept_stat.GARBAGE_ARGS }),
    reason: e.message,
  };
}

/** MSG_ACCEPTED with an AUTH_NONE verifier. */
export function accepted(data: accepted_reply_reply_data): reply_body {
  return { stat: reply_stat.MSG_ACCEPTED, areply: { verf: NULL_VERIFIER, reply_data: data } };
}

/** MSG_ACCEPTED/SUCCESS; the results follow the header as a separate chunk. */
export function success(): reply_body {
  return accepted({ stat: accept_stat.SUCCESS, results: EMPTY });
}

export function rejected(r: rejected_reply): reply_body {
  return { stat: reply_stat.MSG_DENIED, rreply: r };
}

/** MSG_DENIED/RPC_MISMATCH: we support RPC version 2 only. */
export function rpcMismatch(): reply_body {
  return rejected({
    stat: reject_stat.RPC_MISMATCH,
    mismatch_info: { low: RPC_VERSION, high: RPC_VERSION },
  });
}

/** MSG_DENIED/AUTH_ERROR with the reason `stat`. */
export function authError(stat: auth_stat): reply_body {
  return rejected({ stat: reject_stat.AUTH_ERROR, auth_error: stat });
}

/**
 * A REPLY as record-marked chunks: [mark + header, ...results]. `results` (one
 * array or pieces in order) is not copied: it must not change until the
 * socket has written it.
 */
export function encodeReply(
  xid: number,
  body: reply_body,
  results: Uint8Array | readonly Uint8Array[] = EMPTY,
): Uint8Array[] {
  const pieces = results instanceof Uint8Array ? [results] : results;
  const size = pieces.reduce((n, p) => n + p.length, 0);
  const w = new XdrWriter(REPLY_HEADER_CAPACITY);
  const mark = w.reserve(4);
  encoderpc_msg(w, { xid, body: { mtype: msg_type.REPLY, rbody: body } });
  w.patchUint(mark, recordMark(w.length - 4 + size));
  // A fresh writer per reply, so its buffer can be handed to the socket as is.
  const header = w.finish();
  return [header, ...pieces.filter((p) => p.length > 0)];
}

/**
 * A CALL as record-marked chunks: [mark + header, args]. Throws XdrError if the
 * credential is not encodable (unknown flavor, body over 400 bytes).
 */
export function encodeCall(xid: number, call: OutgoingCall): Uint8Array[] {
  const w = new XdrWriter(CALL_HEADER_CAPACITY);
  const mark = w.reserve(4);
  encoderpc_msg(w, {
    xid,
    body: {
      mtype: msg_type.CALL,
      cbody: {
        rpcvers: RPC_VERSION,
        prog: call.prog,
        vers: call.vers,
        proc: call.proc,
        // The encoder checks the flavor against auth_flavor and throws XdrError if unknown.
        cred: { flavor: call.cred.flavor as opaque_auth["flavor"], body: call.cred.body },
        verf: NULL_VERIFIER,
      },
    },
  });
  const args = call.args instanceof Uint8Array ? [call.args] : call.args;
  let argBytes = 0;
  for (const a of args) argBytes += a.length;
  w.patchUint(mark, recordMark(w.length - 4 + argBytes));
  return [w.finish(), ...args.filter((a) => a.length > 0)];
}

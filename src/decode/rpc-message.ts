// One RPC record (RFC 5531 §9) decoded with the generated codecs: the header
// with rpc_msg (through src/rpc's decodeMessage), then the NFSv4 program's
// arguments and results (RFC 8881 §16: NULL and COMPOUND; §20: CB_NULL and
// CB_COMPOUND on the back channel). COMPOUNDs are decoded one operation at a
// time, as the server does, so an operation that does not decode still leaves
// the ones before it shown, with the reason.

import type { accepted_reply_reply_data, reply_body } from "../../generated/rpc/index.js";
import {
  accept_stat_names,
  auth_flavor,
  auth_flavor_names,
  auth_stat_names,
  decodeauthsys_parms,
  reject_stat,
  reply_stat,
} from "../../generated/rpc/index.js";
import {
  NFS4_PROGRAM,
  NFS_V4,
  decodenfs_argop4,
  decodenfs_cb_argop4,
  decodenfs_cb_resop4,
  decodenfs_resop4,
  decodenfsstat4,
} from "../../generated/nfs4/index.js";
import { decodeMessage } from "../rpc/message.js";
import { XdrError, XdrReader } from "../xdr/index.js";
import type { Display, Ids, Renderer } from "./display.js";
import { isDisplayRecord } from "./display.js";

/** The NFSv4 callback program's version (RFC 8881 §20: NFS_CB = 1). */
const NFS_CB_VERSION = 1;
const PROC_NULL = 0;
const PROC_COMPOUND = 1;

/** What a call invokes, and therefore how its arguments and its reply's results decode. */
export type Procedure = "NULL" | "COMPOUND" | "CB_NULL" | "CB_COMPOUND" | null;

/** One operation of a COMPOUND or CB_COMPOUND. */
export interface DecodedOp {
  /** Without the OP_ prefix: "SEQUENCE", "CB_RECALL". */
  readonly name: string;
  /** The result's status (results only). */
  readonly status?: string;
  /** The arguments or results (for results, without the status). */
  readonly value: Display;
}

export interface CompoundBody {
  readonly tag: Display;
  readonly minorversion?: number;
  readonly callbackIdent?: number;
  /** The COMPOUND's status (results only). */
  readonly status?: string;
  readonly ops: DecodedOp[];
}

export interface DecodedCall {
  readonly kind: "call";
  readonly xid: number;
  readonly prog: number;
  readonly vers: number;
  readonly proc: number;
  readonly procedure: Procedure;
  readonly auth: Display;
  readonly compound?: CompoundBody;
  /** Why the header or the arguments did not decode. */
  readonly error?: string;
}

export interface DecodedReply {
  readonly kind: "reply";
  readonly xid: number;
  /** SUCCESS, an accept_stat name, RPC_MISMATCH or AUTH_ERROR/<auth_stat>. */
  readonly rpcStatus: string;
  /** The reply says the server could not decode or does not serve the call. */
  readonly rejected: boolean;
  readonly compound?: CompoundBody;
  readonly error?: string;
}

export type DecodedMessage =
  | DecodedCall
  | DecodedReply
  /** Not even an RPC header. */
  | { readonly kind: "garbage"; readonly xid: number | null; readonly error: string };

/**
 * COMPOUND statuses with which a server says the request itself was not valid
 * XDR or not a valid COMPOUND (RFC 8881 §15.1.1.1, §15.1.3.2, §15.1.5.1).
 */
const REJECTING_STATUSES = new Set([
  "NFS4ERR_BADXDR",
  "NFS4ERR_OP_ILLEGAL",
  "NFS4ERR_MINOR_VERS_MISMATCH",
]);

/** The procedure a call names: fore-channel calls to NFSv4, back-channel calls to its callback program. */
export function procedureOf(
  prog: number,
  vers: number,
  proc: number,
  fromServer: boolean,
): Procedure {
  if (fromServer) {
    // The callback program number is the client's choice (csa_cb_program).
    if (vers !== NFS_CB_VERSION) return null;
    return proc === PROC_NULL ? "CB_NULL" : proc === PROC_COMPOUND ? "CB_COMPOUND" : null;
  }
  if (prog !== NFS4_PROGRAM || vers !== NFS_V4) return null;
  return proc === PROC_NULL ? "NULL" : proc === PROC_COMPOUND ? "COMPOUND" : null;
}

/**
 * Decodes one record. `fromServer`: the server sent it (a callback, or a reply to
 * the client's call); `pendingProcedure` names the procedure of the call a reply answers.
 */
export function decodeRecord(
  record: Uint8Array,
  fromServer: boolean,
  pendingProcedure: (xid: number) => Procedure | undefined,
  renderer: Renderer,
  ids: Ids,
): DecodedMessage {
  const msg = decodeMessage(record);
  switch (msg.kind) {
    case "garbage":
      return {
        kind: "garbage",
        xid:
          record.length >= 4 ? new DataView(record.buffer, record.byteOffset).getUint32(0) : null,
        error: msg.reason,
      };
    case "bad_call":
      return {
        kind: "call",
        xid: msg.xid,
        prog: word(record, 12),
        vers: word(record, 16),
        proc: word(record, 20),
        procedure: null,
        auth: null,
        error: `call header does not decode: ${msg.reason}`,
      };
    case "call": {
      const { prog, vers, proc, cred } = msg.call;
      const procedure = procedureOf(prog, vers, proc, fromServer);
      const base = { kind: "call" as const, xid: msg.xid, prog, vers, proc, procedure };
      const auth = authDisplay(cred.flavor, cred.body, renderer, ids);
      const r = msg.args;
      if (procedure === null) {
        return {
          ...base,
          auth,
          error: `program ${prog} version ${vers} procedure ${proc} is not NFSv4 (${r.remaining} bytes of arguments)`,
        };
      }
      if (procedure === "NULL" || procedure === "CB_NULL") {
        return r.remaining === 0
          ? { ...base, auth }
          : { ...base, auth, error: `${r.remaining} bytes of arguments to a NULL procedure` };
      }
      const { compound, error } = compoundArgs(r, procedure === "CB_COMPOUND", renderer, ids);
      return error === undefined ? { ...base, auth, compound } : { ...base, auth, compound, error };
    }
    case "reply": {
      const status = replyStatus(msg.reply);
      const base = { kind: "reply" as const, xid: msg.xid, rpcStatus: status };
      if (status !== "SUCCESS") return { ...base, rejected: true };
      const r = msg.results;
      // An unmatched reply (its call not captured): the channel tells the program,
      // and an empty body can only be NULL's.
      const procedure =
        pendingProcedure(msg.xid) ??
        (r.remaining === 0
          ? fromServer
            ? "NULL"
            : "CB_NULL"
          : fromServer
            ? "COMPOUND"
            : "CB_COMPOUND");
      if (procedure === null) {
        return {
          ...base,
          rejected: false,
          error: "results of a procedure this decoder does not know",
        };
      }
      if (procedure === "NULL" || procedure === "CB_NULL") {
        return r.remaining === 0
          ? { ...base, rejected: false }
          : {
              ...base,
              rejected: false,
              error: `${r.remaining} bytes of results from a NULL procedure`,
            };
      }
      const { compound, error } = compoundResults(r, procedure === "CB_COMPOUND", renderer, ids);
      const rejected = compound?.status !== undefined && REJECTING_STATUSES.has(compound.status);
      return error === undefined
        ? { ...base, rejected, compound }
        : { ...base, rejected, compound, error };
    }
  }
}

function word(record: Uint8Array, at: number): number {
  if (record.length < at + 4) return 0;
  return new DataView(record.buffer, record.byteOffset, record.length).getUint32(at);
}

function replyStatus(body: reply_body): string {
  if (body.stat === reply_stat.MSG_ACCEPTED) return acceptStatus(body.areply.reply_data);
  const r = body.rreply;
  if (r.stat === reject_stat.RPC_MISMATCH) return "RPC_MISMATCH";
  return `AUTH_ERROR/${auth_stat_names[r.auth_error] ?? r.auth_error}`;
}

function acceptStatus(data: accepted_reply_reply_data): string {
  return accept_stat_names[data.stat] ?? String(data.stat);
}

/** The credential: its flavor, and for AUTH_SYS (RFC 5531 §A.1) who. */
function authDisplay(flavor: number, body: Uint8Array, renderer: Renderer, ids: Ids): Display {
  const name = auth_flavor_names[flavor] ?? String(flavor);
  if (flavor !== auth_flavor.AUTH_SYS) return name;
  try {
    const parms = decodeauthsys_parms(new XdrReader(body));
    return { flavor: name, ...asObject(renderer.named("authsys_parms", parms, ids)) };
  } catch (e) {
    if (!(e instanceof XdrError)) throw e;
    return { flavor: name, error: e.message };
  }
}

function asObject(d: Display): { readonly [key: string]: Display } {
  return isDisplayRecord(d) ? d : { value: d };
}

/** Splits a rendered nfs_argop4 / nfs_resop4 union into its name and its arm's value. */
function opOf(rendered: Display): { name: string; value: Display } {
  const entries = Object.entries(asObject(rendered));
  const disc = entries[0]?.[1];
  const raw = typeof disc === "string" ? disc : `op${String(disc)}`;
  return { name: raw.startsWith("OP_") ? raw.slice(3) : raw, value: entries[1]?.[1] ?? null };
}

function compoundArgs(
  r: XdrReader,
  cb: boolean,
  renderer: Renderer,
  ids: Ids,
): { compound?: CompoundBody; error?: string } {
  let tag: Display = null;
  let minorversion: number | undefined;
  let callbackIdent: number | undefined;
  const ops: DecodedOp[] = [];
  let at = "tag";
  try {
    tag = renderer.named("utf8str_cs", r.readOpaqueVar(0xffffffff), ids);
    at = "minorversion";
    minorversion = r.readUint();
    if (cb) {
      at = "callback_ident";
      callbackIdent = r.readUint();
    }
    at = "argarray";
    const count = r.readArrayLength(0xffffffff, 4);
    for (let i = 0; i < count; i++) {
      at = `argarray[${i}]`;
      const op = cb ? decodenfs_cb_argop4(r) : decodenfs_argop4(r);
      ops.push(opOf(renderer.named(cb ? "nfs_cb_argop4" : "nfs_argop4", op, ids)));
    }
    const compound: CompoundBody = { tag, minorversion, ops, ...(cb ? { callbackIdent } : {}) };
    if (r.remaining > 0)
      return { compound, error: `${r.remaining} bytes after the last operation` };
    return { compound };
  } catch (e) {
    const compound: CompoundBody = {
      tag,
      ops,
      ...(minorversion !== undefined ? { minorversion } : {}),
    };
    return { compound, error: reason(e, at) };
  }
}

function compoundResults(
  r: XdrReader,
  cb: boolean,
  renderer: Renderer,
  ids: Ids,
): { compound?: CompoundBody; error?: string } {
  let status: string | undefined;
  let tag: Display = null;
  const ops: DecodedOp[] = [];
  let at = "status";
  try {
    status = String(renderer.named("nfsstat4", decodenfsstat4(r), ids));
    at = "tag";
    tag = renderer.named("utf8str_cs", r.readOpaqueVar(0xffffffff), ids);
    at = "resarray";
    const count = r.readArrayLength(0xffffffff, 8);
    for (let i = 0; i < count; i++) {
      at = `resarray[${i}]`;
      const op = cb ? decodenfs_cb_resop4(r) : decodenfs_resop4(r);
      const { name, value } = opOf(renderer.named(cb ? "nfs_cb_resop4" : "nfs_resop4", op, ids));
      ops.push(withStatus(name, value));
    }
    const compound: CompoundBody = { status, tag, ops };
    if (r.remaining > 0) return { compound, error: `${r.remaining} bytes after the last result` };
    return { compound };
  } catch (e) {
    return {
      compound: { tag, ops, ...(status !== undefined ? { status } : {}) },
      error: reason(e, at),
    };
  }
}

/**
 * Every NFSv4 result starts with its nfsstat4 (RFC 8881 §16.2.3: "status" or,
 * for SEQUENCE and CB_SEQUENCE, sr_status / csr_status): lift it out.
 */
function withStatus(name: string, value: Display): DecodedOp {
  const o = asObject(value);
  const entries = Object.entries(o);
  const first = entries[0];
  if (first !== undefined && typeof first[1] === "string" && /^NFS4(_OK|ERR_)/.test(first[1])) {
    const rest = Object.fromEntries(entries.slice(1));
    // A union's ok arm (resok4 and the like) alone: show its fields directly.
    const only = Object.values(rest);
    const shown =
      only.length === 1 &&
      typeof only[0] === "object" &&
      only[0] !== null &&
      !Array.isArray(only[0])
        ? only[0]!
        : rest;
    return { name, status: first[1], value: shown };
  }
  return { name, value };
}

function reason(e: unknown, at: string): string {
  return `${at}: ${e instanceof Error ? e.message : String(e)}`;
}

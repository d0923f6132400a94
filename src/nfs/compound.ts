// COMPOUND (RFC 8881 §16.2, §2.10.6): decodes the operations one at a time,
// enforces where SEQUENCE and the session-less operations may stand, runs each
// operation in order until one fails, and encodes the reply — which SEQUENCE's
// slot may cache for exactly-once replies.

import type { COMPOUND4res, nfs_argop4, nfs_resop4 } from "../../generated/nfs4/index.js";
import {
  decodenfs_argop4,
  encodeCOMPOUND4res,
  nfs_opnum4,
  nfsstat4,
} from "../../generated/nfs4/index.js";
import type { RpcCall, RpcOutcome } from "../rpc/types.js";
import type { Session } from "../state/session.js";
import type { Slot } from "../state/slot-table.js";
import { requestDigest } from "../state/slot-table.js";
import { XdrError, XdrWriter } from "../xdr/index.js";
import type { CompoundState, ServerContext } from "./context.js";
import type { OpTable } from "./op.js";
import { argsOf, statusOf, statusResult, wrapResult } from "../protocol/results.js";
import { isAllowedError } from "../../generated/nfs4/index.js";
import { sequence } from "./ops/sequence.js";
import { cachedReplyOf, encodeReplay } from "./replay.js";

/**
 * The RPC reply header before the COMPOUND4res (xid, REPLY, MSG_ACCEPTED, an
 * AUTH_NONE verifier, SUCCESS): channel size limits count it (RFC 8881 §18.36.3).
 */
export const RPC_REPLY_HEADER_SIZE = 24;
/** A COMPOUND4res holding one successful SEQUENCE, without the tag's bytes. */
const SEQUENCE_ONLY_REPLY_SIZE = 4 + 4 + 4 + 4 + 4 + 16 + 5 * 4;

/** How many disallowed-error results CompoundProcessor.disallowed keeps. */
const MAX_RECORDED_VIOLATIONS = 100;

const utf8 = new TextDecoder("utf-8", { fatal: true });

/** Minor versions this server speaks; others get NFS4ERR_MINOR_VERS_MISMATCH. */
export const SUPPORTED_MINOR_VERSIONS: ReadonlySet<number> = new Set([1, 2]);

/** The last operation of NFSv4.1; later numbers are NFSv4.2's (RFC 7862). */
const LAST_V41_OP = nfs_opnum4.OP_RECLAIM_COMPLETE;

/** Operations that may start a COMPOUND without SEQUENCE, and must then be its only operation. */
const SESSIONLESS: ReadonlySet<number> = new Set([
  nfs_opnum4.OP_EXCHANGE_ID,
  nfs_opnum4.OP_CREATE_SESSION,
  nfs_opnum4.OP_BIND_CONN_TO_SESSION,
  nfs_opnum4.OP_DESTROY_SESSION,
  nfs_opnum4.OP_DESTROY_CLIENTID,
]);

/** NFSv4.0 operations that NFSv4.1 forbids (RFC 8881 §18: "MUST NOT be used"). */
const V40_ONLY: ReadonlySet<number> = new Set([
  nfs_opnum4.OP_OPEN_CONFIRM,
  nfs_opnum4.OP_RENEW,
  nfs_opnum4.OP_SETCLIENTID,
  nfs_opnum4.OP_SETCLIENTID_CONFIRM,
  nfs_opnum4.OP_RELEASE_LOCKOWNER,
]);

/** What SEQUENCE established for the rest of the COMPOUND. */
interface SlotHold {
  readonly session: Session;
  readonly slot: Slot;
  readonly cachethis: boolean;
}

export class CompoundProcessor {
  /** Operation results whose error RFC 8881 §15.2 does not allow (the first few; tests require none). */
  readonly disallowed: { readonly op: number; readonly status: nfsstat4 }[] = [];
  /** How many times each operation's handler has run (SEQUENCE excepted; replays run nothing). */
  readonly executed = new Map<number, number>();

  constructor(
    private readonly server: ServerContext,
    private readonly ops: OpTable,
  ) {}

  async process(call: RpcCall): Promise<RpcOutcome> {
    const r = call.args;
    const requestStart = r.offset;
    let tag: Uint8Array;
    let minorversion: number;
    let count: number;
    try {
      tag = r.readOpaqueVar(0xffffffff);
      minorversion = r.readUint();
      // Each operation is at least its 4-byte number.
      count = r.readArrayLength(0xffffffff, 4);
    } catch (e) {
      if (e instanceof XdrError) return { kind: "garbage_args" };
      throw e;
    }
    const results: nfs_resop4[] = [];
    const reply = (status: nfsstat4): Uint8Array[] =>
      encodeReply({ status, tag, resarray: results }).pieces;
    if (!SUPPORTED_MINOR_VERSIONS.has(minorversion))
      return { kind: "success", result: reply(nfsstat4.NFS4ERR_MINOR_VERS_MISMATCH) };
    // The tag is a utf8str_cs: text the server echoes must be valid UTF-8 (§16.2.3).
    if (!isUtf8(tag)) return { kind: "success", result: reply(nfsstat4.NFS4ERR_INVAL) };

    const state: CompoundState & { opIndex: number } = {
      server: this.server,
      cred: call.cred,
      conn: call.conn,
      minorversion,
      opIndex: 0,
      opCount: count,
      currentFh: null,
      savedFh: null,
      currentStateid: null,
      savedStateid: null,
      session: null,
    };
    let hold: SlotHold | null = null;
    let status: nfsstat4 = nfsstat4.NFS4_OK;
    try {
      for (let i = 0; i < count; i++) {
        state.opIndex = i;
        const decoded = decodeOp(r);
        if (decoded.kind === "garbage") {
          status = nfsstat4.NFS4ERR_BADXDR;
          if (decoded.op !== null) results.push(statusResult(decoded.op, status));
          break;
        }
        // An NFSv4.2 operation in a 4.1 COMPOUND is no operation at all there.
        const op: nfs_argop4 =
          minorversion < 2 &&
          decoded.op.argop > LAST_V41_OP &&
          decoded.op.argop !== nfs_opnum4.OP_ILLEGAL
            ? { argop: nfs_opnum4.OP_ILLEGAL }
            : decoded.op;
        const misplaced = placementError(op.argop, i, count);
        let res: nfs_resop4;
        if (misplaced !== null) {
          res = statusResult(op.argop, misplaced);
        } else if (op.argop === nfs_opnum4.OP_SEQUENCE) {
          // A retry is the same request after SEQUENCE's arguments (RFC 8881
          // §2.10.6.1.3); SEQUENCE's own fields may be re-encoded by the client.
          const outcome = sequence(op.opsequence, state, {
            size: r.end - requestStart,
            identity: {
              principal: call.cred.principal,
              opCount: count,
              ...requestDigest(r.buffer, r.offset, r.end),
            },
            minReplySize:
              RPC_REPLY_HEADER_SIZE + SEQUENCE_ONLY_REPLY_SIZE + ((tag.length + 3) & ~3),
          });
          if (outcome.kind === "replay")
            return { kind: "success", result: encodeReplay(tag, outcome.res, outcome.cached) };
          res = { resop: nfs_opnum4.OP_SEQUENCE, opsequence: outcome.res };
          if (outcome.kind === "new") {
            hold = {
              session: outcome.session,
              slot: outcome.slot,
              cachethis: op.opsequence.sa_cachethis,
            };
            state.session = outcome.session;
          }
        } else {
          res = await this.run(op, state);
        }
        results.push(res);
        status = statusOf(res);
        if (status !== nfsstat4.NFS4_OK) break;
      }
      const encoded = this.fit(tag, results, status, hold);
      if (hold)
        this.server.state.completeSlot(
          hold.session,
          hold.slot,
          hold.cachethis ? cachedReplyOf(encoded.pieces, tag, results[0]!) : null,
        );
      hold = null;
      return { kind: "success", result: encoded.pieces };
    } finally {
      // An exception escaped: free the slot so the client is not stuck with NFS4ERR_DELAY.
      if (hold) this.server.state.abandonSlot(hold.session, hold.slot);
    }
  }

  /** Runs one operation; a handler that throws yields NFS4ERR_SERVERFAULT, not a dead connection. */
  private async run(op: nfs_argop4, state: CompoundState): Promise<nfs_resop4> {
    if (op.argop === nfs_opnum4.OP_ILLEGAL)
      return statusResult(op.argop, nfsstat4.NFS4ERR_OP_ILLEGAL);
    const handler = (this.ops as Record<number, (a: unknown, s: CompoundState) => unknown>)[
      op.argop
    ];
    if (!handler || V40_ONLY.has(op.argop)) return statusResult(op.argop, nfsstat4.NFS4ERR_NOTSUPP);
    const args = argsOf(op);
    this.executed.set(op.argop, (this.executed.get(op.argop) ?? 0) + 1);
    const fhBefore = state.currentFh;
    const stateidBefore = state.currentStateid;
    try {
      const value = await handler(args, state);
      // A new current filehandle without a new stateid leaves no current stateid (§16.2.3.1.2).
      if (
        state.currentFh !== fhBefore &&
        state.currentStateid === stateidBefore &&
        op.argop !== nfs_opnum4.OP_RESTOREFH
      )
        state.currentStateid = null;
      const res = wrapResult(op.argop, value);
      const status = statusOf(res);
      if (!isAllowedError(op.argop, status)) {
        // RFC 8881 §15.2 lists what each operation may return: anything else is a server bug.
        this.server.log.warn(
          { op: op.argop, status },
          "operation returned an error RFC 8881 §15.2 does not allow",
        );
        if (this.disallowed.length < MAX_RECORDED_VIOLATIONS)
          this.disallowed.push({ op: op.argop, status });
      }
      return res;
    } catch (e) {
      this.server.log.error({ err: e, op: op.argop }, "operation failed");
      return statusResult(op.argop, nfsstat4.NFS4ERR_SERVERFAULT);
    }
  }

  /**
   * Encodes the reply, enforcing the session's reply limits (RFC 8881 §2.10.6.4):
   * the operation that pushes the reply past ca_maxresponsesize gets
   * NFS4ERR_REP_TOO_BIG instead, and past ca_maxresponsesize_cached, when the
   * client asked for caching, NFS4ERR_REP_TOO_BIG_TO_CACHE.
   */
  private fit(
    tag: Uint8Array,
    results: nfs_resop4[],
    status: nfsstat4,
    hold: SlotHold | null,
  ): Encoded {
    const bytes = encodeReply({ status, tag, resarray: results });
    if (!hold) return bytes;
    const attrs = hold.session.fore;
    // The limits count the RPC reply header too.
    const limit =
      (hold.cachethis
        ? Math.min(attrs.ca_maxresponsesize, attrs.ca_maxresponsesize_cached)
        : attrs.ca_maxresponsesize) - RPC_REPLY_HEADER_SIZE;
    if (bytes.length <= limit) return bytes;
    const tooBig =
      hold.cachethis && bytes.length + RPC_REPLY_HEADER_SIZE <= attrs.ca_maxresponsesize
        ? nfsstat4.NFS4ERR_REP_TOO_BIG_TO_CACHE
        : nfsstat4.NFS4ERR_REP_TOO_BIG;
    // Keep the longest prefix of results that fits, then the failing operation's status.
    for (let n = results.length - 1; n >= 1; n--) {
      const prefix = [...results.slice(0, n), statusResult(results[n]!.resop, tooBig)];
      const candidate = encodeReply({ status: tooBig, tag, resarray: prefix });
      if (candidate.length <= limit || n === 1) return candidate;
    }
    return bytes; // SEQUENCE alone always fits: CREATE_SESSION refuses smaller limits
  }
}

function isUtf8(bytes: Uint8Array): boolean {
  try {
    utf8.decode(bytes);
    return true;
  } catch {
    return false;
  }
}

/**
 * Opaque data of at least this many bytes in a reply (READ data, large
 * attributes) goes to the socket as its own piece instead of being copied.
 */
export const REPLY_GATHER_FROM = 4096;

/** An encoded reply: the pieces to write in order, and their total size. */
interface Encoded {
  readonly pieces: Uint8Array[];
  readonly length: number;
}

function encodeReply(res: COMPOUND4res): Encoded {
  const w = new XdrWriter(512, { gatherFrom: REPLY_GATHER_FROM });
  encodeCOMPOUND4res(w, res);
  return { pieces: w.finishGather(), length: w.length };
}

type DecodedOp =
  | { readonly kind: "op"; readonly op: nfs_argop4 }
  /** Undecodable arguments of operation `op` (null when even the number is missing). */
  | { readonly kind: "garbage"; readonly op: number | null };

/**
 * Decodes the next operation. An operation number that is not an operation
 * becomes OP_ILLEGAL (answered NFS4ERR_OP_ILLEGAL, RFC 8881 §15.2); arguments
 * that do not decode are NFS4ERR_BADXDR for that operation.
 */
function decodeOp(r: CompoundReader): DecodedOp {
  const start = r.offset;
  try {
    return { kind: "op", op: decodenfs_argop4(r) };
  } catch (e) {
    if (!(e instanceof XdrError)) throw e;
    if (
      (e.code === "enum" || e.code === "discriminant") &&
      e.path.length === 1 &&
      e.path[0] === "argop"
    )
      return { kind: "op", op: { argop: nfs_opnum4.OP_ILLEGAL } };
    r.offset = start;
    return { kind: "garbage", op: r.remaining >= 4 ? r.readUint() : null };
  }
}
type CompoundReader = RpcCall["args"];

/**
 * Where an operation may stand in a v4.1 COMPOUND (RFC 8881 §2.6.3.1.1.8,
 * §18.46.3): SEQUENCE first; a COMPOUND without SEQUENCE holds exactly one
 * session-less operation.
 */
function placementError(op: number, index: number, count: number): nfsstat4 | null {
  if (op === nfs_opnum4.OP_SEQUENCE) return index === 0 ? null : nfsstat4.NFS4ERR_SEQUENCE_POS;
  if (index > 0) return null;
  if (op === nfs_opnum4.OP_ILLEGAL) return null;
  if (!SESSIONLESS.has(op)) return nfsstat4.NFS4ERR_OP_NOT_IN_SESSION;
  return count > 1 ? nfsstat4.NFS4ERR_NOT_ONLY_OP : null;
}

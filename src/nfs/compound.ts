// COMPOUND (RFC 8881 §16.2, §2.10.6): decodes every operation first (an array
// shorter than its count is GARBAGE_ARGS, nothing run), then
// enforces each operation's descriptor (op.ts: where it may stand, the minor
// version, the current filehandle, whether its reply can still fit), runs
// each operation in order until one fails, mapping backend failures to NFS
// status in one place, and encodes the reply as it goes — which SEQUENCE's
// slot may cache for exactly-once replies.

import type { nfs_argop4, nfs_resop4 } from "../../generated/nfs4/index.js";
import {
  decodenfs_argop4,
  encodenfs_resop4,
  encodenfsstat4,
  nfs_opnum4,
  nfs_opnum4_names,
  nfsstat4,
} from "../../generated/nfs4/index.js";
import type { RpcCall, RpcOutcome } from "../rpc/types.js";
import type { Session } from "../state/session.js";
import type { Slot } from "../state/slot-table.js";
import { requestDigest } from "../state/slot-table.js";
import { XdrError, XdrWriter } from "../xdr/index.js";
import type { CompoundState, ServerContext } from "./context.js";
import type { OpTable, Operation } from "./op.js";
import { statusOf, statusResult } from "../protocol/results.js";
import { isAllowedError } from "../../generated/nfs4/index.js";
import type { OperationMetrics } from "./op-metrics.js";
import { resolveOperations } from "./ops/index.js";
import { REPLY_GATHER_FROM } from "./ops/reply-size.js";
import { sequence } from "./ops/sequence.js";
import { cachedReplyOf, encodeReplay } from "./replay.js";
import { CompoundRequestState } from "./compound-state.js";
import { flavorRefusalAfter, flavorRefusalBefore, readOnlyRefusal } from "./export-access.js";

/**
 * The RPC reply header before the COMPOUND4res (xid, REPLY, MSG_ACCEPTED, an
 * AUTH_NONE verifier, SUCCESS): channel size limits count it (RFC 8881 §18.36.3).
 */
export const RPC_REPLY_HEADER_SIZE = 24;
/** A COMPOUND4res holding one successful SEQUENCE, without the tag's bytes. */
const SEQUENCE_ONLY_REPLY_SIZE = 4 + 4 + 4 + 4 + 4 + 16 + 5 * 4;

/**
 * Room kept, when checking an operation's reply bound, for the status-only
 * result of a later operation (NFS4ERR_REP_TOO_BIG itself), as Linux nfsd's
 * COMPOUND_ERR_SLACK_SPACE: an error result is at most the operation number,
 * the status and an empty trailing field.
 */
const ERROR_RESULT_SLACK = 16;

/**
 * Operations whose reply bound is at least this many bytes reserve it from
 * the connection's output budget before they run (rpc.maxConnectionOutputBytes);
 * smaller ones are covered by the per-connection limit on calls in flight.
 */
const RESERVE_REPLY_FROM = 16 * 1024;

/** How many disallowed-error results CompoundProcessor.disallowed keeps. */
const MAX_RECORDED_VIOLATIONS = 100;

const utf8 = new TextDecoder("utf-8", { fatal: true });

/** Minor versions this server speaks; others get NFS4ERR_MINOR_VERS_MISMATCH. */
export const SUPPORTED_MINOR_VERSIONS: ReadonlySet<number> = new Set([1, 2]);

/**
 * The last operation of NFSv4.1; later numbers are NFSv4.2's (RFC 7862). For
 * operations without a descriptor: those with one say their minor version.
 */
const LAST_V41_OP = nfs_opnum4.OP_RECLAIM_COMPLETE;

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
  /** Reply-size overruns the per-operation bounds missed (see fit(); tests require none). */
  overruns = 0;
  /** Results larger than their operation's replyBound (tests require none). */
  boundViolations = 0;
  /**
   * Where operations, their latency and COMPOUNDs are counted while the
   * metrics endpoint is on (NfsServer.enableMetrics); null: nothing is
   * counted or timed.
   */
  metrics: OperationMetrics | null = null;
  private readonly ops: ReadonlyMap<number, Operation>;

  constructor(
    private readonly server: ServerContext,
    ops: OpTable,
  ) {
    this.ops = resolveOperations(ops);
  }

  async process(call: RpcCall): Promise<RpcOutcome> {
    const r = call.args;
    const requestStart = r.offset;
    const metrics = this.metrics;
    if (metrics !== null) metrics.compounds++;
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
    // Each result encoded as it is produced, so the reply's size is always
    // known (RFC 8881 §2.10.6.4 checks it before each operation runs). The
    // results after SEQUENCE are encoded.slice(1).
    const encoded: Encoded[] = [];
    let resultBytes = 0;
    const push = (res: nfs_resop4): number => {
      const e = this.encodeResult(res);
      results.push(e.res);
      encoded.push(e.bytes);
      resultBytes += e.bytes.length;
      if (metrics !== null) this.countResult(metrics, e.res);
      return e.bytes.length;
    };
    // The COMPOUND4res header: status, tag, the result count.
    const headerSize = 4 + 4 + ((tag.length + 3) & ~3) + 4;
    const reply = (status: nfsstat4): Uint8Array[] => replyPieces(status, tag, []);
    if (!SUPPORTED_MINOR_VERSIONS.has(minorversion))
      return { kind: "success", result: reply(nfsstat4.NFS4ERR_MINOR_VERS_MISMATCH) };
    // The tag is a utf8str_cs: text the server echoes must be valid UTF-8 (§16.2.3).
    if (!isUtf8(tag)) return { kind: "success", result: reply(nfsstat4.NFS4ERR_INVAL) };

    const state = new CompoundRequestState(this.server, call.cred, call.conn, minorversion, count);
    // Every operation is decoded before any runs, as Linux nfsd does: an
    // argument array that ends before its count says is no COMPOUND at all
    // (GARBAGE_ARGS, nothing executed, no slot touched); an operation whose
    // arguments do not decode ends the array there and is answered
    // NFS4ERR_BADXDR when its turn comes (RFC 8881 §15.1.1.1).
    const decodedOps: Exclude<DecodedOp, { kind: "truncated" }>[] = [];
    // Where the first operation's arguments end: a retry is identified by the
    // bytes after SEQUENCE's (§2.10.6.1.3).
    let afterFirstOp = r.offset;
    for (let i = 0; i < count; i++) {
      const decoded = decodeOp(r);
      if (decoded.kind === "truncated") return { kind: "garbage_args" };
      decodedOps.push(decoded);
      if (i === 0) afterFirstOp = r.offset;
      if (decoded.kind === "garbage") break;
    }

    let hold: SlotHold | null = null;
    let status: nfsstat4 = nfsstat4.NFS4_OK;
    let mark = metrics === null ? 0 : performance.now();
    try {
      for (let i = 0; i < decodedOps.length; i++) {
        state.opIndex = i;
        const decoded = decodedOps[i]!;
        if (decoded.kind === "garbage") {
          status = nfsstat4.NFS4ERR_BADXDR;
          push(statusResult(decoded.op, status));
          break;
        }
        const known = this.ops.get(decoded.op.argop);
        // An operation of a later minor version is no operation at all in this one.
        const inVersion =
          known !== undefined
            ? minorversion >= known.minMinorVersion
            : minorversion >= 2 || decoded.op.argop <= LAST_V41_OP;
        const op: nfs_argop4 = inVersion ? decoded.op : { argop: nfs_opnum4.OP_ILLEGAL };
        const operation = inVersion ? known : undefined;
        const misplaced = placementError(op.argop, operation, i, count);
        let res: nfs_resop4;
        // The reply bound of an operation that ran, to hold its result to.
        let bound: number | null = null;
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
              ...requestDigest(r.buffer, afterFirstOp, r.end),
            },
            minReplySize:
              RPC_REPLY_HEADER_SIZE + SEQUENCE_ONLY_REPLY_SIZE + ((tag.length + 3) & ~3),
          });
          if (outcome.kind === "replay") {
            if (metrics !== null) metrics.replays++;
            if (this.server.debug.active)
              this.server.debug.compound(outcome.session, call.xid, outcome.cached.status, [], {
                replayed: outcome.cached.count,
              });
            return { kind: "success", result: encodeReplay(tag, outcome.res, outcome.cached) };
          }
          res = { resop: nfs_opnum4.OP_SEQUENCE, opsequence: outcome.res };
          if (outcome.kind === "new") {
            hold = {
              session: outcome.session,
              slot: outcome.slot,
              cachethis: op.opsequence.sa_cachethis,
            };
            state.session = outcome.session;
            state.sequence = {
              slotid: op.opsequence.sa_slotid,
              sequenceid: op.opsequence.sa_sequenceid,
            };
          }
        } else {
          // Will the reply still fit if this operation answers with as much
          // as it may, leaving room for a later operation's error result?
          const slack = i + 1 < count ? ERROR_RESULT_SLACK : 0;
          const session = hold;
          state.replyRoom = replyRoom(session, headerSize + resultBytes + slack);
          const done = await this.perform(
            op,
            operation,
            state,
            (bound) => replyTooBig(session, headerSize + resultBytes + bound + slack),
            call.reserveReplyBytes,
          );
          res = done.res;
          bound = done.bound;
          // The security flavor of the filehandle it produced (export-access.ts).
          if (statusOf(res) === nfsstat4.NFS4_OK) {
            const after = decodedOps[i + 1];
            const next =
              after === undefined ? null : after.kind === "op" ? after.op.argop : after.op;
            const wrongsec = flavorRefusalAfter(op.argop, next, state);
            if (wrongsec !== null) res = statusResult(op.argop, wrongsec);
          }
        }
        const size = push(res);
        if (metrics !== null) {
          // One clock read per operation (performance.now() is not free): its
          // time runs from the previous one's end to its own result encoded.
          const now = performance.now();
          metrics.took(op.argop, now - mark);
          mark = now;
        }
        if (bound !== null && size > bound) this.boundExceeded(op.argop, size, bound);
        status = statusOf(res);
        if (status !== nfsstat4.NFS4_OK) break;
      }
      // What the request changed in the client recovery records is durable before its reply.
      const recordWrites = this.server.recovery.pending();
      if (recordWrites !== null) await recordWrites.catch(() => undefined);
      const out = this.fit(headerSize, status, results, encoded, hold);
      if (hold)
        this.server.state.completeSlot(
          hold.session,
          hold.slot,
          hold.cachethis ? cachedReplyOf(out.status, out.encoded) : null,
        );
      hold = null;
      if (this.server.debug.active && state.session !== null)
        this.server.debug.compound(state.session, call.xid, out.status, results, null);
      return { kind: "success", result: replyPieces(out.status, tag, out.encoded) };
    } finally {
      // An exception escaped: free the slot so the client is not stuck with NFS4ERR_DELAY.
      if (hold) this.server.state.abandonSlot(hold.session, hold.slot);
    }
  }

  /**
   * What an operation fails with before anything else is looked at: OP_ILLEGAL
   * for no operation, NOTSUPP for an NFSv4.0-only one, NOFILEHANDLE when it
   * needs a current filehandle and there is none (RFC 8881 §15.2, §16.2.3.1.2).
   */
  private precheck(
    op: nfs_argop4,
    operation: Operation | undefined,
    state: CompoundState,
  ): nfsstat4 | null {
    if (op.argop === nfs_opnum4.OP_ILLEGAL) return nfsstat4.NFS4ERR_OP_ILLEGAL;
    if (operation === undefined) return null;
    if (operation.v40Only) return nfsstat4.NFS4ERR_NOTSUPP;
    if (operation.needsCurrentFh && state.currentFh === null) return nfsstat4.NFS4ERR_NOFILEHANDLE;
    return null;
  }

  /**
   * Enforces `operation`'s descriptor, then runs it: the prechecks, then its
   * reply bound against the session's limits (`tooBig`: RFC 8881 §2.10.6.4 —
   * an operation whose reply might not fit does not run).
   */
  private async perform(
    op: nfs_argop4,
    operation: Operation | undefined,
    state: CompoundState,
    tooBig: (bound: number) => nfsstat4 | null,
    reserve: RpcCall["reserveReplyBytes"],
  ): Promise<{ readonly res: nfs_resop4; readonly bound: number | null }> {
    const refuse = (status: nfsstat4) => ({ res: statusResult(op.argop, status), bound: null });
    const early = this.precheck(op, operation, state);
    if (early !== null) return refuse(early);
    if (operation === undefined) return refuse(nfsstat4.NFS4ERR_NOTSUPP);
    // The export's rules come before the operation's own checks (export-access.ts).
    const ruled = readOnlyRefusal(operation, op, state) ?? flavorRefusalBefore(op, state);
    if (ruled !== null) return refuse(ruled);
    let bound: number;
    try {
      bound = operation.replyBound(op, state);
    } catch (e) {
      this.server.log.error({ err: e, op: op.argop }, "operation reply bound failed");
      return refuse(nfsstat4.NFS4ERR_SERVERFAULT);
    }
    const error = tooBig(bound);
    if (error !== null) return refuse(error);
    // A large result (READ data, a long directory listing) takes its bytes
    // from the connection's output budget before it is built, so replies being
    // built count toward the connection's bound as queued ones do; the
    // transport releases them when the reply is written. The connection
    // closed while we waited: no reply can go out, so nothing more runs, and
    // a retry on another connection finds DELAY for this operation.
    if (bound >= RESERVE_REPLY_FROM && !(await reserve(bound)))
      return refuse(
        isAllowedError(op.argop, nfsstat4.NFS4ERR_DELAY)
          ? nfsstat4.NFS4ERR_DELAY
          : nfsstat4.NFS4ERR_SERVERFAULT,
      );
    return { res: await this.run(op, operation, state), bound };
  }

  /** An operation answered more than its descriptor's replyBound: a server bug, logged loudly. */
  /** Counts one operation's result, and the file data a successful one moved (its descriptor's fileData). */
  private countResult(metrics: OperationMetrics, res: nfs_resop4): void {
    const status = statusOf(res);
    metrics.result(res.resop, status);
    if (status !== nfsstat4.NFS4_OK) return;
    const operation = this.ops.get(res.resop);
    if (operation?.fileDataDirection === "read") metrics.readBytes += operation.fileDataBytes(res);
    else if (operation?.fileDataDirection === "written")
      metrics.writtenBytes += operation.fileDataBytes(res);
  }

  private boundExceeded(op: number, size: number, bound: number): void {
    this.boundViolations++;
    this.server.log.error(
      { op, opName: nfs_opnum4_names[op], size, bound },
      "operation result exceeds its reply bound",
    );
  }

  /**
   * Runs one operation. Backend failures are already statuses (op.ts
   * invoke); anything else a handler throws is a server fault:
   * NFS4ERR_SERVERFAULT, and a loud log line naming the operation.
   */
  private async run(
    op: nfs_argop4,
    operation: Operation,
    state: CompoundState,
  ): Promise<nfs_resop4> {
    this.executed.set(op.argop, (this.executed.get(op.argop) ?? 0) + 1);
    const fhBefore = state.currentFh;
    const stateidBefore = state.currentStateid;
    try {
      const res = await operation.run(op, state);
      // A new current filehandle without a new stateid leaves no current stateid (§16.2.3.1.2).
      if (
        state.currentFh !== fhBefore &&
        state.currentStateid === stateidBefore &&
        op.argop !== nfs_opnum4.OP_RESTOREFH
      )
        state.currentStateid = null;
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
      this.server.log.error(
        { err: e, op: op.argop, opName: nfs_opnum4_names[op.argop] },
        "operation failed with an unexpected exception: answering NFS4ERR_SERVERFAULT",
      );
      return statusResult(op.argop, nfsstat4.NFS4ERR_SERVERFAULT);
    }
  }

  /**
   * Encodes one result; a result that does not encode (a handler bug) is
   * answered NFS4ERR_SERVERFAULT instead, so the rest of the reply stands.
   */
  private encodeResult(res: nfs_resop4): { res: nfs_resop4; bytes: Encoded } {
    try {
      return { res, bytes: encodeResult(res, this.ops.get(res.resop)?.encode) };
    } catch (e) {
      this.server.log.error({ err: e, op: res.resop }, "operation result does not encode");
      const fault = statusResult(res.resop, nfsstat4.NFS4ERR_SERVERFAULT);
      return { res: fault, bytes: encodeResult(fault) };
    }
  }

  /**
   * The reply's status and encoded results. The reply-size check before each
   * operation (replyTooBig) keeps them within the session's limits; should an
   * operation have answered more than its bound, this last check logs it
   * loudly and, as RFC 8881 §2.10.6.4 requires, answers the operation that
   * pushed the reply past the limit with NFS4ERR_REP_TOO_BIG(_TO_CACHE)
   * instead — though that operation has run.
   */
  private fit(
    headerSize: number,
    status: nfsstat4,
    results: readonly nfs_resop4[],
    encoded: readonly Encoded[],
    hold: SlotHold | null,
  ): { readonly status: nfsstat4; readonly encoded: readonly Encoded[] } {
    const size = encoded.reduce((n, e) => n + e.length, headerSize);
    if (hold === null || replyTooBig(hold, size) === null) return { status, encoded };
    this.overruns++;
    this.server.log.error(
      { ops: results.map((r) => nfs_opnum4_names[r.resop]), size },
      "reply exceeds the session's size limit although every operation's bound fitted: an operation's replyBound is wrong",
    );
    const attrs = hold.session.fore;
    const limit =
      (hold.cachethis
        ? Math.min(attrs.ca_maxresponsesize, attrs.ca_maxresponsesize_cached)
        : attrs.ca_maxresponsesize) - RPC_REPLY_HEADER_SIZE;
    const tooBig =
      hold.cachethis && size + RPC_REPLY_HEADER_SIZE <= attrs.ca_maxresponsesize
        ? nfsstat4.NFS4ERR_REP_TOO_BIG_TO_CACHE
        : nfsstat4.NFS4ERR_REP_TOO_BIG;
    // The longest prefix of results that fits, then the failing operation's status.
    for (let n = results.length - 1; n >= 1; n--) {
      const failed = encodeResult(statusResult(results[n]!.resop, tooBig));
      const prefix = [...encoded.slice(0, n), failed];
      if (prefix.reduce((m, e) => m + e.length, headerSize) <= limit || n === 1)
        return { status: tooBig, encoded: prefix };
    }
    return { status, encoded }; // SEQUENCE alone always fits: CREATE_SESSION refuses smaller limits
  }
}

/**
 * The error for a reply of `size` bytes (COMPOUND4res, without the RPC
 * header) in the COMPOUND that SEQUENCE established `hold` for, or null if
 * it fits (RFC 8881 §2.10.6.4, §18.46.3): past ca_maxresponsesize it is
 * NFS4ERR_REP_TOO_BIG; within it but past ca_maxresponsesize_cached when the
 * client asked for caching (sa_cachethis), NFS4ERR_REP_TOO_BIG_TO_CACHE.
 * Both limits count the RPC reply header. Without a session there is no limit.
 */
/** What is left of the session's reply limit after `used` bytes of COMPOUND4res (null: no session). */
function replyRoom(hold: SlotHold | null, used: number): number | null {
  if (hold === null) return null;
  const attrs = hold.session.fore;
  const limit = hold.cachethis
    ? Math.min(attrs.ca_maxresponsesize, attrs.ca_maxresponsesize_cached)
    : attrs.ca_maxresponsesize;
  return Math.max(0, limit - RPC_REPLY_HEADER_SIZE - used);
}

function replyTooBig(hold: SlotHold | null, size: number): nfsstat4 | null {
  if (hold === null) return null;
  const attrs = hold.session.fore;
  const total = size + RPC_REPLY_HEADER_SIZE;
  if (total > attrs.ca_maxresponsesize) return nfsstat4.NFS4ERR_REP_TOO_BIG;
  if (hold.cachethis && total > attrs.ca_maxresponsesize_cached)
    return nfsstat4.NFS4ERR_REP_TOO_BIG_TO_CACHE;
  return null;
}

function isUtf8(bytes: Uint8Array): boolean {
  try {
    utf8.decode(bytes);
    return true;
  } catch {
    return false;
  }
}

/** An encoded reply: the pieces to write in order, and their total size. */
interface Encoded {
  readonly pieces: Uint8Array[];
  readonly length: number;
}

/** A COMPOUND4res from its status, the request's tag and the encoded results. */
function replyPieces(status: nfsstat4, tag: Uint8Array, encoded: readonly Encoded[]): Uint8Array[] {
  const w = new XdrWriter(64);
  encodenfsstat4(w, status);
  w.writeOpaqueVar(tag, 0xffffffff);
  w.writeArrayLength(encoded.length, 0xffffffff);
  return [w.toBytes(), ...encoded.flatMap((e) => e.pieces)];
}

/** One operation's result, encoded (by its operation's encoder, Operation.encode). */
function encodeResult(res: nfs_resop4, encode: Operation["encode"] = encodenfs_resop4): Encoded {
  const w = new XdrWriter(256, { gatherFrom: REPLY_GATHER_FROM });
  encode(w, res);
  return { pieces: w.finishGather(), length: w.length };
}

type DecodedOp =
  | { readonly kind: "op"; readonly op: nfs_argop4 }
  /** Undecodable arguments of operation `op`. */
  | { readonly kind: "garbage"; readonly op: number }
  /** Not even an operation number: the array ends before its count. */
  | { readonly kind: "truncated" };

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
    return r.remaining >= 4 ? { kind: "garbage", op: r.readUint() } : { kind: "truncated" };
  }
}
type CompoundReader = RpcCall["args"];

/**
 * Where an operation may stand in a v4.1 COMPOUND (RFC 8881 §2.6.3.1.1.8,
 * §18.46.3): SEQUENCE first; a COMPOUND without SEQUENCE holds exactly one
 * session-less operation (its descriptor says so).
 */
function placementError(
  op: number,
  operation: Operation | undefined,
  index: number,
  count: number,
): nfsstat4 | null {
  if (op === nfs_opnum4.OP_SEQUENCE) return index === 0 ? null : nfsstat4.NFS4ERR_SEQUENCE_POS;
  if (index > 0) return null;
  if (op === nfs_opnum4.OP_ILLEGAL) return null;
  if (operation?.sessionless !== true) return nfsstat4.NFS4ERR_OP_NOT_IN_SESSION;
  return count > 1 ? nfsstat4.NFS4ERR_NOT_ONLY_OP : null;
}

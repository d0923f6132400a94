// One descriptor per NFSv4 operation: its handler and the facts COMPOUND
// enforces before the handler runs (as Linux nfsd's nfsd4_ops[] table).
// Each operation lives in its own file under ops/ and exports its handler —
// a function from the operation's decoded arguments (its arm of nfs_argop4)
// to its result (its arm of nfs_resop4) — and its descriptor next to it.
// COMPOUND (compound.ts) does the wrapping, the status bookkeeping, the
// stop-at-first-error rule, and maps backend failures (FsError) to a status
// the operation may return, in one place (invoke() below).

import type {
  nfs_argop4,
  nfs_argop4_arms,
  nfs_opnum4,
  nfs_resop4,
  nfs_resop4_arms,
} from "../../generated/nfs4/index.js";
import {
  armnfs_argop4,
  armnfs_resop4,
  encodenfs_opnum4,
  encodenfs_resop4,
  nfsstat4,
} from "../../generated/nfs4/index.js";
import { FsError } from "../fs/backend.js";
import type { XdrWriter } from "../xdr/index.js";
import { statusResult, wrapResult } from "../protocol/results.js";
import type { CompoundState } from "./context.js";
import { failureStatus } from "./ops/common.js";

/** The arguments of operation N (generated from the spec), e.g. ArgsOf<OP_LOOKUP> = LOOKUP4args. */
export type ArgsOf<N extends nfs_opnum4> = nfs_argop4_arms[N];

/** The result of operation N, e.g. ResOf<OP_LOOKUP> = LOOKUP4res. */
export type ResOf<N extends nfs_opnum4> = nfs_resop4_arms[N];

export type OpHandler<N extends nfs_opnum4> = (
  args: ArgsOf<N>,
  state: CompoundState,
) => ResOf<N> | Promise<ResOf<N>>;

/** Everything COMPOUND needs to know about operation N, beside its handler. */
export interface OpDescriptor<N extends nfs_opnum4> {
  readonly op: N;
  readonly handler: OpHandler<N>;
  /**
   * May start a COMPOUND without SEQUENCE, as its only operation (RFC 8881
   * §2.6.3.1.1.8, §18.46.3: EXCHANGE_ID, CREATE_SESSION, BIND_CONN_TO_SESSION,
   * DESTROY_SESSION, DESTROY_CLIENTID).
   */
  readonly sessionless: boolean;
  /**
   * Fails with NFS4ERR_NOFILEHANDLE, before the handler runs, when there is no
   * current filehandle (RFC 8881 §16.2.3.1.2); the handler may then rely on it.
   */
  readonly needsCurrentFh: boolean;
  /** The first minor version with the operation: 1, or 2 for RFC 7862's (OP_ILLEGAL before). */
  readonly minMinorVersion: number;
  /**
   * An upper bound, in bytes, of the encoded nfs_resop4 the operation answers
   * `args` with (operation number included): COMPOUND refuses to start an
   * operation whose reply might not fit ca_maxresponsesize(_cached)
   * (RFC 8881 §2.10.6.4). See ops/reply-size.ts.
   */
  readonly replyBound: (args: ArgsOf<N>, state: CompoundState) => number;
  /**
   * Changes state, so running it twice is not running it once (RFC 8881
   * §2.10.6.1.3): a client retrying it must get the cached reply.
   */
  readonly nonIdempotent: boolean;
  /**
   * True when running `args` modifies the filesystem of the current
   * filehandle: COMPOUND answers NFS4ERR_ROFS before the handler runs when
   * that filesystem is a read-only export or the pseudo-filesystem (as nfsd's
   * permission check with NFSD_MAY_WRITE). Default: never.
   */
  readonly writesExport: (args: ArgsOf<N>) => boolean;
  /**
   * Encodes a result of the operation (its arm of nfs_resop4, after the
   * operation number) instead of the generated encoder, writing the same
   * bytes: READDIR's entries are XDR already (ops/readdir-entries.ts).
   * Default: the generated encoder.
   */
  readonly encodeResult?: (w: XdrWriter, res: ResOf<N>) => void;
  /**
   * File data the operation moved, for the metrics endpoint: bytes read
   * (READ) or written (WRITE) by a successful result. Default: none.
   */
  readonly fileData?: {
    readonly direction: "read" | "written";
    readonly bytes: (res: ResOf<N>) => number;
  };
}

/** A descriptor with the usual defaults: not session-less, from NFSv4.1 on. */
export function defineOp<N extends nfs_opnum4>(
  d: Omit<OpDescriptor<N>, "sessionless" | "minMinorVersion" | "writesExport"> &
    Partial<Pick<OpDescriptor<N>, "sessionless" | "minMinorVersion" | "writesExport">>,
): OpDescriptor<N> {
  return { sessionless: false, minMinorVersion: 1, writesExport: () => false, ...d };
}

/**
 * What COMPOUND knows of an operation, its argument and result types erased:
 * built from an OpDescriptor by operation(), or by v40Only().
 */
export interface Operation {
  readonly op: nfs_opnum4;
  readonly sessionless: boolean;
  readonly needsCurrentFh: boolean;
  readonly minMinorVersion: number;
  /** An NFSv4.0 operation NFSv4.1 forbids (RFC 8881 §18: "MUST NOT be used"): NFS4ERR_NOTSUPP. */
  readonly v40Only: boolean;
  readonly nonIdempotent: boolean;
  /** OpDescriptor.writesExport of the decoded operation `op` (of this operation). */
  writesExport(op: nfs_argop4): boolean;
  /** OpDescriptor.fileData's direction; null: the operation moves no file data. */
  readonly fileDataDirection: "read" | "written" | null;
  /** OpDescriptor.fileData's bytes of the result `res` (of this operation); 0 without fileData. */
  fileDataBytes(res: nfs_resop4): number;
  /** Encodes `res`, a result of this operation, as nfs_resop4 (OpDescriptor.encodeResult). */
  encode(w: XdrWriter, res: nfs_resop4): void;
  /** OpDescriptor.replyBound of the decoded operation `op` (of this operation). */
  replyBound(op: nfs_argop4, state: CompoundState): number;
  /** invoke() on the decoded operation `op` (of this operation). */
  run(op: nfs_argop4, state: CompoundState): Promise<nfs_resop4>;
}

/**
 * The arguments of `op` for descriptor `d`, through the generated arm accessor
 * (a void arm's are undefined); a mismatch is a dispatch bug.
 */
function argsFor<N extends nfs_opnum4>(d: OpDescriptor<N>, op: nfs_argop4): ArgsOf<N> {
  if (op.argop !== d.op) throw new Error(`operation ${op.argop} dispatched to ${d.op}`);
  return armnfs_argop4(op, d.op)!;
}

/** Erases descriptor `d`'s types, for the operation table. */
export function operation<N extends nfs_opnum4>(d: OpDescriptor<N>): Operation {
  return {
    op: d.op,
    sessionless: d.sessionless,
    needsCurrentFh: d.needsCurrentFh,
    minMinorVersion: d.minMinorVersion,
    v40Only: false,
    nonIdempotent: d.nonIdempotent,
    writesExport: (op) => d.writesExport(argsFor(d, op)),
    fileDataDirection: d.fileData?.direction ?? null,
    fileDataBytes: (res) => {
      const r = armnfs_resop4(res, d.op);
      return d.fileData === undefined || r === undefined ? 0 : d.fileData.bytes(r);
    },
    encode: encoderOf(d),
    replyBound: (op, state) => d.replyBound(argsFor(d, op), state),
    run: (op, state) => invoke(d, argsFor(d, op), state),
  };
}

/** nfs_resop4's encoder for descriptor `d`'s results: its encodeResult behind the operation number. */
function encoderOf<N extends nfs_opnum4>(d: OpDescriptor<N>): Operation["encode"] {
  const encodeResult = d.encodeResult;
  if (encodeResult === undefined) return encodenfs_resop4;
  return (w, res) => {
    const r = armnfs_resop4(res, d.op);
    if (r === undefined) return encodenfs_resop4(w, res);
    encodenfs_opnum4(w, d.op);
    encodeResult(w, r);
  };
}

/** An NFSv4.0-only operation: answered NFS4ERR_NOTSUPP in NFSv4.1 and later. */
export function v40Only(op: nfs_opnum4): Operation {
  return {
    op,
    sessionless: false,
    needsCurrentFh: false,
    minMinorVersion: 0,
    v40Only: true,
    nonIdempotent: false,
    writesExport: () => false,
    fileDataDirection: null,
    fileDataBytes: () => 0,
    encode: encodenfs_resop4,
    replyBound: () => 8,
    run: () => Promise.resolve(statusResult(op, nfsstat4.NFS4ERR_NOTSUPP)),
  };
}

/**
 * Runs operation `d` as COMPOUND does: NFS4ERR_NOFILEHANDLE without a
 * current filehandle when it needs one; then the handler, whose backend
 * failures (FsError) become the status failureStatus() picks among those
 * RFC 8881 §15.2 lets the operation return. Anything else thrown is a server
 * fault and propagates (COMPOUND answers NFS4ERR_SERVERFAULT and logs it).
 */
export async function invoke<N extends nfs_opnum4>(
  d: OpDescriptor<N>,
  args: ArgsOf<N>,
  state: CompoundState,
): Promise<nfs_resop4> {
  if (d.needsCurrentFh && state.currentFh === null)
    return statusResult(d.op, nfsstat4.NFS4ERR_NOFILEHANDLE);
  try {
    return wrapResult(d.op, await d.handler(args, state));
  } catch (e) {
    if (e instanceof FsError) return statusResult(d.op, failureStatus(d.op, e));
    throw e;
  }
}

/**
 * The operations a server implements, by number; missing ones answer
 * NFS4ERR_NOTSUPP. A bare handler stands for the operation's own descriptor
 * (ops/index.ts) with that handler instead: tests substitute handlers so.
 */
export type OpTable = { readonly [N in nfs_opnum4]?: Operation | OpHandler<N> };

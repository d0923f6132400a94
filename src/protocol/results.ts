// Reading and building operation results generically, for the server and the
// client alike. Each NFSv4 result type names its status differently
// (`status`, `sr_status`, `eir_status`, …) and sits under a per-operation arm
// (`opsequence`, `opgetfh`, …); codegen emits switches over those arms from the
// spec (generated/nfs4/results.ts), so no hand-kept table can drift from it and
// nothing here needs a cast or the metadata tables.

import type {
  nfs_argop4,
  nfs_argop4_arms,
  nfs_cb_resop4,
  nfs_resop4,
  nfs_resop4_arms,
  nfsstat4,
} from "../../generated/nfs4/index.js";
import {
  armnfs_argop4,
  armnfs_resop4,
  errornfs_cb_resop4,
  errornfs_resop4,
  isnfs_cb_opnum4,
  isnfs_opnum4,
  nfs_cb_opnum4,
  nfs_opnum4,
  statusnfs_cb_resop4,
  statusnfs_resop4,
  wrapnfs_resop4,
} from "../../generated/nfs4/index.js";

/** The result of operation N, e.g. ResultOf<OP_GETFH> = GETFH4res. */
export type ResultOf<N extends nfs_opnum4> = nfs_resop4_arms[N];

/** The arguments of any operation: the value its nfs_argop4 arm carries (undefined for void ones). */
export type AnyArgs = nfs_argop4_arms[nfs_opnum4];

/** The status of any operation's result. */
export function statusOf(res: nfs_resop4): nfsstat4 {
  return statusnfs_resop4(res);
}

/** The status of any callback operation's result. */
export function cbStatusOf(res: nfs_cb_resop4): nfsstat4 {
  return statusnfs_cb_resop4(res);
}

/**
 * The result of operation `op` in `res`, or undefined if `res` is the result of
 * another operation (or missing: the COMPOUND stopped earlier).
 */
export function resultOf<N extends nfs_opnum4>(
  res: nfs_resop4 | undefined,
  op: N,
): ResultOf<N> | undefined {
  return res === undefined ? undefined : armnfs_resop4(res, op);
}

/** The arguments an operation carries (the value of its nfs_argop4 arm; undefined for void ones). */
export function argsOf(op: nfs_argop4): AnyArgs {
  return armnfs_argop4(op);
}

/** Wraps operation `op`'s result value in its nfs_resop4 arm. */
export function wrapResult<N extends nfs_opnum4>(op: N, value: ResultOf<N>): nfs_resop4;
/**
 * Wraps a handler's result, found by operation number at run time. The value's
 * type is the handler table's promise (an OpHandler<N> returns ResultOf<N>),
 * which no check here can add to; throws for a number that is not an operation.
 */
export function wrapResult(op: number, value: unknown): nfs_resop4;
export function wrapResult(op: number, value: unknown): nfs_resop4 {
  if (!isnfs_opnum4(op)) throw new Error(`no result arm for operation ${op}`);
  return wrapnfs_resop4(op, value as ResultOf<nfs_opnum4>);
}

/**
 * Operation `op`'s complete result carrying `status` (RFC 8881 §16.2.3: the
 * operation that fails still has its result in the reply, encoded as its result
 * type): every field the result type has besides the status holds a zero value,
 * and a union result takes the arm the status selects (LOCK4res's
 * NFS4ERR_DENIED arm holds a zero LOCK4denied). OP_ILLEGAL's result answers a
 * number that is not an operation (§18.52).
 */
export function statusResult(op: number, status: nfsstat4): nfs_resop4 {
  return errornfs_resop4(isnfs_opnum4(op) ? op : nfs_opnum4.OP_ILLEGAL, status);
}

/** As statusResult, for callback operations; OP_CB_ILLEGAL's for unknown ones (RFC 8881 §20.12). */
export function cbStatusResult(op: number, status: nfsstat4): nfs_cb_resop4 {
  return errornfs_cb_resop4(isnfs_cb_opnum4(op) ? op : nfs_cb_opnum4.OP_CB_ILLEGAL, status);
}

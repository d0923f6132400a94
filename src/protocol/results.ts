// Reading and building operation results generically, for the server and the
// client alike. Each NFSv4 result type names its status differently
// (`status`, `sr_status`, `eir_status`, `rcr_status`, …) and sits under a
// per-operation arm (`opsequence`, `opgetfh`, …); the generated metadata says
// which, so no hand-kept table can drift from the spec.

import type {
  nfs_cb_resop4,
  nfs_opnum4,
  nfs_resop4,
  nfsstat4,
} from "../../generated/nfs4/index.js";
import {
  nfs4Types,
  nfs_cb_opnum4,
  nfs_opnum4 as Op,
  nfsstat4 as Status,
} from "../../generated/nfs4/index.js";
import type { XdrType } from "../xdr/meta.js";

/** The arm value of a union variant keyed by `D` (the operation's result). */
type ArmValue<V, D extends string> = V[Exclude<keyof V, D>];

/** The result of operation N, e.g. ResultOf<OP_GETFH> = GETFH4res. */
export type ResultOf<N extends nfs_opnum4> = ArmValue<Extract<nfs_resop4, { resop: N }>, "resop">;

interface ResultFields {
  /** The arm of the result union holding this operation's result. */
  readonly arm: string;
  /** The status field inside that result. */
  readonly status: string;
}

/** For each operation of `unionName` (nfs_resop4, nfs_cb_resop4): its arm and status field. */
function resultFields(unionName: string): ReadonlyMap<number, ResultFields> {
  const meta = nfs4Types[unionName];
  if (meta?.kind !== "union") throw new Error(`${unionName} metadata missing`);
  const out = new Map<number, ResultFields>();
  for (const a of meta.arms) {
    if (a.name === null || a.type.kind !== "ref") continue;
    let res = nfs4Types[a.type.name];
    // SECINFO_NO_NAME4res is a typedef of SECINFO4res: look through typedefs.
    while (res?.kind === "typedef" && res.type.kind === "ref") res = nfs4Types[res.type.name];
    const status =
      res?.kind === "union"
        ? res.discriminant.name
        : res?.kind === "struct"
          ? res.fields[0]?.name
          : undefined;
    if (status === undefined) throw new Error(`no status field in ${a.type.name}`);
    for (const v of a.values) out.set(Number(v), { arm: a.name, status });
  }
  return out;
}

const FORE = resultFields("nfs_resop4");
const BACK = resultFields("nfs_cb_resop4");

function statusIn(fields: ReadonlyMap<number, ResultFields>, op: number, res: object): nfsstat4 {
  const f = fields.get(op);
  if (f === undefined) return Status.NFS4ERR_SERVERFAULT;
  const value = (res as Record<string, unknown>)[f.arm];
  const status = (value as Record<string, unknown> | undefined)?.[f.status];
  return typeof status === "number" ? (status as nfsstat4) : Status.NFS4ERR_SERVERFAULT;
}

/** The status of any operation's result. */
export function statusOf(res: nfs_resop4): nfsstat4 {
  return statusIn(FORE, res.resop, res);
}

/** The status of any callback operation's result. */
export function cbStatusOf(res: nfs_cb_resop4): nfsstat4 {
  return statusIn(BACK, res.resop, res);
}

/**
 * The result of operation `op` in `res`, or undefined if `res` is the result of
 * another operation (or missing: the COMPOUND stopped earlier).
 */
export function resultOf<N extends nfs_opnum4>(
  res: nfs_resop4 | undefined,
  op: N,
): ResultOf<N> | undefined {
  if (res === undefined || res.resop !== op) return undefined;
  const f = FORE.get(op);
  if (f === undefined) return undefined;
  return (res as unknown as Record<string, ResultOf<N>>)[f.arm];
}

/** The arm name of each operation's arguments in nfs_argop4 (null for void arguments). */
export const ARG_ARMS: ReadonlyMap<number, string | null> = (() => {
  const meta = nfs4Types["nfs_argop4"];
  if (meta?.kind !== "union") throw new Error("nfs_argop4 metadata missing");
  return new Map(meta.arms.flatMap((a) => a.values.map((v) => [Number(v), a.name] as const)));
})();

/** Wraps an operation's result value in its nfs_resop4 arm. */
export function wrapResult(op: number, value: unknown): nfs_resop4 {
  const f = FORE.get(op);
  if (f === undefined) throw new Error(`no result arm for operation ${op}`);
  return { resop: op, [f.arm]: value } as unknown as nfs_resop4;
}

/**
 * A result of `op` for an error `status`, complete for its result type (an
 * OP_ILLEGAL result for unknown ops). Not every result type is a status alone
 * on error: SETATTR4res always carries `attrsset` (RFC 8881 §18.30.2), and a
 * union arm may hang off an error status (LOCK4res's NFS4ERR_DENIED). The
 * fields besides the status are filled with their XDR zero values from the
 * metadata, so the generated encoder never meets a missing field.
 * INTERIM (fuzz branch): the codegen-results work replaces this with
 * generated error-result builders.
 */
export function statusResult(op: number, status: nfsstat4): nfs_resop4 {
  const known = FORE.get(op);
  const resop = known ? op : Op.OP_ILLEGAL;
  const f = known ?? FORE.get(Op.OP_ILLEGAL);
  if (f === undefined) throw new Error("nfs_resop4 has no OP_ILLEGAL arm");
  const value = zeroResult(resop, f.status, status);
  return { resop, [f.arm]: value } as unknown as nfs_resop4;
}

/** The result of `op` whose status field `statusField` is `status`, every other field zero. */
function zeroResult(op: number, statusField: string, status: number): Record<string, unknown> {
  const resop = nfs4Types["nfs_resop4"];
  const arm = resop?.kind === "union" ? resop.arms.find((a) => a.values.includes(op)) : undefined;
  let t = arm?.type.kind === "ref" ? nfs4Types[arm.type.name] : undefined;
  while (t?.kind === "typedef" && t.type.kind === "ref") t = nfs4Types[t.type.name];
  if (t?.kind === "struct") {
    const out: Record<string, unknown> = {};
    for (const field of t.fields) out[field.name] = zeroOf(field.type);
    out[statusField] = status;
    return out;
  }
  if (t?.kind === "union") {
    const out: Record<string, unknown> = { [statusField]: status };
    const chosen = t.arms.find((a) => a.values.includes(status)) ?? t.defaultArm;
    if (chosen?.name) out[chosen.name] = zeroOf(chosen.type);
    return out;
  }
  return { [statusField]: status };
}

/** The XDR zero value of `t`: 0, false, empty, null, an enum's first member, a union's first arm. */
function zeroOf(t: XdrType): unknown {
  switch (t.kind) {
    case "hyper":
    case "uhyper":
      return 0n;
    case "bool":
      return false;
    case "void":
      return undefined;
    case "quadruple":
      return new Uint8Array(16);
    case "opaque":
      return new Uint8Array(t.fixed ?? 0);
    case "string":
      return "";
    case "array":
      return Array.from({ length: t.fixed ?? 0 }, () => zeroOf(t.of));
    case "optional":
      return null;
    case "list":
      return [];
    case "ref": {
      const named = nfs4Types[t.name];
      switch (named?.kind) {
        case "typedef":
          return zeroOf(named.type);
        case "enum":
          return Object.values(named.members)[0];
        case "struct":
          return Object.fromEntries(named.fields.map((f) => [f.name, zeroOf(f.type)]));
        case "union": {
          const first = named.arms[0];
          const d = first?.values[0];
          if (first === undefined || d === undefined) return {};
          return first.name === null
            ? { [named.discriminant.name]: d }
            : { [named.discriminant.name]: d, [first.name]: zeroOf(first.type) };
        }
        default:
          return undefined;
      }
    }
    default:
      return 0;
  }
}

/** A callback result carrying only `status`, for operations the client does not implement. */
export function cbStatusResult(op: number, status: nfsstat4): nfs_cb_resop4 {
  const f = BACK.get(op);
  // OP_CB_ILLEGAL answers an operation number we do not know (RFC 8881 §20.12).
  const illegal = nfs_cb_opnum4.OP_CB_ILLEGAL;
  const resop = f ? op : illegal;
  const fields = f ?? BACK.get(illegal);
  if (fields === undefined) throw new Error("nfs_cb_resop4 has no CB_ILLEGAL arm");
  return { resop, [fields.arm]: { [fields.status]: status } } as unknown as nfs_cb_resop4;
}

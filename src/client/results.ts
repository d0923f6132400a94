// Reading operation results generically. Each NFSv4 result type names its
// status differently (`status`, `sr_status`, `eir_status`, `rcr_status`, …)
// and sits under a per-operation arm (`opsequence`, `opgetfh`, …); the
// generated metadata says which, so the client needs no hand-kept table that
// could drift from the spec.

import type {
  nfs_cb_resop4,
  nfs_opnum4,
  nfs_resop4,
  nfsstat4,
} from "../../generated/nfs4/index.js";
import { nfs4Types, nfs_cb_opnum4, nfsstat4 as Status } from "../../generated/nfs4/index.js";

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

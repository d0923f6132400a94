// The shape of an NFSv4 operation handler. Each operation lives in its own
// file under ops/ and exports one function that takes the operation's decoded
// arguments (the arm of nfs_argop4) and returns its result (the arm of
// nfs_resop4). COMPOUND (compound.ts) does the wrapping, the status
// bookkeeping and the stop-at-first-error rule.

import type { nfs_argop4, nfs_opnum4, nfs_resop4 } from "../../generated/nfs4/index.js";
import type { CompoundState } from "./context.js";

/** The value of a union variant's arm (`undefined` for a void arm). */
type ArmValue<V, D extends string> = [Exclude<keyof V, D>] extends [never]
  ? undefined
  : V[Exclude<keyof V, D>];

/** The arguments of operation N, e.g. ArgsOf<OP_LOOKUP> = LOOKUP4args. */
export type ArgsOf<N extends nfs_opnum4> = ArmValue<Extract<nfs_argop4, { argop: N }>, "argop">;

/** The result of operation N, e.g. ResOf<OP_LOOKUP> = LOOKUP4res. */
export type ResOf<N extends nfs_opnum4> = ArmValue<Extract<nfs_resop4, { resop: N }>, "resop">;

export type OpHandler<N extends nfs_opnum4> = (
  args: ArgsOf<N>,
  state: CompoundState,
) => ResOf<N> | Promise<ResOf<N>>;

/** The operations a server implements, by number. Missing ones answer NFS4ERR_NOTSUPP. */
export type OpTable = { readonly [N in nfs_opnum4]?: OpHandler<N> };

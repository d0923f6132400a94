// Callbacks counted by type and outcome, for the metrics endpoint
// (src/control/metrics.ts): a preallocated array indexed by the callback's
// operation (the one after CB_SEQUENCE; CB_NULL for back-channel probes) and
// the outcome. Always counted: a callback costs far more than an increment.

import type { nfs_cb_argop4 } from "../../generated/nfs4/index.js";
import { nfs_cb_opnum4_names } from "../../generated/nfs4/index.js";
import { DenseIndex } from "../stats/latency-histogram.js";

/**
 * What became of callbacks: `sent` counts CB_COMPOUND (or CB_NULL) RPCs, resends
 * included; `timeout` RPCs unanswered within nfs.callbackTimeoutMs; the other
 * three count calls once each as they finish: `answered` with NFS4_OK,
 * `failed` (answered with an error, or given up as unreachable), `cancelled`.
 * A CB_NULL probe is not retried: it ends answered, timeout or failed.
 */
export const CALLBACK_OUTCOMES = ["sent", "answered", "failed", "timeout", "cancelled"] as const;
export type CallbackOutcome = (typeof CALLBACK_OUTCOMES)[number];
const OUTCOME_COLUMN: Readonly<Record<CallbackOutcome, number>> = {
  sent: 0,
  answered: 1,
  failed: 2,
  timeout: 3,
  cancelled: 4,
};

/** The row of CB_NULL probes: no nfs_cb_opnum4 is 0 (CB_NULL is procedure 0). */
export const CB_NULL_TYPE = 0;

/** Callback types: CB_NULL, every nfs_cb_opnum4, then "other". */
export const CALLBACK_TYPES = new DenseIndex([
  CB_NULL_TYPE,
  ...Object.keys(nfs_cb_opnum4_names).map(Number),
]);

/** The label of a callback type row's number ("CB_RECALL", "CB_NULL", "other"). */
export function callbackTypeName(n: number): string {
  if (n === CB_NULL_TYPE) return "CB_NULL";
  const name = nfs_cb_opnum4_names[n];
  return name === undefined ? "other" : name.replace(/^OP_/, "");
}

/** A call's type: its first operation after CB_SEQUENCE. */
export function callbackType(ops: readonly nfs_cb_argop4[]): number {
  return ops[0]?.argop ?? CB_NULL_TYPE;
}

export class CallbackCounters {
  private readonly counts = new Float64Array(CALLBACK_TYPES.size * CALLBACK_OUTCOMES.length);

  add(type: number, outcome: CallbackOutcome): void {
    this.counts[CALLBACK_TYPES.row(type) * CALLBACK_OUTCOMES.length + OUTCOME_COLUMN[outcome]]!++;
  }

  get(type: number, outcome: CallbackOutcome): number {
    return this.counts[
      CALLBACK_TYPES.row(type) * CALLBACK_OUTCOMES.length + OUTCOME_COLUMN[outcome]
    ]!;
  }
}

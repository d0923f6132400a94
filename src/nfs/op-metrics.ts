// What the COMPOUND loop counts for the metrics endpoint (src/control/metrics.ts):
// operations by operation and status, a latency histogram per operation,
// COMPOUNDs, replies replayed from the slot cache, and READ/WRITE data bytes.
// Everything is a preallocated typed array indexed by dense operation and
// status rows: counting one operation is two array lookups and a few
// increments, no label sets and no allocation. CompoundProcessor counts only
// while its `metrics` is set (NfsServer.enableMetrics), so a server without
// the metrics listener pays a null check per operation.

import { nfs_opnum4_names, nfsstat4_names } from "../../generated/nfs4/index.js";
import { DenseIndex, LatencyHistograms } from "../stats/latency-histogram.js";

/** Operation rows: every nfs_opnum4, then "other" (a number that is no operation). */
export const OP_ROWS = new DenseIndex(Object.keys(nfs_opnum4_names).map(Number));
/** Status columns: every nfsstat4, then "other". */
export const STATUS_COLUMNS = new DenseIndex(Object.keys(nfsstat4_names).map(Number));

export class OperationMetrics {
  /** OP_ROWS × STATUS_COLUMNS results, by the status each operation answered. */
  readonly results = new Float64Array(OP_ROWS.size * STATUS_COLUMNS.size);
  /** Time each operation took: its checks, its handler and the encoding of its result. */
  readonly latency = new LatencyHistograms(OP_ROWS.size);
  /** COMPOUND requests, whatever became of them. */
  compounds = 0;
  /** Requests answered from a slot's replay cache (RFC 8881 §2.10.6.1.3): nothing ran. */
  replays = 0;
  /** Data bytes returned by successful READs, and accepted by successful WRITEs. */
  readBytes = 0;
  writtenBytes = 0;

  /** One operation's result. */
  result(op: number, status: number): void {
    this.results[OP_ROWS.row(op) * STATUS_COLUMNS.size + STATUS_COLUMNS.row(status)]!++;
  }

  /** How long one operation took, in milliseconds (performance.now() differences). */
  took(op: number, ms: number): void {
    this.latency.observe(OP_ROWS.row(op), ms / 1000);
  }

  /** Results of operation `op` with `status` so far. */
  count(op: number, status: number): number {
    return this.results[OP_ROWS.row(op) * STATUS_COLUMNS.size + STATUS_COLUMNS.row(status)]!;
  }
}

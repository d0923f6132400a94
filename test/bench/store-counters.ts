// What the scale-out store's engines did, counted by the engines themselves
// (not by dfs), for the kernel benchmark's PostgreSQL+S3 server (issue 11):
//
// - SQL: pg_stat_statements (the cluster is started with it preloaded) —
//   calls and execution time per normalised statement of dfs's database.
//   BEGIN, COMMIT and ROLLBACK are statements too (track_utility), so
//   transactions are counted from them, with no lag (pg_stat_database's
//   transaction counters are flushed up to seconds late).
// - S3: radosgw's request counters (perf dump over its admin socket): every
//   request, GETs and PUTs that succeeded, and failed requests; the rest are
//   DELETE, HEAD, LIST and failed ones.
//
// A snapshot is taken when the guest prints a phase's KBENCH-OPS line; the
// difference of consecutive snapshots is what the phase cost the engines,
// over the same span as the RPC counts it is divided by.

import pg from "pg";
import type { RadosgwCluster } from "../support/radosgw.js";

export interface StatementCount {
  readonly query: string;
  readonly calls: number;
  readonly ms: number;
}

export interface StoreSnapshot {
  /** By pg_stat_statements' queryid. */
  readonly statements: Record<string, StatementCount>;
  /** radosgw's counters: req, get, put, failed_req… */
  readonly s3: Record<string, number>;
}

/** What a span cost the engines: statements by text, transactions, S3 requests. */
export interface StoreWork {
  readonly statements: number;
  readonly statementMs: number;
  /** Transactions begun: the write (SERIALIZABLE) ones and the read-only views. */
  readonly writeTransactions: number;
  readonly viewTransactions: number;
  readonly rollbacks: number;
  readonly s3Requests: number;
  readonly s3Gets: number;
  readonly s3Puts: number;
  /** Requests radosgw answered with an error (a GET of a block not in the bucket yet…). */
  readonly s3Failed: number;
  /** The statements, most called first. */
  readonly byStatement: readonly StatementCount[];
}

export class StoreCounters {
  private constructor(
    private readonly client: pg.Client,
    private readonly rgw: RadosgwCluster,
  ) {}

  /** Counters of database `url` (its cluster must preload pg_stat_statements) and of `rgw`. */
  static async open(url: string, rgw: RadosgwCluster): Promise<StoreCounters> {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    await client.query("CREATE EXTENSION IF NOT EXISTS pg_stat_statements");
    return new StoreCounters(client, rgw);
  }

  async snapshot(): Promise<StoreSnapshot> {
    // This connection's own statements name the view: they are left out.
    const r = await this.client.query<{ id: string; query: string; calls: string; ms: number }>(
      `SELECT s.queryid::text AS id, s.query, s.calls::text AS calls, s.total_exec_time AS ms
         FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid
        WHERE d.datname = current_database() AND s.query NOT LIKE '%pg_stat_statements%'`,
    );
    const statements: Record<string, StatementCount> = {};
    for (const row of r.rows)
      statements[row.id] = { query: row.query, calls: Number(row.calls), ms: row.ms };
    return { statements, s3: this.rgw.requestCounters() };
  }

  async close(): Promise<void> {
    await this.client.end();
  }
}

/** What happened between snapshots `a` and `b`. */
export function storeWork(a: StoreSnapshot, b: StoreSnapshot): StoreWork {
  const byStatement: StatementCount[] = [];
  for (const [id, s] of Object.entries(b.statements)) {
    const before = a.statements[id];
    const calls = s.calls - (before?.calls ?? 0);
    if (calls > 0) byStatement.push({ query: s.query, calls, ms: s.ms - (before?.ms ?? 0) });
  }
  byStatement.sort((x, y) => y.calls - x.calls);
  const callsOf = (test: (q: string) => boolean): number =>
    byStatement.filter((s) => test(s.query.trim().toUpperCase())).reduce((n, s) => n + s.calls, 0);
  const s3 = (k: string): number => (b.s3[k] ?? 0) - (a.s3[k] ?? 0);
  return {
    statements: byStatement.reduce((n, s) => n + s.calls, 0),
    statementMs: byStatement.reduce((n, s) => n + s.ms, 0),
    writeTransactions: callsOf((q) => q.startsWith("BEGIN") && q.includes("SERIALIZABLE")),
    viewTransactions: callsOf((q) => q.startsWith("BEGIN") && q.includes("READ ONLY")),
    rollbacks: callsOf((q) => q === "ROLLBACK"),
    s3Requests: s3("req"),
    s3Gets: s3("get"),
    s3Puts: s3("put"),
    s3Failed: s3("failed_req"),
    byStatement,
  };
}

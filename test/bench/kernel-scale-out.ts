// The kernel benchmark's third server (--scale-out, issue 11): dfs on
// PostgreSQL + S3, its engines started for the run, and the per-phase cost
// in SQL statements and S3 requests as those engines count it.

import { CreateBucketCommand } from "@aws-sdk/client-s3";
import { join } from "node:path";
import { postgresMissing, startPostgres, type PostgresCluster } from "../support/postgres.js";
import {
  radosgwMissing,
  s3ClientOf,
  scaleOutStore,
  startRadosgw,
  type RadosgwCluster,
} from "../support/radosgw.js";
import { ServerProcess } from "./server-process.js";
import { StoreCounters, storeWork, type StoreSnapshot, type StoreWork } from "./store-counters.js";

const BUCKET = "dfs";

export class ScaleOut {
  private constructor(
    private readonly pg: PostgresCluster,
    private readonly rgw: RadosgwCluster,
    readonly dfs: ServerProcess,
    readonly counters: StoreCounters,
    /** Where the engines are, for the log. */
    readonly describe: string,
  ) {}

  /**
   * Starts PostgreSQL (its cluster under `dir`, on the same disk as the other
   * servers' data, with pg_stat_statements), RADOS Gateway and dfs on them.
   */
  static async start(
    o: {
      readonly dir: string;
      readonly out: string;
      readonly dfsConfig: Record<string, unknown>;
    },
    port: number,
    nodeArgs: readonly string[],
  ): Promise<ScaleOut> {
    const missing = postgresMissing() ?? radosgwMissing();
    if (missing !== null) throw new Error(`--scale-out: ${missing}`);
    const [pg, rgw] = await Promise.all([
      startPostgres({
        parent: o.dir,
        settings: ["shared_preload_libraries=pg_stat_statements", "pg_stat_statements.max=1000"],
      }),
      startRadosgw(),
    ]);
    try {
      const s3 = s3ClientOf(rgw);
      await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
      s3.destroy();
      const url = await pg.createDatabase("dfs");
      const counters = await StoreCounters.open(url, rgw);
      const dataDir = join(o.out, "scaleout-data");
      const dfs = await ServerProcess.start(
        {
          ...o.dfsConfig,
          store: { ...scaleOutStore(url, rgw, BUCKET), dataDir },
          logLevel: "warn",
        },
        { port, compiled: true, nodeArgs },
      );
      return new ScaleOut(pg, rgw, dfs, counters, `${url}, S3 ${rgw.endpoint} bucket ${BUCKET}`);
    } catch (e) {
      rgw.stop();
      pg.stop();
      throw e;
    }
  }

  async stop(): Promise<void> {
    await this.dfs.terminate();
    await this.counters.close().catch(() => undefined);
    this.rgw.stop();
    this.pg.stop();
  }
}

/** Snapshots of the engines' counters at each phase's end (none for the other servers). */
export class PhaseSnapshots {
  private readonly taken: [string, StoreSnapshot][] = [];
  private chain: Promise<void> = Promise.resolve();

  constructor(private readonly counters: StoreCounters | null) {}

  /** The counters as phase `name` ends (in order: snapshots are taken one after another). */
  take(name: string): void {
    const counters = this.counters;
    if (counters === null) return;
    this.chain = this.chain.then(async () => {
      this.taken.push([name, await counters.snapshot()]);
    });
  }

  /** What each phase cost the engines, by phase; null for a server without counters. */
  async work(): Promise<Record<string, StoreWork> | null> {
    await this.chain;
    if (this.counters === null) return null;
    const byPhase: Record<string, StoreWork> = {};
    for (let i = 1; i < this.taken.length; i++)
      byPhase[this.taken[i]![0]] = storeWork(this.taken[i - 1]![1], this.taken[i]![1]);
    return byPhase;
  }
}

/** The scale-out server's engine work per phase of its first round, and per RPC. */
export function printStoreWork(
  results: readonly {
    readonly server: string;
    readonly rpcs: Record<string, Record<string, number>>;
    readonly store?: Record<string, StoreWork>;
  }[],
  phases: readonly (readonly [string, string])[],
): void {
  const first = results.find((r) => r.server === "scaleout");
  if (first?.store === undefined) return;
  console.log(
    `\nscaleout: what each phase cost PostgreSQL and S3 (first round; counted by` +
      ` pg_stat_statements and radosgw; "per RPC" divides by all the phase's RPCs):`,
  );
  console.log(
    `\n| phase | RPCs | SQL statements | per RPC | write tx | read tx | rollbacks | SQL ms | S3 requests (GET/PUT/other) | failed | per RPC |`,
  );
  console.log(`|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|`);
  for (const [phase] of phases) {
    const w = first.store[phase];
    if (w === undefined) continue;
    const rpcs = Object.values(first.rpcs[phase] ?? {}).reduce((a, b) => a + b, 0);
    const per = (n: number): string => (rpcs === 0 ? "-" : (n / rpcs).toFixed(2));
    const other = w.s3Requests - w.s3Gets - w.s3Puts;
    console.log(
      `| ${phase} | ${rpcs} | ${w.statements} | ${per(w.statements)} | ${w.writeTransactions} | ` +
        `${w.viewTransactions} | ${w.rollbacks} | ${w.statementMs.toFixed(0)} | ` +
        `${w.s3Requests} (${w.s3Gets}/${w.s3Puts}/${other}) | ${w.s3Failed} | ${per(w.s3Requests)} |`,
    );
  }
  console.log(
    `\nscaleout: the statements each phase ran most (calls, share of the phase's SQL time):`,
  );
  for (const [phase] of phases) {
    const w = first.store[phase];
    if (w === undefined) continue;
    const top = w.byStatement
      .slice(0, 6)
      .map(
        (s) =>
          `${s.calls} × ${oneLine(s.query)} (${w.statementMs > 0 ? ((100 * s.ms) / w.statementMs).toFixed(0) : 0}%)`,
      );
    console.log(`  ${phase}:\n    ${top.join("\n    ")}`);
  }
}

function oneLine(query: string): string {
  const q = query.replace(/\s+/g, " ").trim();
  return q.length > 110 ? `${q.slice(0, 107)}...` : q;
}

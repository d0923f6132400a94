// The lease that lets one server at a time serve a PostgreSQL store (issue
// 11, active/passive). Pins (open files whose names are gone), delegations,
// opens and locks live in the serving process's memory, so two servers on
// one store would free each other's open files and grant conflicting state:
// the second must not serve until the first is gone.
//
// - One row, store_lease (pg-schema.ts): who holds it and until when, by the
//   database's clock (no two machines' clocks are compared).
// - open() takes it if it is free, has expired, or is held under this
//   server's own name (a restart after a crash: data-dir.ts names the holder
//   by machine and data directory, whose lock rules out a live twin); a
//   server started as a standby waits for that, others fail at once naming
//   the holder.
// - The holder renews it every third of `ttlSec`. A renewal that finds the
//   row taken means another server took over (this one stalled past the
//   expiry): onLost is called, and this server must stop.
// - Fencing: every write transaction checks, as its last statement, that the
//   lease is still held with a third of its time left (else NFS4ERR_DELAY, and
//   a renewal at once). A server that stopped renewing stops committing well
//   before anyone may take over.

import type pg from "pg";
import { FsError } from "../fs/backend.js";
import { nfsstat4 } from "../../generated/nfs4/index.js";

export interface LeaseOptions {
  /** Seconds a lease lasts without renewal: a dead server's store is taken over after this. */
  readonly ttlSec: number;
  /** Wait for a held lease to expire (a standby) instead of failing at once. */
  readonly standby: boolean;
  /** Called once if the lease is found taken by another server: this one must stop serving. */
  readonly onLost: (why: string) => void;
}

export class StoreLeaseHeldError extends Error {
  override readonly name = "StoreLeaseHeldError";
}

const ACQUIRE = `INSERT INTO store_lease (id, holder, expires_at)
  VALUES (1, $1, now() + make_interval(secs => $2))
  ON CONFLICT (id) DO UPDATE SET holder = EXCLUDED.holder, expires_at = EXCLUDED.expires_at
  WHERE store_lease.expires_at < now() OR store_lease.holder = EXCLUDED.holder
  RETURNING holder`;
const RENEW = `UPDATE store_lease SET expires_at = now() + make_interval(secs => $2)
  WHERE id = 1 AND holder = $1`;
/** Held, with a third of the lease left (clock_timestamp: now, not the transaction's start). */
const HELD = `SELECT 1 FROM store_lease WHERE id = 1 AND holder = $1
  AND expires_at > clock_timestamp() + make_interval(secs => $2)`;

export class StoreLease {
  private timer: NodeJS.Timeout | null = null;
  private renewing = false;
  private lost = false;
  /**
   * When (this process's monotonic clock, ms) the last renewal that found the
   * lease still ours was sent: the lease lasts at least ttlSec from then.
   */
  private renewedAt = performance.now();

  private constructor(
    private readonly pool: pg.Pool,
    readonly holder: string,
    private readonly options: LeaseOptions,
  ) {}

  /** Takes the lease for `holder` (waiting while another holds it, as a standby). */
  static async acquire(pool: pg.Pool, holder: string, options: LeaseOptions): Promise<StoreLease> {
    let sentAt: number;
    for (;;) {
      sentAt = performance.now();
      const got = await pool.query(ACQUIRE, [holder, options.ttlSec]);
      if ((got.rowCount ?? 0) > 0) break;
      if (!options.standby) {
        const r = await pool.query<{ holder: string; left: string }>(
          "SELECT holder, greatest(0, extract(epoch FROM expires_at - now()))::int AS left FROM store_lease",
        );
        const row = r.rows[0];
        throw new StoreLeaseHeldError(
          `the store is served by ${row?.holder ?? "another server"} (its lease runs ${row?.left ?? "?"} s more unless renewed); start this server with store.postgresRole "standby" to take over when that one stops`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, (options.ttlSec * 1000) / 6));
    }
    const lease = new StoreLease(pool, holder, options);
    lease.renewedAt = sentAt;
    lease.schedule();
    return lease;
  }

  /**
   * Fails (NFS4ERR_DELAY: the client retries) unless the lease is still this
   * server's with time to spare. Too little time left is not a loss — a
   * renewal ran late (a loaded machine, a slow database) — so a renewal is
   * started now; only a renewal that finds the lease taken ends the server.
   */
  async check(client: pg.ClientBase): Promise<void> {
    const r = await client.query(HELD, [this.holder, this.options.ttlSec / 3]);
    if ((r.rowCount ?? 0) > 0) return;
    this.renewNow();
    throw new FsError(nfsstat4.NFS4ERR_DELAY, "the store's lease is not held with time to spare");
  }

  /**
   * Whether the lease is surely still this server's, by this process's clock
   * alone: a renewal that found it ours was sent less than two thirds of
   * ttlSec ago. No other server can have written since (taking the lease
   * needs it expired, and a renewal that finds it ours proves it never was),
   * so what this process remembers of the store is still what is committed
   * (the object cache of pg-metadata.ts).
   */
  get surelyHeld(): boolean {
    return !this.lost && performance.now() - this.renewedAt < (this.options.ttlSec * 2000) / 3;
  }

  /** Gives the lease up (a clean stop): a standby takes over at once. */
  async release(): Promise<void> {
    this.stop();
    if (this.lost) return;
    await this.pool
      .query("DELETE FROM store_lease WHERE id = 1 AND holder = $1", [this.holder])
      .catch(() => undefined);
  }

  /** Renews at once (unless a renewal is under way or the lease is gone). */
  private renewNow(): void {
    if (this.lost || this.renewing) return;
    this.stop();
    void this.renew();
  }

  private schedule(): void {
    this.timer = setTimeout(() => void this.renew(), (this.options.ttlSec * 1000) / 3);
    this.timer.unref();
  }

  private async renew(): Promise<void> {
    this.timer = null;
    this.renewing = true;
    try {
      const sentAt = performance.now();
      const r = await this.pool.query(RENEW, [this.holder, this.options.ttlSec]);
      if ((r.rowCount ?? 0) === 0) {
        this.lose("another server took the store over");
        return;
      }
      this.renewedAt = sentAt;
    } catch {
      // The database is unreachable: try again; commits stop once too little time is left.
    } finally {
      this.renewing = false;
    }
    if (!this.lost) this.schedule();
  }

  private lose(why: string): void {
    if (this.lost) return;
    this.lost = true;
    this.stop();
    this.options.onLost(why);
  }

  private stop(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }
}

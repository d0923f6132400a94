// Server restart recovery (RFC 8881 §8.4.2): which clients may reclaim the
// opens and locks they held before the server restarted, and the grace
// period during which they may.
//
// Records. A client is recorded (store/recovery.ts) when it sends its global
// RECLAIM_COMPLETE, as Linux nfsd does for NFSv4.1: from then on it may take
// new opens and locks (before it, OPEN and LOCK answer NFS4ERR_GRACE, §18.51.3),
// so every client that can hold non-reclaimed state is recorded first, and
// RECLAIM_COMPLETE is answered only once the record is durable. A client that
// reclaims under a record of the previous instance is marked recorded too. A
// record goes when its client's state goes for good: lease expiry (or a
// courtesy client expired by a conflict), DESTROY_CLIENTID, a new incarnation
// of the client (new verifier) confirmed in its place — so that a client that
// lost its state can never reclaim it after a later restart (§8.4.3 edge
// conditions). COMPOUND sends no reply before the record writes it caused are
// durable (pending()).
//
// Grace. At start, if the store holds records, the server is in grace for
// nfs.graceTimeSec: recorded clients reclaim (OPEN CLAIM_PREVIOUS, LOCK with
// reclaim), and everything that could take state a reclaim would need — new
// opens and locks, LOCKT, REMOVE and RENAME (as nfsd) — is NFS4ERR_GRACE.
// Grace ends at the deadline, or once every recorded client has sent
// RECLAIM_COMPLETE (whichever first); a client still reclaiming at the
// deadline extends it, a second at a time, up to twice the grace time (as
// nfsd: a slow client is not cut off in the middle of its reclaims). At the
// end, the records of clients that never completed their reclaim go: they
// can no longer reclaim. A restart during grace keeps every record, so a
// client that had not reclaimed yet still can after it (§8.4.3).
//
// Errors (RFC 8881 §15.1.9): a reclaim outside grace, after the client's own
// RECLAIM_COMPLETE, or by a client with no record is NFS4ERR_NO_GRACE — "no
// further reclaims from this client will succeed", which is the case for all
// three (Linux nfsd answers RECLAIM_BAD for a client with no record; its
// client handles both alike). OPEN, LOCK and WANT_DELEGATION list both.

import type { Logger } from "pino";
import { nfsstat4 } from "../../generated/nfs4/index.js";
import type { ClientRecord } from "../state/client.js";
import { keyOf } from "../state/keys.js";
import type { NfsError } from "../state/slot-table.js";
import type { ClientRecoveryRecord, ClientRecoveryStore } from "../store/recovery.js";

/** The settings recovery uses (see NfsSettings and the README). */
export interface RecoverySettings {
  readonly graceTimeSec: number;
}

/**
 * Past the grace deadline, a client that reclaimed within this long keeps the
 * grace period open this much longer (up to twice nfs.graceTimeSec in all);
 * and once every recorded client has completed, grace ends this long after
 * the last completion, so requests sent meanwhile are answered as in grace.
 */
const GRACE_STEP_MS = 1000;

/** The grace period, now. */
export interface GraceReport {
  readonly inGrace: boolean;
  /** How long the current grace period has lasted (null: not in grace). */
  readonly sinceMs: number | null;
  readonly graceTimeSec: number;
  /** Clients of the previous instance that may reclaim, and those that have not sent RECLAIM_COMPLETE. */
  readonly recordedClients: number;
  readonly notYetComplete: number;
  /** Reclaims granted in this grace period. */
  readonly reclaims: number;
}

export class ClientRecovery {
  private started = false;
  private grace = false;
  private graceStart = 0;
  private timer: NodeJS.Timeout | null = null;
  /** The previous instance's records, by owner key: who may reclaim during this grace period. */
  private readonly reclaimable = new Map<string, ClientRecoveryRecord>();
  /** Owner keys of those records whose client has not sent RECLAIM_COMPLETE yet. */
  private readonly incomplete = new Set<string>();
  private lastReclaimAt = Number.NEGATIVE_INFINITY;
  /** Reclaims granted during this grace period (logged at its end). */
  private reclaims = 0;
  /** Record writes in flight, serialised so a later one of the same owner wins. */
  private tail: Promise<void> = Promise.resolve();
  private inFlight = 0;

  constructor(
    private readonly store: ClientRecoveryStore,
    private readonly settings: RecoverySettings,
    private readonly log: Logger,
    private readonly now: () => number,
  ) {}

  /** Reads the records and enters grace if there are any. Called once, before serving. */
  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    const records = await this.store.list();
    if (records.length === 0) return;
    for (const r of records) {
      const key = keyOf(r.ownerId);
      this.reclaimable.set(key, r);
      this.incomplete.add(key);
    }
    this.grace = true;
    this.graceStart = this.now();
    this.log.info(
      { clients: records.length, graceTimeSec: this.settings.graceTimeSec },
      "grace period started",
    );
    this.schedule(this.settings.graceTimeSec * 1000, () => this.deadline());
  }

  /** True during the grace period. */
  get inGrace(): boolean {
    return this.grace;
  }

  /** The grace period as dfsctl shows it. */
  report(): GraceReport {
    return {
      inGrace: this.grace,
      sinceMs: this.grace ? this.now() - this.graceStart : null,
      graceTimeSec: this.settings.graceTimeSec,
      recordedClients: this.reclaimable.size,
      notYetComplete: this.incomplete.size,
      reclaims: this.reclaims,
    };
  }

  /**
   * Ends the grace period now (dfsctl grace end): clients that have not
   * reclaimed lose what they held, others may take new state at once.
   * Returns false if the server was not in grace.
   */
  endByAdministrator(): boolean {
    if (!this.grace) return false;
    this.end("ended by an administrator");
    return true;
  }

  /**
   * Whether `client` may reclaim now (OPEN CLAIM_PREVIOUS, LOCK reclaim,
   * WANT_DELEGATION CLAIM_PREVIOUS): null if so — the client is then
   * recorded, its record kept until its state goes — else the error.
   */
  reclaimError(client: ClientRecord): NfsError | null {
    if (!this.grace || client.reclaimComplete) return nfsstat4.NFS4ERR_NO_GRACE;
    const record = this.reclaimable.get(keyOf(client.ownerId));
    // Only the principal that held the state may take it back (as EXCHANGE_ID's rule, §18.35.5).
    if (record === undefined || record.principal !== client.principal)
      return nfsstat4.NFS4ERR_NO_GRACE;
    client.recorded = true;
    this.lastReclaimAt = this.now();
    this.reclaims++;
    return null;
  }

  /**
   * Whether `client` may take new state (a non-reclaim OPEN or LOCK): not
   * before its own RECLAIM_COMPLETE (§18.51.3), nor during grace (§8.4.2.1).
   */
  acquireError(client: ClientRecord): NfsError | null {
    return this.grace || !client.reclaimComplete ? nfsstat4.NFS4ERR_GRACE : null;
  }

  /** NFS4ERR_GRACE during grace, for operations that could take away what a reclaim needs (LOCKT, REMOVE, RENAME). */
  graceError(): NfsError | null {
    return this.grace ? nfsstat4.NFS4ERR_GRACE : null;
  }

  /**
   * A global RECLAIM_COMPLETE of `client` (its flag already set): records
   * it; resolves once the record is durable, rejects if it could not be written.
   */
  async reclaimComplete(client: ClientRecord): Promise<void> {
    const key = keyOf(client.ownerId);
    client.recorded = true;
    const record = { ownerId: client.ownerId, principal: client.principal, recordedAt: Date.now() };
    const written = this.write(() => this.store.add(record));
    if (this.incomplete.delete(key)) this.maybeAllDone();
    await written;
  }

  /** A client record went (StateManager.onClientRemoved): its recovery record goes with its state. */
  clientRemoved(client: ClientRecord): void {
    if (!client.recorded) return;
    client.recorded = false;
    const key = keyOf(client.ownerId);
    this.reclaimable.delete(key);
    if (this.incomplete.delete(key)) this.maybeAllDone();
    const ownerId = client.ownerId;
    // Errors are logged by write(); nobody waits on this one but pending().
    this.write(() => this.store.remove(ownerId)).catch(() => undefined);
  }

  /** The record writes issued so far, while any is in flight; null when none is. */
  pending(): Promise<void> | null {
    return this.inFlight > 0 ? this.tail : null;
  }

  /** Stops the grace timer (the server is closing); resolves once record writes are done. */
  async close(): Promise<void> {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    await this.tail;
  }

  private write(op: () => Promise<void>): Promise<void> {
    this.inFlight++;
    const done = this.tail.then(op).finally(() => this.inFlight--);
    this.tail = done.catch((e: unknown) =>
      this.log.error({ err: e }, "client recovery record not written"),
    );
    return done;
  }

  private schedule(ms: number, then: () => void): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      then();
    }, ms);
    this.timer.unref();
  }

  /** The grace deadline (or a later check): ends grace unless a client is still reclaiming. */
  private deadline(): void {
    if (!this.grace) return;
    const now = this.now();
    const limit = this.graceStart + 2 * this.settings.graceTimeSec * 1000;
    if (now - this.lastReclaimAt < GRACE_STEP_MS && now < limit) {
      this.schedule(GRACE_STEP_MS, () => this.deadline());
      return;
    }
    this.end("timeout");
  }

  private maybeAllDone(): void {
    if (this.grace && this.incomplete.size === 0)
      this.schedule(GRACE_STEP_MS, () => this.end("every recorded client completed its reclaim"));
  }

  private end(reason: string): void {
    if (!this.grace) return;
    this.grace = false;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    // Clients that never completed their reclaim can no longer reclaim: their records go.
    for (const key of this.incomplete) {
      const record = this.reclaimable.get(key);
      if (record) this.write(() => this.store.remove(record.ownerId)).catch(() => undefined);
    }
    this.log.info(
      {
        reason,
        reclaims: this.reclaims,
        unreclaimed: this.incomplete.size,
        ms: this.now() - this.graceStart,
      },
      "grace period ended",
    );
    this.incomplete.clear();
    this.reclaimable.clear();
  }
}

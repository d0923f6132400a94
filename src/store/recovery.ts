// Client recovery records (RFC 8881 §8.4.2.1): the clients that may reclaim
// their opens and locks after the server restarts. A server may let a client
// reclaim only if it knows the client held state before the restart — and did
// not lose it to lease expiry meanwhile — so it keeps, in stable storage, one
// record per client owner (co_ownerid) from the moment the client may hold
// state until the moment that state is gone. Linux nfsd keeps the same records
// (nfs4recover.c); PostgreSQL (issue 11) implements this interface as well.
//
// The store holds only records; when to add and remove them, and the grace
// period they open at start-up, are the NFS layer's (src/nfs/recovery.ts).

/** One recorded client. */
export interface ClientRecoveryRecord {
  /** eia_clientowner.co_ownerid: the client's identity across its and our restarts. */
  readonly ownerId: Uint8Array;
  /** The principal that established the client (EXCHANGE_ID), who alone may reclaim for it. */
  readonly principal: string;
  /** When it was recorded (ms since the epoch): for operators; the protocol does not use it. */
  readonly recordedAt: number;
}

/**
 * The recorded clients. Every write is durable when its promise resolves: a
 * reply that depends on it (RECLAIM_COMPLETE, DESTROY_CLIENTID) is sent only
 * after. A store serialises its writes, so a remove issued after an add of the
 * same owner wins, and the other way round.
 */
export interface ClientRecoveryStore {
  /** Every record, in no particular order. */
  list(): Promise<ClientRecoveryRecord[]>;
  /** Records the client (replacing a record of the same ownerId). */
  add(record: ClientRecoveryRecord): Promise<void>;
  /** Forgets the client owner's record, if any. */
  remove(ownerId: Uint8Array): Promise<void>;
}

/**
 * Records in process memory: what the memory backend uses (nothing outlives
 * the process, so a new server finds none and has no grace period). Tests
 * hand one instance to two server instances in turn to simulate a restart.
 */
export class MemoryClientRecoveryStore implements ClientRecoveryStore {
  private readonly records = new Map<string, ClientRecoveryRecord>();

  async list(): Promise<ClientRecoveryRecord[]> {
    return [...this.records.values()].map(copyRecord);
  }

  async add(record: ClientRecoveryRecord): Promise<void> {
    this.records.set(Buffer.from(record.ownerId).toString("hex"), copyRecord(record));
  }

  async remove(ownerId: Uint8Array): Promise<void> {
    this.records.delete(Buffer.from(ownerId).toString("hex"));
  }
}

function copyRecord(r: ClientRecoveryRecord): ClientRecoveryRecord {
  return { ownerId: new Uint8Array(r.ownerId), principal: r.principal, recordedAt: r.recordedAt };
}

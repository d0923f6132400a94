// The server's NFSv4.1 state: client records, sessions, connection bindings,
// leases and the replay-cache budget. It knows nothing of sockets beyond the
// RpcConnection handle and nothing of the wire beyond the generated types; the
// RFC procedures (EXCHANGE_ID's cases, CREATE_SESSION's rules, …) live in the
// operation handlers, which use the primitives here. It imports nothing from
// nfs/: its settings are the subset below, which NfsSettings satisfies.

import { randomBytes } from "node:crypto";
import type { Logger } from "pino";
import type { callback_sec_parms4, channel_attrs4 } from "../../generated/nfs4/index.js";
import type { RpcConnection } from "../rpc/types.js";
import type { ClientRecord } from "./client.js";
import { DelegationState } from "./delegation-state.js";
import type { DelegationEnd, DelegationType, GrantingCall } from "./delegation-state.js";
import { FileState } from "./file-state.js";
import { keyOf, ownerKeyOf } from "./keys.js";
import { copySecParms } from "./copies.js";
import { ReplayBudget } from "./replay-budget.js";
import { Session } from "./session.js";
import type { CachedReply, Slot } from "./slot-table.js";
import { LockOwner, LockState } from "./lock-state.js";
import { OpenOwner, OpenState } from "./open-state.js";
import { StateidTable } from "./stateid.js";

/** The settings the state uses (see NfsSettings and the README for their meaning). */
export interface StateSettings {
  readonly leaseTimeSec: number;
  readonly courtesyTimeSec: number;
  readonly replayCacheBudget: number;
  readonly maxClients: number;
  readonly maxSessionsPerClient: number;
  readonly maxStateidsPerClient: number;
}

export interface StateOptions {
  readonly settings: StateSettings;
  readonly log: Logger;
  /** The clock, in milliseconds (tests inject their own). */
  readonly now?: () => number;
  /**
   * Called when an open goes (CLOSE, expiry, client teardown): the backend
   * keeps an open file usable until then even if its last name is removed.
   */
  readonly onOpenRemoved?: (fh: Uint8Array) => void;
  /** Called when a delegation stops being in force, with why (returned, revoked, its client gone). */
  readonly onDelegationRemoved?: (d: DelegationState, end: DelegationEnd) => void;
  /** server_owner's so_major_id and the server scope; stable for the server's life. */
  readonly serverOwner?: Uint8Array;
  /**
   * Called after a session is destroyed, however it goes (DESTROY_SESSION,
   * client teardown, lease expiry, a confirmed record replaced): the callback
   * channel moves the calls it had on it.
   */
  readonly onSessionDestroyed?: (session: Session) => void;
  /** Called after a client record is removed (its sessions first): its callbacks are cancelled. */
  readonly onClientRemoved?: (record: ClientRecord) => void;
}

/** What one client holds, indexed here so that client.ts needs none of these modules. */
interface Holdings {
  readonly sessions: Map<string, Session>;
  readonly openOwners: Map<string, OpenOwner>;
  readonly lockOwners: Map<string, LockOwner>;
  /** Its delegations in force, and those revoked and not yet freed (FREE_STATEID). */
  readonly delegations: Set<DelegationState>;
  readonly revokedDelegations: Set<DelegationState>;
  /** Its open, lock and delegation stateids, at most settings.maxStateidsPerClient. */
  stateids: number;
  /** It has already been logged as reaching maxStateidsPerClient (logged once per client). */
  limitLogged: boolean;
}

function emptyHoldings(): Holdings {
  return {
    sessions: new Map(),
    openOwners: new Map(),
    lockOwners: new Map(),
    delegations: new Set(),
    revokedDelegations: new Set(),
    stateids: 0,
    limitLogged: false,
  };
}

/** What one client holds, counted. */
export interface HoldingCounts {
  readonly sessions: number;
  /** Open stateids (one per open-owner and file) and lock stateids. */
  readonly opens: number;
  readonly locks: number;
  /** Delegations in force, and revoked ones not yet freed. */
  readonly delegations: number;
  readonly revokedDelegations: number;
  readonly stateids: number;
}

export interface StateStats {
  readonly clients: number;
  readonly confirmedClients: number;
  readonly sessions: number;
  /** Open-owners and lock-owners holding something, and live stateids. */
  readonly openOwners: number;
  readonly lockOwners: number;
  readonly stateids: number;
  /** The most open and lock stateids one client holds (bounded by maxStateidsPerClient). */
  readonly mostStateidsOfAClient: number;
  /** Bytes the slots actually cache, and bytes reserved for them out of the budget. */
  readonly replayCacheBytes: number;
  readonly replayCacheReserved: number;
  readonly replayCacheBudget: number;
}

export class StateManager {
  readonly settings: StateSettings;
  readonly now: () => number;
  /** eir_server_owner.so_major_id and eir_server_scope: identical on every address we listen on. */
  readonly serverOwner: Uint8Array;
  readonly serverScope: Uint8Array;
  /**
   * The start-up time in milliseconds, modulo 2^32: the high half of every
   * client ID and the first four bytes of every stateid, so those of an
   * earlier run are stale. Milliseconds, not seconds: a server restarted
   * within the second (kill -9 and restart) must not issue its predecessor's IDs.
   */
  readonly bootEpoch: number;
  private readonly log: Logger;
  private readonly onOpenRemoved: (fh: Uint8Array) => void;
  private readonly onDelegationRemoved: (d: DelegationState, end: DelegationEnd) => void;
  /** Delegations in force, over all clients. */
  private delegationsInForce = 0;
  private readonly onSessionDestroyed: (session: Session) => void;
  private readonly onClientRemoved: (record: ClientRecord) => void;
  private nextClientSeq = 1;
  private readonly clients = new Map<bigint, ClientRecord>();
  private readonly byOwner = new Map<string, ClientRecord[]>();
  private readonly sessions = new Map<string, Session>();
  private readonly connSessions = new Map<number, Set<Session>>();
  readonly replayBudget: ReplayBudget;
  readonly stateids: StateidTable;
  private readonly files = new Map<string, FileState>();
  private readonly holdings = new Map<ClientRecord, Holdings>();
  /** The lock states taken through each open (a lock state names its open). */
  private readonly openLocks = new Map<OpenState, Set<LockState>>();

  constructor(options: StateOptions) {
    this.settings = options.settings;
    this.log = options.log;
    this.now = options.now ?? Date.now;
    this.onOpenRemoved = options.onOpenRemoved ?? (() => undefined);
    this.onDelegationRemoved = options.onDelegationRemoved ?? (() => undefined);
    this.onSessionDestroyed = options.onSessionDestroyed ?? (() => undefined);
    this.onClientRemoved = options.onClientRemoved ?? (() => undefined);
    this.bootEpoch = Math.floor(this.now()) >>> 0;
    this.serverOwner = options.serverOwner ?? new TextEncoder().encode("dittofs-ts");
    this.serverScope = this.serverOwner;
    this.stateids = new StateidTable(this.bootEpoch);
    this.replayBudget = new ReplayBudget(this.settings.replayCacheBudget, this.log, this.now);
  }

  // --- client records -------------------------------------------------------

  /** A client ID never handed out before by this server instance. */
  newClientId(): bigint {
    const seq = this.nextClientSeq++;
    return (BigInt(this.bootEpoch) << 32n) | BigInt(seq >>> 0);
  }

  client(clientid: bigint): ClientRecord | undefined {
    return this.clients.get(clientid);
  }

  /** True if `clientid` was issued by an earlier instance of the server. */
  isStaleClientId(clientid: bigint): boolean {
    return clientid >> 32n !== BigInt(this.bootEpoch);
  }

  /** The records for a client owner: at most one confirmed and one unconfirmed. */
  byOwnerId(ownerId: Uint8Array): { confirmed?: ClientRecord; unconfirmed?: ClientRecord } {
    const records = this.byOwner.get(keyOf(ownerId)) ?? [];
    return {
      confirmed: records.find((r) => r.confirmed),
      unconfirmed: records.find((r) => !r.confirmed),
    };
  }

  get clientCount(): number {
    return this.clients.size;
  }

  /** Every client record, confirmed or not (for the control API). */
  clientRecords(): IterableIterator<ClientRecord> {
    return this.clients.values();
  }

  /** Every live session (for the control API and the metrics endpoint). */
  allSessions(): IterableIterator<Session> {
    return this.sessions.values();
  }

  /** What a client holds, counted (for the control API). */
  holdingCounts(record: ClientRecord): HoldingCounts {
    const held = this.held(record);
    let opens = 0;
    let locks = 0;
    for (const o of held.openOwners.values()) opens += o.opens.size;
    for (const o of held.lockOwners.values()) locks += o.states.size;
    return {
      sessions: held.sessions.size,
      opens,
      locks,
      delegations: held.delegations.size,
      revokedDelegations: held.revokedDelegations.size,
      stateids: held.stateids,
    };
  }

  addClient(record: ClientRecord): void {
    this.clients.set(record.clientid, record);
    this.holdings.set(record, emptyHoldings());
    const key = keyOf(record.ownerId);
    const list = this.byOwner.get(key);
    if (list) list.push(record);
    else this.byOwner.set(key, [record]);
  }

  /** Forgets a client record with all its sessions. */
  removeClient(record: ClientRecord): void {
    const held = this.held(record);
    for (const s of [...held.sessions.values()]) this.destroySession(s);
    // Copies: removing an owner's last state also removes the owner from these maps.
    for (const owner of [...held.lockOwners.values()])
      for (const l of [...owner.states]) this.removeLockState(l);
    for (const owner of [...held.openOwners.values()])
      for (const o of [...owner.opens.values()]) this.removeOpen(o);
    for (const d of [...held.delegations, ...held.revokedDelegations])
      this.forgetDelegation(d, "client gone");
    this.holdings.delete(record);
    this.clients.delete(record.clientid);
    const key = keyOf(record.ownerId);
    const rest = (this.byOwner.get(key) ?? []).filter((r) => r !== record);
    if (rest.length > 0) this.byOwner.set(key, rest);
    else this.byOwner.delete(key);
    this.onClientRemoved(record);
  }

  private held(record: ClientRecord): Holdings {
    // A record never added (or already removed): it holds nothing, and keeps nothing.
    return this.holdings.get(record) ?? emptyHoldings();
  }

  /** The sessions of a client. */
  clientSessions(record: ClientRecord): ReadonlyMap<string, Session> {
    return this.held(record).sessions;
  }

  /** True if the client holds anything a competing client must not silently take over. */
  hasState(record: ClientRecord): boolean {
    return this.held(record).sessions.size > 0 || this.hasOpenState(record);
  }

  /** True while the client holds opens, locks or delegations. */
  hasOpenState(record: ClientRecord): boolean {
    const held = this.held(record);
    if (held.delegations.size > 0) return true;
    for (const o of held.openOwners.values()) if (o.opens.size > 0) return true;
    for (const o of held.lockOwners.values()) if (o.states.size > 0) return true;
    return false;
  }

  /** Confirms `record`; a previously confirmed record of the same owner (a rebooted client's) goes. */
  confirm(record: ClientRecord): void {
    const { confirmed } = this.byOwnerId(record.ownerId);
    if (confirmed && confirmed !== record) {
      this.log.info(
        { old: confirmed.clientid.toString(16), new: record.clientid.toString(16) },
        "client replaced",
      );
      this.removeClient(confirmed);
    }
    record.confirmed = true;
  }

  renew(record: ClientRecord): void {
    record.renewedAt = this.now();
    record.courtesy = false;
  }

  /** Removes every client whose lease has expired (RFC 8881 §8.3); returns how many. */
  expireLeases(): number {
    const deadline = this.now() - this.settings.leaseTimeSec * 1000;
    let n = 0;
    for (const record of [...this.clients.values()]) {
      if (record.renewedAt >= deadline) continue;
      // A request on one of its sessions counts as activity until it completes.
      if ([...this.clientSessions(record).values()].some((s) => s.slots.busy)) continue;
      // A client with opens or locks is kept, courteously, until someone else needs them.
      const courtesyDeadline = deadline - this.settings.courtesyTimeSec * 1000;
      if (record.confirmed && this.hasOpenState(record) && record.renewedAt >= courtesyDeadline) {
        if (!record.courtesy)
          this.log.info(
            { clientid: record.clientid.toString(16) },
            "lease expired; keeping state courteously",
          );
        record.courtesy = true;
        continue;
      }
      this.log.info(
        { clientid: record.clientid.toString(16), confirmed: record.confirmed },
        "lease expired",
      );
      this.removeClient(record);
      n++;
    }
    return n;
  }

  // --- sessions ---------------------------------------------------------------

  /**
   * How many of `wanted` fore-channel slots of `perSlot` cached bytes a new
   * session can have now (RFC 8881 §18.36.3: the server may grant fewer
   * ca_maxrequests than asked). Falling short is memory pressure: the other
   * sessions are asked to shrink, so the memory comes back once their clients
   * acknowledge.
   */
  grantableSlots(wanted: number, perSlot: number): number {
    const granted = this.replayBudget.affordable(wanted, perSlot);
    if (granted < wanted) this.relievePressure("CREATE_SESSION");
    return granted;
  }

  /**
   * Creates a session whose table of fore.ca_maxrequests slots (at most what
   * grantableSlots allowed) is reserved in the replay budget; it may grow to
   * `maxSlots`. The security parameters are copied.
   */
  createSession(
    client: ClientRecord,
    flags: number,
    fore: channel_attrs4,
    back: channel_attrs4,
    cbProgram: number,
    cbSecParms: readonly callback_sec_parms4[],
    maxSlots: number = fore.ca_maxrequests,
  ): Session {
    let id: Uint8Array;
    do id = new Uint8Array(randomBytes(16));
    while (this.sessions.has(keyOf(id)));
    this.replayBudget.reserve(fore.ca_maxrequests, fore.ca_maxresponsesize_cached);
    const session = new Session(
      id,
      client,
      flags,
      fore,
      back,
      cbProgram,
      copySecParms(cbSecParms),
      Math.max(maxSlots, fore.ca_maxrequests),
    );
    this.sessions.set(session.key, session);
    this.held(client).sessions.set(session.key, session);
    return session;
  }

  session(id: Uint8Array): Session | undefined {
    return this.sessions.get(keyOf(id));
  }

  get sessionCount(): number {
    return this.sessions.size;
  }

  destroySession(session: Session): void {
    session.destroyed = true;
    this.sessions.delete(session.key);
    this.held(session.client).sessions.delete(session.key);
    for (const connId of session.connections.keys()) this.connSessions.get(connId)?.delete(session);
    session.connections.clear();
    this.replayBudget.release(session.slots.size, session.bytesPerSlot);
    for (let i = 0; i < session.slots.size; i++) session.slots.slot(i).cached = null;
    this.onSessionDestroyed(session);
  }

  /** Binds a connection to a session's channels, and unbinds it when it closes. */
  bind(session: Session, conn: RpcConnection, fore: boolean, back: boolean): void {
    session.bind(conn, fore, back);
    let set = this.connSessions.get(conn.id);
    if (!set) {
      set = new Set();
      this.connSessions.set(conn.id, set);
      conn.onClose(() => this.connectionClosed(conn.id));
    }
    set.add(session);
  }

  private connectionClosed(connId: number): void {
    for (const s of this.connSessions.get(connId) ?? []) s.unbind(connId);
    this.connSessions.delete(connId);
  }

  /** Sessions `conn` is bound to. */
  sessionsOf(connId: number): ReadonlySet<Session> {
    return this.connSessions.get(connId) ?? new Set();
  }

  /**
   * Expires a courtesy client whose state stands in another client's way;
   * returns false (doing nothing) for a client whose lease is live.
   */
  evictIfCourtesy(record: ClientRecord): boolean {
    if (!record.courtesy) return false;
    this.log.info(
      { clientid: record.clientid.toString(16) },
      "courtesy client expired by a conflict",
    );
    this.removeClient(record);
    return true;
  }

  // --- opens and locks ---------------------------------------------------------

  /** The lock states whose lock-owners came to the open's file through it. */
  locksOf(open: OpenState): ReadonlySet<LockState> {
    return this.openLocks.get(open) ?? new Set();
  }

  /** The state of a file, if any is held on it. */
  fileState(fileKey: string): FileState | undefined {
    return this.files.get(fileKey);
  }

  private fileFor(fh: Uint8Array, fileKey: string): FileState {
    let f = this.files.get(fileKey);
    if (!f) {
      f = new FileState(new Uint8Array(fh));
      this.files.set(fileKey, f);
    }
    return f;
  }

  private dropIfEmpty(fileKey: string): void {
    if (this.files.get(fileKey)?.empty) this.files.delete(fileKey);
  }

  /**
   * How many open and lock stateids the client holds. Each keeps an owner, a
   * stateid and file state alive while the client renews its lease, so their
   * number is what settings.maxStateidsPerClient bounds.
   */
  stateidCount(client: ClientRecord): number {
    return this.held(client).stateids;
  }

  /**
   * True if the client may not take one more open or lock stateid. The first
   * time a client reaches the limit is logged (once per client record, not per
   * request, so a client pressing against it cannot flood the log).
   */
  atStateidLimit(client: ClientRecord): boolean {
    const held = this.held(client);
    if (held.stateids < this.settings.maxStateidsPerClient) return false;
    if (!held.limitLogged) {
      held.limitLogged = true;
      this.log.warn(
        {
          clientid: client.clientid.toString(16),
          maxStateidsPerClient: this.settings.maxStateidsPerClient,
        },
        "client holds maxStateidsPerClient stateids; refusing new opens and lock-owners",
      );
    }
    return true;
  }

  /** The client's open-owner `owner`, if it holds anything (owners holding nothing are not kept). */
  findOpenOwner(client: ClientRecord, owner: Uint8Array): OpenOwner | undefined {
    return this.held(client).openOwners.get(ownerKeyOf(client.clientid, owner));
  }

  /** The open of `owner` on the file, if it has one. */
  findOpen(owner: OpenOwner | undefined, fileKey: string): OpenState | undefined {
    return owner?.opens.get(fileKey);
  }

  /**
   * A new open of the file for the client's open-owner `owner` (created with
   * it), or null when the client already holds maxStateidsPerClient stateids:
   * then nothing is created, not even the owner.
   */
  newOpen(client: ClientRecord, owner: Uint8Array, fh: Uint8Array): OpenState | null {
    if (this.atStateidLimit(client)) return null;
    const held = this.held(client);
    const key = ownerKeyOf(client.clientid, owner);
    let o = held.openOwners.get(key);
    if (!o) {
      o = new OpenOwner(client, new Uint8Array(owner));
      held.openOwners.set(key, o);
    }
    const open = new OpenState(this.stateids.newOther(), o, new Uint8Array(fh));
    o.opens.set(open.fileKey, open);
    held.stateids++;
    this.fileFor(fh, open.fileKey).opens.add(open);
    this.stateids.add(open);
    return open;
  }

  removeOpen(open: OpenState): void {
    for (const l of [...this.locksOf(open)]) this.removeLockState(l);
    this.openLocks.delete(open);
    const held = this.held(open.owner.client);
    // Removing twice must not count twice.
    if (open.owner.opens.get(open.fileKey) === open) {
      open.owner.opens.delete(open.fileKey);
      held.stateids--;
    }
    // An owner with nothing open is forgotten, so owners do not pile up over a client's life.
    if (open.owner.opens.size === 0) held.openOwners.delete(open.owner.key);
    this.files.get(open.fileKey)?.opens.delete(open);
    this.stateids.remove(open);
    this.dropIfEmpty(open.fileKey);
    this.onOpenRemoved(open.fh);
  }

  /**
   * The lock state of the client's lock-owner `owner` on the open's file:
   * its existing one, else a new one (with the owner, if new), or null when
   * that would need a stateid beyond maxStateidsPerClient (nothing is created).
   */
  lockStateFor(client: ClientRecord, owner: Uint8Array, open: OpenState): LockState | null {
    const held = this.held(client);
    const key = ownerKeyOf(client.clientid, owner);
    let o = held.lockOwners.get(key);
    if (o) for (const l of o.states) if (l.fileKey === open.fileKey) return l;
    if (this.atStateidLimit(client)) return null;
    if (!o) {
      o = new LockOwner(client, new Uint8Array(owner));
      held.lockOwners.set(key, o);
    }
    const l = new LockState(this.stateids.newOther(), o, open, open.fh);
    o.states.add(l);
    held.stateids++;
    let locks = this.openLocks.get(open);
    if (!locks) {
      locks = new Set();
      this.openLocks.set(open, locks);
    }
    locks.add(l);
    this.fileFor(open.fh, l.fileKey).locks.add(l);
    this.stateids.add(l);
    return l;
  }

  removeLockState(l: LockState): void {
    const held = this.held(l.owner.client);
    if (l.owner.states.delete(l)) held.stateids--;
    if (l.owner.states.size === 0) held.lockOwners.delete(l.owner.key);
    const locks = this.openLocks.get(l.open);
    locks?.delete(l);
    if (locks?.size === 0) this.openLocks.delete(l.open);
    this.files.get(l.fileKey)?.locks.delete(l);
    this.stateids.remove(l);
    this.dropIfEmpty(l.fileKey);
  }

  // --- delegations -------------------------------------------------------------

  /** Delegations in force (not revoked), over all clients. */
  get delegationCount(): number {
    return this.delegationsInForce;
  }

  /** The client's delegations in force. */
  delegationsOf(client: ClientRecord): ReadonlySet<DelegationState> {
    return this.held(client).delegations;
  }

  /** The clients holding delegations in force. */
  clientsWithDelegations(): ClientRecord[] {
    return [...this.holdings].filter(([, h]) => h.delegations.size > 0).map(([c]) => c);
  }

  /** True while the client has revoked delegations it has not freed (SEQ4_STATUS_RECALLABLE_STATE_REVOKED). */
  hasRevokedDelegations(client: ClientRecord): boolean {
    return this.held(client).revokedDelegations.size > 0;
  }

  /** The client's revoked delegations it has not freed yet. */
  revokedDelegationsOf(client: ClientRecord): ReadonlySet<DelegationState> {
    return this.held(client).revokedDelegations;
  }

  /**
   * A new delegation of the file for the client, or null when the client
   * already holds maxStateidsPerClient stateids (nothing is created).
   */
  newDelegation(
    client: ClientRecord,
    fh: Uint8Array,
    type: DelegationType,
    grantedBy: GrantingCall | null,
  ): DelegationState | null {
    if (this.atStateidLimit(client)) return null;
    const held = this.held(client);
    const d = new DelegationState(
      this.stateids.newOther(),
      client,
      new Uint8Array(fh),
      type,
      this.now(),
      grantedBy === null ? null : { ...grantedBy, sessionId: new Uint8Array(grantedBy.sessionId) },
    );
    held.delegations.add(d);
    held.stateids++;
    this.delegationsInForce++;
    this.fileFor(fh, d.fileKey).delegations.add(d);
    this.stateids.add(d);
    return d;
  }

  /**
   * Revokes a delegation (§10.2.1): it stops protecting the file at once, and
   * its stateid is kept, answering NFS4ERR_DELEG_REVOKED, until the client
   * frees it with FREE_STATEID (or goes).
   */
  revokeDelegation(d: DelegationState, byAdministrator = false): void {
    const held = this.held(d.client);
    if (d.revoked || !held.delegations.delete(d)) return;
    d.revoked = true;
    d.adminRevoked = byAdministrator;
    held.revokedDelegations.add(d);
    this.leaveFile(d);
    this.log.info(
      { clientid: d.client.clientid.toString(16), type: d.type, byAdministrator },
      "delegation revoked",
    );
    this.onDelegationRemoved(d, "revoked");
  }

  /**
   * Forgets a delegation the client gives up: returned (DELEGRETURN), or
   * freed after revocation (FREE_STATEID).
   */
  removeDelegation(d: DelegationState): void {
    this.forgetDelegation(d, "returned");
  }

  /** Forgets a delegation; `end` says why, should it still be in force. */
  private forgetDelegation(d: DelegationState, end: Exclude<DelegationEnd, "revoked">): void {
    const held = this.held(d.client);
    const inForce = held.delegations.delete(d);
    const revoked = held.revokedDelegations.delete(d);
    if (!inForce && !revoked) return;
    held.stateids--;
    this.stateids.remove(d);
    if (inForce) {
      this.leaveFile(d);
      this.onDelegationRemoved(d, end);
    }
  }

  /** A delegation stops being in force: its file no longer counts it. */
  private leaveFile(d: DelegationState): void {
    this.delegationsInForce--;
    this.files.get(d.fileKey)?.delegations.delete(d);
    this.dropIfEmpty(d.fileKey);
  }

  // --- replay cache and slot tables -------------------------------------------

  /**
   * Ends the request holding `slot`, keeping `cached` for retries. Its slot's
   * reservation always has room for it (the reply fitted the negotiated
   * ca_maxresponsesize_cached), so a reply the client asked to cache is cached.
   * `cached.tail` must be owned by the caller (never a view of a reused buffer).
   */
  completeSlot(session: Session, slot: Slot, cached: CachedReply | null): void {
    // Nothing can retry on a destroyed session.
    if (cached !== null && (session.destroyed || cached.tail.length > session.bytesPerSlot))
      cached = null;
    session.slots.complete(slot, cached);
  }

  /** Ends the request holding `slot` without a reply to keep (its processing failed). */
  abandonSlot(session: Session, slot: Slot): void {
    session.slots.abandon(slot);
  }

  /**
   * Adapts a session's table to a request that SEQUENCE accepted (new or
   * retry) on `slotid`, with sa_highest_slotid `clientHighest`: frees the
   * slots above a lowered target once the client acknowledged it, and grows
   * the table (by a fifth) when the client uses its highest slot and the
   * budget allows.
   */
  adaptSlots(session: Session, slotid: number, clientHighest: number): void {
    const table = session.slots;
    const freed = table.acknowledge(slotid, clientHighest);
    if (freed > 0) this.replayBudget.release(freed, session.bytesPerSlot);
    if (!table.wantsGrowth(slotid)) return;
    const n = this.replayBudget.affordable(table.growthStep, session.bytesPerSlot);
    if (n === 0) {
      this.replayBudget.notePressure("slot table growth");
      return;
    }
    this.replayBudget.reserve(n, session.bytesPerSlot);
    table.grow(n);
  }

  /**
   * Memory pressure: asks every session with more than one slot to halve
   * its table through sr_target_highest_slotid. Their memory returns to the
   * budget as their clients acknowledge (adaptSlots).
   */
  private relievePressure(reason: string): void {
    this.replayBudget.notePressure(reason);
    for (const s of this.sessions.values()) {
      if (s.slots.size <= 1) continue;
      s.slots.lowerTarget(Math.ceil(s.slots.size / 2));
    }
  }

  stats(): StateStats {
    return {
      clients: this.clients.size,
      confirmedClients: [...this.clients.values()].filter((c) => c.confirmed).length,
      sessions: this.sessions.size,
      openOwners: [...this.holdings.values()].reduce((n, h) => n + h.openOwners.size, 0),
      lockOwners: [...this.holdings.values()].reduce((n, h) => n + h.lockOwners.size, 0),
      stateids: this.stateids.size,
      mostStateidsOfAClient: [...this.holdings.values()].reduce(
        (n, h) => Math.max(n, h.stateids),
        0,
      ),
      replayCacheBytes: [...this.sessions.values()].reduce((n, s) => n + s.slots.cachedBytes, 0),
      replayCacheReserved: this.replayBudget.reserved,
      replayCacheBudget: this.replayBudget.total,
    };
  }
}

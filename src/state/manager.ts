// The server's NFSv4.1 state: client records, sessions, connection bindings,
// leases and the replay-cache budget. It knows nothing of sockets beyond the
// RpcConnection handle and nothing of the wire beyond the generated types; the
// RFC procedures (EXCHANGE_ID's cases, CREATE_SESSION's rules, …) live in the
// operation handlers, which use the primitives here.

import { randomBytes } from "node:crypto";
import type { Logger } from "pino";
import type { callback_sec_parms4, channel_attrs4 } from "../../generated/nfs4/index.js";
import type { RpcConnection } from "../rpc/types.js";
import { joinResult } from "../rpc/types.js";
import type { NfsSettings } from "../nfs/settings.js";
import type { ClientRecord } from "./client.js";
import { keyOf } from "./client.js";
import { Session } from "./session.js";
import type { Slot } from "./slot-table.js";
import { LockOwner, LockState } from "./lock-state.js";
import { FileState, OpenOwner, OpenState, ownerKey } from "./open-state.js";
import { StateidTable } from "./stateid.js";

export interface StateOptions {
  readonly settings: NfsSettings;
  readonly log: Logger;
  /** The clock, in milliseconds (tests inject their own). */
  readonly now?: () => number;
  /**
   * Called when an open goes (CLOSE, expiry, client teardown): the backend
   * keeps an open file usable until then even if its last name is removed.
   */
  readonly onOpenRemoved?: (fh: Uint8Array) => void;
  /** server_owner's so_major_id and the server scope; stable for the server's life. */
  readonly serverOwner?: Uint8Array;
}

export interface StateStats {
  readonly clients: number;
  readonly confirmedClients: number;
  readonly sessions: number;
  /** Open-owners and lock-owners holding something, and live stateids. */
  readonly openOwners: number;
  readonly lockOwners: number;
  readonly stateids: number;
  readonly replayCacheBytes: number;
  readonly replayCacheBudget: number;
}

export class StateManager {
  readonly settings: NfsSettings;
  readonly now: () => number;
  /** eir_server_owner.so_major_id and eir_server_scope: identical on every address we listen on. */
  readonly serverOwner: Uint8Array;
  readonly serverScope: Uint8Array;
  /** Seconds since the epoch at start-up; the high half of every client ID, so IDs from an earlier run are stale. */
  readonly bootEpoch: number;
  private readonly log: Logger;
  private readonly onOpenRemoved: (fh: Uint8Array) => void;
  private nextClientSeq = 1;
  private readonly clients = new Map<bigint, ClientRecord>();
  private readonly byOwner = new Map<string, ClientRecord[]>();
  private readonly sessions = new Map<string, Session>();
  private readonly connSessions = new Map<number, Set<Session>>();
  private replayBytes = 0;
  readonly stateids: StateidTable;
  private readonly files = new Map<string, FileState>();

  constructor(options: StateOptions) {
    this.settings = options.settings;
    this.log = options.log;
    this.now = options.now ?? Date.now;
    this.onOpenRemoved = options.onOpenRemoved ?? (() => undefined);
    this.bootEpoch = Math.floor(this.now() / 1000) >>> 0;
    this.serverOwner = options.serverOwner ?? new TextEncoder().encode("dittofs-ts");
    this.serverScope = this.serverOwner;
    this.stateids = new StateidTable(this.bootEpoch);
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

  addClient(record: ClientRecord): void {
    this.clients.set(record.clientid, record);
    const key = keyOf(record.ownerId);
    const list = this.byOwner.get(key);
    if (list) list.push(record);
    else this.byOwner.set(key, [record]);
  }

  /** Forgets a client record with all its sessions. */
  removeClient(record: ClientRecord): void {
    for (const s of [...record.sessions.values()]) this.destroySession(s);
    // Copies: removing an owner's last state also removes the owner from these maps.
    for (const owner of [...record.lockOwners.values()])
      for (const l of [...owner.states]) this.removeLockState(l);
    for (const owner of [...record.openOwners.values()])
      for (const o of [...owner.opens]) this.removeOpen(o);
    record.openOwners.clear();
    record.lockOwners.clear();
    this.clients.delete(record.clientid);
    const key = keyOf(record.ownerId);
    const rest = (this.byOwner.get(key) ?? []).filter((r) => r !== record);
    if (rest.length > 0) this.byOwner.set(key, rest);
    else this.byOwner.delete(key);
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
      if ([...record.sessions.values()].some((s) => s.slots.busy)) continue;
      // A client with opens or locks is kept, courteously, until someone else needs them.
      const courtesyDeadline = deadline - this.settings.courtesyTimeSec * 1000;
      if (record.confirmed && record.hasOpenState && record.renewedAt >= courtesyDeadline) {
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

  createSession(
    client: ClientRecord,
    flags: number,
    fore: channel_attrs4,
    back: channel_attrs4,
    cbProgram: number,
    cbSecParms: readonly callback_sec_parms4[],
  ): Session {
    let id: Uint8Array;
    do id = new Uint8Array(randomBytes(16));
    while (this.sessions.has(keyOf(id)));
    const session = new Session(id, client, flags, fore, back, cbProgram, cbSecParms);
    this.sessions.set(session.key, session);
    client.sessions.set(session.key, session);
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
    session.client.sessions.delete(session.key);
    for (const connId of session.connections.keys()) this.connSessions.get(connId)?.delete(session);
    session.connections.clear();
    for (let i = 0; i < session.slots.size; i++) this.releaseReplay(session.slots.slot(i));
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

  openOwner(client: ClientRecord, owner: Uint8Array): OpenOwner {
    const key = ownerKey(client, owner);
    let o = client.openOwners.get(key);
    if (!o) {
      o = new OpenOwner(client, new Uint8Array(owner));
      client.openOwners.set(key, o);
    }
    return o;
  }

  /** The open of `owner` on the file, if it has one. */
  findOpen(owner: OpenOwner, fileKey: string): OpenState | undefined {
    for (const o of owner.opens) if (o.fileKey === fileKey) return o;
    return undefined;
  }

  newOpen(owner: OpenOwner, fh: Uint8Array): OpenState {
    const open = new OpenState(this.stateids.newOther(), owner, new Uint8Array(fh));
    owner.opens.add(open);
    this.fileFor(fh, open.fileKey).opens.add(open);
    this.stateids.add(open);
    return open;
  }

  removeOpen(open: OpenState): void {
    for (const l of [...open.locks]) this.removeLockState(l);
    open.owner.opens.delete(open);
    // An owner with nothing open is forgotten, so owners do not pile up over a client's life.
    if (open.owner.opens.size === 0) open.owner.client.openOwners.delete(open.owner.key);
    this.files.get(open.fileKey)?.opens.delete(open);
    this.stateids.remove(open);
    this.dropIfEmpty(open.fileKey);
    this.onOpenRemoved(open.fh);
  }

  lockOwner(client: ClientRecord, owner: Uint8Array): LockOwner {
    const existing = client.lockOwners.get(ownerKey(client, owner));
    if (existing) return existing;
    const created = new LockOwner(client, new Uint8Array(owner));
    client.lockOwners.set(created.key, created);
    return created;
  }

  /** The lock state of `owner` on the open's file, created if it has none. */
  lockStateFor(owner: LockOwner, open: OpenState): LockState {
    for (const l of owner.states) if (l.fileKey === open.fileKey) return l;
    const l = new LockState(this.stateids.newOther(), owner, open, open.fh);
    owner.states.add(l);
    open.locks.add(l);
    this.fileFor(open.fh, l.fileKey).locks.add(l);
    this.stateids.add(l);
    return l;
  }

  removeLockState(l: LockState): void {
    l.owner.states.delete(l);
    if (l.owner.states.size === 0) l.owner.client.lockOwners.delete(l.owner.key);
    l.open.locks.delete(l);
    this.files.get(l.fileKey)?.locks.delete(l);
    this.stateids.remove(l);
    this.dropIfEmpty(l.fileKey);
  }

  // --- replay cache -----------------------------------------------------------

  /**
   * Ends the request holding `slot`, caching a copy of `reply` if given and
   * the global budget allows (else retries get NFS4ERR_RETRY_UNCACHED_REP).
   */
  completeSlot(
    session: Session,
    slot: Slot,
    reply: Uint8Array | readonly Uint8Array[] | null,
  ): void {
    this.releaseReplay(slot);
    let kept: Uint8Array | null = null;
    // Nothing can retry on a destroyed session.
    if (reply !== null && !session.destroyed) {
      const size =
        reply instanceof Uint8Array ? reply.length : reply.reduce((n, p) => n + p.length, 0);
      if (this.replayBytes + size <= this.settings.replayCacheBudget) {
        // A copy: the reply's pieces may be views into reused buffers.
        kept = reply instanceof Uint8Array ? new Uint8Array(reply) : joinResult(reply);
        this.replayBytes += size;
      } else {
        this.log.warn(
          { budget: this.settings.replayCacheBudget },
          "replay cache budget exhausted; reply not cached",
        );
      }
    }
    session.slots.complete(slot, kept);
  }

  private releaseReplay(slot: Slot): void {
    if (slot.reply) this.replayBytes -= slot.reply.length;
    slot.reply = null;
  }

  stats(): StateStats {
    return {
      clients: this.clients.size,
      confirmedClients: [...this.clients.values()].filter((c) => c.confirmed).length,
      sessions: this.sessions.size,
      openOwners: [...this.clients.values()].reduce((n, c) => n + c.openOwners.size, 0),
      lockOwners: [...this.clients.values()].reduce((n, c) => n + c.lockOwners.size, 0),
      stateids: this.stateids.size,
      replayCacheBytes: this.replayBytes,
      replayCacheBudget: this.settings.replayCacheBudget,
    };
  }
}

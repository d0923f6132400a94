// What the control API shows: plain JSON views of the server's state, read at
// the moment of the request. Nothing here changes state. IDs are hex strings
// (client IDs 16 digits, session IDs 32, delegation stateids' "other" 24),
// the forms dfsctl prints and takes back.

import {
  CREATE_SESSION4_FLAG_CONN_BACK_CHAN,
  CREATE_SESSION4_FLAG_PERSIST,
  type channel_attrs4,
} from "../../generated/nfs4/index.js";
import type { BackChannelReport } from "../callback/service.js";
import { FLAVOR_NAMES } from "../exports/rules.js";
import type { NfsServer } from "../nfs/server.js";
import type { GraceReport } from "../nfs/recovery.js";
import type { ClientRecord } from "../state/client.js";
import type { DelegationState } from "../state/delegation-state.js";
import { keyOf } from "../state/keys.js";
import type { Session } from "../state/session.js";

/** What the API knows beyond the NFS server: how `dfs serve` was started. */
export interface ServerFacts {
  readonly version: string;
  /** "HOST:PORT" of every NFS listener. */
  readonly listen: readonly string[];
  /** Per export path, where its data lives (for people; e.g. "sqlite /srv/dfs"). */
  readonly exportStores?: ReadonlyMap<string, string>;
}

export function clientIdText(id: bigint): string {
  return id.toString(16).padStart(16, "0");
}

/** co_ownerid as text when it is printable ASCII (as the Linux client's is), else hex. */
function ownerText(owner: Uint8Array): string {
  for (const b of owner) if (b < 0x20 || b > 0x7e) return `0x${keyOf(owner)}`;
  return Buffer.from(owner).toString("latin1");
}

function seconds(ms: number): number {
  return Math.round(ms / 100) / 10;
}

export interface ClientView {
  readonly clientid: string;
  readonly owner: string;
  readonly principal: string;
  /** The peer address of one of its connections; null: none open. */
  readonly address: string | null;
  readonly implementation: string | null;
  readonly confirmed: boolean;
  /** Seconds until the lease expires (negative: expired, kept as a courtesy client). */
  readonly leaseRemainingSec: number;
  readonly courtesy: boolean;
  readonly reclaimComplete: boolean;
  readonly sessions: number;
  readonly opens: number;
  readonly locks: number;
  readonly delegations: number;
  readonly revokedDelegations: number;
  readonly debug: boolean;
}

function clientAddress(server: NfsServer, record: ClientRecord): string | null {
  for (const s of server.state.clientSessions(record).values())
    for (const b of s.connections.values()) if (b.conn.open) return b.conn.remote;
  return null;
}

export function clientView(server: NfsServer, record: ClientRecord): ClientView {
  const held = server.state.holdingCounts(record);
  const id = clientIdText(record.clientid);
  const impl = record.implId[0];
  return {
    clientid: id,
    owner: ownerText(record.ownerId),
    principal: record.principal,
    address: clientAddress(server, record),
    implementation: impl === undefined ? null : `${impl.nii_domain} ${impl.nii_name}`.trim(),
    confirmed: record.confirmed,
    leaseRemainingSec: seconds(
      server.settings.leaseTimeSec * 1000 - (server.state.now() - record.renewedAt),
    ),
    courtesy: record.courtesy,
    reclaimComplete: record.reclaimComplete,
    sessions: held.sessions,
    opens: held.opens,
    locks: held.locks,
    delegations: held.delegations,
    revokedDelegations: held.revokedDelegations,
    debug: server.debug.isOnForClient(record.clientid),
  };
}

export function clientsView(server: NfsServer): ClientView[] {
  return [...server.state.clientRecords()].map((r) => clientView(server, r));
}

export interface ChannelView {
  readonly maxRequests: number;
  readonly maxOperations: number;
  readonly maxRequestSize: number;
  readonly maxResponseSize: number;
  readonly maxResponseSizeCached: number;
}

function channelView(a: channel_attrs4): ChannelView {
  return {
    maxRequests: a.ca_maxrequests,
    maxOperations: a.ca_maxoperations,
    maxRequestSize: a.ca_maxrequestsize,
    maxResponseSize: a.ca_maxresponsesize,
    maxResponseSizeCached: a.ca_maxresponsesize_cached,
  };
}

export interface SessionView {
  readonly sessionid: string;
  readonly clientid: string;
  readonly flags: readonly string[];
  readonly fore: ChannelView;
  readonly back: ChannelView;
  readonly slots: {
    /** Slots in the table now, executing a request now, the highest the client may use, the target. */
    readonly size: number;
    readonly inUse: number;
    readonly highest: number;
    readonly target: number;
    /** The most the table may grow to. */
    readonly max: number;
  };
  readonly replayCache: { readonly usedBytes: number; readonly reservedBytes: number };
  readonly connections: readonly {
    readonly id: number;
    readonly remote: string;
    readonly fore: boolean;
    readonly back: boolean;
  }[];
  readonly callbackProgram: number;
  readonly backChannel: BackChannelReport;
  readonly debug: boolean;
}

export function sessionView(server: NfsServer, s: Session): SessionView {
  const flags: string[] = [];
  if ((s.flags & CREATE_SESSION4_FLAG_PERSIST) !== 0) flags.push("persist");
  if ((s.flags & CREATE_SESSION4_FLAG_CONN_BACK_CHAN) !== 0) flags.push("conn_back_chan");
  return {
    sessionid: s.key,
    clientid: clientIdText(s.client.clientid),
    flags,
    fore: channelView(s.fore),
    back: channelView(s.back),
    slots: {
      size: s.slots.size,
      inUse: s.slots.inUseCount,
      highest: s.slots.highestSlotId,
      target: s.slots.targetHighestSlotId,
      max: s.slots.maxSlots,
    },
    replayCache: {
      usedBytes: s.slots.cachedBytes,
      reservedBytes: s.slots.size * s.bytesPerSlot,
    },
    connections: [...s.connections.values()].map((b) => ({
      id: b.conn.id,
      remote: b.conn.remote,
      fore: b.fore,
      back: b.back,
    })),
    callbackProgram: s.cbProgram,
    backChannel: server.callbacks.channelReport(s),
    debug: server.debug.isOnForSession(s.key),
  };
}

export function sessionsView(server: NfsServer): SessionView[] {
  return [...server.state.allSessions()].map((s) => sessionView(server, s));
}

/** One slot of a session's fore channel (dfsctl slots). */
export interface SlotView {
  readonly slot: number;
  /** The sequence ID of the last request accepted on it; null: never used. */
  readonly seqid: number | null;
  readonly inFlight: boolean;
  /** Bytes of the reply cached for a retry (0: none). */
  readonly cachedBytes: number;
  readonly cachedStatus: number | null;
}

export function slotsView(s: Session): SlotView[] {
  const out: SlotView[] = [];
  for (let i = 0; i < s.slots.size; i++) {
    const slot = s.slots.slot(i);
    out.push({
      slot: i,
      seqid: slot.used ? slot.seqid : null,
      inFlight: slot.inUse,
      cachedBytes: slot.cached?.tail.length ?? 0,
      cachedStatus: slot.cached?.status ?? null,
    });
  }
  return out;
}

export interface ConnectionView {
  readonly id: number;
  readonly remote: string;
  readonly local: string;
  readonly callsInFlight: number;
  /** Reply bytes reserved by calls in progress, and written but not yet taken by the kernel. */
  readonly outputReserved: number;
  readonly outputBuffered: number;
  readonly sessions: readonly {
    readonly sessionid: string;
    readonly clientid: string;
    readonly fore: boolean;
    readonly back: boolean;
  }[];
}

export function connectionsView(server: NfsServer): ConnectionView[] {
  const figures = new Map(server.rpc.stats().connections.map((c) => [c.id, c]));
  return [...server.rpc.connections].map((conn) => {
    const f = figures.get(conn.id);
    return {
      id: conn.id,
      remote: conn.remote,
      local: conn.local,
      callsInFlight: f?.callsInFlight ?? 0,
      outputReserved: f?.reserved ?? 0,
      outputBuffered: f?.buffered ?? 0,
      sessions: [...server.state.sessionsOf(conn.id)].map((s) => {
        const b = s.connections.get(conn.id);
        return {
          sessionid: s.key,
          clientid: clientIdText(s.client.clientid),
          fore: b?.fore ?? false,
          back: b?.back ?? false,
        };
      }),
    };
  });
}

export interface DelegationView {
  /** The stateid's "other" field in hex: names the delegation to `dfsctl revoke`. */
  readonly stateid: string;
  readonly type: "read" | "write" | "directory";
  readonly clientid: string;
  readonly filehandle: string;
  readonly ageSec: number;
  /** "held", "recalled" (CB_RECALL sent, not yet returned), "revoked" (not freed yet by its client). */
  readonly state: "held" | "recalled" | "revoked";
  readonly recalledSec: number | null;
  readonly revokedBy: "server" | "administrator" | null;
  /** A directory delegation's notification types (RFC 8881 §20.4 notify_type4 numbers). */
  readonly notifications: readonly number[] | null;
}

function delegationView(server: NfsServer, d: DelegationState): DelegationView {
  const now = server.state.now();
  const types: number[] = [];
  if (d.notifications !== null)
    for (let t = 0; t < 32; t++) if ((d.notifications.types & (1 << t)) !== 0) types.push(t);
  return {
    stateid: d.key,
    type: d.type,
    clientid: clientIdText(d.client.clientid),
    filehandle: keyOf(d.fh),
    ageSec: seconds(now - d.grantedAt),
    state: d.revoked ? "revoked" : d.recalledAt !== null ? "recalled" : "held",
    recalledSec: d.recalledAt === null ? null : seconds(now - d.recalledAt),
    revokedBy: !d.revoked ? null : d.adminRevoked ? "administrator" : "server",
    notifications: d.notifications === null ? null : types,
  };
}

/** Every delegation in force or revoked and not yet freed, over all clients. */
export function allDelegations(server: NfsServer): DelegationState[] {
  const out: DelegationState[] = [];
  for (const c of server.state.clientRecords())
    out.push(...server.state.delegationsOf(c), ...server.state.revokedDelegationsOf(c));
  return out;
}

export function delegationsView(server: NfsServer): DelegationView[] {
  return allDelegations(server).map((d) => delegationView(server, d));
}

export interface ExportView {
  readonly path: string;
  readonly id: number;
  readonly store: string | null;
  readonly readOnly: boolean;
  /** Client addresses/CIDRs allowed; null: every client. */
  readonly clients: readonly string[] | null;
  readonly squash: string;
  readonly anonUid: number;
  readonly anonGid: number;
  readonly flavors: readonly string[];
}

const FLAVOR_TEXT = new Map([...FLAVOR_NAMES].map(([name, n]) => [n, name]));

export function exportsView(server: NfsServer, facts: ServerFacts): ExportView[] {
  return server.fs.exports.map((e) => ({
    path: e.path,
    id: e.id,
    store: facts.exportStores?.get(e.path) ?? null,
    readOnly: e.rules.readOnly,
    clients: e.rules.clients === null ? null : e.rules.clients.map((p) => p.text),
    squash: e.rules.squash,
    anonUid: e.rules.anonUid,
    anonGid: e.rules.anonGid,
    flavors: e.rules.flavors.map((f) => FLAVOR_TEXT.get(f) ?? String(f)),
  }));
}

export interface StatusView {
  readonly version: string;
  readonly pid: number;
  readonly startedAt: string;
  readonly uptimeSec: number;
  readonly listen: readonly string[];
  readonly grace: GraceReport;
  readonly exports: readonly string[];
  readonly totals: {
    readonly clients: number;
    readonly confirmedClients: number;
    readonly courtesyClients: number;
    readonly sessions: number;
    readonly connections: number;
    readonly opens: number;
    readonly locks: number;
    readonly delegations: number;
    readonly stateids: number;
    readonly replayCacheBytes: number;
    readonly replayCacheReserved: number;
    readonly replayCacheBudget: number;
  };
  readonly callbacks: ReturnType<NfsServer["callbacks"]["stats"]>;
  readonly delegationEvents: NfsServer["delegations"]["stats"];
  readonly debug: ReturnType<NfsServer["debug"]["targets"]>;
}

export function statusView(server: NfsServer, facts: ServerFacts): StatusView {
  const stats = server.state.stats();
  let opens = 0;
  let locks = 0;
  let courtesy = 0;
  for (const c of server.state.clientRecords()) {
    const held = server.state.holdingCounts(c);
    opens += held.opens;
    locks += held.locks;
    if (c.courtesy) courtesy++;
  }
  const now = Date.now();
  return {
    version: facts.version,
    pid: process.pid,
    startedAt: new Date(server.startedAt).toISOString(),
    uptimeSec: seconds(now - server.startedAt),
    listen: facts.listen,
    grace: server.recovery.report(),
    exports: server.fs.exports.map((e) => e.path),
    totals: {
      clients: stats.clients,
      confirmedClients: stats.confirmedClients,
      courtesyClients: courtesy,
      sessions: stats.sessions,
      connections: server.rpc.connections.size,
      opens,
      locks,
      delegations: server.state.delegationCount,
      stateids: stats.stateids,
      replayCacheBytes: stats.replayCacheBytes,
      replayCacheReserved: stats.replayCacheReserved,
      replayCacheBudget: stats.replayCacheBudget,
    },
    callbacks: server.callbacks.stats(),
    delegationEvents: { ...server.delegations.stats },
    debug: server.debug.targets(),
  };
}

// Every limit and tunable of the NFSv4.1 server, with its default. `dfs serve`
// reads overrides from its config file; tests pass their own. Each setting's
// allowed range and its description for users are in
// src/config/declarations.ts; the comments here say why a default is what it is.

import type { DelegationPolicy, DirectoryDelegationPolicy } from "./delegations.js";

import type { CallbackSettings } from "../callback/settings.js";

export interface NfsSettings extends CallbackSettings {
  /** Lease time in seconds (fattr4_lease_time, RFC 8881 §8.3). */
  readonly leaseTimeSec: number;
  /**
   * The grace period after a restart with recorded clients, seconds (RFC
   * 8881 §8.4.2.1): they may reclaim, and new opens and locks wait. It ends
   * sooner once every recorded client has sent RECLAIM_COMPLETE, and lasts
   * up to twice as long while clients are still reclaiming (recovery.ts).
   * Shorter than the lease time, a client may not notice the restart in time.
   */
  readonly graceTimeSec: number;
  /**
   * How long a client whose lease expired keeps its opens and locks while no
   * other client wants them (a "courteous" server, RFC 8881 §8.3), seconds.
   */
  readonly courtesyTimeSec: number;
  /**
   * Most slots a session's fore channel may have (caps ca_maxrequests, and the
   * size a session's dynamic slot table may grow to).
   */
  readonly maxSlotsPerSession: number;
  /** Most slots we accept for a session's back channel (caps csr_back_chan_attrs.ca_maxrequests). */
  readonly maxBackchannelSlots: number;
  /**
   * How long one callback RPC (CB_NULL probe, CB_COMPOUND) waits for the
   * client's reply, ms. No reply in time: the back channel is reported faulty
   * and the call is resent on another connection (callback/service.ts).
   */
  readonly callbackTimeoutMs: number;
  /** The pause before resending a callback the client answered NFS4ERR_DELAY (or refused at the RPC level), ms. */
  readonly callbackRetryDelayMs: number;
  /**
   * Callbacks one client may have unfinished at once (sent, or waiting for a
   * back channel, a slot or a retry); one more fails at once as unreachable.
   * Bounds the memory a client that never answers makes the server hold.
   */
  readonly maxCallbacksPerClient: number;
  /** Largest request we accept (caps ca_maxrequestsize), bytes. */
  readonly maxRequestSize: number;
  /** Largest reply we send (caps ca_maxresponsesize), bytes. */
  readonly maxResponseSize: number;
  /** Largest reply we keep in a slot's replay cache (caps ca_maxresponsesize_cached), bytes. */
  readonly maxResponseSizeCached: number;
  /** Most operations in one COMPOUND (caps ca_maxoperations). */
  readonly maxOperations: number;
  /**
   * Total bytes reserved for all replay caches. Each session reserves
   * slots × ca_maxresponsesize_cached of it (RFC 8881 §18.36.3); CREATE_SESSION
   * grants fewer slots when it runs short (NFS4ERR_NOSPC when not even one),
   * and busy sessions grow their tables only while it has room.
   */
  readonly replayCacheBudget: number;
  /** Most client records (confirmed or not) the server keeps. */
  readonly maxClients: number;
  /** Most sessions one client may have; CREATE_SESSION beyond it is NFS4ERR_NOSPC. */
  readonly maxSessionsPerClient: number;
  /**
   * Most open and lock stateids one client may hold at once (and so the
   * open-owners and lock-owners holding them, and the file state they keep).
   * Each lives as long as the client renews its lease, so without a bound a
   * client opening under ever new owner names grows the server's memory
   * without end. Beyond it an OPEN that needs a new open stateid is
   * NFS4ERR_NOSPC and a LOCK that needs a new lock stateid
   * NFS4ERR_SERVERFAULT (see open.ts and lock.ts for why); upgrades and
   * existing lock stateids still work.
   */
  readonly maxStateidsPerClient: number;
  /** Largest READ/WRITE payload we advertise (fattr4_maxread/maxwrite), bytes. */
  readonly maxIoSize: number;
  /**
   * Buffers of maxIoSize bytes kept for the data of later READs once a
   * READ's reply has been written (xdr/io-buffers.ts); READs of more than
   * half of maxIoSize use them. 0: a new buffer for every READ.
   */
  readonly readBuffersKept: number;
  /**
   * Most entries one READDIR returns (and asks the backend for), whatever the
   * client's maxcount allows: bounds the work and memory of a single call.
   */
  readonly maxReaddirEntries: number;
  /**
   * Which file delegations OPEN grants (RFC 8881 §10.4): "none", "read", or
   * "read-write" (write delegations to a client opening for writing a file
   * no other client has open).
   */
  readonly delegationPolicy: DelegationPolicy;
  /**
   * Most delegations in force over all clients; near it (90%) clients
   * holding some are asked to return half (CB_RECALL_ANY), and at it no more
   * are granted (WND4_RESOURCE).
   */
  readonly maxDelegations: number;
  /** No delegation of a file for this long after one of it was recalled (it is shared), seconds. */
  readonly recallCooldownSec: number;
  /**
   * Which directory delegations GET_DIR_DELEGATION grants (RFC 8881 §10.9):
   * "none"; "caching" — delegations without notifications, recalled by any
   * change another client makes to the directory (§10.9.2); or
   * "notifications" — with the CB_NOTIFY types asked for (§20.4), recalled
   * only by a change no granted type can express. They count in
   * maxDelegations and the recall cooldown like file delegations.
   */
  readonly directoryDelegations: DirectoryDelegationPolicy;
  /** Most directory delegations one client may hold at once. */
  readonly maxDirDelegationsPerClient: number;
  /**
   * Longest a directory's attribute notifications may be held back to batch
   * them, ms: the client's gdda_child_attr_delay / gdda_dir_attr_delay are
   * clamped to it.
   */
  readonly maxNotifyDelayMs: number;
  /**
   * How long entry notifications (add, remove, rename) wait for others to
   * join them in one CB_NOTIFY, ms. 0: sent at once — changes made while a
   * CB_NOTIFY is in flight still go together in the next.
   */
  readonly notifyBatchMs: number;
  /**
   * Most changes queued for one directory delegation; one more and the
   * delegation is recalled instead (§10.9.4), and the queue dropped.
   */
  readonly maxQueuedNotifications: number;
}

/** The settings whose value is one of a few words, with those words. */
export const NFS_SETTING_CHOICES: { readonly [K in keyof NfsSettings]?: readonly string[] } = {
  delegationPolicy: ["none", "read", "read-write"],
  directoryDelegations: ["none", "caching", "notifications"],
};

export const DEFAULT_NFS_SETTINGS: NfsSettings = {
  leaseTimeSec: 90,
  graceTimeSec: 90,
  courtesyTimeSec: 24 * 60 * 60,
  maxSlotsPerSession: 64,
  maxBackchannelSlots: 16,
  // The Linux client answers a callback in well under a second; 5 s leaves room
  // for a loaded client without holding a recall for long.
  callbackTimeoutMs: 5000,
  callbackRetryDelayMs: 200,
  // One recall per delegation the client holds that others want at once; each
  // waiting call costs a few hundred bytes.
  maxCallbacksPerClient: 1024,
  maxRequestSize: 1024 * 1024 + 64 * 1024,
  maxResponseSize: 1024 * 1024 + 64 * 1024,
  maxResponseSizeCached: 64 * 1024,
  maxOperations: 64,
  replayCacheBudget: 256 * 1024 * 1024,
  maxClients: 10_000,
  maxSessionsPerClient: 16,
  // A Linux client holds one open stateid per (user, open file) and one lock
  // stateid per (process, locked file): 65536 is far above a busy client's
  // open files (its default per-process limit is 1024). Each stateid with its
  // own owner and file state costs about 0.9 KiB of heap (measured with 64 Ki
  // opens and 64 Ki locks, each with its own owner and file), so one client's
  // state stays under about 64 MiB.
  maxStateidsPerClient: 65_536,
  maxIoSize: 1024 * 1024,
  // 16 MiB at the default maxIoSize: a client's read-ahead in flight.
  readBuffersKept: 16,
  maxReaddirEntries: 1024,
  delegationPolicy: "read-write",
  // A delegation with its stateid and file state costs well under 1 KiB.
  maxDelegations: 100_000,
  recallCooldownSec: 30,
  directoryDelegations: "notifications",
  maxDirDelegationsPerClient: 1024,
  maxNotifyDelayMs: 1000,
  notifyBatchMs: 0,
  // A queued change costs its encoded notification, a few hundred bytes.
  maxQueuedNotifications: 1024,
};

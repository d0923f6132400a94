// The NFSv4.1 server: the RPC transport, the NFS4 program, the state and a
// filesystem backend, wired together, with the lease timer. `dfs serve` and the
// end-to-end tests create one of these.

import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import type { Logger } from "pino";
import { pino } from "pino";
import { CallbackService } from "../callback/service.js";
import { Namespace, type ExportDefinition } from "../exports/namespace.js";
import { DEFAULT_EXPORT_RULES } from "../exports/rules.js";
import { MemoryFileSystem } from "../fs/memory.js";
import type { FileSystem } from "../fs/backend.js";
import type { BoundAddress, ListenAddress } from "../rpc/server.js";
import { RpcServer } from "../rpc/server.js";
import type { RpcSettings } from "../rpc/settings.js";
import { StateManager } from "../state/manager.js";
import type { ClientRecoveryStore } from "../store/recovery.js";
import { MemoryClientRecoveryStore } from "../store/recovery.js";
import { CompoundProcessor } from "./compound.js";
import { DebugLog } from "./debug-log.js";
import { Delegations } from "./delegations.js";
import type { ServerContext } from "./context.js";
import { OPERATIONS } from "./ops/index.js";
import { Nfs4Program } from "./program.js";
import { ClientRecovery } from "./recovery.js";
import type { NfsSettings } from "./settings.js";
import { DEFAULT_NFS_SETTINGS } from "./settings.js";
import { ioBuffers } from "../xdr/io-buffers.js";
import { StoreLatency, TimedFileSystem } from "../fs/timed.js";
import { OperationMetrics } from "./op-metrics.js";

export interface NfsServerOptions {
  readonly settings?: Partial<NfsSettings>;
  readonly rpc?: Partial<RpcSettings>;
  readonly logger?: Logger;
  /**
   * The backend of the one export "/export" (id 1, default rules) when
   * `exports` is not given; default an in-memory tree.
   */
  readonly fs?: FileSystem;
  /** The exports the pseudo-filesystem joins (src/exports/namespace.ts); default one, see `fs`. */
  readonly exports?: readonly ExportDefinition[];
  /** The clock for leases, in ms (tests inject their own). */
  readonly now?: () => number;
  /**
   * eir_server_owner.so_major_id and eir_server_scope; default a new random
   * one per process (the memory backend's state and handles do not outlive
   * it). A persistent store gives its own (OpenedStore.serverOwner).
   */
  readonly serverOwner?: Uint8Array;
  /**
   * Where the clients that may reclaim after a restart are recorded (RFC 8881
   * §8.4.2.1); default in memory, which a new server does not inherit, so it
   * has no grace period. A persistent store gives its own (OpenedStore.recovery):
   * a server started on it with records is in grace (nfs.graceTimeSec).
   */
  readonly recovery?: ClientRecoveryStore;
}

/**
 * The export id of the lone "/export" of a server configured without
 * `exports`: its fsid stays {1, 0}, what the backend reported before exports.
 */
export const DEFAULT_EXPORT_ID = 1;

/** What the server counts and times for the metrics endpoint, once enableMetrics() ran. */
export interface ServerInstruments {
  readonly operations: OperationMetrics;
  readonly storeLatency: StoreLatency;
}

/** How often expired leases are looked for, at most. */
const LEASE_SWEEP_MS = 1000;

export class NfsServer {
  readonly settings: NfsSettings;
  readonly state: StateManager;
  readonly rpc: RpcServer;
  /** Every export, joined by the pseudo-filesystem (PUTROOTFH's root). */
  readonly fs: Namespace;
  readonly log: Logger;
  readonly compound: CompoundProcessor;
  readonly delegations: Delegations;
  readonly callbacks: CallbackService;
  readonly recovery: ClientRecovery;
  readonly debug: DebugLog;
  /** When the server was created (wall clock, ms). */
  readonly startedAt = Date.now();
  private readonly sweeper: NodeJS.Timeout;
  private instrumentsOn: ServerInstruments | null = null;

  constructor(options: NfsServerOptions = {}) {
    this.settings = { ...DEFAULT_NFS_SETTINGS, ...options.settings };
    ioBuffers.configure(this.settings.maxIoSize, this.settings.readBuffersKept);
    this.log = options.logger ?? pino({ level: "silent" });
    this.fs = new Namespace(
      options.exports ?? [
        {
          path: "/export",
          id: DEFAULT_EXPORT_ID,
          fs: options.fs ?? new MemoryFileSystem(),
          rules: DEFAULT_EXPORT_RULES,
          // Handles as the backend mints them, as before exports existed.
          bareHandles: true,
        },
      ],
    );
    this.state = new StateManager({
      settings: this.settings,
      log: this.log.child({ module: "state" }),
      onOpenRemoved: (fh) => void this.fs.unpin(fh),
      onDelegationRemoved: (d, end) => this.delegations.removed(d, end),
      // The callback channel follows sessions and clients however they go.
      onSessionDestroyed: (session) => {
        this.callbacks.sessionDestroyed(session);
        this.debug.forgetSession(session.key);
      },
      onClientRemoved: (record) => {
        this.callbacks.clientRemoved(record);
        this.debug.forgetClient(record.clientid);
        this.recovery.clientRemoved(record);
      },
      ...(options.now ? { now: options.now } : {}),
      // One identity, the same on every address it listens on.
      serverOwner:
        options.serverOwner ??
        new TextEncoder().encode(`dittofs-ts:${hostname()}:${randomBytes(8).toString("hex")}`),
    });
    this.debug = new DebugLog(this.log);
    this.recovery = new ClientRecovery(
      options.recovery ?? new MemoryClientRecoveryStore(),
      this.settings,
      this.log.child({ module: "recovery" }),
      this.state.now,
    );
    this.callbacks = new CallbackService({
      settings: this.settings,
      log: this.log.child({ module: "callback" }),
      state: this.state,
    });
    this.delegations = new Delegations(
      this.state,
      this.callbacks,
      this.settings,
      this.log.child({ module: "delegations" }),
      this.fs,
    );
    const ctx: ServerContext = {
      settings: this.settings,
      state: this.state,
      fs: this.fs,
      exports: this.fs,
      log: this.log,
      delegations: this.delegations,
      callbacks: this.callbacks,
      recovery: this.recovery,
      debug: this.debug,
    };
    this.rpc = new RpcServer({
      settings: options.rpc ?? {},
      logger: this.log.child({ module: "rpc" }),
    });
    this.compound = new CompoundProcessor(ctx, OPERATIONS);
    this.rpc.register(new Nfs4Program(this.compound));
    const sweep = Math.min(LEASE_SWEEP_MS, (this.settings.leaseTimeSec * 1000) / 4);
    this.sweeper = setInterval(() => {
      this.delegations.sweep();
      this.state.expireLeases();
    }, sweep);
    this.sweeper.unref();
  }

  /**
   * Starts counting operations (by status, with their latency) and timing
   * every store call (src/fs/timed.ts), for the metrics endpoint
   * (src/control/metrics.ts). Off until called, so a server without metrics
   * pays nothing for them; calling again returns the same instruments.
   */
  enableMetrics(): ServerInstruments {
    if (this.instrumentsOn === null) {
      const operations = new OperationMetrics();
      const storeLatency = new StoreLatency();
      this.compound.metrics = operations;
      this.fs.wrapBackends(
        (def) => new TimedFileSystem(def.fs, def.fs.storeKind ?? "other", storeLatency),
      );
      this.instrumentsOn = { operations, storeLatency };
    }
    return this.instrumentsOn;
  }

  /** Reads the client recovery records (entering grace if there are any), then listens. */
  async listen(addresses: readonly ListenAddress[]): Promise<BoundAddress[]> {
    await this.recovery.start();
    return this.rpc.listen(addresses);
  }

  async close(): Promise<void> {
    clearInterval(this.sweeper);
    this.delegations.notifications.close();
    this.callbacks.close();
    await this.rpc.close();
    // Record writes already issued finish before the store may be closed.
    await this.recovery.close();
  }
}

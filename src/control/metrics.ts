// The server's Prometheus metrics: what NfsServer counts (enableMetrics: the
// COMPOUND loop's operation counters and latency histograms, store call
// latency) plus what its parts already keep (callbacks, delegations,
// directory notifications, connections, sessions, the replay cache, grace),
// read when scraped — nothing here runs per request. prom-client supplies
// the process metrics (CPU, memory, event loop lag, GC, handles) and the
// content type; the dfs_ families are rendered from the arrays directly
// (prom-text.ts). Naming follows Prometheus conventions: a unit suffix,
// _total on counters, base units (seconds, bytes).

import { Registry, collectDefaultMetrics } from "prom-client";
import {
  nfs_opnum4,
  nfs_opnum4_names,
  nfsstat4,
  nfsstat4_names,
} from "../../generated/nfs4/index.js";
import { CALLBACK_OUTCOMES, CALLBACK_TYPES, callbackTypeName } from "../callback/counters.js";
import { OP_ROWS, STATUS_COLUMNS } from "../nfs/op-metrics.js";
import type { NfsServer, ServerInstruments } from "../nfs/server.js";
import { LATENCY_BUCKETS_SECONDS } from "../stats/latency-histogram.js";
import { PromText } from "./prom-text.js";

/** The label of an operation row's number ("GETATTR", "ILLEGAL", or "other"). */
function opName(n: number): string {
  const name = nfs_opnum4_names[n];
  return name === undefined ? "other" : name.replace(/^OP_/, "");
}

function statusName(n: number): string {
  return nfsstat4_names[n] ?? "other";
}

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("hex");
}

export class ServerMetrics {
  /** prom-client's registry: the default process metrics. */
  readonly registry = new Registry();
  private readonly instruments: ServerInstruments;

  constructor(private readonly server: NfsServer) {
    this.instruments = server.enableMetrics();
    collectDefaultMetrics({ register: this.registry });
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** The whole exposition: the server's families, then the process metrics. */
  async render(): Promise<string> {
    return this.serverText() + (await this.registry.metrics());
  }

  /** The dfs_ families, from the server's counters as they are now. */
  serverText(): string {
    const t = new PromText();
    this.operations(t);
    this.sessions(t);
    this.callbacks(t);
    this.delegations(t);
    this.transport(t);
    this.stores(t);
    t.family(
      "dfs_grace",
      "gauge",
      "1 while the server is in its grace period (RFC 8881 §8.4.2.1), else 0.",
    );
    t.sample(null, this.server.recovery.inGrace ? 1 : 0);
    return t.toString();
  }

  private operations(t: PromText): void {
    const ops = this.instruments.operations;
    t.family(
      "dfs_nfs_operations_total",
      "counter",
      "NFSv4 operations answered, by operation and status (replies replayed from the slot cache not included).",
    );
    const width = STATUS_COLUMNS.size;
    for (let row = 0; row < OP_ROWS.size; row++)
      for (let col = 0; col < width; col++) {
        const n = ops.results[row * width + col]!;
        if (n === 0) continue;
        t.sample(
          { op: opName(OP_ROWS.numbers[row]!), status: statusName(STATUS_COLUMNS.numbers[col]!) },
          n,
        );
      }
    t.family(
      "dfs_nfs_operation_duration_seconds",
      "histogram",
      "Time an NFSv4 operation took, by operation: its checks, its handler and the encoding of its result (replays not included).",
    );
    for (let row = 0; row < OP_ROWS.size; row++) {
      if (ops.latency.count(row) === 0) continue;
      t.histogram(
        { op: opName(OP_ROWS.numbers[row]!) },
        LATENCY_BUCKETS_SECONDS,
        ops.latency.snapshot(row),
      );
    }
    t.family("dfs_compounds_total", "counter", "COMPOUND requests received.");
    t.sample(null, ops.compounds);
    t.family(
      "dfs_replays_total",
      "counter",
      "Retried requests answered from a slot's replay cache (RFC 8881 §2.10.6.1.3).",
    );
    t.sample(null, ops.replays);
    t.family(
      "dfs_false_retries_total",
      "counter",
      "Requests refused with NFS4ERR_SEQ_FALSE_RETRY: a different request on a slot's last sequence ID.",
    );
    t.sample(null, ops.count(nfs_opnum4.OP_SEQUENCE, nfsstat4.NFS4ERR_SEQ_FALSE_RETRY));
    t.family("dfs_read_bytes_total", "counter", "File data bytes returned by successful READs.");
    t.sample(null, ops.readBytes);
    t.family(
      "dfs_written_bytes_total",
      "counter",
      "File data bytes accepted by successful WRITEs.",
    );
    t.sample(null, ops.writtenBytes);
  }

  private sessions(t: PromText): void {
    const state = this.server.state;
    const stats = state.stats();
    t.family("dfs_clients", "gauge", "Client records (confirmed or not).");
    t.sample(null, stats.clients);
    t.family("dfs_sessions", "gauge", "Sessions.");
    t.sample(null, stats.sessions);
    t.family(
      "dfs_session_compounds_total",
      "counter",
      "COMPOUNDs SEQUENCE accepted on each live session, replays included (a session's series goes with it).",
    );
    let slots = 0;
    let inUse = 0;
    for (const s of state.allSessions()) {
      slots += s.slots.size;
      inUse += s.slots.inUseCount;
      t.sample({ session: hex(s.id), clientid: s.client.clientid.toString(16) }, s.compounds);
    }
    t.family("dfs_slots", "gauge", "Fore-channel slots allocated over all sessions.");
    t.sample(null, slots);
    t.family("dfs_slots_in_use", "gauge", "Fore-channel slots holding a request being executed.");
    t.sample(null, inUse);
    t.family(
      "dfs_replay_cache_bytes",
      "gauge",
      "Replay cache memory: reserved for the slots out of nfs.replayCacheBudget, and used by cached replies.",
    );
    t.sample({ kind: "reserved" }, stats.replayCacheReserved);
    t.sample({ kind: "used" }, stats.replayCacheBytes);
    t.family(
      "dfs_replay_cache_budget_bytes",
      "gauge",
      "The replay cache budget (nfs.replayCacheBudget).",
    );
    t.sample(null, stats.replayCacheBudget);
    t.family("dfs_stateids", "gauge", "Open, lock and delegation stateids.");
    t.sample(null, stats.stateids);
  }

  private callbacks(t: PromText): void {
    const counters = this.server.callbacks.byType;
    t.family(
      "dfs_callbacks_total",
      "counter",
      "Callbacks by type (the operation after CB_SEQUENCE; CB_NULL: back-channel probes) and result: sent (RPCs, resends included), timeout (RPCs unanswered in nfs.callbackTimeoutMs), answered (NFS4_OK), failed (an error answer, or given up), cancelled; a CB_NULL probe ends answered, timeout or failed.",
    );
    for (const type of CALLBACK_TYPES.numbers)
      for (const result of CALLBACK_OUTCOMES) {
        const n = counters.get(type, result);
        if (n > 0) t.sample({ type: callbackTypeName(type), result }, n);
      }
  }

  private delegations(t: PromText): void {
    const all = this.server.delegations.stats;
    const dir = this.server.delegations.directoryStats;
    t.family(
      "dfs_delegations_total",
      "counter",
      "Delegation events by kind (file: OPEN's read and write delegations; directory: GET_DIR_DELEGATION's) and event.",
    );
    for (const event of ["granted", "recalled", "returned", "revoked"] as const) {
      t.sample({ kind: "file", event }, all[event] - dir[event]);
      t.sample({ kind: "directory", event }, dir[event]);
    }
    t.family("dfs_delegations", "gauge", "Delegations in force (file and directory).");
    t.sample(null, this.server.state.delegationCount);
    const n = this.server.delegations.notifications.stats;
    t.family(
      "dfs_dir_notifications_total",
      "counter",
      "Directory changes for CB_NOTIFY (RFC 8881 §20.4): queued for a holder, and delivered (acknowledged in an answered CB_NOTIFY).",
    );
    t.sample({ event: "queued" }, n.queued);
    t.sample({ event: "delivered" }, n.delivered);
  }

  private transport(t: PromText): void {
    const rpc = this.server.rpc;
    const traffic = rpc.traffic();
    t.family("dfs_connections", "gauge", "Client TCP connections open.");
    t.sample(null, rpc.connections.size);
    t.family("dfs_connections_total", "counter", "Client TCP connections accepted.");
    t.sample(null, traffic.accepted);
    t.family(
      "dfs_connections_refused_total",
      "counter",
      "Connections closed at once: rpc.maxConnections reached.",
    );
    t.sample(null, traffic.refused);
    t.family(
      "dfs_network_received_bytes_total",
      "counter",
      "Bytes received on client connections.",
    );
    t.sample(null, traffic.receivedBytes);
    t.family("dfs_network_sent_bytes_total", "counter", "Bytes sent on client connections.");
    t.sample(null, traffic.sentBytes);
  }

  private stores(t: PromText): void {
    t.family(
      "dfs_store_operation_duration_seconds",
      "histogram",
      "Time a store call took, by store and operation: an export's backend (store memory, sqlite+local, postgres+s3, …) and the payload store beneath it (store local or s3: read, write, truncate, commit, delete).",
    );
    for (const [store, { operations, histograms }] of this.instruments.storeLatency.stores())
      operations.forEach((op, row) => {
        if (histograms.count(row) > 0)
          t.histogram({ store, op }, LATENCY_BUCKETS_SECONDS, histograms.snapshot(row));
      });
  }
}

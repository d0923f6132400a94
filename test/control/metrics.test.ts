// The metrics endpoint (src/control/metrics.ts, metrics-listener.ts) against a
// real NfsServer over TCP, driven by the client library: a scrape before and
// one after a workload show each counter move by what the workload did —
// operations by status (an error included), a replay and a false retry, the
// COMPOUNDs of a session, a delegation granted, recalled (CB_RECALL sent and
// answered) and returned, a directory delegation and its CB_NOTIFY, READ and
// WRITE bytes, store latency samples, connections — and every scrape is valid
// Prometheus text format. No verdict depends on timing: waits are polls.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  OPEN4_SHARE_ACCESS_BOTH,
  OPEN4_SHARE_ACCESS_READ,
  OPEN4_SHARE_ACCESS_WANT_READ_DELEG,
  OPEN4_SHARE_ACCESS_WRITE,
  nfsstat4,
  open_delegation_type4,
} from "../../generated/nfs4/index.js";
import type { ClientSession } from "../../src/client/index.js";
import {
  CallbackRouter,
  closeFile,
  openFile,
  ops,
  readFile,
  recallingCallbackHandler,
  returnDelegation,
  watch,
  writeFile,
} from "../../src/client/index.js";
import type { MetricsListener } from "../../src/control/metrics-listener.js";
import { listenMetrics, startMetrics } from "../../src/control/metrics-listener.js";
import { ServerMetrics } from "../../src/control/metrics.js";
import { NfsServer } from "../../src/nfs/server.js";
import { openDataDir } from "../../src/store/data-dir.js";
import { MemoryClientRecoveryStore } from "../../src/store/recovery.js";
import { establish, establishReady, mkdirInExport, until, useServer } from "../e2e/support.js";
import type { Family } from "./prom-parse.js";
import { parseExposition, valueOf } from "./prom-parse.js";

const utf8 = new TextEncoder();
const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");

async function get(
  url: string,
  method = "GET",
): Promise<{ status: number; type: string; body: string }> {
  const res = await fetch(url, { method });
  return {
    status: res.status,
    type: res.headers.get("content-type") ?? "",
    body: await res.text(),
  };
}

async function scrape(listener: MetricsListener): Promise<Map<string, Family>> {
  const res = await get(listener.url);
  expect(res.status).toBe(200);
  expect(res.type).toMatch(/^text\/plain; version=0\.0\.4/);
  return parseExposition(res.body);
}

/** Creates directory `name` under /export; its filehandle. */
const mkdir = mkdirInExport;

describe("GET /metrics on a server with its metrics listener", () => {
  const running = useServer({ settings: { directoryDelegations: "notifications" } });
  let listener: MetricsListener;
  beforeAll(async () => {
    listener = await listenMetrics(new ServerMetrics(running.server), "127.0.0.1", 0);
  });
  afterAll(async () => {
    await listener.close();
  });

  it("shows every counter moving by what a workload of two clients and a watcher did", async () => {
    const before = await scrape(listener);
    const delta = (name: string, labels: Record<string, string> = {}): number =>
      valueOf(after, name, labels) - valueOf(before, name, labels);
    let after = before;

    // a: a client that gives back whatever delegation is recalled.
    let holder: ClientSession | null = null;
    const recalled: Promise<void>[] = [];
    const a = await establishReady(running.port, {
      onCallback: recallingCallbackHandler((recall) => {
        if (holder !== null) recalled.push(returnDelegation(holder, recall.fh, recall.stateid));
      }),
    });
    holder = a.session;
    const data = utf8.encode("metrics ".repeat(1000));
    const path = `/export/metrics-${process.pid}`;
    const made = await openFile(a.session, path, {
      access: OPEN4_SHARE_ACCESS_WRITE,
      create: true,
    });
    await writeFile(a.session, made, data);
    await closeFile(a.session, made);
    // A read delegation (the back channel is up once CREATE_SESSION's probe was answered).
    let reader = await openFile(a.session, path, {
      access: OPEN4_SHARE_ACCESS_READ,
      want: OPEN4_SHARE_ACCESS_WANT_READ_DELEG,
    });
    for (
      let i = 0;
      i < 50 && reader.delegation.delegation_type !== open_delegation_type4.OPEN_DELEGATE_READ;
      i++
    ) {
      await closeFile(a.session, reader);
      await new Promise((r) => setTimeout(r, 20));
      reader = await openFile(a.session, path, {
        access: OPEN4_SHARE_ACCESS_READ,
        want: OPEN4_SHARE_ACCESS_WANT_READ_DELEG,
      });
    }
    expect(reader.delegation.delegation_type).toBe(open_delegation_type4.OPEN_DELEGATE_READ);
    expect(Buffer.from(await readFile(a.session, reader)).equals(Buffer.from(data))).toBe(true);

    // b opens the file for writing: DELAY, CB_RECALL to a, DELEGRETURN, then it opens.
    const b = await establishReady(running.port);
    const writer = await openFile(b.session, path, { access: OPEN4_SHARE_ACCESS_BOTH });
    expect(writer.delays).toBeGreaterThan(0);
    await Promise.all(recalled);
    await closeFile(b.session, writer);
    await closeFile(a.session, reader);

    // An error status: LOOKUP of a name that is not there.
    const missing = await b.session.compound([ops.putrootfh(), ops.lookup("no-such-name")]);
    expect(missing.status).toBe(nfsstat4.NFS4ERR_NOENT);

    // A replay (the same request again on its slot and sequence ID) and a false retry.
    const first = await b.session.compound([ops.putrootfh(), ops.getfh()], {
      cachethis: true,
      slot: 1,
    });
    expect(first.status).toBe(nfsstat4.NFS4_OK);
    const again = await b.client.compoundRaw(first.args);
    expect(Buffer.from(again.bytes).equals(Buffer.from(first.bytes))).toBe(true);
    const [sequence] = first.args.argarray;
    const falseRetry = await b.client.compoundRaw({
      ...first.args,
      argarray: [sequence!, ops.putrootfh()],
    });
    expect(falseRetry.res.status).toBe(nfsstat4.NFS4ERR_SEQ_FALSE_RETRY);

    // A watcher: a directory delegation with notifications, told of b's create by CB_NOTIFY.
    const dirName = `watched-${process.pid}`;
    await mkdir(b.session, dirName);
    const router = new CallbackRouter();
    const c = await establishReady(running.port, { onCallback: router.handler });
    const w = await watch(c.session, router, `/export/${dirName}`, { types: ["add"] });
    const events: string[] = [];
    void (async () => {
      for await (const ev of w) if (ev.type === "added") events.push(ev.name);
    })();
    const added = await openFile(b.session, `/export/${dirName}/new`, {
      access: OPEN4_SHARE_ACCESS_WRITE,
      create: true,
    });
    await closeFile(b.session, added);
    await until(() => events.includes("new"), "the watcher to hear of the new file");

    after = await scrape(listener);

    // Operations by status, with an error; a latency histogram per operation.
    expect(
      delta("dfs_nfs_operations_total", { op: "OPEN", status: "NFS4_OK" }),
    ).toBeGreaterThanOrEqual(4);
    expect(delta("dfs_nfs_operations_total", { op: "OPEN", status: "NFS4ERR_DELAY" })).toBe(
      writer.delays,
    );
    expect(delta("dfs_nfs_operations_total", { op: "LOOKUP", status: "NFS4ERR_NOENT" })).toBe(1);
    expect(
      delta("dfs_nfs_operations_total", { op: "SEQUENCE", status: "NFS4ERR_SEQ_FALSE_RETRY" }),
    ).toBe(1);
    expect(
      delta("dfs_nfs_operation_duration_seconds_count", { op: "READ" }),
    ).toBeGreaterThanOrEqual(1);
    expect(
      delta("dfs_nfs_operation_duration_seconds_count", { op: "WRITE" }),
    ).toBeGreaterThanOrEqual(1);
    expect(delta("dfs_compounds_total")).toBeGreaterThan(10);
    // One replay, one false retry.
    expect(delta("dfs_replays_total")).toBe(1);
    expect(delta("dfs_false_retries_total")).toBe(1);
    // b's session: every COMPOUND it sent (the replay and the false retry: one accepted, one refused).
    expect(
      valueOf(after, "dfs_session_compounds_total", { session: hex(b.session.id) }),
    ).toBeGreaterThanOrEqual(6);
    // Each new back channel probed with CB_NULL, and answered.
    expect(
      delta("dfs_callbacks_total", { type: "CB_NULL", result: "sent" }),
    ).toBeGreaterThanOrEqual(2);
    expect(delta("dfs_callbacks_total", { type: "CB_NULL", result: "answered" })).toBe(
      delta("dfs_callbacks_total", { type: "CB_NULL", result: "sent" }),
    );
    // The recall: CB_RECALL sent and answered; the delegation granted, recalled, returned.
    expect(delta("dfs_callbacks_total", { type: "CB_RECALL", result: "sent" })).toBe(1);
    expect(delta("dfs_callbacks_total", { type: "CB_RECALL", result: "answered" })).toBe(1);
    expect(
      delta("dfs_delegations_total", { kind: "file", event: "granted" }),
    ).toBeGreaterThanOrEqual(1);
    expect(delta("dfs_delegations_total", { kind: "file", event: "recalled" })).toBe(1);
    expect(delta("dfs_delegations_total", { kind: "file", event: "returned" })).toBe(1);
    // The watch: a directory delegation, a CB_NOTIFY, the change delivered.
    expect(
      delta("dfs_delegations_total", { kind: "directory", event: "granted" }),
    ).toBeGreaterThanOrEqual(1);
    expect(
      delta("dfs_callbacks_total", { type: "CB_NOTIFY", result: "sent" }),
    ).toBeGreaterThanOrEqual(1);
    expect(delta("dfs_dir_notifications_total", { event: "delivered" })).toBeGreaterThanOrEqual(1);
    // Data bytes: the file written once, read once.
    expect(delta("dfs_written_bytes_total")).toBe(data.length);
    expect(delta("dfs_read_bytes_total")).toBe(data.length);
    // Store latency of the export's backend (memory, or sqlite+local under DFS_TEST_STORE=sqlite), by operation.
    const store = running.server.fs.exports[0]!.fs.storeKind!;
    expect(
      delta("dfs_store_operation_duration_seconds_count", { store, op: "write" }),
    ).toBeGreaterThanOrEqual(1);
    expect(
      delta("dfs_store_operation_duration_seconds_count", { store, op: "read" }),
    ).toBeGreaterThanOrEqual(1);
    // Connections and their bytes; sessions, slots, the replay cache; not in grace.
    expect(delta("dfs_connections_total")).toBe(3);
    expect(valueOf(after, "dfs_connections")).toBeGreaterThanOrEqual(3);
    expect(delta("dfs_network_received_bytes_total")).toBeGreaterThan(data.length);
    expect(delta("dfs_network_sent_bytes_total")).toBeGreaterThan(data.length);
    expect(valueOf(after, "dfs_sessions")).toBeGreaterThanOrEqual(3);
    expect(valueOf(after, "dfs_slots")).toBeGreaterThanOrEqual(3);
    expect(valueOf(after, "dfs_replay_cache_bytes", { kind: "reserved" })).toBeGreaterThan(0);
    expect(valueOf(after, "dfs_replay_cache_bytes", { kind: "used" })).toBeGreaterThan(0);
    expect(valueOf(after, "dfs_grace")).toBe(0);
    // prom-client's process metrics come along.
    expect(after.has("process_cpu_seconds_total")).toBe(true);
    expect(after.has("nodejs_eventloop_lag_seconds")).toBe(true);
    await w.close();
  });

  it("drops a session's series when the session is destroyed", async () => {
    const { session } = await establish(running.port);
    await session.sequenceOnly();
    const id = hex(session.id);
    const live = await scrape(listener);
    expect(valueOf(live, "dfs_session_compounds_total", { session: id })).toBe(1);
    await session.destroy();
    const gone = await scrape(listener);
    expect(
      gone.get("dfs_session_compounds_total")!.samples.some((s) => s.labels.session === id),
    ).toBe(false);
  });

  it("answers 404 beside /metrics, 405 for another method, and HEAD without a body", async () => {
    const base = listener.url.replace(/\/metrics$/, "");
    expect((await get(`${base}/`)).status).toBe(404);
    expect((await get(`${base}/metricsx`)).status).toBe(404);
    expect((await get(listener.url, "POST")).status).toBe(405);
    const head = await get(listener.url, "HEAD");
    expect(head.status).toBe(200);
    expect(head.body).toBe("");
    // A query string is still /metrics.
    expect((await get(`${listener.url}?x=1`)).status).toBe(200);
  });
});

describe("store latency on the SQLite store", () => {
  it("times the backend's calls (sqlite+local) and the payload store's beneath them (local)", async () => {
    const dir = mkdtempSync(join(tmpdir(), "dfs-metrics-"));
    const store = await openDataDir(dir);
    const server = new NfsServer({ fs: store.fs });
    const listener = await listenMetrics(new ServerMetrics(server), "127.0.0.1", 0);
    try {
      const [bound] = await server.listen([{ host: "127.0.0.1", port: 0 }]);
      const { session } = await establishReady(bound!.port);
      const data = utf8.encode("sqlite ".repeat(100));
      const f = await openFile(session, "/export/stored", {
        access: OPEN4_SHARE_ACCESS_BOTH,
        create: true,
      });
      await writeFile(session, f, data);
      expect(Buffer.from(await readFile(session, f)).equals(Buffer.from(data))).toBe(true);
      await closeFile(session, f);
      const got = await scrape(listener);
      const count = (store: string, op: string): number =>
        valueOf(got, "dfs_store_operation_duration_seconds_count", { store, op });
      expect(count("sqlite+local", "write")).toBe(1);
      expect(count("sqlite+local", "read")).toBeGreaterThanOrEqual(1);
      expect(count("sqlite+local", "create")).toBe(1);
      // writeFile writes FILE_SYNC4: the payload is written, then committed.
      expect(count("local", "write")).toBe(1);
      expect(count("local", "commit")).toBeGreaterThanOrEqual(1);
      expect(count("local", "read")).toBeGreaterThanOrEqual(1);
      expect(count("memory", "write")).toBe(0);
    } finally {
      await listener.close();
      await server.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("the grace gauge", () => {
  it("is 1 while a restarted server waits for its clients to reclaim", async () => {
    const recovery = new MemoryClientRecoveryStore();
    await recovery.add({ ownerId: utf8.encode("an earlier client"), principal: "", recordedAt: 0 });
    const server = new NfsServer({ recovery, settings: { graceTimeSec: 60 } });
    const listener = await listenMetrics(new ServerMetrics(server), "127.0.0.1", 0);
    try {
      await server.listen([{ host: "127.0.0.1", port: 0 }]);
      expect(server.recovery.inGrace).toBe(true);
      expect(valueOf(await scrape(listener), "dfs_grace")).toBe(1);
    } finally {
      await listener.close();
      await server.close();
    }
  });
});

describe("startMetrics (dfs serve's call)", () => {
  it("does nothing when metrics.listen is empty, and serves on the address given otherwise", async () => {
    const server = new NfsServer();
    try {
      expect(await startMetrics(server, { listen: "" })).toBeNull();
      const listener = await startMetrics(server, { listen: "127.0.0.1:0" });
      expect(listener).not.toBeNull();
      expect(listener!.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
      expect(valueOf(await scrape(listener!), "dfs_compounds_total")).toBe(0);
      // An address already taken fails the start with a message naming the listener.
      await expect(startMetrics(server, { listen: `127.0.0.1:${listener!.port}` })).rejects.toThrow(
        `metrics listener on 127.0.0.1:${listener!.port}: listen EADDRINUSE`,
      );
      await listener!.close();
    } finally {
      await server.close();
    }
  });
});

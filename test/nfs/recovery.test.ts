// ClientRecovery (src/nfs/recovery.ts): who may reclaim, when grace starts and
// ends, and which record writes follow a client's life. Timers are vitest's
// fake ones, so the grace deadline and its extensions are stepped, not waited.

import { pino } from "pino";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { nfsstat4 } from "../../generated/nfs4/index.js";
import { ClientRecovery } from "../../src/nfs/recovery.js";
import { ClientRecord } from "../../src/state/client.js";
import { MemoryClientRecoveryStore } from "../../src/store/recovery.js";

const enc = new TextEncoder();
const dec = new TextDecoder();
const GRACE_SEC = 10;
let nextId = 1n;

function client(owner: string, principal = "sys:0"): ClientRecord {
  return new ClientRecord(
    nextId++,
    enc.encode(owner),
    new Uint8Array(8),
    principal,
    0,
    [],
    Date.now(),
    1,
    { csr_status: nfsstat4.NFS4ERR_SEQ_MISORDERED },
  );
}

async function withRecords(...owners: string[]): Promise<MemoryClientRecoveryStore> {
  const store = new MemoryClientRecoveryStore();
  for (const o of owners)
    await store.add({ ownerId: enc.encode(o), principal: "sys:0", recordedAt: 0 });
  return store;
}

async function started(store: MemoryClientRecoveryStore): Promise<ClientRecovery> {
  const r = new ClientRecovery(store, { graceTimeSec: GRACE_SEC }, pino({ level: "silent" }), () =>
    Date.now(),
  );
  await r.start();
  return r;
}

async function owners(store: MemoryClientRecoveryStore): Promise<string[]> {
  return (await store.list()).map((r) => dec.decode(r.ownerId)).sort();
}

describe("ClientRecovery", () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("no records: no grace; reclaims are NO_GRACE, new state waits only for RECLAIM_COMPLETE", async () => {
    const r = await started(new MemoryClientRecoveryStore());
    expect(r.inGrace).toBe(false);
    const c = client("a");
    expect(r.reclaimError(c)).toBe(nfsstat4.NFS4ERR_NO_GRACE);
    expect(r.acquireError(c)).toBe(nfsstat4.NFS4ERR_GRACE);
    expect(r.graceError()).toBeNull();
    c.reclaimComplete = true;
    await r.reclaimComplete(c);
    expect(r.acquireError(c)).toBeNull();
  });

  it("in grace, a recorded client (same principal) reclaims until its RECLAIM_COMPLETE; others may not", async () => {
    const store = await withRecords("a", "b");
    const r = await started(store);
    expect(r.inGrace).toBe(true);
    expect(r.graceError()).toBe(nfsstat4.NFS4ERR_GRACE);
    const a = client("a");
    expect(r.reclaimError(a)).toBeNull();
    expect(a.recorded).toBe(true);
    expect(r.reclaimError(client("stranger"))).toBe(nfsstat4.NFS4ERR_NO_GRACE);
    expect(r.reclaimError(client("b", "sys:1000"))).toBe(nfsstat4.NFS4ERR_NO_GRACE);
    a.reclaimComplete = true;
    await r.reclaimComplete(a);
    expect(r.reclaimError(a)).toBe(nfsstat4.NFS4ERR_NO_GRACE);
    // Completed, but grace goes on for b: new state still waits.
    expect(r.acquireError(a)).toBe(nfsstat4.NFS4ERR_GRACE);
    await r.close();
  });

  it("ends at the deadline and drops the records of clients that never completed", async () => {
    const store = await withRecords("a", "b");
    const r = await started(store);
    const a = client("a");
    a.reclaimComplete = true;
    await r.reclaimComplete(a);
    await vi.advanceTimersByTimeAsync(GRACE_SEC * 1000 + 1);
    expect(r.inGrace).toBe(false);
    await r.pending();
    expect(await owners(store)).toEqual(["a"]);
  });

  it("a client still reclaiming at the deadline keeps grace open, up to twice the grace time", async () => {
    const r = await started(await withRecords("a"));
    const a = client("a");
    // Reclaims every half second, for ever.
    const every = setInterval(() => r.reclaimError(a), 500);
    await vi.advanceTimersByTimeAsync(GRACE_SEC * 1000 + 1);
    expect(r.inGrace).toBe(true);
    await vi.advanceTimersByTimeAsync(GRACE_SEC * 1000);
    expect(r.inGrace).toBe(false);
    clearInterval(every);
  });

  it("ends soon after every recorded client completed", async () => {
    const r = await started(await withRecords("a", "b"));
    for (const name of ["a", "b"]) {
      const c = client(name);
      c.reclaimComplete = true;
      await r.reclaimComplete(c);
    }
    // Not at once: a request sent meanwhile is still answered in grace.
    expect(r.inGrace).toBe(true);
    await vi.advanceTimersByTimeAsync(1001);
    expect(r.inGrace).toBe(false);
  });

  it("a client record that goes takes its recovery record along; an unrecorded one leaves it", async () => {
    const store = new MemoryClientRecoveryStore();
    const r = await started(store);
    const a = client("a");
    a.reclaimComplete = true;
    await r.reclaimComplete(a);
    expect(await owners(store)).toEqual(["a"]);
    // Another, unrecorded, record of the same owner (say an unconfirmed one) goes: nothing changes.
    r.clientRemoved(client("a"));
    await r.pending();
    expect(await owners(store)).toEqual(["a"]);
    r.clientRemoved(a);
    expect(r.pending()).not.toBeNull();
    await r.pending();
    expect(await owners(store)).toEqual([]);
    expect(r.pending()).toBeNull();
  });

  it("a failed record write fails RECLAIM_COMPLETE's wait, and is logged, not thrown, for removals", async () => {
    const store = new MemoryClientRecoveryStore();
    const r = await started(store);
    store.add = () => Promise.reject(new Error("disk full"));
    store.remove = () => Promise.reject(new Error("disk gone"));
    const a = client("a");
    await expect(r.reclaimComplete(a)).rejects.toThrow("disk full");
    r.clientRemoved(a);
    await r.pending();
  });
});

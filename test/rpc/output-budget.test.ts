// The output byte accounting on its own (src/rpc/output.ts): FIFO reservations,
// the per-connection and global bounds, the progress rules, and close.

import { describe, expect, it } from "vitest";
import { ConnectionOutput, OutputBudget } from "../../src/rpc/index.js";

/** A connection's account plus a record of the reservations settled so far. */
function account(limit: number, budget: OutputBudget) {
  let rooms = 0;
  const out = new ConnectionOutput(limit, budget, () => rooms++);
  return { out, rooms: () => rooms };
}

/** Lets settled promises run their callbacks. */
const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Tracks a reservation's outcome without awaiting it. */
function track(p: Promise<boolean>): { result: boolean | undefined } {
  const t: { result: boolean | undefined } = { result: undefined };
  void p.then((v) => (t.result = v));
  return t;
}

describe("output accounting", () => {
  it("grants within the connection's bound, then waits in FIFO order until bytes drain", async () => {
    const budget = new OutputBudget(100);
    const { out } = account(10, budget);
    const [a, b, c, d] = [0, 1, 2, 3].map(() => ConnectionOutput.ledger());
    expect(await out.reserve(a!, 6)).toBe(true);
    const big = track(out.reserve(b!, 6));
    const small = track(out.reserve(c!, 1));
    await tick();
    // 1 byte would fit, but it is behind the 6 that do not.
    expect([big.result, small.result]).toEqual([undefined, undefined]);
    expect(out.stats()).toEqual({ reserved: 6, buffered: 0, waiting: 2, waitingBytes: 7 });
    expect(out.mustPause).toBe(true);
    // a's reply is written: its reservation becomes buffered bytes, still held.
    out.release(a!);
    out.queued(6);
    out.settled();
    await tick();
    expect(big.result).toBeUndefined();
    // The kernel takes it: b and then c fit.
    out.flushed(6);
    await tick();
    expect([big.result, small.result]).toEqual([true, true]);
    expect(out.stats()).toEqual({ reserved: 7, buffered: 0, waiting: 0, waitingBytes: 0 });
    expect(budget.used).toBe(7);
    // A zero-byte reservation is granted at once.
    expect(await out.reserve(d!, 0)).toBe(true);
    await expect(out.reserve(d!, -1)).rejects.toThrow(RangeError);
    await expect(out.reserve(d!, 1.5)).rejects.toThrow(RangeError);
  });

  it("lets a connection holding nothing take one reservation larger than its bound", async () => {
    const budget = new OutputBudget(100);
    const { out } = account(10, budget);
    const [a, b] = [ConnectionOutput.ledger(), ConnectionOutput.ledger()];
    expect(await out.reserve(a!, 50)).toBe(true);
    const next = track(out.reserve(b!, 1));
    await tick();
    expect(next.result).toBeUndefined();
    out.release(a!);
    out.settled();
    await tick();
    expect(next.result).toBe(true);
  });

  it("breaks a hold-and-wait cycle: when every holder waits, the first waiter proceeds", async () => {
    const budget = new OutputBudget(100);
    const { out } = account(10, budget);
    const [a, b] = [ConnectionOutput.ledger(), ConnectionOutput.ledger()];
    expect(await out.reserve(a!, 5)).toBe(true);
    expect(await out.reserve(b!, 5)).toBe(true);
    // Each call wants more while holding its bytes (a COMPOUND with two READs).
    const moreA = track(out.reserve(a!, 5));
    await tick();
    // b is still running: it may release, so a waits.
    expect(moreA.result).toBeUndefined();
    const moreB = track(out.reserve(b!, 5));
    await tick();
    // Now nothing could release anything: a goes on, then b once a is done.
    expect(moreA.result).toBe(true);
    expect(moreB.result).toBeUndefined();
    out.release(a!);
    out.settled();
    await tick();
    expect(moreB.result).toBe(true);
    expect(out.reserved).toBe(10);
  });

  it("bounds the sum over connections, serving waiting connections in order", async () => {
    const budget = new OutputBudget(10);
    const x = account(8, budget);
    const y = account(8, budget);
    const z = account(8, budget);
    const [a, b, c] = [0, 1, 2].map(() => ConnectionOutput.ledger());
    expect(await x.out.reserve(a!, 8)).toBe(true);
    const onY = track(y.out.reserve(b!, 5));
    const onZ = track(z.out.reserve(c!, 1));
    await tick();
    // z's 1 byte would fit the budget, but y waits first.
    expect([onY.result, onZ.result]).toEqual([undefined, undefined]);
    expect(budget.stats()).toMatchObject({ used: 8, waitingConnections: 2 });
    expect(budget.full).toBe(true);
    expect(z.out.mustPause).toBe(true);
    x.out.release(a!);
    x.out.settled();
    await tick();
    expect([onY.result, onZ.result]).toEqual([true, true]);
    expect(budget.stats()).toMatchObject({ used: 6, waitingConnections: 0 });
    expect(budget.full).toBe(false);
  });

  it("resumes connections paused by a full budget once it has room", () => {
    const budget = new OutputBudget(10);
    const x = account(10, budget);
    const y = account(10, budget);
    x.out.queued(10);
    expect(y.out.mustPause).toBe(true);
    y.out.pauseForBudget();
    expect(budget.stats().pausedConnections).toBe(1);
    const before = y.rooms();
    x.out.flushed(4);
    expect(y.rooms()).toBe(before + 1);
    expect(budget.stats().pausedConnections).toBe(0);
    expect(y.out.mustPause).toBe(false);
  });

  it("on close releases everything and fails the waiting reservations", async () => {
    const budget = new OutputBudget(10);
    const x = account(10, budget);
    const y = account(10, budget);
    const [a, b, c] = [0, 1, 2].map(() => ConnectionOutput.ledger());
    expect(await x.out.reserve(a!, 6)).toBe(true);
    x.out.queued(4);
    const onX = track(x.out.reserve(b!, 5));
    const onY = track(y.out.reserve(c!, 5));
    await tick();
    expect([onX.result, onY.result]).toEqual([undefined, undefined]);
    x.out.close();
    await tick();
    expect([onX.result, onY.result]).toEqual([false, true]);
    expect(budget.used).toBe(5);
    // Late events of the closed connection change nothing.
    x.out.release(a!);
    x.out.flushed(4);
    x.out.queued(3);
    expect(budget.used).toBe(5);
    expect(await x.out.reserve(a!, 1)).toBe(false);
  });
});

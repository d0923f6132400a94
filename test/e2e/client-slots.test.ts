// The client library's slot table and seqid rule, without a server: the parts
// of the client the end-to-end suites cannot steer (the server never lowers
// its slot target, and never sends every SEQUENCE error).

import { describe, expect, it } from "vitest";
import type { COMPOUND4res } from "../../generated/nfs4/index.js";
import { nfs_opnum4, nfsstat4 } from "../../generated/nfs4/index.js";
import {
  ClientSlotTable,
  MAX_CLIENT_SLOTS,
  NfsClientClosedError,
  slotOutcomeOf,
} from "../../src/client/index.js";

describe("ClientSlotTable", () => {
  it("hands out the lowest free slot and makes the rest wait, first come first served", async () => {
    const t = new ClientSlotTable(2);
    const a = await t.acquire();
    const b = await t.acquire();
    expect([a.id, b.id]).toEqual([0, 1]);
    const order: number[] = [];
    const c = t.acquire().then((s) => (order.push(1), s));
    const d = t.acquire().then((s) => (order.push(2), s));
    expect(t.waiting).toBe(2);
    t.release(b, "advance");
    expect((await c).id).toBe(1);
    t.release(a, "advance");
    expect((await d).id).toBe(0);
    expect(order).toEqual([1, 2]);
  });

  it("waits for a pinned slot even when others are free", async () => {
    const t = new ClientSlotTable(3);
    const held = await t.acquire(2);
    let got = false;
    const pinned = t.acquire(2).then((s) => ((got = true), s));
    await Promise.resolve();
    expect(got).toBe(false);
    t.release(held, "keep");
    expect((await pinned).id).toBe(2);
    await expect(t.acquire(3)).rejects.toBeInstanceOf(RangeError);
  });

  it("advances, keeps or doubts the sequence ID as told, wrapping at 2^32", async () => {
    const t = new ClientSlotTable(1);
    let s = await t.acquire();
    expect(s.seqid).toBe(1);
    t.release(s, "advance");
    s = await t.acquire();
    t.release(s, "keep");
    expect(t.peek(0).seqid).toBe(2);
    s = await t.acquire();
    t.release(s, "doubt");
    expect(t.peek(0)).toMatchObject({ seqid: 2, inDoubt: true });
    s = await t.acquire();
    s.seqid = 0xffffffff;
    t.release(s, "advance");
    expect(t.peek(0)).toMatchObject({ seqid: 0, inDoubt: false });
  });

  it("honours sr_target_highest_slotid and sr_highest_slotid downward only", async () => {
    const t = new ClientSlotTable(8);
    const s5 = await t.acquire(5);
    t.release(s5, "advance");
    t.applyServerLimits(7, 1);
    expect(t.highestUsable).toBe(1);
    const a = await t.acquire();
    const b = await t.acquire();
    expect([a.id, b.id]).toEqual([0, 1]);
    let third = false;
    const c = t.acquire().then((s) => ((third = true), s));
    await Promise.resolve();
    expect(third).toBe(false);
    // A server with a dynamic table may offer more slots than it granted: the table grows.
    t.applyServerLimits(100, 100);
    expect(t.highestUsable).toBe(100);
    expect(t.size).toBe(101);
    expect(t.peek(100).seqid).toBe(1);
    expect((await c).id).toBe(2);
    // ...but never beyond MAX_CLIENT_SLOTS.
    t.applyServerLimits(0xffffffff, 0xffffffff);
    expect(t.size).toBe(MAX_CLIENT_SLOTS);
    expect(t.highestUsable).toBe(MAX_CLIENT_SLOTS - 1);
    // Slots above sr_highest_slotid are forgotten: they start again at 1.
    t.applyServerLimits(3, 3);
    expect(t.peek(5).seqid).toBe(1);
  });

  it("reports the highest busy slot for sa_highest_slotid", async () => {
    const t = new ClientSlotTable(4);
    expect(t.highestBusy).toBe(0);
    const s = await t.acquire(3);
    expect(t.highestBusy).toBe(3);
    t.release(s, "advance");
    expect(t.highestBusy).toBe(0);
  });

  it("fails waiters and later requests once closed", async () => {
    const t = new ClientSlotTable(1);
    await t.acquire();
    const waiting = t.acquire();
    t.close(new NfsClientClosedError("the session"));
    await expect(waiting).rejects.toBeInstanceOf(NfsClientClosedError);
    await expect(t.acquire()).rejects.toBeInstanceOf(NfsClientClosedError);
  });
});

describe("when a slot's sequence ID advances (slotOutcomeOf)", () => {
  const withSequence = (status: nfsstat4): COMPOUND4res =>
    ({
      status,
      tag: new Uint8Array(0),
      resarray: [{ resop: nfs_opnum4.OP_SEQUENCE, opsequence: { sr_status: status } }],
    }) as COMPOUND4res;

  it.each([
    ["SEQUENCE succeeded", nfsstat4.NFS4_OK, "advance"],
    ["a false retry: the server holds our ID", nfsstat4.NFS4ERR_SEQ_FALSE_RETRY, "advance"],
    ["an uncached retry: the server holds our ID", nfsstat4.NFS4ERR_RETRY_UNCACHED_REP, "advance"],
    ["an error not known to leave the slot alone", nfsstat4.NFS4ERR_SERVERFAULT, "advance"],
    ["BADSESSION", nfsstat4.NFS4ERR_BADSESSION, "keep"],
    ["BADSLOT", nfsstat4.NFS4ERR_BADSLOT, "keep"],
    ["SEQ_MISORDERED", nfsstat4.NFS4ERR_SEQ_MISORDERED, "keep"],
    ["DELAY", nfsstat4.NFS4ERR_DELAY, "keep"],
    ["TOO_MANY_OPS", nfsstat4.NFS4ERR_TOO_MANY_OPS, "keep"],
    ["REP_TOO_BIG_TO_CACHE at SEQUENCE", nfsstat4.NFS4ERR_REP_TOO_BIG_TO_CACHE, "keep"],
  ] as const)("%s → %s", (_what, status, outcome) => {
    const res =
      status === nfsstat4.NFS4_OK
        ? ({
            status,
            tag: new Uint8Array(0),
            resarray: [
              {
                resop: nfs_opnum4.OP_SEQUENCE,
                opsequence: {
                  sr_status: status,
                  sr_resok4: {
                    sr_sessionid: new Uint8Array(16),
                    sr_sequenceid: 1,
                    sr_slotid: 0,
                    sr_highest_slotid: 0,
                    sr_target_highest_slotid: 0,
                    sr_status_flags: 0,
                  },
                },
              },
            ],
          } satisfies COMPOUND4res)
        : withSequence(status);
    expect(slotOutcomeOf(res)).toBe(outcome);
  });

  it("keeps the ID when the COMPOUND failed before SEQUENCE ran", () => {
    const res: COMPOUND4res = {
      status: nfsstat4.NFS4ERR_MINOR_VERS_MISMATCH,
      tag: new Uint8Array(0),
      resarray: [],
    };
    expect(slotOutcomeOf(res)).toBe("keep");
  });
});

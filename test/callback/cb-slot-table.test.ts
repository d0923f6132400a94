// The back channel's slot table (RFC 8881 §2.10.6.1 with the server as
// requester, §20.9.3): one call per slot, seqids from 1, the outcome rules of
// callback/cb-slot-table.ts, and the client's csr_(target_)highest_slotid.

import { describe, expect, it } from "vitest";
import { CbSlotTable } from "../../src/callback/cb-slot-table.js";

describe("CbSlotTable", () => {
  it("starts every slot at sequence ID 1 and hands out the lowest free slot", () => {
    const t = new CbSlotTable(3);
    expect(t.acquire()).toEqual({ slotid: 0, seqid: 1 });
    expect(t.acquire()).toEqual({ slotid: 1, seqid: 1 });
    expect(t.acquire()).toEqual({ slotid: 2, seqid: 1 });
    expect(t.acquire()).toBeNull();
    expect(t.busyCount).toBe(3);
    t.release(1, "keep");
    expect(t.acquire()).toEqual({ slotid: 1, seqid: 1 });
  });

  it("advances a slot only when told (CB_SEQUENCE succeeded), wrapping at 2^32", () => {
    const t = new CbSlotTable(1);
    t.acquire();
    t.release(0, "advance");
    expect(t.acquire()).toEqual({ slotid: 0, seqid: 2 });
    t.release(0, "keep"); // no reply, DELAY, RPC refusal: same seqid next time
    expect(t.acquire()).toEqual({ slotid: 0, seqid: 2 });
    t.release(0, "resync"); // SEQ_MISORDERED
    expect(t.seqidOf(0)).toBe(1);
    const w = new CbSlotTable(1);
    for (let i = 0; i < 3; i++) {
      w.acquire();
      w.release(0, "advance");
    }
    expect(w.seqidOf(0)).toBe(4);
  });

  it("never uses a retired slot again (BADSLOT), and is unusable once every slot is retired", () => {
    const t = new CbSlotTable(2);
    t.acquire();
    t.release(0, "retire");
    expect(t.isRetired(0)).toBe(true);
    expect(t.acquire()).toEqual({ slotid: 1, seqid: 1 });
    expect(t.acquire()).toBeNull();
    t.release(1, "retire");
    expect(t.usable).toBe(false);
    expect(t.acquire()).toBeNull();
  });

  it("uses no slot above the client's csr_highest_slotid / csr_target_highest_slotid", () => {
    const t = new CbSlotTable(4);
    expect(t.highestSlotId).toBe(3);
    t.applyClientLimits(3, 1);
    expect(t.highestSlotId).toBe(1);
    expect(t.acquire()?.slotid).toBe(0);
    expect(t.acquire()?.slotid).toBe(1);
    expect(t.acquire()).toBeNull();
    t.applyClientLimits(0, 3);
    expect(t.highestSlotId).toBe(0);
    // Raised again, never above our own table.
    t.applyClientLimits(10, 10);
    expect(t.highestSlotId).toBe(3);
    expect(t.acquire()?.slotid).toBe(2);
  });

  it("csa_highest_slotid skips retired slots at the top", () => {
    const t = new CbSlotTable(3);
    for (let i = 0; i < 3; i++) t.acquire();
    t.release(2, "retire");
    expect(t.highestSlotId).toBe(1);
  });

  it("refuses to release a slot that is not held, and a table of no slots", () => {
    const t = new CbSlotTable(1);
    expect(() => t.release(0, "keep")).toThrow();
    expect(() => new CbSlotTable(0)).toThrow(RangeError);
  });
});

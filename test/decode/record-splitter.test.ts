// RPC record marking over a stream with holes.

import { describe, expect, it } from "vitest";
import type { SplitEvent } from "../../src/decode/record-splitter.js";
import { RecordSplitter } from "../../src/decode/record-splitter.js";
import { callRecord, replyRecord } from "./support.js";

function splitter(maxRecord = 1 << 20, maxResync = 1 << 16) {
  const events: SplitEvent[] = [];
  const s = new RecordSplitter((e) => events.push(e), maxRecord, maxResync);
  return { s, events };
}

/** The events with records shown as their xid. */
function summary(events: readonly SplitEvent[]): string[] {
  return events.map((e) =>
    e.kind === "record"
      ? `record ${Buffer.from(e.bytes).readUInt32BE(0)}`
      : e.kind === "incomplete"
        ? `incomplete ${e.length}/${e.missing}`
        : `skipped ${e.bytes}`,
  );
}

const call = (xid: number, args = 8): Uint8Array =>
  callRecord(xid, 100003, 4, 0, new Uint8Array(args));

describe("RecordSplitter", () => {
  it("splits records that arrive one byte at a time, and several per chunk", () => {
    const { s, events } = splitter();
    const stream = Buffer.concat([call(1), call(2), replyRecord(3, new Uint8Array(4))]);
    for (const b of stream.subarray(0, 50)) s.data(new Uint8Array([b]));
    s.data(stream.subarray(50));
    expect(summary(events)).toEqual(["record 1", "record 2", "record 3"]);
    const first = events[0]!;
    expect(first.kind === "record" && Buffer.from(first.bytes).equals(call(1).subarray(4))).toBe(
      true,
    );
  });

  it("joins the fragments of a record (last-fragment bit)", () => {
    const body = call(9).subarray(4);
    const frag = (data: Uint8Array, last: boolean): Buffer => {
      const mark = Buffer.alloc(4);
      mark.writeUInt32BE((last ? 0x80000000 : 0) + data.length);
      return Buffer.concat([mark, data]);
    };
    const { s, events } = splitter();
    s.data(Buffer.concat([frag(body.subarray(0, 10), false), frag(body.subarray(10, 10), false)]));
    s.data(frag(body.subarray(10), true));
    expect(events).toHaveLength(1);
    const e = events[0]!;
    expect(e.kind === "record" && Buffer.from(e.bytes).equals(body)).toBe(true);
  });

  it("keeps in step over a gap inside a record, reporting that record incomplete", () => {
    const { s, events } = splitter();
    const a = call(1, 100);
    s.data(a.subarray(0, 40));
    s.gap(30);
    s.data(a.subarray(70));
    s.data(call(2));
    expect(summary(events)).toEqual([`incomplete ${a.length - 4}/30`, "record 2"]);
  });

  it("finds the next record after a gap that swallowed a record mark", () => {
    const { s, events } = splitter();
    const a = call(1, 100);
    s.data(a.subarray(0, 40));
    s.gap(a.length - 40 + 10); // the rest of record 1 and the start of record 2
    const b = call(2, 100);
    s.data(b.subarray(10));
    s.data(call(3));
    s.finish();
    expect(summary(events)).toEqual([
      `incomplete ${a.length - 4}/${a.length - 40}`,
      `skipped ${10 + b.length - 10}`,
      "record 3",
    ]);
  });

  it("finds the first record when the capture joined the stream late", () => {
    const { s, events } = splitter();
    s.desync();
    s.data(Buffer.concat([call(1).subarray(7), call(2), call(3)]));
    expect(summary(events)).toEqual([`skipped ${call(1).length - 7}`, "record 2", "record 3"]);
  });

  it("treats a mark over the record limit as garbage and resynchronises", () => {
    const { s, events } = splitter(64);
    const big = Buffer.alloc(8);
    big.writeUInt32BE(0x80000000 + 1000, 0);
    s.data(Buffer.concat([big, call(5)]));
    expect(summary(events)).toEqual(["skipped 8", "record 5"]);
  });

  it("reports what is left at the end, and keeps at most maxResyncBytes while searching", () => {
    const { s, events } = splitter(1 << 20, 100);
    s.desync();
    s.data(new Uint8Array(1000));
    expect(s.held).toBeLessThan(16);
    s.finish();
    expect(summary(events)).toEqual(["skipped 1000"]);
    const partial = splitter();
    partial.s.data(call(1).subarray(0, 20));
    partial.s.finish();
    expect(summary(partial.events)).toEqual([
      `incomplete ${call(1).length - 4}/${call(1).length - 20}`,
    ]);
  });
});

import { describe, expect, it } from "vitest";
import { XdrReader, XdrWriter } from "../../src/xdr/index.js";
import { expectXdrError } from "./expect-xdr-error.js";

const UNBOUNDED = 0xffffffff;
const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");
const encode = (f: (w: XdrWriter) => void): string => {
  const w = new XdrWriter();
  f(w);
  return hex(w.finish());
};

describe("exact encodings", () => {
  it("numbers", () => {
    expect(encode((w) => w.writeInt(-2))).toBe("fffffffe");
    expect(encode((w) => w.writeInt(-0x80000000))).toBe("80000000");
    expect(encode((w) => w.writeUint(0xffffffff))).toBe("ffffffff");
    expect(encode((w) => w.writeUint(0x01020304))).toBe("01020304");
    expect(encode((w) => w.writeHyper(-1n))).toBe("ff".repeat(8));
    expect(encode((w) => w.writeHyper(0x0102030405060708n))).toBe("0102030405060708");
    expect(encode((w) => w.writeUhyper(2n ** 64n - 1n))).toBe("ff".repeat(8));
    expect(encode((w) => w.writeFloat(1.5))).toBe("3fc00000");
    expect(encode((w) => w.writeDouble(-2.5))).toBe("c004000000000000");
    expect(encode((w) => w.writeBool(true))).toBe("00000001");
    expect(encode((w) => w.writeBool(false))).toBe("00000000");
    expect(encode((w) => w.writeEnum(-1, { [-1]: "NEG" }, "e"))).toBe("ffffffff");
  });

  it("opaque and string with padding", () => {
    expect(encode((w) => w.writeOpaqueVar(new Uint8Array([1, 2, 3]), UNBOUNDED))).toBe(
      "0000000301020300",
    );
    expect(encode((w) => w.writeOpaqueVar(new Uint8Array(0), 0))).toBe("00000000");
    expect(encode((w) => w.writeOpaqueFixed(new Uint8Array([9, 8, 7, 6, 5]), 5))).toBe(
      "0908070605000000",
    );
    expect(encode((w) => w.writeString("sillyprog", 255))).toBe(
      "00000009" + Buffer.from("sillyprog").toString("hex") + "000000",
    );
    expect(encode((w) => w.writeString("é", 255))).toBe("00000002c3a90000");
    expect(encode((w) => w.writeArrayLength(3, 10))).toBe("00000003");
  });

  it("opaque lengths 1..8 are padded to a multiple of 4 with zeros", () => {
    for (let n = 1; n <= 8; n++) {
      const data = new Uint8Array(n).fill(0xaa);
      const padded = Math.ceil(n / 4) * 4;
      const w = new XdrWriter();
      w.writeOpaqueVar(data, UNBOUNDED);
      expect(hex(w.finish())).toBe(
        n.toString(16).padStart(8, "0") + "aa".repeat(n) + "00".repeat(padded - n),
      );
      w.reset();
      w.writeOpaqueFixed(data, n);
      expect(w.length).toBe(padded);
    }
  });

  it("padding is zero even when the reused buffer held non-zero bytes", () => {
    const w = new XdrWriter(16);
    w.writeOpaqueFixed(new Uint8Array(16).fill(0xff), 16);
    w.reset();
    w.writeOpaqueVar(new Uint8Array([1]), UNBOUNDED);
    w.writeString("ab", 10);
    expect(hex(w.finish())).toBe("00000001" + "01000000" + "00000002" + "61620000");
  });
});

describe("limits and ranges", () => {
  it("over-limit lengths → limit", () => {
    const w = new XdrWriter();
    w.writeUint(1);
    expectXdrError(() => w.writeOpaqueVar(new Uint8Array(5), 4), "limit", 4);
    expectXdrError(() => w.writeOpaqueFixed(new Uint8Array(5), 4), "limit", 4);
    expectXdrError(() => w.writeOpaqueFixed(new Uint8Array(3), 4), "limit", 4);
    expectXdrError(() => w.writeQuadruple(new Uint8Array(15)), "limit", 4);
    expectXdrError(() => w.writeString("hello", 4), "limit", 4);
    // 3 UTF-16 code units but 6 bytes of UTF-8.
    expectXdrError(() => w.writeString("ééé", 5), "limit", 4);
    expectXdrError(() => w.writeString("é".repeat(300), 500), "limit", 4);
    expectXdrError(() => w.writeArrayLength(11, 10), "limit", 4);
    // Nothing was written by the failed calls.
    expect(w.length).toBe(4);
    expect(hex(w.finish())).toBe("00000001");
    w.writeString("ééé", 6);
    expect(w.length).toBe(16);
  });

  it("range errors", () => {
    const w = new XdrWriter();
    expectXdrError(() => w.writeUint(2 ** 32), "range", 0);
    expectXdrError(() => w.writeUint(-1), "range", 0);
    expectXdrError(() => w.writeUint(1.5), "range", 0);
    expectXdrError(() => w.writeUint(NaN), "range", 0);
    expectXdrError(() => w.writeInt(2 ** 31), "range", 0);
    expectXdrError(() => w.writeInt(-(2 ** 31) - 1), "range", 0);
    expectXdrError(() => w.writeInt(1.5), "range", 0);
    expectXdrError(() => w.writeInt(Infinity), "range", 0);
    expectXdrError(() => w.writeUhyper(2n ** 64n), "range", 0);
    expectXdrError(() => w.writeUhyper(-1n), "range", 0);
    expectXdrError(() => w.writeHyper(2n ** 63n), "range", 0);
    expectXdrError(() => w.writeHyper(-(2n ** 63n) - 1n), "range", 0);
    expectXdrError(() => w.writeArrayLength(-1, UNBOUNDED), "range", 0);
    expectXdrError(() => w.writeArrayLength(1.5, UNBOUNDED), "range", 0);
    w.writeUint(0);
    expectXdrError(() => w.patchUint(0, 2 ** 32), "range", 4);
    expect(w.length).toBe(4);
  });

  it("range errors for wrongly typed values from untyped callers", () => {
    const w = new XdrWriter();
    const loose = w as unknown as Record<string, (v: unknown) => void>;
    expectXdrError(() => loose.writeInt!.call(w, "5"), "range", 0);
    expectXdrError(() => loose.writeInt!.call(w, 5n), "range", 0);
    expectXdrError(() => loose.writeUint!.call(w, "5"), "range", 0);
    expectXdrError(() => loose.writeHyper!.call(w, 5), "range", 0);
    expectXdrError(() => loose.writeUhyper!.call(w, 5), "range", 0);
    expectXdrError(() => loose.writeDouble!.call(w, "5"), "range", 0);
    expect(w.length).toBe(0);
  });

  it("enumError: code enum at the current length, with the value when it is a number", () => {
    const w = new XdrWriter();
    w.writeUint(1);
    const e = w.enumError(99, "letters");
    expect([e.code, e.offset, e.value, e.detail]).toEqual([
      "enum",
      4,
      99,
      "99 is not a member of enum letters",
    ]);
    expect(w.enumError("x", "letters").value).toBeUndefined();
    expect(w.length).toBe(4);
  });

  it("enum not a member → enum with the value", () => {
    const w = new XdrWriter();
    const names = { 0: "A", 2: "C" };
    w.writeEnum(2, names, "e");
    expectXdrError(() => w.writeEnum(1, names, "letters"), "enum", 4, 1);
    expectXdrError(() => w.writeEnum(0.5, names, "letters"), "enum", 4, 0.5);
    expect(w.length).toBe(4);
  });
});

describe("buffer management", () => {
  it("growth across many writes keeps bytes intact", () => {
    const w = new XdrWriter(4);
    const blob = new Uint8Array(1000).map((_, i) => i & 0xff);
    for (let i = 0; i < 5000; i++) {
      w.writeUint(i);
      if (i % 500 === 0) w.writeOpaqueVar(blob, UNBOUNDED);
      if (i % 7 === 0) w.writeString(`name-${i}`, 255);
      w.writeHyper(BigInt(-i));
    }
    const r = new XdrReader(w.finish());
    for (let i = 0; i < 5000; i++) {
      expect(r.readUint()).toBe(i);
      if (i % 500 === 0) expect(r.readOpaqueVar(UNBOUNDED)).toEqual(blob);
      if (i % 7 === 0) expect(r.readString(255)).toBe(`name-${i}`);
      expect(r.readHyper()).toBe(BigInt(-i));
    }
    r.assertDone();
  });

  it("a single write larger than double the capacity grows enough", () => {
    const w = new XdrWriter(16);
    const big = new Uint8Array(100_000).fill(7);
    w.writeOpaqueVar(big, UNBOUNDED);
    w.writeString("ü".repeat(50_000), UNBOUNDED);
    const r = new XdrReader(w.finish());
    expect(r.readOpaqueVar(UNBOUNDED)).toEqual(big);
    expect(r.readString(UNBOUNDED)).toBe("ü".repeat(50_000));
    r.assertDone();
  });

  it("reserve + patchUint back-patches a length", () => {
    const w = new XdrWriter(8);
    w.writeUint(0xdddddddd);
    const mark = w.reserve(4);
    expect(mark).toBe(4);
    const bodyStart = w.length;
    for (let i = 0; i < 10; i++) w.writeUint(i); // forces growth after the reservation
    w.patchUint(mark, w.length - bodyStart);
    const r = new XdrReader(w.finish());
    expect(r.readUint()).toBe(0xdddddddd);
    expect(r.readUint()).toBe(40);
    expect(r.remaining).toBe(40);
    expect(() => w.patchUint(w.length - 3, 0)).toThrow(RangeError);
  });

  it("truncate takes back what was written after a length, and the writer goes on from there", () => {
    const w = new XdrWriter(8);
    w.writeUint(1);
    const mark = w.length;
    w.writeString("taken back, and past the first capacity", UNBOUNDED);
    w.truncate(mark);
    expect(w.length).toBe(4);
    w.writeUint(2);
    expect(hex(w.finish())).toBe("0000000100000002");
    expect(() => w.truncate(9)).toThrow(RangeError);
    expect(() => w.truncate(-1)).toThrow(RangeError);
    expect(() => w.truncate(1.5)).toThrow(RangeError);
    const gathering = new XdrWriter(16, { gatherFrom: 8 });
    gathering.writeOpaqueFixed(new Uint8Array(8), 8);
    expect(() => gathering.truncate(0)).toThrow(RangeError);
  });

  it("writes into a given buffer until it outgrows it", () => {
    const given = Buffer.alloc(16);
    const w = new XdrWriter(0, { buffer: given });
    w.writeUint(7);
    expect(w.finish().buffer).toBe(given.buffer);
    expect(given.readUInt32BE(0)).toBe(7);
    w.writeOpaqueFixed(new Uint8Array(16).fill(1), 16);
    // Outgrown: the bytes move to a buffer of the writer's own; the given one is left as it was.
    const out = w.finish();
    expect(out.buffer).not.toBe(given.buffer);
    expect(hex(out)).toBe("00000007" + "01".repeat(16));
  });

  it("reserve zeroes its space even after reset", () => {
    const w = new XdrWriter(16);
    w.writeOpaqueFixed(new Uint8Array(16).fill(0xff), 16);
    w.reset();
    const at = w.reserve(8);
    expect(at).toBe(0);
    expect(hex(w.finish())).toBe("00".repeat(8));
  });

  it("reset reuses the buffer; finish is a view, toBytes a copy", () => {
    const w = new XdrWriter(64);
    w.writeUint(1);
    const view1 = w.finish();
    const copy = w.toBytes();
    w.reset();
    expect(w.length).toBe(0);
    w.writeUint(2);
    const view2 = w.finish();
    expect(view2.buffer).toBe(view1.buffer);
    expect(hex(view1)).toBe("00000002"); // the old view sees the new message...
    expect(hex(copy)).toBe("00000001"); // ...the copy does not
  });

  it("finish is a Buffer over the writer's memory, also after the buffer grew", () => {
    const w = new XdrWriter(16);
    w.writeUint(1);
    const small = w.finish();
    expect(Buffer.isBuffer(small)).toBe(true);
    for (let i = 0; i < 100; i++) w.writeUint(i);
    const grown = w.finish();
    expect(Buffer.isBuffer(grown)).toBe(true);
    expect(grown.length).toBe(404);
    expect(hex(grown.subarray(0, 8))).toBe("0000000100000000");
    // A view, not a copy: the next message shows through; the memory from
    // before the growth is no longer the writer's.
    w.reset();
    w.writeUint(0xdeadbeef);
    expect(hex(grown.subarray(0, 4))).toBe("deadbeef");
    expect(hex(small)).toBe("00000001");
  });

  it("opaques of every length up to 80 bytes (byte loop and set()) round-trip with zero padding", () => {
    const w = new XdrWriter(8);
    for (let n = 0; n <= 80; n++) {
      // Fill the reused buffer with garbage first, so stale bytes would show.
      w.reset();
      w.writeOpaqueFixed(new Uint8Array(88).fill(0xee), 88);
      w.reset();
      const data = Uint8Array.from({ length: n }, (_, i) => (i * 37 + n) & 0xff);
      w.writeOpaqueVar(n % 2 ? Buffer.from(data) : data, UNBOUNDED);
      const out = w.finish();
      const padded = Math.ceil(n / 4) * 4;
      expect(out.length).toBe(4 + padded);
      expect([...out.subarray(4, 4 + n)]).toEqual([...data]);
      expect([...out.subarray(4 + n)]).toEqual(new Array(padded - n).fill(0));
    }
  });

  it("zero initial capacity still works", () => {
    const w = new XdrWriter(0);
    w.writeUint(5);
    expect(hex(w.finish())).toBe("00000005");
  });
});

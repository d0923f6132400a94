import { describe, expect, it } from "vitest";
import { XdrReader, XdrWriter } from "../../src/xdr/index.js";
import { expectXdrError } from "./expect-xdr-error.js";

const UNBOUNDED = 0xffffffff;
const bytes = (...b: number[]): Uint8Array => new Uint8Array(b);

describe("XdrReader basics", () => {
  it("reads numbers big-endian", () => {
    const r = new XdrReader(
      bytes(
        0xff,
        0xff,
        0xff,
        0xfe, // int -2
        0xff,
        0xff,
        0xff,
        0xfe, // uint 4294967294
        0x80,
        0,
        0,
        0,
        0,
        0,
        0,
        0, // hyper min
        0xff,
        0xff,
        0xff,
        0xff,
        0xff,
        0xff,
        0xff,
        0xff, // uhyper max
        0x3f,
        0xc0,
        0,
        0, // float 1.5
        0xc0,
        0x04,
        0,
        0,
        0,
        0,
        0,
        0, // double -2.5
      ),
    );
    expect(r.readInt()).toBe(-2);
    expect(r.readUint()).toBe(4294967294);
    expect(r.readHyper()).toBe(-(2n ** 63n));
    expect(r.readUhyper()).toBe(2n ** 64n - 1n);
    expect(r.readFloat()).toBe(1.5);
    expect(r.readDouble()).toBe(-2.5);
    expect(r.remaining).toBe(0);
    r.assertDone();
  });

  it("reads only [start, end) and keeps absolute offsets", () => {
    const buf = bytes(9, 9, 9, 9, 0, 0, 0, 7, 0, 0, 0, 8, 9, 9, 9, 9);
    const r = new XdrReader(buf, 4, 12);
    expect(r.offset).toBe(4);
    expect(r.remaining).toBe(8);
    expect(r.readUint()).toBe(7);
    expect(r.offset).toBe(8);
    expect(r.readUint()).toBe(8);
    expect(r.remaining).toBe(0);
    expectXdrError(() => r.readUint(), "truncated", 12);
  });

  it("honours the input's byteOffset", () => {
    const backing = new Uint8Array(32).fill(0xee);
    backing.set([0, 0, 0, 42], 20);
    const r = new XdrReader(backing.subarray(20, 24));
    expect(r.readUint()).toBe(42);
  });

  it("rejects a bad range", () => {
    expect(() => new XdrReader(new Uint8Array(4), 2, 1)).toThrow(RangeError);
    expect(() => new XdrReader(new Uint8Array(4), 0, 5)).toThrow(RangeError);
    expect(() => new XdrReader(new Uint8Array(4), -1)).toThrow(RangeError);
  });

  it("bool: 0/1 only, else code bool with the value", () => {
    const r = new XdrReader(bytes(0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 2, 0xff, 0xff, 0xff, 0xff));
    expect(r.readBool()).toBe(false);
    expect(r.readBool()).toBe(true);
    expectXdrError(() => r.readBool(), "bool", 8, 2);
    expect(r.offset).toBe(8); // not consumed
    r.offset = 12;
    expectXdrError(() => r.readBool(), "bool", 12, -1);
  });

  it("enum: must be a key of the names table", () => {
    const names = { [-1]: "NEG", 0: "ZERO", 5: "FIVE" } as const;
    const r = new XdrReader(bytes(0, 0, 0, 5, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 3));
    expect(r.readEnum(names, "e")).toBe(5);
    expect(r.readEnum(names, "e")).toBe(-1);
    expect(r.readEnum(names, "e")).toBe(0);
    const e = expectXdrError(() => r.readEnum(names, "nfsstat4"), "enum", 12, 3);
    expect(e.message).toContain("nfsstat4");
  });

  it("enum: inherited Object properties are not members", () => {
    const r = new XdrReader(bytes(0, 0, 0, 1));
    expectXdrError(() => r.readEnum({ 0: "A" }, "e"), "enum", 0, 1);
  });

  it("quadruple is 16 raw bytes", () => {
    const src = new Uint8Array(20).map((_, i) => i + 1);
    const r = new XdrReader(src);
    const q = r.readQuadruple();
    expect([...q]).toEqual([...src.subarray(0, 16)]);
    expect(q.buffer).toBe(src.buffer);
    expect(r.offset).toBe(16);
  });

  it("skip, ensure, assertDone", () => {
    const r = new XdrReader(new Uint8Array(12));
    r.ensure(12);
    expectXdrError(() => r.ensure(13), "truncated", 0);
    r.skip(8);
    expect(r.offset).toBe(8);
    expectXdrError(() => r.assertDone(), "trailing", 8);
    expectXdrError(() => r.skip(5), "truncated", 8);
    expect(() => r.skip(-1)).toThrow(RangeError);
    r.skip(4);
    r.assertDone();
  });
});

describe("hyper and unsigned hyper", () => {
  const cases: [bigint, bigint][] = [
    // [as hyper, same bits as unsigned hyper]
    [0n, 0n],
    [1n, 1n],
    [0x7fffffffn, 0x7fffffffn],
    [0x80000000n, 0x80000000n], // high word 0, low word ≥ 2^31
    [0xffffffffn, 0xffffffffn],
    [0x100000000n, 0x100000000n],
    [7n * 1024n * 1024n * 1024n * 1024n, 7n * 1024n * 1024n * 1024n * 1024n],
    [-1n, 2n ** 64n - 1n],
    [-(2n ** 32n), 2n ** 64n - 2n ** 32n],
    [-(2n ** 63n), 2n ** 63n],
    [2n ** 63n - 1n, 2n ** 63n - 1n],
  ];

  it("reads every value back, whether or not the high word is zero", () => {
    const w = new XdrWriter();
    for (const [h, u] of cases) {
      w.writeHyper(h);
      w.writeUhyper(u);
    }
    const r = new XdrReader(w.toBytes());
    for (const [h, u] of cases) {
      expect(r.readHyper()).toBe(h);
      expect(r.readUhyper()).toBe(u);
    }
    r.assertDone();
  });
});

describe("enumError", () => {
  it("steps back over the word just read and reports it as code enum", () => {
    const r = new XdrReader(bytes(0, 0, 0, 1, 0, 0, 0, 9), 0);
    r.readInt();
    expect(r.readInt()).toBe(9);
    const e = r.enumError(9, "e");
    expect([e.code, e.offset, e.value, e.detail]).toEqual([
      "enum",
      4,
      9,
      "9 is not a member of enum e",
    ]);
    expect(r.offset).toBe(4);
  });
});

describe("opaque and string", () => {
  it("readOpaqueVar returns a view sharing the input's memory", () => {
    const backing = new ArrayBuffer(64);
    const input = new Uint8Array(backing, 8, 40);
    input.set([0, 0, 0, 0, 0, 0, 0, 3, 1, 2, 3, 0]);
    const r = new XdrReader(input);
    r.readUint();
    const v = r.readOpaqueVar(UNBOUNDED);
    expect([...v]).toEqual([1, 2, 3]);
    expect(v.buffer).toBe(input.buffer);
    expect(v.byteOffset).toBe(input.byteOffset + 8);
    expect(r.offset).toBe(12);
    // Really shared: writes through the input are visible in the view.
    input[9] = 99;
    expect(v[1]).toBe(99);
  });

  it("views of a Node Buffer share its (pooled) memory too", () => {
    const input = Buffer.from([0, 0, 0, 2, 7, 8, 0, 0]);
    const v = new XdrReader(input).readOpaqueVar(UNBOUNDED);
    expect([...v]).toEqual([7, 8]);
    expect(v.buffer).toBe(input.buffer);
    expect(v.byteOffset).toBe(input.byteOffset + 4);
  });

  it("readOpaqueFixed returns a view and checks padding", () => {
    const input = bytes(1, 2, 3, 4, 5, 0, 0, 0, 6, 7, 8, 9);
    const r = new XdrReader(input);
    const v = r.readOpaqueFixed(5);
    expect([...v]).toEqual([1, 2, 3, 4, 5]);
    expect(v.buffer).toBe(input.buffer);
    expect(v.byteOffset).toBe(0);
    expect(r.offset).toBe(8);
    expect([...r.readOpaqueFixed(4)]).toEqual([6, 7, 8, 9]);
    expect(new XdrReader(new Uint8Array(0)).readOpaqueFixed(0).length).toBe(0);
  });

  it("empty opaque and string", () => {
    const r = new XdrReader(new Uint8Array(8));
    expect(r.readOpaqueVar(0).length).toBe(0);
    expect(r.readString(0)).toBe("");
    r.assertDone();
  });

  it("every empty opaque<> is the same frozen empty Uint8Array", () => {
    const r = new XdrReader(new Uint8Array(12));
    const a = r.readOpaqueVar(UNBOUNDED);
    const b = new XdrReader(Buffer.alloc(4)).readOpaqueVar(0);
    expect(a).toBeInstanceOf(Uint8Array);
    expect(a.length).toBe(0);
    expect(b).toBe(a);
    expect(Object.isFrozen(a)).toBe(true);
    expect(r.offset).toBe(4);
  });

  it("non-zero padding → padding, at every pad position, for lengths 1..3", () => {
    for (let n = 1; n <= 3; n++) {
      for (let p = n; p < 4; p++) {
        const fixed = new Uint8Array(4).fill(1, 0, n);
        fixed[p] = 1;
        expectXdrError(() => new XdrReader(fixed).readOpaqueFixed(n), "padding", 0);
        const withLen = new Uint8Array(12);
        withLen.set([0, 0, 0, 0, 0, 0, 0, n]);
        withLen[8 + p] = 0x80;
        const r = new XdrReader(withLen);
        r.skip(4);
        expectXdrError(() => r.readOpaqueVar(UNBOUNDED), "padding", 4);
        expect(r.offset).toBe(4);
        expectXdrError(() => r.readString(UNBOUNDED), "padding", 4);
      }
    }
  });

  it("over-limit lengths → limit, checked before truncation", () => {
    const r = new XdrReader(bytes(0, 0, 0, 5, 1, 2, 3, 4, 5, 0, 0, 0));
    expectXdrError(() => r.readOpaqueVar(4), "limit", 0);
    expectXdrError(() => r.readString(4), "limit", 0);
    expect(r.offset).toBe(0);
    expect(r.readOpaqueVar(5).length).toBe(5);
    // A length that is both over the limit and longer than the input: limit wins.
    expectXdrError(() => new XdrReader(bytes(0, 0, 1, 0)).readOpaqueVar(255), "limit", 0);
  });

  it("strings decode as UTF-8, short/long, ASCII/non-ASCII", () => {
    const w = new XdrWriter();
    const samples = ["sillyprog", "é", "日本語のファイル名", "x".repeat(33), "ü".repeat(100)];
    for (const s of samples) w.writeString(s, UNBOUNDED);
    // A plain Uint8Array (not a Buffer) exercises the lazily made text Buffer.
    const r = new XdrReader(w.toBytes());
    for (const s of samples) expect(r.readString(UNBOUNDED)).toBe(s);
    r.assertDone();
  });

  it("malformed UTF-8 becomes U+FFFD instead of failing", () => {
    const r = new XdrReader(bytes(0, 0, 0, 2, 0x61, 0xff, 0, 0));
    expect(r.readString(UNBOUNDED)).toBe("a\ufffd");
  });
});

describe("hostile lengths", () => {
  // ~4 GiB would show up in arrayBuffers if any implementation allocated for it.
  const MB = 1024 * 1024;
  const arrayBuffers = (): number => process.memoryUsage().arrayBuffers;

  it("opaque/string length 2^32-1 with max unbounded → truncated, no allocation", () => {
    const input = bytes(0xff, 0xff, 0xff, 0xff, 1, 2, 3, 4);
    const before = arrayBuffers();
    const r = new XdrReader(input);
    const e = expectXdrError(() => r.readOpaqueVar(UNBOUNDED), "truncated", 0);
    expect(e.message).toContain("4 remain");
    expectXdrError(() => r.readString(UNBOUNDED), "truncated", 0);
    expect(arrayBuffers() - before).toBeLessThan(4 * MB);
    expect(r.offset).toBe(0);
  });

  it("opaque length 2^32-1 with a max → limit", () => {
    const r = new XdrReader(bytes(0xff, 0xff, 0xff, 0xff, 1, 2, 3, 4));
    expectXdrError(() => r.readOpaqueVar(1024), "limit", 0);
    expectXdrError(() => r.readString(1024), "limit", 0);
  });

  it("array count larger than the remaining bytes → truncated before allocating", () => {
    const before = arrayBuffers();
    const r = new XdrReader(bytes(0xff, 0xff, 0xff, 0xff, 0, 0, 0, 1, 0, 0, 0, 2));
    const e = expectXdrError(() => r.readArrayLength(UNBOUNDED, 4), "truncated", 0);
    expect(e.message).toContain("8 remain");
    expect(arrayBuffers() - before).toBeLessThan(4 * MB);
    expect(r.offset).toBe(0);
    // Exactly enough is fine; one element too many is not.
    const ok = new XdrReader(bytes(0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0, 2));
    expect(ok.readArrayLength(UNBOUNDED, 4)).toBe(2);
    expect(ok.offset).toBe(4);
    const short = new XdrReader(bytes(0, 0, 0, 3, 0, 0, 0, 1, 0, 0, 0, 2));
    expectXdrError(() => short.readArrayLength(UNBOUNDED, 4), "truncated", 0);
  });

  it("array count over max → limit", () => {
    const r = new XdrReader(bytes(0, 0, 0, 3, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3));
    expectXdrError(() => r.readArrayLength(2, 4), "limit", 0);
    expect(r.readArrayLength(3, 4)).toBe(3);
  });
});

describe("truncation at every byte offset", () => {
  // One item of each kind; each entry reads one item and its byte span is
  // recorded while writing, so the expected failing offset is known for every cut.
  const enumNames = { 1: "ONE", 2: "TWO" } as const;
  type Item = { write: (w: XdrWriter) => void; read: (r: XdrReader) => void };
  const items: Item[] = [
    { write: (w) => w.writeInt(-5), read: (r) => r.readInt() },
    { write: (w) => w.writeUint(7), read: (r) => r.readUint() },
    { write: (w) => w.writeHyper(-9n), read: (r) => r.readHyper() },
    { write: (w) => w.writeUhyper(9n), read: (r) => r.readUhyper() },
    { write: (w) => w.writeFloat(1.5), read: (r) => r.readFloat() },
    { write: (w) => w.writeDouble(2.5), read: (r) => r.readDouble() },
    { write: (w) => w.writeBool(true), read: (r) => r.readBool() },
    { write: (w) => w.writeEnum(2, enumNames, "e"), read: (r) => r.readEnum(enumNames, "e") },
    {
      write: (w) => w.writeQuadruple(new Uint8Array(16).fill(3)),
      read: (r) => r.readQuadruple(),
    },
    {
      write: (w) => w.writeOpaqueFixed(bytes(1, 2, 3, 4, 5), 5),
      read: (r) => r.readOpaqueFixed(5),
    },
    {
      write: (w) => w.writeOpaqueVar(bytes(1, 2, 3), UNBOUNDED),
      read: (r) => r.readOpaqueVar(UNBOUNDED),
    },
    { write: (w) => w.writeString("hello", 255), read: (r) => r.readString(255) },
    {
      write: (w) => {
        w.writeArrayLength(3, 10);
        for (const v of [1, 2, 3]) w.writeUint(v);
      },
      read: (r) => {
        const n = r.readArrayLength(10, 4);
        for (let i = 0; i < n; i++) r.readUint();
      },
    },
  ];

  const base = 12; // the message sits inside a bigger buffer, garbage on both sides
  const w = new XdrWriter();
  const spans: [number, number][] = [];
  for (const item of items) {
    const start = w.length;
    item.write(w);
    spans.push([base + start, base + w.length]);
  }
  const msg = w.toBytes();
  const buf = new Uint8Array(base + msg.length + 64).fill(0xab);
  buf.set(msg, base);
  const decodeAll = (r: XdrReader): void => {
    for (const item of items) item.read(r);
  };

  it("decodes the whole message", () => {
    const r = new XdrReader(buf, base, base + msg.length);
    decodeAll(r);
    r.assertDone();
  });

  it("fails with truncated at the start of the item that is cut", () => {
    for (let len = 0; len < msg.length; len++) {
      const end = base + len;
      const [start] = spans.find(([, itemEnd]) => itemEnd > end)!;
      expectXdrError(() => decodeAll(new XdrReader(buf, base, end)), "truncated", start);
    }
  });
});

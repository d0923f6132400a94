import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { XdrReader, XdrWriter } from "../../src/xdr/index.js";

const UNBOUNDED = 0xffffffff;
const ENUM = { [-3]: "MINUS_THREE", 0: "ZERO", 7: "SEVEN", 0x7fffffff: "MAX" } as const;
const ENUM_VALUES = [-3, 0, 7, 0x7fffffff];

/** One write/read pair; `value` is what must come back. */
type Op =
  | { kind: "int" | "uint" | "float" | "double" | "enum" | "arrayLength"; value: number }
  | { kind: "hyper" | "uhyper"; value: bigint }
  | { kind: "bool"; value: boolean }
  | { kind: "quadruple" | "opaqueFixed" | "opaqueVar"; value: Uint8Array }
  | { kind: "string"; value: string };

function write(w: XdrWriter, op: Op): void {
  switch (op.kind) {
    case "int":
      return w.writeInt(op.value);
    case "uint":
      return w.writeUint(op.value);
    case "float":
      return w.writeFloat(op.value);
    case "double":
      return w.writeDouble(op.value);
    case "enum":
      return w.writeEnum(op.value, ENUM, "E");
    case "arrayLength":
      return w.writeArrayLength(op.value, UNBOUNDED);
    case "hyper":
      return w.writeHyper(op.value);
    case "uhyper":
      return w.writeUhyper(op.value);
    case "bool":
      return w.writeBool(op.value);
    case "quadruple":
      return w.writeQuadruple(op.value);
    case "opaqueFixed":
      return w.writeOpaqueFixed(op.value, op.value.length);
    case "opaqueVar":
      return w.writeOpaqueVar(op.value, UNBOUNDED);
    case "string":
      return w.writeString(op.value, UNBOUNDED);
  }
}

function read(r: XdrReader, op: Op): unknown {
  switch (op.kind) {
    case "int":
      return r.readInt();
    case "uint":
      return r.readUint();
    case "float":
      return r.readFloat();
    case "double":
      return r.readDouble();
    case "enum":
      return r.readEnum(ENUM, "E");
    case "arrayLength":
      return r.readArrayLength(UNBOUNDED, 0);
    case "hyper":
      return r.readHyper();
    case "uhyper":
      return r.readUhyper();
    case "bool":
      return r.readBool();
    case "quadruple":
      return r.readQuadruple();
    case "opaqueFixed":
      return r.readOpaqueFixed(op.value.length);
    case "opaqueVar":
      return r.readOpaqueVar(UNBOUNDED);
    case "string":
      return r.readString(UNBOUNDED);
  }
}

function roundTrip(ops: readonly Op[]): void {
  const w = new XdrWriter(8);
  for (const op of ops) write(w, op);
  expect(w.length % 4).toBe(0);
  const r = new XdrReader(w.finish());
  for (const op of ops) {
    // toEqual distinguishes 0 from -0 and treats NaN as equal to NaN.
    expect(read(r, op)).toEqual(op.value);
  }
  r.assertDone();
}

const bytesOf = (n: number): Uint8Array => new Uint8Array(n).map((_, i) => (i * 37 + 1) & 0xff);

describe("round trips with boundary values", () => {
  it("numbers", () => {
    const ops: Op[] = [
      ...[0, 1, -1, 0x7fffffff, -0x80000000].map((value): Op => ({ kind: "int", value })),
      ...[0, 1, 0x7fffffff, 0x80000000, 0xffffffff].map((value): Op => ({ kind: "uint", value })),
      ...[0n, -1n, 2n ** 63n - 1n, -(2n ** 63n), 2n ** 53n + 1n].map((value): Op => ({
        kind: "hyper",
        value,
      })),
      ...[0n, 1n, 2n ** 63n, 2n ** 64n - 1n].map((value): Op => ({ kind: "uhyper", value })),
      ...[0, -0, 1.5, NaN, Infinity, -Infinity, 3.4028234663852886e38, 1.401298464324817e-45].map(
        (value): Op => ({ kind: "float", value }),
      ),
      ...[0, -0, Math.PI, NaN, Infinity, -Infinity, Number.MAX_VALUE, Number.MIN_VALUE].map(
        (value): Op => ({ kind: "double", value }),
      ),
      { kind: "bool", value: true },
      { kind: "bool", value: false },
      ...ENUM_VALUES.map((value): Op => ({ kind: "enum", value })),
      ...[0, 1, 0xffffffff].map((value): Op => ({ kind: "arrayLength", value })),
    ];
    roundTrip(ops);
  });

  it("opaque lengths 0..9 (every padding case), quadruple, strings", () => {
    const ops: Op[] = [];
    for (let n = 0; n <= 9; n++) {
      ops.push({ kind: "opaqueVar", value: bytesOf(n) });
      ops.push({ kind: "opaqueFixed", value: bytesOf(n) });
      ops.push({ kind: "string", value: "abcdefghi".slice(0, n) });
    }
    ops.push({ kind: "quadruple", value: bytesOf(16) });
    ops.push({ kind: "string", value: "naïve ☃ 𝄞 " + "long ".repeat(100) });
    roundTrip(ops);
  });

  it("-0 as an int is just 0 (integers have no sign of zero)", () => {
    const w = new XdrWriter();
    w.writeInt(-0);
    expect(Object.is(new XdrReader(w.finish()).readInt(), 0)).toBe(true);
  });

  it("a float that is not exactly representable comes back rounded to float32", () => {
    const w = new XdrWriter();
    w.writeFloat(0.1);
    expect(new XdrReader(w.finish()).readFloat()).toBe(Math.fround(0.1));
  });
});

describe("property: random write sequences read back unchanged", () => {
  const opArb: fc.Arbitrary<Op> = fc.oneof(
    fc.integer().map((value): Op => ({ kind: "int", value })),
    fc.integer({ min: 0, max: 0xffffffff }).map((value): Op => ({ kind: "uint", value })),
    fc
      .bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n })
      .map((value): Op => ({ kind: "hyper", value })),
    fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }).map((value): Op => ({ kind: "uhyper", value })),
    // fc.float() yields only float32-representable values (incl. -0, NaN, ±Infinity).
    fc.float().map((value): Op => ({ kind: "float", value })),
    fc.double().map((value): Op => ({ kind: "double", value })),
    fc.boolean().map((value): Op => ({ kind: "bool", value })),
    fc.constantFrom(...ENUM_VALUES).map((value): Op => ({ kind: "enum", value })),
    fc.integer({ min: 0, max: 0xffffffff }).map((value): Op => ({ kind: "arrayLength", value })),
    fc
      .uint8Array({ minLength: 16, maxLength: 16 })
      .map((value): Op => ({ kind: "quadruple", value })),
    fc.uint8Array({ maxLength: 40 }).map((value): Op => ({ kind: "opaqueFixed", value })),
    fc.uint8Array({ maxLength: 40 }).map((value): Op => ({ kind: "opaqueVar", value })),
    // Well-formed Unicode only: lone surrogates cannot survive UTF-8 by design.
    fc.string({ unit: "grapheme", maxLength: 40 }).map((value): Op => ({ kind: "string", value })),
    fc
      .string({ unit: "grapheme-ascii", maxLength: 40 })
      .map((value): Op => ({ kind: "string", value })),
  );

  it("holds", () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 40 }), (ops) => roundTrip(ops)),
      { numRuns: 500 },
    );
  });
});

// The enum membership tests the generator emits (`is<Enum>`, range comparisons
// instead of lookups in the sparse `<enum>_names` tables) and the errors the
// generated enum and union codecs raise through them: every enum of every spec
// module must accept exactly its members, and a bad value must fail with the
// same code, offset, value and path as the table lookup it replaced.

import { describe, expect, it } from "vitest";
import { membershipTest, valueRanges } from "../../codegen/emit/enum.js";
import * as nfs4 from "../../generated/nfs4/index.js";
import * as rpc from "../../generated/rpc/index.js";
import type { TypeMeta } from "../../src/xdr/index.js";
import { XdrReader, XdrWriter } from "../../src/xdr/index.js";
import { catchXdr, expectXdrError } from "./expect-xdr-error.js";

type Module = Record<string, unknown>;
type EnumMeta = Extract<TypeMeta, { kind: "enum" }>;
type UnionMeta = Extract<TypeMeta, { kind: "union" }>;

const MODULES: [string, Module, Readonly<Record<string, TypeMeta>>][] = [
  ["nfs4", nfs4 as unknown as Module, nfs4.nfs4Types],
  ["rpc", rpc as unknown as Module, rpc.rpcTypes],
];

function fn<T>(m: Module, name: string): T {
  const f = m[name];
  if (typeof f !== "function") throw new Error(`generated module has no function ${name}`);
  return f as T;
}

/** One int32 word, big-endian. */
function word(v: number): Uint8Array {
  const w = new XdrWriter(4);
  w.writeInt(v);
  return w.toBytes();
}

const enums = MODULES.flatMap(([mod, m, types]) =>
  Object.values(types)
    .filter((t): t is EnumMeta => t.kind === "enum")
    .map((t) => [`${mod}.${t.name}`, m, t] as const),
);

describe("membershipTest (the emitted expression)", () => {
  it("groups values into runs", () => {
    expect(valueRanges([5, 3, 4, 10044, 0, 4])).toEqual([
      [0, 0],
      [3, 5],
      [10044, 10044],
    ]);
  });

  it("writes single values and runs of two as equality tests, longer runs as ranges", () => {
    expect(membershipTest([0, 1], "v")).toBe("v === 0 || v === 1");
    expect(membershipTest([6, 0, 1, 2, 3], "v")).toBe(
      "Number.isInteger(v) && ((v >= 0 && v <= 3) || v === 6)",
    );
    expect(membershipTest([-1, 0, 1], "x")).toBe("Number.isInteger(x) && x >= -1 && x <= 1");
    expect(membershipTest([], "v")).toBe("false");
  });

  it("evaluates to exact membership", () => {
    const values = [-5, -4, -3, 0, 2, 3, 7, 8, 9, 10, 100];
    const is = new Function("v", `return ${membershipTest(values, "v")};`) as (
      v: number,
    ) => boolean;
    for (let v = -10; v <= 110; v++) expect(is(v), String(v)).toBe(values.includes(v));
    for (const v of [2.5, -3.5, 8.25, NaN, Infinity, -Infinity])
      expect(is(v), String(v)).toBe(false);
  });
});

describe.each(enums)("%s", (_name, m, t) => {
  const values = [...new Set(Object.values(t.members))];
  const names = m[`${t.name}_names`] as Record<number, string>;
  const is = fn<(v: unknown) => boolean>(m, `is${t.name}`);
  const decode = fn<(r: XdrReader) => number>(m, `decode${t.name}`);
  const encode = fn<(w: XdrWriter, v: unknown) => void>(m, `encode${t.name}`);
  const lo = Math.min(...values);
  const hi = Math.max(...values);

  it("is<Enum> agrees with the _names table on every integer around the members", () => {
    const probes = new Set<number>([-(2 ** 31), 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1]);
    for (let v = lo - 3; v <= hi + 3; v++) probes.add(v);
    for (const v of probes) expect(is(v), `${t.name} ${v}`).toBe(names[v] !== undefined);
  });

  it("is<Enum> rejects fractions and non-numbers", () => {
    for (const v of [lo + 0.5, hi - 0.5, NaN, Infinity, String(lo), `${hi}`, null, undefined]) {
      expect(is(v), String(v)).toBe(false);
    }
  });

  it("decoding a non-member is code 'enum' at its offset, and leaves the reader there", () => {
    const bad = hi + 1;
    const input = new Uint8Array([0, 0, 0, 0, ...word(bad)]);
    const r = new XdrReader(input, 4);
    const e = expectXdrError(() => decode(r), "enum", 4, bad);
    expect(e.path).toEqual([]);
    expect(e.detail).toBe(`${bad} is not a member of enum ${t.name}`);
    expect(r.offset).toBe(4);
    expect(decode(new XdrReader(word(lo)))).toBe(lo);
  });

  it("encoding a non-member is code 'enum' at the current length and writes nothing", () => {
    for (const bad of [hi + 1, lo + 0.5, String(lo)]) {
      const w = new XdrWriter(8);
      w.writeUint(7);
      const e = expectXdrError(() => encode(w, bad), "enum", 4);
      expect(e.value).toBe(typeof bad === "number" ? bad : undefined);
      expect(w.length).toBe(4);
    }
    const w = new XdrWriter(8);
    encode(w, hi);
    expect([...w.finish()]).toEqual([...word(hi)]);
  });
});

// Unions switching on an enum with no default arm read the discriminant without
// a membership test: `default:` tells a non-member ("enum") from a member that
// has no arm ("discriminant").
const unions = MODULES.flatMap(([mod, m, types]) =>
  Object.values(types)
    .filter(
      (t): t is UnionMeta =>
        t.kind === "union" &&
        t.defaultArm === null &&
        t.discriminant.type.kind === "ref" &&
        types[t.discriminant.type.name]?.kind === "enum",
    )
    .map((t) => [`${mod}.${t.name}`, m, types, t] as const),
);

describe("unions on an enum without a default arm", () => {
  it("exist in the specs (nfs_argop4 among them)", () => {
    expect(unions.map(([n]) => n)).toContain("nfs4.nfs_argop4");
  });

  it.each(unions)(
    "%s: a non-member is 'enum', a member without an arm 'discriminant'",
    (_n, m, types, t) => {
      const disc = types[(t.discriminant.type as { name: string }).name] as EnumMeta;
      const members = new Set(Object.values(disc.members));
      const armed = new Set(t.arms.flatMap((a) => a.values as number[]));
      const decode = fn<(r: XdrReader) => unknown>(m, `decode${t.name}`);
      const encode = fn<(w: XdrWriter, v: unknown) => void>(m, `encode${t.name}`);

      const bad = Math.max(...members) + 1;
      const input = new Uint8Array([9, 9, 9, 9, ...word(bad)]);
      const r = new XdrReader(input, 4);
      const e = expectXdrError(() => decode(r), "enum", 4, bad);
      expect(e.path).toEqual([t.discriminant.name]);
      expect(r.offset).toBe(4);
      const we = catchXdr(() => encode(new XdrWriter(), { [t.discriminant.name]: bad }));
      expect([we.code, we.offset, we.value, we.path]).toEqual([
        "enum",
        0,
        bad,
        [t.discriminant.name],
      ]);

      const unarmed = [...members].find((v) => !armed.has(v));
      if (unarmed === undefined) return;
      const d = expectXdrError(
        () => decode(new XdrReader(word(unarmed))),
        "discriminant",
        0,
        unarmed,
      );
      expect(d.path).toEqual([t.discriminant.name]);
      const de = catchXdr(() => encode(new XdrWriter(), { [t.discriminant.name]: unarmed }));
      expect([de.code, de.offset, de.value]).toEqual(["discriminant", 0, unarmed]);
    },
  );
});

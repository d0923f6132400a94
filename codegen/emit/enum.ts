// enum → a const object of its members, a literal-union type of the same name,
// a `<name>_names` value→name table (for messages and tools), and in the codec
// a membership test `is<name>` plus codec functions that reject values outside
// the enum.
//
// The membership test compares against the members' values as ranges
// (`(v >= 3 && v <= 71) || v === 10044`) rather than looking the value up in
// `<name>_names`: the tables of the big NFS enums are sparse (values up to
// 10094), so V8 keeps them in dictionary mode and every lookup is a hash probe.

import { StructureKind, VariableDeclarationKind } from "ts-morph";
import type { ResolvedType } from "../resolve.js";
import type { Emitted, TypeContexts } from "./emitted.js";
import { decoderFunction, encoderFunction, sourceDoc } from "./emitted.js";
import { str } from "./context.js";

/** The distinct values as maximal runs of consecutive integers, ascending. */
export function valueRanges(values: Iterable<number>): [number, number][] {
  const sorted = [...new Set(values)].sort((a, b) => a - b);
  const out: [number, number][] = [];
  for (const v of sorted) {
    const last = out[out.length - 1];
    if (last && v === last[1] + 1) last[1] = v;
    else out.push([v, v]);
  }
  return out;
}

/**
 * A boolean expression that is true exactly when the number `v` (an identifier)
 * is one of `values`. Runs of consecutive values become range comparisons, which
 * let a fraction through (2.5 lies in 2–4), so those are guarded by an integer
 * test; equality tests are exact on their own.
 */
export function membershipTest(values: Iterable<number>, v: string): string {
  // A run of two is clearer (and exact) as two equality tests.
  const ranges: [number, number][] = [];
  for (const [lo, hi] of valueRanges(values)) {
    if (hi === lo + 1) ranges.push([lo, lo], [hi, hi]);
    else ranges.push([lo, hi]);
  }
  if (ranges.length === 0) return "false";
  const term = ([lo, hi]: [number, number]): string =>
    lo === hi ? `${v} === ${lo}` : `${v} >= ${lo} && ${v} <= ${hi}`;
  if (ranges.every(([lo, hi]) => lo === hi)) return ranges.map(term).join(" || ");
  const any =
    ranges.length === 1
      ? term(ranges[0]!)
      : `(${ranges.map((r) => (r[0] === r[1] ? term(r) : `(${term(r)})`)).join(" || ")})`;
  return `Number.isInteger(${v}) && ${any}`;
}

/** "0–2", "3–71 or 10044", "0–70 or 10001–10094": the ranges in words, for doc comments. */
function describeRanges(values: Iterable<number>): string {
  const parts = valueRanges(values).map(([lo, hi]) =>
    lo === hi ? String(lo) : hi === lo + 1 ? `${lo}, ${hi}` : `${lo}–${hi}`,
  );
  if (parts.length <= 1) return parts[0] ?? "none";
  return `${parts.slice(0, -1).join(", ")} or ${parts[parts.length - 1]!}`;
}

export function emitEnum(ctx: TypeContexts, t: Extract<ResolvedType, { kind: "enum" }>): Emitted {
  const members = Object.entries(t.members);
  const names = new Map<number, string>();
  for (const [name, value] of members) if (!names.has(value)) names.set(value, name);
  const key = (v: number): string => (v < 0 ? str(String(v)) : String(v));
  const namesTable = [...names].map(([v, n]) => `${key(v)}: ${str(n)}`).join(", ");
  const c = ctx.codec;
  const type = c.typeName(t.name);
  const is = `is${t.name}`;
  return {
    types: [
      {
        kind: StructureKind.VariableStatement,
        isExported: true,
        declarationKind: VariableDeclarationKind.Const,
        docs: [sourceDoc(t.pos)],
        declarations: [
          {
            name: t.name,
            initializer: `{ ${members.map(([n, v]) => `${n}: ${v}`).join(", ")} } as const`,
          },
        ],
      },
      {
        kind: StructureKind.TypeAlias,
        isExported: true,
        name: t.name,
        type: `(typeof ${t.name})[keyof typeof ${t.name}]`,
      },
      {
        kind: StructureKind.VariableStatement,
        isExported: true,
        declarationKind: VariableDeclarationKind.Const,
        docs: [`The name of each value of ${t.name}.`],
        declarations: [
          {
            name: `${t.name}_names`,
            type: "Readonly<Record<number, string>>",
            initializer: `{ ${namesTable} }`,
          },
        ],
      },
    ],
    codec: [
      {
        kind: StructureKind.Function,
        isExported: true,
        name: is,
        docs: [`Whether \`v\` is a value of ${t.name} (${describeRanges(names.keys())}).`],
        parameters: [{ name: "v", type: "number" }],
        returnType: `v is ${type}`,
        statements: [`return ${membershipTest(names.keys(), "v")};`],
      },
      decoderFunction(c, t.name, [
        "const v = r.readInt();",
        `if (${is}(v)) return v;`,
        `throw r.enumError(v, ${str(t.name)});`,
      ]),
      encoderFunction(c, t.name, [
        `if (!${is}(v)) throw w.enumError(v, ${str(t.name)});`,
        "w.writeInt(v);",
      ]),
    ],
  };
}

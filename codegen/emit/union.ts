// union → a discriminated union keyed by the discriminant's field name, one
// variant per arm (a `default` arm keeps the raw discriminant value), and a codec
// pair that switches on the discriminant. Arms are selected with numeric case
// labels (commented with their enum names) so that V8 can use a jump table.

import { StructureKind } from "ts-morph";
import type { UnionArmMeta, XdrType } from "../../src/xdr/meta.js";
import type { ResolvedType } from "../resolve.js";
import type { FileContext } from "./context.js";
import { localName, str } from "./context.js";
import { decodeExpr, decodeInto, encodeFrom, tsType } from "./declaration.js";
import type { Emitted, TypeContexts } from "./emitted.js";
import { decoderFunction, encoderFunction, sourceDoc, tracked } from "./emitted.js";

type Union = Extract<ResolvedType, { kind: "union" }>;
type Disc =
  { kind: "int" | "uint" | "bool" } | { kind: "enum"; name: string; byValue: Map<number, string> };

/** The discriminant's underlying kind, looking through typedefs. */
function discKind(ctx: FileContext, t: XdrType): Disc {
  if (t.kind === "int" || t.kind === "uint" || t.kind === "bool") return { kind: t.kind };
  if (t.kind !== "ref") throw new Error(`codegen: bad discriminant ${t.kind}`);
  const named = ctx.type(t.name);
  if (named.kind === "typedef") return discKind(ctx, named.type);
  if (named.kind !== "enum") throw new Error(`codegen: bad discriminant ${t.name}`);
  const byValue = new Map<number, string>();
  for (const [n, v] of Object.entries(named.members)) if (!byValue.has(v)) byValue.set(v, n);
  return { kind: "enum", name: t.name, byValue };
}

/** The TypeScript literal type of one discriminant value. */
function labelType(ctx: FileContext, d: Disc, v: number | boolean): string {
  if (d.kind === "enum")
    return `typeof ${ctx.enumValue(d.name, d.name)}.${d.byValue.get(v as number)!}`;
  return String(v);
}

/** A case label with the enum member's name as a comment. */
function caseLabel(d: Disc, v: number | boolean): string {
  return d.kind === "enum" ? `case ${v}: // ${d.byValue.get(v as number)!}` : `case ${v}:`;
}

function armField(arm: { name: string | null; type: XdrType }, ctx: FileContext): string {
  return arm.name === null ? "" : `; ${arm.name}: ${tsType(ctx, arm.type)}`;
}

export function emitUnion(ctx: TypeContexts, t: Union, minSize: (t: XdrType) => number): Emitted {
  const d = discKind(ctx.types, t.discriminant.type);
  const dn = t.discriminant.name;
  const variants = t.arms.map(
    (a) =>
      `{ ${dn}: ${a.values.map((v) => labelType(ctx.types, d, v)).join(" | ")}${armField(a, ctx.types)} }`,
  );
  if (t.defaultArm) {
    const taken = t.arms.flatMap((a) => a.values.map((v) => labelType(ctx.types, d, v)));
    const all =
      d.kind === "enum" ? ctx.types.typeName(d.name) : d.kind === "bool" ? "boolean" : "number";
    const rest =
      d.kind === "int" || d.kind === "uint" || taken.length === 0
        ? all
        : `Exclude<${all}, ${taken.join(" | ")}>`;
    variants.push(`{ ${dn}: ${rest}${armField(t.defaultArm, ctx.types)} }`);
  }
  return {
    types: [
      {
        kind: StructureKind.TypeAlias,
        isExported: true,
        name: t.name,
        docs: [sourceDoc(t.pos)],
        type: variants.length > 0 ? variants.map((v) => `\n  | ${v}`).join("") : "never",
      },
    ],
    codec: [decoder(ctx.codec, t, d, minSize), encoder(ctx.codec, t, d)],
  };
}

function discValue(a: UnionArmMeta, d: Disc, dn: string): string {
  if (a.values.length === 1) return String(a.values[0]);
  // Several labels share the arm: the switch has narrowed the discriminant to them.
  return d.kind === "enum" ? dn : `${dn} as ${a.values.join(" | ")}`;
}

function decoder(c: FileContext, t: Union, d: Disc, minSize: (t: XdrType) => number) {
  const dn = t.discriminant.name;
  // With an enum discriminant and no default arm, the switch itself rejects
  // every value without an arm, so the enum's membership test only has to run
  // there, to tell "enum" (no member) from "discriminant" (a member, no arm).
  const unchecked = d.kind === "enum" && t.defaultArm === null;
  const body: string[] = unchecked
    ? [
        `// Membership of ${d.name} is tested in \`default:\` only: a non-member has no arm either.`,
        `const disc = r.readInt() as ${c.typeName(d.name)};`,
      ]
    : [`const disc = ${decodeExpr(c, t.discriminant.type)!};`];
  body.push("switch (disc) {");
  // An arm that decodes as one expression goes straight into the returned object;
  // one that needs statements (an array, a list) gets a block for its locals.
  const arm = (name: string | null, type: XdrType, value: string): string[] => {
    if (name === null) return [`return { ${dn}: ${value} };`];
    const expr = decodeExpr(c, type);
    if (expr !== null)
      return [`at = ${str(name)};`, `return { ${dn}: ${value}, ${name}: ${expr} };`];
    const v = localName(name);
    return [
      "{",
      `at = ${str(name)};`,
      ...decodeInto(c, type, v, minSize),
      `return { ${dn}: ${value}, ${name}: ${v} };`,
      "}",
    ];
  };
  for (const a of t.arms)
    body.push(
      ...a.values.map((v) => caseLabel(d, v)),
      ...arm(a.name, a.type, discValue(a, d, "disc")),
    );
  body.push("default:");
  if (t.defaultArm) body.push(...arm(t.defaultArm.name, t.defaultArm.type, "disc"));
  else {
    if (unchecked)
      body.push(
        `if (!${c.use(`is${d.name}`, d.name, "codec", false)}(disc)) throw r.enumError(disc, ${str(d.name)});`,
      );
    body.push(noArm(c, t, "disc", "r.offset - 4"));
  }
  body.push("}");
  return decoderFunction(c, t.name, tracked(c, dn, body));
}

function encoder(c: FileContext, t: Union, d: Disc) {
  const dn = t.discriminant.name;
  const body: string[] = [...encodeFrom(c, t.discriminant.type, `v.${dn}`), `switch (v.${dn}) {`];
  // A numeric default variant ({ d: number }) is not excluded by a case label, so
  // the arms of such a union narrow the value by hand.
  const narrow = t.defaultArm !== null && d.kind !== "enum" && d.kind !== "bool";
  const armValue = (name: string, values: readonly (number | boolean)[]): string =>
    narrow
      ? `(v as Extract<${c.typeName(t.name)}, { ${dn}: ${values.join(" | ")} }>).${name}`
      : `v.${name}`;
  const arm = (name: string | null, type: XdrType, value: string): string[] =>
    name === null ? ["return;"] : [`at = ${str(name)};`, ...encodeFrom(c, type, value), "return;"];
  for (const a of t.arms)
    body.push(
      ...a.values.map((v) => caseLabel(d, v)),
      ...arm(a.name, a.type, a.name === null ? "" : armValue(a.name, a.values)),
    );
  body.push("default:");
  if (t.defaultArm)
    body.push(...arm(t.defaultArm.name, t.defaultArm.type, `v.${t.defaultArm.name ?? ""}`));
  else body.push(noArm(c, t, `(v as { ${dn}: number | boolean }).${dn}`, "w.length - 4"));
  body.push("}");
  return encoderFunction(c, t.name, tracked(c, dn, body));
}

function noArm(c: FileContext, t: Union, value: string, offset: string): string {
  const err = c.runtime("XdrError", false);
  return `throw new ${err}("discriminant", \`${t.name} has no arm for ${t.discriminant.name} = \${${value}}\`, ${offset}, Number(${value}));`;
}

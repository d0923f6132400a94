// Which unions are dispatch unions, and how their results carry a status —
// read off the AST, not off a list of names.
//
// A dispatch union is the element type of an array field of a procedure's
// argument or result struct: COMPOUND4args.argarray holds nfs_argop4 and
// COMPOUND4res.resarray nfs_resop4 (RFC 8881 §16.2), and likewise for
// CB_COMPOUND (§19.2). A dispatch union found in a result struct whose first
// field is an enum (COMPOUND4res.status: nfsstat4) is a result union: each of
// its arms holds an operation's result, and each result carries that enum
// (RFC 8881 §15: every result starts with the operation's nfsstat4) either as
// a union's discriminant or as a struct's first field.

import type { XdrType } from "../../src/xdr/meta.js";
import type { Model, ResolvedType } from "../resolve.js";

export type Union = Extract<ResolvedType, { kind: "union" }>;
export type Struct = Extract<ResolvedType, { kind: "struct" }>;
type Enum = Extract<ResolvedType, { kind: "enum" }>;

/** A named type with typedefs looked through (SECINFO_NO_NAME4res → SECINFO4res). */
export function resolveNamed(model: Model, name: string): ResolvedType {
  let t = model.types_by_name.get(name);
  while (t?.kind === "typedef" && t.type.kind === "ref") t = model.types_by_name.get(t.type.name);
  if (!t) throw new Error(`codegen: unknown type '${name}'`);
  return t;
}

/** The enum a declaration's type is, through typedefs, or null. */
export function enumOf(model: Model, t: XdrType): Enum | null {
  if (t.kind !== "ref") return null;
  const named = resolveNamed(model, t.name);
  return named.kind === "enum" ? named : null;
}

/** How a result type carries its status. */
export interface ResultType {
  /** The type after typedefs (its builder is named after it). */
  readonly type: Struct | Union;
  /** The status field: the union's discriminant or the struct's first field. */
  readonly field: string;
}

/** How result type `name` carries a value of enum `status`, or null if it does not. */
export function resultType(model: Model, name: string, status: string): ResultType | null {
  const t = resolveNamed(model, name);
  if (t.kind === "union" && enumOf(model, t.discriminant.type)?.name === status)
    return { type: t, field: t.discriminant.name };
  const first = t.kind === "struct" ? t.fields[0] : undefined;
  if (t.kind === "struct" && first && enumOf(model, first.type)?.name === status)
    return { type: t, field: first.name };
  return null;
}

export interface DispatchUnion {
  readonly union: Union;
  /** The discriminant's enum: operation numbers (nfs_opnum4, nfs_cb_opnum4). */
  readonly disc: Enum;
  /** For a result union, the status enum its results carry (nfsstat4); null for arguments. */
  readonly status: string | null;
}

/**
 * The dispatch unions of `module` in definition order. Only unions keyed by an
 * enum and without a default arm qualify: every arm is then one operation's.
 */
export function dispatchUnions(model: Model, module: string): DispatchUnion[] {
  const found = new Map<string, string | null>();
  const visit = (t: XdrType, inResult: boolean): void => {
    if (t.kind !== "ref") return;
    const s = resolveNamed(model, t.name);
    if (s.kind !== "struct") return;
    const first = s.fields[0];
    const status = inResult && first ? (enumOf(model, first.type)?.name ?? null) : null;
    for (const f of s.fields)
      if (f.type.kind === "array" && f.type.of.kind === "ref") {
        const u = resolveNamed(model, f.type.of.name);
        if (u.kind === "union") found.set(u.name, status);
      }
  };
  for (const p of model.programs) {
    if (p.module !== module) continue;
    for (const v of p.versions)
      for (const proc of v.procedures) {
        proc.args.forEach((a) => visit(a, false));
        visit(proc.result, true);
      }
  }
  const out: DispatchUnion[] = [];
  for (const t of model.types) {
    if (t.kind !== "union" || t.module !== module || !found.has(t.name)) continue;
    const disc = enumOf(model, t.discriminant.type);
    if (disc === null || t.defaultArm !== null) continue;
    const status = found.get(t.name) ?? null;
    if (status !== null)
      for (const a of t.arms)
        if (a.type.kind !== "ref" || !resultType(model, a.type.name, status))
          throw new Error(
            `codegen: ${t.pos.file}:${t.pos.line}: arm '${a.name ?? "void"}' of result union ${t.name} carries no ${status}`,
          );
    out.push({ union: t, disc, status });
  }
  return out;
}

/** The name of the enum member with value `v` (the first, if several share it). */
export function memberName(e: Enum, v: number): string {
  const hit = Object.entries(e.members).find(([, x]) => x === v);
  if (!hit) throw new Error(`codegen: ${e.name} has no member ${v}`);
  return hit[0];
}

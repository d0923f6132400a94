// Zero values: for any XDR type, an expression building the simplest value the
// generated encoder accepts — 0, 0n, false, "", empty arrays and opaques, fixed
// opaques and arrays of their exact length, an enum's first member, a struct of
// zero fields, a union's first arm. A struct or union gets a `zero<Name>()`
// constructor (a fresh value per call: arrays and byte buffers are mutable), and
// only those some builder needs are emitted.

import type { FunctionDeclarationStructure } from "ts-morph";
import { StructureKind } from "ts-morph";
import type { XdrType } from "../../src/xdr/meta.js";
import type { FileContext } from "./context.js";
import { enumOf, memberName } from "./dispatch.js";
import type { Struct, Union } from "./dispatch.js";

export class ZeroValues {
  /** Struct and union names whose constructor is needed, in first-use order. */
  private readonly needed: string[] = [];
  private readonly seen = new Set<string>();
  /** The constructors the one being built calls, while functions() builds one. */
  private calls: Set<string> | null = null;

  constructor(private readonly ctx: FileContext) {}

  /** An expression for the zero value of `t`. */
  expr(t: XdrType): string {
    switch (t.kind) {
      case "int":
      case "uint":
      case "float":
      case "double":
        return "0";
      case "hyper":
      case "uhyper":
        return "0n";
      case "bool":
        return "false";
      case "quadruple":
        return "new Uint8Array(16)";
      case "opaque":
        return `new Uint8Array(${t.fixed ?? 0})`;
      case "string":
        return '""';
      case "void":
        return "undefined";
      case "array":
        return t.fixed !== null && t.fixed > 0
          ? `Array.from({ length: ${t.fixed} }, () => ${this.expr(t.of)})`
          : "[]";
      case "optional":
        return "null";
      case "list":
        return "[]";
      case "ref":
        return this.ref(t.name);
    }
  }

  /** The zero value of a union arm selected by discriminant `value`: its field, if any. */
  armField(arm: { name: string | null; type: XdrType }): string {
    return arm.name === null ? "" : `, ${arm.name}: ${this.expr(arm.type)}`;
  }

  private ref(name: string): string {
    const t = this.ctx.type(name);
    switch (t.kind) {
      case "enum": {
        const first = Object.keys(t.members)[0];
        if (first === undefined) throw new Error(`codegen: enum ${name} has no members`);
        return `${this.ctx.enumValue(name, name)}.${first}`;
      }
      case "typedef":
        return this.expr(t.type);
      case "struct":
      case "union":
        this.calls?.add(name);
        if (!this.seen.has(name)) {
          this.seen.add(name);
          this.needed.push(name);
        }
        return `zero${name}()`;
    }
  }

  /**
   * The constructors of every type used so far, and of those they use in turn.
   * Throws if a constructor would call itself (a union whose first arm needs the
   * union again), since that value would never finish building.
   */
  functions(): FunctionDeclarationStructure[] {
    const out: FunctionDeclarationStructure[] = [];
    const calls = new Map<string, Set<string>>();
    for (let i = 0; i < this.needed.length; i++) {
      const name = this.needed[i]!;
      const t = this.ctx.type(name);
      if (t.kind !== "struct" && t.kind !== "union")
        throw new Error(`codegen: ${name} is not a struct or union`);
      this.calls = new Set();
      const body = t.kind === "struct" ? this.struct(t) : this.union(t);
      calls.set(name, this.calls);
      this.calls = null;
      out.push({
        kind: StructureKind.Function,
        isExported: true,
        name: `zero${name}`,
        docs: [
          t.kind === "union"
            ? `The zero value of ${name}: its first arm, with a zero value in it.`
            : `The zero value of ${name}: every field's zero value.`,
        ],
        returnType: this.ctx.typeName(name),
        statements: [`return ${body};`],
      });
    }
    checkFinite(calls);
    return out;
  }

  private struct(t: Struct): string {
    return `{ ${t.fields.map((f) => `${f.name}: ${this.expr(f.type)}`).join(", ")} }`;
  }

  private union(t: Union): string {
    const dn = t.discriminant.name;
    const first = t.arms[0];
    const arm = first ?? t.defaultArm;
    if (!arm) throw new Error(`codegen: union ${t.name} has no arm`);
    const label = first ? first.values[0] : undefined;
    const e = enumOf(this.ctx.model, t.discriminant.type);
    let disc: string;
    if (e !== null) {
      const v = typeof label === "number" ? label : Object.values(e.members)[0];
      if (v === undefined) throw new Error(`codegen: enum ${e.name} has no members`);
      disc = `${this.ctx.enumValue(e.name, e.name)}.${memberName(e, v)}`;
    } else disc = String(label ?? (t.discriminant.type.kind === "bool" ? false : 0));
    return `{ ${dn}: ${disc}${this.armField(arm)} }`;
  }
}

/** Throws if the constructor call graph has a cycle. */
function checkFinite(calls: ReadonlyMap<string, ReadonlySet<string>>): void {
  const state = new Map<string, "open" | "done">();
  const visit = (n: string, path: string[]): void => {
    if (state.get(n) === "done") return;
    if (state.get(n) === "open")
      throw new Error(`codegen: no finite zero value for ${[...path, n].join(" → ")}`);
    state.set(n, "open");
    for (const m of calls.get(n) ?? []) visit(m, [...path, n]);
    state.set(n, "done");
  };
  for (const n of calls.keys()) visit(n, []);
}

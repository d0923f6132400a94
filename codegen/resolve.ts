// The resolver: turns the parsed specifications into a checked model that the
// emitters can trust. All spec files share one namespace (as with rpcgen, enum
// members and constants live beside type names), so a file may use names
// another file defines. Every problem is reported as `file:line:col: message`;
// the resolver collects them all rather than stopping at the first.

import type {
  Declaration,
  EnumBody,
  Pos,
  Specification,
  StructBody,
  TypeSpec,
  UnionBody,
  Value,
} from "./ast.js";
import { XdrSpecError } from "./ast.js";
import type { FieldMeta, ProgramMeta, TypeMeta, UnionArmMeta, XdrType } from "../src/xdr/meta.js";

/** XDR's "unbounded" `<>` limit, the largest length a 32-bit count can carry. */
export const UNBOUNDED = 0xffffffff;

/** Smallest and largest encoded size in bytes; max is null when unbounded. */
export interface Size {
  readonly min: number;
  readonly max: number | null;
}

export type ResolvedType = TypeMeta & { readonly module: string; readonly pos: Pos };

export interface ResolvedConst {
  readonly name: string;
  readonly value: bigint;
  readonly module: string;
  readonly pos: Pos;
}

export type ResolvedProgram = ProgramMeta & { readonly module: string; readonly pos: Pos };

/** A named integer constant that is not a `const`: program, version and procedure numbers. */
export interface ResolvedNumber {
  readonly name: string;
  readonly value: number;
  readonly module: string;
}

export interface Model {
  /** Module names (spec file base names) in the order the files were given. */
  readonly modules: readonly string[];
  readonly consts: readonly ResolvedConst[];
  /** Named types in definition order; inline types are hoisted just before their parent. */
  readonly types: readonly ResolvedType[];
  readonly programs: readonly ResolvedProgram[];
  readonly types_by_name: ReadonlyMap<string, ResolvedType>;
  /** Which module defines each top-level name (types, constants, enum members, programs). */
  readonly owner: ReadonlyMap<string, string>;
}

export class ResolveError extends Error {
  constructor(readonly errors: readonly XdrSpecError[]) {
    super(errors.map((e) => e.message).join("\n"));
    this.name = "ResolveError";
  }
}

/**
 * The module a spec file becomes: its base name without `.x`, made a valid
 * identifier (it names generated exports such as `<module>Types`):
 * `spec/nfs4.x` → `nfs4`, `test/rfc4506-example.x` → `rfc4506_example`.
 */
export function moduleName(file: string): string {
  const base = file.slice(file.lastIndexOf("/") + 1);
  const name = (base.endsWith(".x") ? base.slice(0, -2) : base).replace(/[^A-Za-z0-9_$]/g, "_");
  return /^[0-9]/.test(name) ? `_${name}` : name;
}

// ---------------------------------------------------------------------------
// Pass 1: flatten definitions, hoisting inline enum/struct/union types.

type RawBody =
  | { readonly kind: "enum"; readonly body: EnumBody }
  | { readonly kind: "struct"; readonly body: StructBody }
  | { readonly kind: "union"; readonly body: UnionBody }
  | { readonly kind: "typedef"; readonly decl: Declaration };

interface RawType {
  readonly name: string;
  readonly module: string;
  readonly pos: Pos;
  readonly raw: RawBody;
}

type Symbol =
  | { readonly kind: "const"; readonly pos: Pos; readonly value: Value }
  | { readonly kind: "member"; readonly pos: Pos; readonly value: Value; readonly enumName: string }
  | { readonly kind: "type"; readonly pos: Pos; readonly type: RawType }
  | { readonly kind: "number"; readonly pos: Pos; readonly value: Value; readonly what: string };

function where(pos: Pos): string {
  return `${pos.file}:${pos.line}:${pos.col}`;
}

class Resolver {
  private readonly errors: XdrSpecError[] = [];
  private readonly symbols = new Map<string, Symbol>();
  private readonly owner = new Map<string, string>();
  private readonly rawTypes: RawType[] = [];
  private readonly constOrder: { name: string; module: string; pos: Pos }[] = [];
  private readonly valueCache = new Map<string, bigint | null>();
  private readonly evaluating = new Set<string>();
  private readonly resolved = new Map<string, ResolvedType>();
  private readonly sizeCache = new Map<string, Size>();
  private readonly sizing = new Set<string>();

  constructor(private readonly specs: readonly Specification[]) {}

  run(): Model {
    for (const spec of this.specs) this.collect(spec);
    const consts: ResolvedConst[] = [];
    for (const c of this.constOrder) {
      const value = this.symbolValue(c.name);
      if (value !== null) consts.push({ name: c.name, value, module: c.module, pos: c.pos });
    }
    const types: ResolvedType[] = [];
    for (const raw of this.rawTypes) {
      const t = this.resolveType(raw);
      if (t) {
        this.resolved.set(raw.name, t);
        types.push(t);
      }
    }
    this.checkRecursion(types);
    const sized = this.errors.length === 0 ? types.map((t) => this.withSizes(t)) : types;
    const programs = this.resolvePrograms();
    if (this.errors.length > 0) throw new ResolveError(this.errors);
    return {
      modules: this.specs.map((s) => moduleName(s.file)),
      consts,
      types: sized,
      programs,
      types_by_name: new Map(sized.map((t) => [t.name, t])),
      owner: this.owner,
    };
  }

  private error(pos: Pos, text: string): void {
    this.errors.push(new XdrSpecError(pos, text));
  }

  private define(name: string, module: string, symbol: Symbol): boolean {
    const previous = this.symbols.get(name);
    if (previous) {
      this.error(symbol.pos, `'${name}' is already defined at ${where(previous.pos)}`);
      return false;
    }
    this.symbols.set(name, symbol);
    this.owner.set(name, module);
    return true;
  }

  private collect(spec: Specification): void {
    const module = moduleName(spec.file);
    for (const def of spec.definitions) {
      switch (def.kind) {
        case "const":
          if (this.define(def.name, module, { kind: "const", pos: def.pos, value: def.value }))
            this.constOrder.push({ name: def.name, module, pos: def.pos });
          break;
        case "enum":
        case "struct":
        case "union":
          this.addType(def.name, module, def.pos, { kind: def.kind, body: def.body } as RawBody);
          break;
        case "typedef":
          this.addTypedef(def.decl, module, def.pos);
          break;
        case "program":
          this.define(def.name, module, {
            kind: "number",
            pos: def.pos,
            value: def.number,
            what: "program",
          });
          for (const v of def.versions) {
            this.define(v.name, module, {
              kind: "number",
              pos: v.pos,
              value: v.number,
              what: "version",
            });
            for (const p of v.procedures)
              this.define(p.name, module, {
                kind: "number",
                pos: p.pos,
                value: p.number,
                what: "procedure",
              });
          }
          break;
        case "passthrough":
          break;
      }
    }
  }

  /** `typedef enum {…} name;` and friends name the inline type directly. */
  private addTypedef(decl: Declaration, module: string, pos: Pos): void {
    if (decl.kind === "void") {
      this.error(decl.pos, "a typedef cannot declare void");
      return;
    }
    if (
      decl.kind === "plain" &&
      (decl.type.kind === "enum" || decl.type.kind === "struct" || decl.type.kind === "union")
    ) {
      this.addType(decl.name, module, pos, {
        kind: decl.type.kind,
        body: decl.type.body,
      } as RawBody);
      return;
    }
    const hoisted = this.hoistDecl(decl, decl.name, module);
    this.addType(decl.name, module, pos, { kind: "typedef", decl: hoisted });
  }

  private addType(name: string, module: string, pos: Pos, raw: RawBody): void {
    // Hoist inline types out of the body first so that they precede their parent.
    let body: RawBody = raw;
    if (raw.kind === "struct") {
      body = {
        kind: "struct",
        body: {
          fields: raw.body.fields.map((f) => this.hoistDecl(f, `${name}_${declName(f)}`, module)),
        },
      };
    } else if (raw.kind === "union") {
      const u = raw.body;
      body = {
        kind: "union",
        body: {
          discriminant: this.hoistDecl(
            u.discriminant,
            `${name}_${declName(u.discriminant)}`,
            module,
          ),
          cases: u.cases.map((c) => ({
            ...c,
            arm: this.hoistDecl(c.arm, `${name}_${declName(c.arm)}`, module),
          })),
          defaultArm:
            u.defaultArm &&
            this.hoistDecl(u.defaultArm, `${name}_${declName(u.defaultArm)}`, module),
        },
      };
    }
    const type: RawType = { name, module, pos, raw: body };
    if (!this.define(name, module, { kind: "type", pos, type })) return;
    if (body.kind === "enum") {
      for (const m of body.body.members)
        this.define(m.name, module, { kind: "member", pos: m.pos, value: m.value, enumName: name });
    }
    this.rawTypes.push(type);
  }

  /** Replaces an inline enum/struct/union type in a declaration by a reference to a hoisted named type. */
  private hoistDecl(decl: Declaration, hoistName: string, module: string): Declaration {
    if (
      decl.kind === "void" ||
      decl.kind === "opaqueFixed" ||
      decl.kind === "opaqueVar" ||
      decl.kind === "string"
    )
      return decl;
    const t = decl.type;
    if (t.kind !== "enum" && t.kind !== "struct" && t.kind !== "union") return decl;
    this.addType(hoistName, module, t.pos, { kind: t.kind, body: t.body } as RawBody);
    return { ...decl, type: { kind: "ref", name: hoistName, pos: t.pos } };
  }

  // -------------------------------------------------------------------------
  // Constant values.

  private symbolValue(name: string): bigint | null {
    const cached = this.valueCache.get(name);
    if (cached !== undefined) return cached;
    const sym = this.symbols.get(name);
    if (!sym || sym.kind === "type") return null;
    if (this.evaluating.has(name)) {
      this.error(sym.pos, `the value of '${name}' depends on itself`);
      this.valueCache.set(name, null);
      return null;
    }
    this.evaluating.add(name);
    const v = this.value(sym.value);
    this.evaluating.delete(name);
    this.valueCache.set(name, v);
    return v;
  }

  /** The integer a value stands for, or null (with an error reported). */
  private value(v: Value): bigint | null {
    if (v.kind === "literal") return v.value;
    const sym = this.symbols.get(v.name);
    if (!sym) {
      this.error(v.pos, `'${v.name}' is not defined`);
      return null;
    }
    if (sym.kind === "type") {
      this.error(v.pos, `'${v.name}' is a type, not a constant`);
      return null;
    }
    return this.symbolValue(v.name);
  }

  private sizeValue(v: Value, what: string): number | null {
    const n = this.value(v);
    if (n === null) return null;
    if (n < 0n || n > BigInt(UNBOUNDED)) {
      this.error(v.pos, `${what} must be between 0 and ${UNBOUNDED}, not ${n}`);
      return null;
    }
    return Number(n);
  }

  // -------------------------------------------------------------------------
  // Types.

  private resolveType(raw: RawType): ResolvedType | null {
    const base = { module: raw.module, pos: raw.pos, name: raw.name, minSize: 0, maxSize: null };
    switch (raw.raw.kind) {
      case "enum":
        return { ...base, kind: "enum", members: this.enumMembers(raw.name, raw.raw.body) };
      case "struct": {
        const fields: FieldMeta[] = [];
        const seen = new Map<string, Pos>();
        for (const f of raw.raw.body.fields) {
          const field = this.field(f, `field of struct '${raw.name}'`, seen);
          if (field) fields.push(field);
        }
        return { ...base, kind: "struct", ...splitLink(raw.name, fields) };
      }
      case "union":
        return this.resolveUnion(raw, raw.raw.body);
      case "typedef": {
        const type = this.declType(raw.raw.decl);
        return type ? { ...base, kind: "typedef", type } : null;
      }
    }
  }

  private enumMembers(name: string, body: EnumBody): Record<string, number> {
    const members: Record<string, number> = {};
    for (const m of body.members) {
      const v = this.symbolValue(m.name);
      if (v === null) continue;
      if (v < -(2n ** 31n) || v >= 2n ** 31n) {
        this.error(
          m.value.pos,
          `enum '${name}' member '${m.name}' = ${v} does not fit in a signed 32-bit int`,
        );
        continue;
      }
      members[m.name] = Number(v);
    }
    if (body.members.length === 0)
      this.error(
        this.symbols.get(name)?.pos ?? body.members[0]!.pos,
        `enum '${name}' has no members`,
      );
    return members;
  }

  private field(decl: Declaration, what: string, seen: Map<string, Pos>): FieldMeta | null {
    if (decl.kind === "void") {
      this.error(decl.pos, `a ${what} cannot be void`);
      return null;
    }
    const previous = seen.get(decl.name);
    if (previous) {
      this.error(decl.pos, `'${decl.name}' is already declared at ${where(previous)}`);
      return null;
    }
    seen.set(decl.name, decl.pos);
    const type = this.declType(decl);
    return type ? { name: decl.name, type } : null;
  }

  /** The wire type of a declaration; null (with an error reported) when it is wrong. */
  private declType(decl: Declaration): XdrType | null {
    switch (decl.kind) {
      case "void":
        return { kind: "void" };
      case "plain":
        return this.elementType(decl.type);
      case "opaqueFixed": {
        const n = this.sizeValue(decl.size, "a fixed opaque length");
        return n === null ? null : { kind: "opaque", fixed: n, max: n };
      }
      case "opaqueVar": {
        const max = decl.max ? this.sizeValue(decl.max, "a length limit") : UNBOUNDED;
        return max === null ? null : { kind: "opaque", fixed: null, max };
      }
      case "string": {
        const max = decl.max ? this.sizeValue(decl.max, "a length limit") : UNBOUNDED;
        return max === null ? null : { kind: "string", max };
      }
      case "fixedArray": {
        const of = this.elementType(decl.type);
        const n = this.sizeValue(decl.size, "a fixed array length");
        return of && n !== null ? { kind: "array", of, fixed: n, max: n } : null;
      }
      case "varArray": {
        const of = this.elementType(decl.type);
        const max = decl.max ? this.sizeValue(decl.max, "an array limit") : UNBOUNDED;
        return of && max !== null ? { kind: "array", of, fixed: null, max } : null;
      }
      case "optional": {
        const of = this.elementType(decl.type);
        if (!of) return null;
        if (of.kind === "ref" && this.isLinkedStruct(of.name)) return { kind: "list", of: of.name };
        return { kind: "optional", of };
      }
    }
  }

  private elementType(t: TypeSpec): XdrType | null {
    switch (t.kind) {
      case "int":
        return { kind: t.unsigned ? "uint" : "int" };
      case "hyper":
        return { kind: t.unsigned ? "uhyper" : "hyper" };
      case "float":
      case "double":
      case "quadruple":
      case "bool":
        return { kind: t.kind };
      case "ref": {
        const sym = this.symbols.get(t.name);
        if (!sym) {
          this.error(t.pos, `type '${t.name}' is not defined`);
          return null;
        }
        if (sym.kind !== "type") {
          this.error(t.pos, `'${t.name}' is a constant, not a type`);
          return null;
        }
        return { kind: "ref", name: t.name };
      }
      default:
        // Inline bodies were hoisted in pass 1; one surviving here is a resolver bug.
        throw new Error(`unhoisted inline ${t.kind} at ${where(t.pos)}`);
    }
  }

  /** A struct whose last field is `Self *next` is a list element (READDIR's entry4). */
  private isLinkedStruct(name: string): boolean {
    const sym = this.symbols.get(name);
    if (!sym || sym.kind !== "type" || sym.type.raw.kind !== "struct") return false;
    const last = sym.type.raw.body.fields.at(-1);
    return last?.kind === "optional" && last.type.kind === "ref" && last.type.name === name;
  }

  private resolveUnion(raw: RawType, body: UnionBody): ResolvedType | null {
    const d = body.discriminant;
    if (d.kind !== "plain") {
      this.error(
        d.pos,
        `the discriminant of union '${raw.name}' must be a plain int, unsigned int, bool or enum declaration`,
      );
      return null;
    }
    const discType = this.elementType(d.type);
    if (!discType) return null;
    const disc = this.discriminantKind(discType);
    if (!disc) {
      this.error(
        d.type.pos,
        `the discriminant of union '${raw.name}' must be int, unsigned int, bool or an enum, not ${describe(discType)}`,
      );
      return null;
    }
    const seenArms = new Map<string, Pos>([[d.name, d.pos]]);
    const seenValues = new Map<string, Pos>();
    const arms: UnionArmMeta[] = [];
    for (const c of body.cases) {
      const values: (number | boolean)[] = [];
      for (const label of c.labels) {
        const v = this.caseValue(label, disc, raw.name);
        if (v === null) continue;
        const key = String(v);
        const previous = seenValues.get(key);
        if (previous)
          this.error(
            label.pos,
            `case ${labelText(label)} of union '${raw.name}' repeats the case at ${where(previous)}`,
          );
        else seenValues.set(key, label.pos);
        values.push(v);
      }
      const arm = this.arm(c.arm, raw.name, seenArms);
      if (arm) arms.push({ values, ...arm });
    }
    const defaultArm = body.defaultArm ? this.arm(body.defaultArm, raw.name, seenArms) : null;
    return {
      module: raw.module,
      pos: raw.pos,
      name: raw.name,
      minSize: 0,
      maxSize: null,
      kind: "union",
      discriminant: { name: d.name, type: discType },
      arms,
      defaultArm,
    };
  }

  private arm(
    decl: Declaration,
    union: string,
    seen: Map<string, Pos>,
  ): { name: string | null; type: XdrType } | null {
    if (decl.kind === "void") return { name: null, type: { kind: "void" } };
    const f = this.field(decl, `arm of union '${union}'`, seen);
    return f && { name: f.name, type: f.type };
  }

  /** What the discriminant really is once typedefs are looked through. */
  private discriminantKind(
    t: XdrType,
  ): { kind: "int" | "uint" | "bool" } | { kind: "enum"; name: string } | null {
    if (t.kind === "int" || t.kind === "uint" || t.kind === "bool") return { kind: t.kind };
    if (t.kind !== "ref") return null;
    const sym = this.symbols.get(t.name);
    if (!sym || sym.kind !== "type") return null;
    const raw = sym.type.raw;
    if (raw.kind === "enum") return { kind: "enum", name: t.name };
    if (raw.kind === "typedef" && raw.decl.kind === "plain" && raw.decl.type.kind !== "enum") {
      const inner = this.elementType(raw.decl.type);
      return inner && this.discriminantKind(inner);
    }
    return null;
  }

  private caseValue(
    label: Value,
    disc: { kind: "int" | "uint" | "bool" } | { kind: "enum"; name: string },
    union: string,
  ): number | boolean | null {
    if (disc.kind === "enum" && label.kind === "name") {
      const sym = this.symbols.get(label.name);
      if (sym?.kind === "member" && sym.enumName !== disc.name) {
        this.error(
          label.pos,
          `case ${label.name} of union '${union}' is a member of enum '${sym.enumName}', not of the discriminant's enum '${disc.name}'`,
        );
        return null;
      }
    }
    const v = this.value(label);
    if (v === null) return null;
    switch (disc.kind) {
      case "bool":
        if (v !== 0n && v !== 1n) {
          this.error(
            label.pos,
            `case ${labelText(label)} of union '${union}' must be TRUE (1) or FALSE (0) for a bool discriminant`,
          );
          return null;
        }
        return v === 1n;
      case "int":
      case "uint": {
        const [lo, hi] =
          disc.kind === "int" ? [-(2n ** 31n), 2n ** 31n - 1n] : [0n, 2n ** 32n - 1n];
        if (v < lo || v > hi) {
          this.error(
            label.pos,
            `case ${labelText(label)} of union '${union}' is out of range for ${disc.kind === "int" ? "int" : "unsigned int"}`,
          );
          return null;
        }
        return Number(v);
      }
      case "enum": {
        const sym = this.symbols.get(disc.name);
        const members =
          sym?.kind === "type" && sym.type.raw.kind === "enum" ? sym.type.raw.body.members : [];
        if (!members.some((m) => this.symbolValue(m.name) === v)) {
          this.error(
            label.pos,
            `case ${labelText(label)} of union '${union}' is not a value of enum '${disc.name}'`,
          );
          return null;
        }
        return Number(v);
      }
    }
  }

  // -------------------------------------------------------------------------
  // Recursion and sizes.

  /** A type that contains itself other than through `*` or a variable-length array has no finite encoding. */
  private checkRecursion(types: readonly ResolvedType[]): void {
    const state = new Map<string, "active" | "done">();
    const visit = (name: string, path: string[]): void => {
      const s = state.get(name);
      if (s === "done") return;
      if (s === "active") {
        const cycle = [...path.slice(path.indexOf(name)), name].join(" → ");
        this.error(
          this.resolved.get(name)!.pos,
          `'${name}' contains itself (${cycle}); recursion needs an optional '*' or a variable-length array`,
        );
        return;
      }
      const t = this.resolved.get(name);
      if (!t) return;
      state.set(name, "active");
      for (const inner of directRefs(t)) visit(inner, [...path, name]);
      state.set(name, "done");
    };
    for (const t of types) visit(t.name, []);
  }

  private withSizes(t: ResolvedType): ResolvedType {
    const s = this.namedSize(t.name);
    return { ...t, minSize: s.min, maxSize: s.max };
  }

  private namedSize(name: string): Size {
    const cached = this.sizeCache.get(name);
    if (cached) return cached;
    // A type reached again while being sized recurses through '*' or '<>': unbounded, min 0 there.
    if (this.sizing.has(name)) return { min: 0, max: null };
    this.sizing.add(name);
    const t = this.resolved.get(name)!;
    let size: Size;
    switch (t.kind) {
      case "enum":
        size = { min: 4, max: 4 };
        break;
      case "typedef":
        size = this.typeSize(t.type);
        break;
      case "struct":
        // A list element's size is that of its fields: the link word belongs
        // to the list (typeSize of "list"), as in what encode<T> writes.
        size = sum(t.fields.map((f) => this.typeSize(f.type)));
        break;
      case "union": {
        const arms = [
          ...t.arms.map((a) => this.typeSize(a.type)),
          ...(t.defaultArm ? [this.typeSize(t.defaultArm.type)] : []),
        ];
        const armMin = arms.length ? Math.min(...arms.map((a) => a.min)) : 0;
        const armMax = arms.some((a) => a.max === null)
          ? null
          : Math.max(0, ...arms.map((a) => a.max!));
        size = { min: 4 + armMin, max: armMax === null ? null : 4 + armMax };
        break;
      }
    }
    this.sizing.delete(name);
    this.sizeCache.set(name, size);
    return size;
  }

  private typeSize(t: XdrType): Size {
    return typeSize(t, (name) => this.namedSize(name));
  }

  // -------------------------------------------------------------------------
  // Programs.

  private resolvePrograms(): ResolvedProgram[] {
    const programs: ResolvedProgram[] = [];
    for (const spec of this.specs) {
      for (const def of spec.definitions) {
        if (def.kind !== "program") continue;
        const number = this.u32(def.number, "a program number");
        const versions = def.versions.map((v) => ({
          name: v.name,
          number: this.u32(v.number, "a version number"),
          procedures: v.procedures.map((p) => ({
            name: p.name,
            number: this.u32(p.number, "a procedure number"),
            args: p.args.map((a) => this.procType(a, `${p.name}_arg`)),
            result: p.result
              ? this.procType(p.result, `${p.name}_res`)
              : ({ kind: "void" } as XdrType),
          })),
        }));
        programs.push({
          name: def.name,
          number,
          versions,
          module: moduleName(spec.file),
          pos: def.pos,
        });
      }
    }
    return programs;
  }

  private u32(v: Value, what: string): number {
    return this.sizeValue(v, what) ?? 0;
  }

  private procType(t: TypeSpec, name: string): XdrType {
    if (t.kind === "enum" || t.kind === "struct" || t.kind === "union") {
      this.error(
        t.pos,
        `inline ${t.kind} types are not supported as procedure arguments or results; name the type (${name})`,
      );
      return { kind: "void" };
    }
    return this.elementType(t) ?? { kind: "void" };
  }
}

/** The smallest and largest encodings of `t`, given those of the named types it uses. */
export function typeSize(t: XdrType, named: (name: string) => Size): Size {
  switch (t.kind) {
    case "void":
      return { min: 0, max: 0 };
    case "int":
    case "uint":
    case "float":
    case "bool":
      return { min: 4, max: 4 };
    case "hyper":
    case "uhyper":
    case "double":
      return { min: 8, max: 8 };
    case "quadruple":
      return { min: 16, max: 16 };
    case "opaque":
    case "string": {
      const fixed = t.kind === "opaque" && t.fixed !== null;
      const padded = pad4(t.max);
      if (fixed) return { min: padded, max: padded };
      return { min: 4, max: t.max === UNBOUNDED ? null : 4 + padded };
    }
    case "array": {
      const e = typeSize(t.of, named);
      if (t.fixed !== null)
        return { min: e.min * t.fixed, max: e.max === null ? null : e.max * t.fixed };
      return { min: 4, max: e.max === null || t.max === UNBOUNDED ? null : 4 + e.max * t.max };
    }
    case "optional": {
      const e = typeSize(t.of, named);
      return { min: 4, max: e.max === null ? null : 4 + e.max };
    }
    case "list":
      return { min: 4, max: null };
    case "ref":
      return named(t.name);
  }
}

function declName(d: Declaration): string {
  return d.kind === "void" ? "void" : d.name;
}

function labelText(v: Value): string {
  return v.kind === "name" ? v.name : String(v.value);
}

function describe(t: XdrType): string {
  return t.kind === "ref" ? `'${t.name}'` : t.kind;
}

function pad4(n: number): number {
  return n === UNBOUNDED ? n : Math.ceil(n / 4) * 4;
}

function sum(parts: readonly Size[]): Size {
  let min = 0;
  let max: number | null = 0;
  for (const p of parts) {
    min += p.min;
    max = max === null || p.max === null ? null : max + p.max;
  }
  return { min, max };
}

/** Splits a linked struct's self-referential last field off its fields. */
function splitLink(
  name: string,
  fields: FieldMeta[],
): { fields: FieldMeta[]; link: string | null } {
  const last = fields.at(-1);
  if (last && last.type.kind === "list" && last.type.of === name)
    return { fields: fields.slice(0, -1), link: last.name };
  return { fields, link: null };
}

/** Named types a value of `t` always contains (not through '*' or a variable-length array). */
function directRefs(t: ResolvedType): string[] {
  const out: string[] = [];
  const walk = (x: XdrType): void => {
    if (x.kind === "ref") out.push(x.name);
    else if (x.kind === "array" && x.fixed !== null && x.fixed > 0) walk(x.of);
  };
  switch (t.kind) {
    case "typedef":
      walk(t.type);
      break;
    case "struct":
      t.fields.forEach((f) => walk(f.type));
      break;
    case "union":
      // A union recurses harmlessly if some arm does not; only all-recursive arms are infinite.
      break;
    case "enum":
      break;
  }
  return out;
}

/** Resolves parsed specifications into a model, or throws ResolveError listing every problem. */
export function resolve(specs: readonly Specification[]): Model {
  return new Resolver(specs).run();
}

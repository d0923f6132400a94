// Encode/decode code for one declaration (a struct field, a union arm, a
// typedef's body). Elements of arrays and optionals are always a primitive or a
// named type (inline types were hoisted by the resolver), so an element is a
// single expression and only the array/optional/list itself needs statements.

import type { XdrType } from "../../src/xdr/meta.js";
import { UNBOUNDED } from "../resolve.js";
import type { FileContext } from "./context.js";

/** The TypeScript type of a value of `t`. */
export function tsType(ctx: FileContext, t: XdrType): string {
  switch (t.kind) {
    case "int":
    case "uint":
    case "float":
    case "double":
      return "number";
    case "hyper":
    case "uhyper":
      return "bigint";
    case "bool":
      return "boolean";
    case "quadruple":
    case "opaque":
      return "Uint8Array";
    case "string":
      return "string";
    case "void":
      return "void";
    case "array":
      return `${tsType(ctx, t.of)}[]`;
    case "optional":
      return `${tsType(ctx, t.of)} | null`;
    case "list":
      return `${ctx.typeName(t.of)}[]`;
    case "ref":
      return ctx.typeName(t.name);
  }
}

function limit(n: number): string {
  return n === UNBOUNDED ? "0xffffffff" : String(n);
}

/**
 * Follows typedefs whose body needs no statements (primitives, opaque, string,
 * enums) so that codecs read them inline rather than through a call.
 */
function inlineable(ctx: FileContext, t: XdrType): XdrType | null {
  switch (t.kind) {
    case "array":
    case "optional":
    case "list":
      return null;
    case "ref": {
      const named = ctx.type(t.name);
      if (named.kind === "enum") return t;
      if (named.kind === "typedef") return inlineable(ctx, named.type);
      return null;
    }
    default:
      return t;
  }
}

/** An expression decoding one value of `t` from reader `r`, or null if `t` needs statements. */
export function decodeExpr(ctx: FileContext, t: XdrType): string | null {
  const simple = inlineable(ctx, t);
  if (!simple) {
    if (t.kind === "ref") return `${ctx.decoder(t.name)}(r)`;
    return null;
  }
  switch (simple.kind) {
    case "int":
      return "r.readInt()";
    case "uint":
      return "r.readUint()";
    case "hyper":
      return "r.readHyper()";
    case "uhyper":
      return "r.readUhyper()";
    case "float":
      return "r.readFloat()";
    case "double":
      return "r.readDouble()";
    case "quadruple":
      return "r.readQuadruple()";
    case "bool":
      return "r.readBool()";
    case "opaque":
      return simple.fixed !== null
        ? `r.readOpaqueFixed(${simple.fixed})`
        : `r.readOpaqueVar(${limit(simple.max)})`;
    case "string":
      return `r.readString(${limit(simple.max)})`;
    case "ref":
      // An enum: its decoder is a read and a range test, which V8 inlines.
      return `${ctx.decoder(simple.name)}(r)`;
    default:
      throw new Error(`codegen: cannot decode ${simple.kind} inline`);
  }
}

/** Statements declaring `const target` decoded from `r`. */
export function decodeInto(
  ctx: FileContext,
  t: XdrType,
  target: string,
  minSize: (t: XdrType) => number,
): string[] {
  const expr = decodeExpr(ctx, t);
  if (expr !== null) return [`const ${target} = ${expr};`];
  const err = ctx.runtime("XdrError", false);
  switch (t.kind) {
    case "array": {
      const elem = decodeExpr(ctx, t.of)!;
      const min = minSize(t.of);
      // Check the whole array fits before allocating anything for it.
      const [head, count] =
        t.fixed !== null
          ? [[`r.ensure(${t.fixed * min});`], String(t.fixed)]
          : [[], `r.readArrayLength(${limit(t.max)}, ${min})`];
      const each = (store: string): string =>
        `  try { ${store}; } catch (e) { throw ${err}.within(e, \`[\${i}]\`); }`;
      // The count is bounded by the bytes present (each element takes at least
      // `min` of them), so the array is allocated at its final length at once,
      // which saves growing it element by element. Elements that may take no
      // bytes at all leave the count unbounded, so those arrays grow instead.
      if (min > 0)
        return [
          ...head,
          `const ${target}: ${tsType(ctx, t)} = new Array<${tsType(ctx, t.of)}>(${count});`,
          `for (let i = 0; i < ${target}.length; i++) {`,
          each(`${target}[i] = ${elem}`),
          `}`,
        ];
      return [
        `const ${target}: ${tsType(ctx, t)} = [];`,
        ...head,
        `for (let i = 0, n = ${count}; i < n; i++) {`,
        each(`${target}.push(${elem})`),
        `}`,
      ];
    }
    case "optional":
      return [`const ${target} = r.readBool() ? ${decodeExpr(ctx, t.of)!} : null;`];
    case "list":
      return [
        `const ${target}: ${tsType(ctx, t)} = [];`,
        `for (let i = 0; r.readBool(); i++) {`,
        `  try { ${target}.push(${ctx.decoder(t.of)}(r)); } catch (e) { throw ${err}.within(e, \`[\${i}]\`); }`,
        `}`,
      ];
    default:
      throw new Error(`codegen: no statements for ${t.kind}`);
  }
}

/** A statement encoding the value `value` of `t` into writer `w`, or null if `t` needs several. */
function encodeStatement(ctx: FileContext, t: XdrType, value: string): string | null {
  const simple = inlineable(ctx, t);
  if (!simple) {
    if (t.kind === "ref") return `${ctx.encoder(t.name)}(w, ${value});`;
    return null;
  }
  switch (simple.kind) {
    case "int":
      return `w.writeInt(${value});`;
    case "uint":
      return `w.writeUint(${value});`;
    case "hyper":
      return `w.writeHyper(${value});`;
    case "uhyper":
      return `w.writeUhyper(${value});`;
    case "float":
      return `w.writeFloat(${value});`;
    case "double":
      return `w.writeDouble(${value});`;
    case "quadruple":
      return `w.writeQuadruple(${value});`;
    case "bool":
      return `w.writeBool(${value});`;
    case "opaque":
      return simple.fixed !== null
        ? `w.writeOpaqueFixed(${value}, ${simple.fixed});`
        : `w.writeOpaqueVar(${value}, ${limit(simple.max)});`;
    case "string":
      return `w.writeString(${value}, ${limit(simple.max)});`;
    case "ref":
      return `${ctx.encoder(simple.name)}(w, ${value});`;
    default:
      throw new Error(`codegen: cannot encode ${simple.kind} inline`);
  }
}

/** Statements encoding `value` (an expression without side effects) of type `t` into `w`. */
export function encodeFrom(ctx: FileContext, t: XdrType, value: string): string[] {
  const one = encodeStatement(ctx, t, value);
  if (one !== null) return [one];
  const err = ctx.runtime("XdrError", false);
  const each = (stmt: string): string =>
    `  try { ${stmt} } catch (e) { throw ${err}.within(e, \`[\${i}]\`); }`;
  switch (t.kind) {
    case "array": {
      const head =
        t.fixed !== null
          ? `if (${value}.length !== ${t.fixed}) throw new ${err}("limit", \`expected ${t.fixed} elements, got \${${value}.length}\`, w.length);`
          : `w.writeArrayLength(${value}.length, ${limit(t.max)});`;
      return [
        head,
        `for (let i = 0; i < ${value}.length; i++) {`,
        each(encodeStatement(ctx, t.of, `${value}[i]!`)!),
        `}`,
      ];
    }
    case "optional":
      return [
        `if (${value} === null) {`,
        `  w.writeBool(false);`,
        `} else {`,
        `  w.writeBool(true);`,
        `  ${encodeStatement(ctx, t.of, value)!}`,
        `}`,
      ];
    case "list":
      return [
        `for (let i = 0; i < ${value}.length; i++) {`,
        `  w.writeBool(true);`,
        each(`${ctx.encoder(t.of)}(w, ${value}[i]!);`),
        `}`,
        `w.writeBool(false);`,
      ];
    default:
      throw new Error(`codegen: no statements for ${t.kind}`);
  }
}

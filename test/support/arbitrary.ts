// fast-check arbitraries derived from the generated metadata tables, so that
// every generated type gets property tests without hand-written generators.
// Sizes are kept small (a few elements, short opaques) to keep runs quick.

import fc from "fast-check";
import type { TypeMeta, XdrType } from "../../src/xdr/meta.js";

const MAX_ELEMENTS = 3;
const MAX_BYTES = 40;

export class Arbitraries {
  private readonly types: ReadonlyMap<string, TypeMeta>;
  private readonly cache = new Map<string, fc.Arbitrary<unknown>>();
  /** Types whose arbitrary is being built: a reference back to one is recursion. */
  private readonly building = new Set<string>();

  constructor(...tables: Readonly<Record<string, TypeMeta>>[]) {
    this.types = new Map(tables.flatMap((t) => Object.entries(t)));
  }

  named(name: string): fc.Arbitrary<unknown> {
    const cached = this.cache.get(name);
    if (cached) return cached;
    const t = this.types.get(name);
    if (!t) throw new Error(`no metadata for type '${name}'`);
    this.building.add(name);
    const arb = this.build(t);
    this.building.delete(name);
    this.cache.set(name, arb);
    return arb;
  }

  /** True if generating `t` would recurse into a type being built (only legal behind '*' or '<>'). */
  private recursive(t: XdrType): boolean {
    return (
      (t.kind === "ref" && this.building.has(t.name)) ||
      (t.kind === "list" && this.building.has(t.of))
    );
  }

  private build(t: TypeMeta): fc.Arbitrary<unknown> {
    switch (t.kind) {
      case "enum":
        return fc.constantFrom(...Object.values(t.members));
      case "typedef":
        return this.of(t.type);
      case "struct": {
        const fields: Record<string, fc.Arbitrary<unknown>> = {};
        for (const f of t.fields) fields[f.name] = this.of(f.type);
        return fc.record(fields);
      }
      case "union": {
        const d = t.discriminant;
        const variants: fc.Arbitrary<unknown>[] = [];
        const taken = new Set<number | boolean>();
        for (const arm of t.arms) {
          for (const value of arm.values) {
            taken.add(value);
            variants.push(this.variant(d.name, fc.constant(value), arm.name, arm.type));
          }
        }
        if (t.defaultArm) {
          const rest = this.otherValues(d.type, taken);
          if (rest) variants.push(this.variant(d.name, rest, t.defaultArm.name, t.defaultArm.type));
        }
        return fc.oneof(...variants);
      }
    }
  }

  private variant(
    disc: string,
    value: fc.Arbitrary<number | boolean>,
    arm: string | null,
    type: XdrType,
  ): fc.Arbitrary<unknown> {
    return arm === null
      ? fc.record({ [disc]: value })
      : fc.record({ [disc]: value, [arm]: this.of(type) });
  }

  /** Discriminant values no explicit arm takes (for the default arm), or null if none exist. */
  private otherValues(
    t: XdrType,
    taken: ReadonlySet<number | boolean>,
  ): fc.Arbitrary<number | boolean> | null {
    if (t.kind === "bool") {
      const rest = [true, false].filter((b) => !taken.has(b));
      return rest.length ? fc.constantFrom(...rest) : null;
    }
    if (t.kind === "int")
      return fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }).filter((v) => !taken.has(v));
    if (t.kind === "uint")
      return fc.integer({ min: 0, max: 2 ** 32 - 1 }).filter((v) => !taken.has(v));
    if (t.kind === "ref") {
      const named = this.types.get(t.name)!;
      if (named.kind === "typedef") return this.otherValues(named.type, taken);
      if (named.kind === "enum") {
        const rest = Object.values(named.members).filter((v) => !taken.has(v));
        return rest.length ? fc.constantFrom(...rest) : null;
      }
    }
    throw new Error(`bad discriminant type ${t.kind}`);
  }

  of(t: XdrType): fc.Arbitrary<unknown> {
    switch (t.kind) {
      case "int":
        return fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 });
      case "uint":
        return fc.integer({ min: 0, max: 2 ** 32 - 1 });
      case "hyper":
        return fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n });
      case "uhyper":
        return fc.bigInt({ min: 0n, max: 2n ** 64n - 1n });
      case "float":
        return fc.float();
      case "double":
        return fc.double();
      case "quadruple":
        return fc.uint8Array({ minLength: 16, maxLength: 16 });
      case "bool":
        return fc.boolean();
      case "void":
        return fc.constant(undefined);
      case "opaque":
        return t.fixed !== null
          ? fc.uint8Array({ minLength: t.fixed, maxLength: t.fixed })
          : fc.uint8Array({ maxLength: Math.min(t.max, MAX_BYTES) });
      case "string":
        return fc.string({ unit: "binary-ascii", maxLength: Math.min(t.max, MAX_BYTES) });
      case "array": {
        if (t.fixed !== null)
          return fc.array(this.of(t.of), { minLength: t.fixed, maxLength: t.fixed });
        if (this.recursive(t.of)) return fc.constant([]);
        return fc.array(this.of(t.of), { maxLength: Math.min(t.max, MAX_ELEMENTS) });
      }
      case "optional":
        return this.recursive(t.of) ? fc.constant(null) : fc.option(this.of(t.of), { nil: null });
      case "list":
        return this.recursive(t)
          ? fc.constant([])
          : fc.array(this.named(t.of), { maxLength: MAX_ELEMENTS });
      case "ref":
        return this.named(t.name);
    }
  }
}

// A metadata-driven XDR codec: encodes and decodes any type described by the
// generated metadata tables (generated/<module>/meta.ts) without generated code.
// It is slower than the generated codecs and exists for tools that meet types
// at run time (traffic decoders, pretty-printers) and as an independent second
// implementation that the generated codecs are tested against. Values have the
// same shape as the generated TypeScript types.

import { XdrError } from "./error.js";
import type { TypeMeta, XdrType } from "./meta.js";
import type { XdrReader } from "./reader.js";
import type { XdrWriter } from "./writer.js";

type Obj = Record<string, unknown>;

export class XdrInterpreter {
  private readonly types: ReadonlyMap<string, TypeMeta>;
  private readonly enumNames = new Map<string, Readonly<Record<number, string>>>();

  /** `tables` are the `<module>Types` tables of every module the types use. */
  constructor(...tables: Readonly<Record<string, TypeMeta>>[]) {
    this.types = new Map(tables.flatMap((t) => Object.entries(t)));
    for (const t of this.types.values()) {
      if (t.kind !== "enum") continue;
      const names: Record<number, string> = {};
      for (const [name, value] of Object.entries(t.members)) names[value] ??= name;
      this.enumNames.set(t.name, names);
    }
  }

  meta(name: string): TypeMeta {
    const t = this.types.get(name);
    if (!t) throw new Error(`XdrInterpreter: unknown type '${name}'`);
    return t;
  }

  decode(type: XdrType | string, r: XdrReader): unknown {
    return typeof type === "string"
      ? this.decodeNamed(this.meta(type), r)
      : this.decodeType(type, r);
  }

  encode(type: XdrType | string, w: XdrWriter, v: unknown): void {
    if (typeof type === "string") this.encodeNamed(this.meta(type), w, v);
    else this.encodeType(type, w, v);
  }

  private decodeNamed(t: TypeMeta, r: XdrReader): unknown {
    switch (t.kind) {
      case "enum":
        return r.readEnum(this.enumNames.get(t.name)!, t.name);
      case "typedef":
        return this.decodeType(t.type, r);
      case "struct": {
        const out: Obj = {};
        for (const f of t.fields) out[f.name] = within(f.name, () => this.decodeType(f.type, r));
        return out;
      }
      case "union": {
        const d = t.discriminant;
        const disc = within(d.name, () => this.decodeType(d.type, r)) as number | boolean;
        const arm = t.arms.find((a) => a.values.includes(disc)) ?? t.defaultArm;
        if (!arm) {
          const err = new XdrError(
            "discriminant",
            `${t.name} has no arm for ${d.name} = ${disc}`,
            r.offset - 4,
            Number(disc),
          );
          throw XdrError.within(err, d.name);
        }
        const out: Obj = { [d.name]: disc };
        if (arm.name !== null) {
          const name = arm.name;
          out[name] = within(name, () => this.decodeType(arm.type, r));
        }
        return out;
      }
    }
  }

  private decodeType(t: XdrType, r: XdrReader): unknown {
    switch (t.kind) {
      case "int":
        return r.readInt();
      case "uint":
        return r.readUint();
      case "hyper":
        return r.readHyper();
      case "uhyper":
        return r.readUhyper();
      case "float":
        return r.readFloat();
      case "double":
        return r.readDouble();
      case "quadruple":
        return r.readQuadruple();
      case "bool":
        return r.readBool();
      case "void":
        return undefined;
      case "opaque":
        return t.fixed !== null ? r.readOpaqueFixed(t.fixed) : r.readOpaqueVar(t.max);
      case "string":
        return r.readString(t.max);
      case "array": {
        const n = t.fixed ?? r.readArrayLength(t.max, this.minSize(t.of));
        if (t.fixed !== null) r.ensure(n * this.minSize(t.of));
        const out: unknown[] = [];
        for (let i = 0; i < n; i++) out.push(within(`[${i}]`, () => this.decodeType(t.of, r)));
        return out;
      }
      case "optional":
        return r.readBool() ? this.decodeType(t.of, r) : null;
      case "list": {
        const out: unknown[] = [];
        const element = this.meta(t.of);
        for (let i = 0; r.readBool(); i++)
          out.push(within(`[${i}]`, () => this.decodeNamed(element, r)));
        return out;
      }
      case "ref":
        return this.decodeNamed(this.meta(t.name), r);
    }
  }

  private encodeNamed(t: TypeMeta, w: XdrWriter, v: unknown): void {
    switch (t.kind) {
      case "enum":
        w.writeEnum(v as number, this.enumNames.get(t.name)!, t.name);
        return;
      case "typedef":
        this.encodeType(t.type, w, v);
        return;
      case "struct": {
        const o = v as Obj;
        for (const f of t.fields) within(f.name, () => this.encodeType(f.type, w, o[f.name]));
        return;
      }
      case "union": {
        const o = v as Obj;
        const d = t.discriminant;
        const disc = o[d.name] as number | boolean;
        within(d.name, () => this.encodeType(d.type, w, disc));
        const arm = t.arms.find((a) => a.values.includes(disc)) ?? t.defaultArm;
        if (!arm) {
          const err = new XdrError(
            "discriminant",
            `${t.name} has no arm for ${d.name} = ${disc}`,
            w.length - 4,
            Number(disc),
          );
          throw XdrError.within(err, d.name);
        }
        if (arm.name !== null) {
          const name = arm.name;
          within(name, () => this.encodeType(arm.type, w, o[name]));
        }
        return;
      }
    }
  }

  private encodeType(t: XdrType, w: XdrWriter, v: unknown): void {
    switch (t.kind) {
      case "int":
        return w.writeInt(v as number);
      case "uint":
        return w.writeUint(v as number);
      case "hyper":
        return w.writeHyper(v as bigint);
      case "uhyper":
        return w.writeUhyper(v as bigint);
      case "float":
        return w.writeFloat(v as number);
      case "double":
        return w.writeDouble(v as number);
      case "quadruple":
        return w.writeQuadruple(v as Uint8Array);
      case "bool":
        return w.writeBool(v as boolean);
      case "void":
        return;
      case "opaque":
        return t.fixed !== null
          ? w.writeOpaqueFixed(v as Uint8Array, t.fixed)
          : w.writeOpaqueVar(v as Uint8Array, t.max);
      case "string":
        return w.writeString(v as string, t.max);
      case "array": {
        const a = v as unknown[];
        if (t.fixed !== null && a.length !== t.fixed)
          throw new XdrError("limit", `expected ${t.fixed} elements, got ${a.length}`, w.length);
        if (t.fixed === null) w.writeArrayLength(a.length, t.max);
        a.forEach((e, i) => within(`[${i}]`, () => this.encodeType(t.of, w, e)));
        return;
      }
      case "optional":
        w.writeBool(v !== null);
        if (v !== null) this.encodeType(t.of, w, v);
        return;
      case "list": {
        const element = this.meta(t.of);
        (v as unknown[]).forEach((e, i) => {
          w.writeBool(true);
          within(`[${i}]`, () => this.encodeNamed(element, w, e));
        });
        w.writeBool(false);
        return;
      }
      case "ref":
        return this.encodeNamed(this.meta(t.name), w, v);
    }
  }

  /** Smallest encoding of `t`, to reject impossible array counts before allocating. */
  private minSize(t: XdrType): number {
    switch (t.kind) {
      case "void":
        return 0;
      case "hyper":
      case "uhyper":
      case "double":
        return 8;
      case "quadruple":
        return 16;
      case "opaque":
        return t.fixed !== null ? Math.ceil(t.fixed / 4) * 4 : 4;
      case "array":
        return t.fixed !== null ? t.fixed * this.minSize(t.of) : 4;
      case "ref":
        return this.meta(t.name).minSize;
      default:
        return 4;
    }
  }
}

/** Runs `f`, naming `segment` in the path of any XdrError it throws. */
function within<T>(segment: string, f: () => T): T {
  try {
    return f();
  } catch (e) {
    throw XdrError.within(e, segment);
  }
}

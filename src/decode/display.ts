// Turning decoded XDR values into something a person (or a JSON reader) can
// use, driven by the generated metadata tables (generated/*/meta.ts) rather
// than by a hand-written case per type: enums print by name, opaques as hex
// (long ones cut short), the UTF-8 string types of RFC 8881 §1.4.4 / §3.2 as
// text, bitmaps of attributes as attribute names, and a fattr4's values
// decoded attribute by attribute (RFC 8881 §3.3.2) with the metadata-driven
// interpreter. Session and client ids met on the way are collected for the
// decoder's filters.

import * as nfs4 from "../../generated/nfs4/index.js";
import { nfs4Types } from "../../generated/nfs4/index.js";
import { rpcTypes } from "../../generated/rpc/index.js";
import type { TypeMeta, XdrType } from "../xdr/index.js";
import { XdrError, XdrInterpreter, XdrReader } from "../xdr/index.js";

/** Text that came from a UTF-8 XDR type (quoted when printed, unlike enum names and hex). */
export class Utf8Text {
  constructor(readonly text: string) {}
  toJSON(): string {
    return this.text;
  }
}

/** A displayable value: JSON-like, with bigints for hypers and Utf8Text for strings. */
export type Display =
  | null
  | boolean
  | number
  | bigint
  | string
  | Utf8Text
  | readonly Display[]
  | { readonly [key: string]: Display };

export function isDisplayRecord(d: Display): d is { readonly [key: string]: Display } {
  return typeof d === "object" && d !== null && !Array.isArray(d) && !(d instanceof Utf8Text);
}

/** Ids met while rendering one message: sessionid4 and clientid4 values, as hex. */
export interface Ids {
  readonly sessions: Set<string>;
  readonly clients: Set<string>;
}

export function emptyIds(): Ids {
  return { sessions: new Set(), clients: new Set() };
}

/** Typedefs whose opaque bytes are UTF-8 text (RFC 8881 §3.2: utf8string and its kin). */
const UTF8_TYPES = new Set(["utf8string", "linktext4", "secret4"]);

/** Fields of type bitmap4 whose bits are attribute numbers (FATTR4_*). */
const ATTRIBUTE_BITMAPS = new Set([
  "attrmask",
  "attrset",
  "attr_request",
  "attrsset",
  "gdda_child_attributes",
  "gdda_dir_attributes",
  "gddr_child_attributes",
  "gddr_dir_attributes",
]);

/** Attribute number → name ("size", "time_modify"), from the generated FATTR4_* constants. */
const ATTRIBUTE_NAMES: ReadonlyMap<number, string> = (() => {
  const names = new Map<number, string>();
  for (const [constant, bit] of Object.entries(nfs4 as Record<string, unknown>)) {
    if (!constant.startsWith("FATTR4_") || typeof bit !== "number") continue;
    const name = constant.slice("FATTR4_".length).toLowerCase();
    // Only attributes with a value type (fattr4_<name>): FATTR4_* also names a few flags.
    if (nfs4Types[`fattr4_${name}`] !== undefined) names.set(bit, name);
  }
  return names;
})();

const strictUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

function hex(bytes: Uint8Array, max: number): string {
  const shown = bytes.length <= max ? bytes : bytes.subarray(0, Math.min(max, 16));
  const text = Buffer.from(shown.buffer, shown.byteOffset, shown.length).toString("hex");
  return bytes.length <= max ? text : `${text}...(${bytes.length} bytes)`;
}

/** The bit numbers set in a bitmap4 (RFC 8881 §3.3.7: bit n is word n/32, bit n%32). */
export function bitsOf(words: readonly number[]): number[] {
  const out: number[] = [];
  words.forEach((w, i) => {
    for (let b = 0; b < 32; b++) if ((w >>> b) & 1) out.push(i * 32 + b);
  });
  return out;
}

export function attributeName(bit: number): string {
  return ATTRIBUTE_NAMES.get(bit) ?? `attr${bit}`;
}

export class Renderer {
  private readonly types = new Map<string, TypeMeta>([
    ...Object.entries(nfs4Types),
    ...Object.entries(rpcTypes),
  ]);
  private readonly interpreter = new XdrInterpreter(nfs4Types, rpcTypes);
  private readonly enumNames = new Map<string, ReadonlyMap<number, string>>();

  /** `maxOpaqueShown`: opaques longer than this print as their first bytes and length. */
  constructor(private readonly maxOpaqueShown: number) {}

  /** The value `v` of the named type. */
  named(name: string, v: unknown, ids: Ids): Display {
    return this.ref(name, v, ids, "");
  }

  /** The value `v` of type `t`; `field` is the name it is declared under. */
  value(t: XdrType, v: unknown, ids: Ids, field = ""): Display {
    switch (t.kind) {
      case "int":
      case "uint":
      case "float":
      case "double":
        return typeof v === "number" ? v : null;
      case "hyper":
      case "uhyper":
        return typeof v === "bigint" ? v : null;
      case "bool":
        return typeof v === "boolean" ? v : null;
      case "void":
        return null;
      case "quadruple":
      case "opaque":
        return v instanceof Uint8Array ? hex(v, this.maxOpaqueShown) : null;
      case "string":
        return typeof v === "string" ? new Utf8Text(v) : null;
      case "array":
        return Array.isArray(v) ? v.map((e) => this.value(t.of, e, ids)) : null;
      case "optional":
        return v === null || v === undefined ? null : this.value(t.of, v, ids, field);
      case "list":
        return Array.isArray(v) ? v.map((e) => this.ref(t.of, e, ids, "")) : null;
      case "ref":
        return this.ref(t.name, v, ids, field);
    }
  }

  private ref(name: string, v: unknown, ids: Ids, field: string): Display {
    const t = this.types.get(name);
    if (t === undefined) return null;
    if (UTF8_TYPES.has(name) && v instanceof Uint8Array) return utf8(v, this.maxOpaqueShown);
    if (name === "sessionid4" && v instanceof Uint8Array) {
      const id = hex(v, Infinity);
      ids.sessions.add(id);
      return id;
    }
    if (name === "clientid4" && typeof v === "bigint") {
      const id = clientIdText(v);
      ids.clients.add(id);
      return id;
    }
    if (name === "bitmap4" && ATTRIBUTE_BITMAPS.has(field) && Array.isArray(v))
      return bitsOf(v.filter(isNumber)).map(attributeName);
    if (name === "fattr4" && isRecord(v)) return this.fattr4(v, ids);
    switch (t.kind) {
      case "enum":
        return typeof v === "number" ? (this.enumName(t, v) ?? v) : null;
      case "typedef":
        return this.value(t.type, v, ids, field);
      case "struct": {
        if (!isRecord(v)) return null;
        const out: Record<string, Display> = {};
        for (const f of t.fields) {
          if (f.name === t.link) continue;
          out[f.name] = this.value(f.type, v[f.name], ids, f.name);
        }
        return out;
      }
      case "union": {
        if (!isRecord(v)) return null;
        const d = t.discriminant;
        const disc = v[d.name];
        const out: Record<string, Display> = { [d.name]: this.value(d.type, disc, ids, d.name) };
        const arm =
          t.arms.find(
            (a) =>
              (typeof disc === "number" || typeof disc === "boolean") && a.values.includes(disc),
          ) ?? t.defaultArm;
        if (arm !== null && arm.name !== null)
          out[arm.name] = this.value(arm.type, v[arm.name], ids, arm.name);
        return out;
      }
    }
  }

  private enumName(t: TypeMeta & { kind: "enum" }, v: number): string | undefined {
    let names = this.enumNames.get(t.name);
    if (names === undefined) {
      const m = new Map<number, string>();
      for (const [k, n] of Object.entries(t.members)) if (!m.has(n)) m.set(n, k);
      this.enumNames.set(t.name, m);
      names = m;
    }
    return names.get(v);
  }

  /**
   * A fattr4: its mask as names and its values decoded in bit order, each with
   * its fattr4_<name> type. Values after an attribute this decoder has no type
   * for (or that do not decode) are shown as the remaining bytes in hex.
   */
  private fattr4(v: Record<string, unknown>, ids: Ids): Display {
    const mask = Array.isArray(v["attrmask"]) ? v["attrmask"].filter(isNumber) : [];
    const vals = v["attr_vals"];
    const bits = bitsOf(mask);
    const names = bits.map(attributeName);
    if (!(vals instanceof Uint8Array)) return { attrmask: names, attr_vals: null };
    const values: Record<string, Display> = {};
    const r = new XdrReader(vals);
    for (const bit of bits) {
      const name = attributeName(bit);
      const type = `fattr4_${name}`;
      if (!this.types.has(type)) {
        values["undecoded"] = hex(vals.subarray(r.offset), this.maxOpaqueShown);
        return { attrmask: names, attr_vals: values };
      }
      try {
        values[name] = this.named(type, this.interpreter.decode(type, r), ids);
      } catch (e) {
        if (!(e instanceof XdrError)) throw e;
        values["undecoded"] = `${hex(vals.subarray(r.offset), this.maxOpaqueShown)} (${e.message})`;
        return { attrmask: names, attr_vals: values };
      }
    }
    if (r.remaining > 0) values["trailing"] = hex(vals.subarray(r.offset), this.maxOpaqueShown);
    return { attrmask: names, attr_vals: values };
  }
}

/** A clientid4 as 16 hex digits (how --client takes it). */
export function clientIdText(v: bigint): string {
  return BigInt.asUintN(64, v).toString(16).padStart(16, "0");
}

function utf8(v: Uint8Array, max: number): Display {
  try {
    return new Utf8Text(strictUtf8.decode(v));
  } catch {
    // Not valid UTF-8 (pynfs sends such names on purpose): show the bytes.
    return hex(v, max);
  }
}

function isNumber(x: unknown): x is number {
  return typeof x === "number";
}

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === "object" && x !== null && !Array.isArray(x) && !(x instanceof Uint8Array);
}

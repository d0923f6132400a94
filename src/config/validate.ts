// Checks a configuration value (parsed from YAML/JSON, with environment
// overrides applied) against its declaration (declarations.ts): unknown
// keys, wrong types, values out of range or not among the choices, strings
// of the wrong form. Collects every problem (up to MAX_PROBLEMS) with the key
// path it concerns; yaml-source.ts turns paths into lines.

import type { KeyPath, Leaf, LeafSetting, Node, ObjectNode, StringSetting } from "./schema.js";

/** Problems reported at most: past a few, the rest are usually one mistake's echoes. */
export const MAX_PROBLEMS = 20;

/** Values quoted in messages are cut to this many characters. */
const MAX_QUOTED_CHARS = 60;

export interface Problem {
  readonly path: KeyPath;
  readonly message: string;
  /** The problem is the key itself (an unknown key), not its value. */
  readonly atKey?: boolean;
}

/** A value as messages quote it: `"90"`, `5`, `a list`. */
export function describeValue(v: unknown): string {
  if (typeof v === "string") {
    const quoted = JSON.stringify(v);
    return quoted.length > MAX_QUOTED_CHARS ? `${quoted.slice(0, MAX_QUOTED_CHARS)}…"` : quoted;
  }
  if (v === null || v === undefined) return "an empty value";
  if (Array.isArray(v)) return v.length === 0 ? "an empty list" : "a list";
  if (typeof v === "object") return "a mapping";
  return String(v);
}

const quote = (words: readonly string[]): string => words.map((w) => `"${w}"`).join(", ");

function isMapping(v: unknown): v is { readonly [key: string]: unknown } {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** What a leaf allows, in words: `an integer in [1, 4294967295]`. */
export function allowedText(s: LeafSetting): string {
  switch (s.kind) {
    case "integer":
      return `an integer in [${s.min}, ${s.max}]`;
    case "boolean":
      return "true or false";
    case "choice":
      return `one of ${quote(s.values)}`;
    case "string":
      return s.format?.allowed ?? (s.nonEmpty === true ? "a non-empty string" : "a string");
    case "list":
      return `a list of ${s.unique ? "distinct " : ""}${
        s.item.kind === "choice"
          ? `values among ${quote(s.item.values)}`
          : `strings, each ${allowedText(s.item)}`
      }${s.minItems > 0 ? `, at least ${s.minItems}` : ""}`;
  }
}

class Collector {
  readonly problems: Problem[] = [];
  add(p: Problem): void {
    if (this.problems.length < MAX_PROBLEMS) this.problems.push(p);
  }
}

/** Every problem of `value` against `node` (empty: valid). */
export function validate(node: ObjectNode, value: unknown): Problem[] {
  const out = new Collector();
  checkNode(node, value, [], out);
  return out.problems;
}

function checkNode(node: Node, value: unknown, path: KeyPath, out: Collector): void {
  switch (node.kind) {
    case "object":
      // A section with every key commented out ("nfs:" alone) is empty, not an error.
      if (value === null && path.length === 1) return;
      checkObject(node, value, path, out);
      return;
    case "objects":
      if (!Array.isArray(value) || value.length < node.minItems) {
        out.add({
          path,
          message: `must be a non-empty list of mappings, not ${describeValue(value)}`,
        });
        return;
      }
      value.forEach((item: unknown, i) => checkObject(node.item, item, [...path, i], out));
      return;
    default:
      checkLeaf(node, value, path, out);
  }
}

function checkObject(node: ObjectNode, value: unknown, path: KeyPath, out: Collector): void {
  const known = Object.keys(node.fields);
  if (!isMapping(value)) {
    out.add({
      path,
      message: `must be a mapping of settings (known: ${known.join(", ")}), not ${describeValue(value)}`,
    });
    return;
  }
  for (const key of node.required ?? [])
    if (value[key] === undefined) out.add({ path, message: `needs the key '${key}'` });
  for (const [key, v] of Object.entries(value)) {
    const field = node.fields[key];
    if (field === undefined) {
      out.add({
        path: [...path, key],
        message: `unknown key (known: ${known.join(", ")})`,
        atKey: true,
      });
      continue;
    }
    checkNode(field, v, [...path, key], out);
  }
}

function checkLeaf(s: Leaf, v: unknown, path: KeyPath, out: Collector): void {
  const bad = (): void =>
    out.add({ path, message: `must be ${allowedText(s)}, not ${describeValue(v)}` });
  switch (s.kind) {
    case "integer":
      if (typeof v !== "number" || !Number.isSafeInteger(v) || v < s.min || v > s.max) bad();
      return;
    case "boolean":
      if (typeof v !== "boolean") bad();
      return;
    case "choice":
      if (typeof v !== "string" || !s.values.includes(v)) bad();
      return;
    case "string":
      checkString(s, v, path, out);
      return;
    case "list": {
      if (!Array.isArray(v) || v.length < s.minItems) {
        bad();
        return;
      }
      const seen = new Set<unknown>();
      v.forEach((item: unknown, i) => {
        if (s.unique && seen.has(item))
          out.add({ path: [...path, i], message: `repeats ${describeValue(item)}` });
        seen.add(item);
        checkLeaf(s.item, item, [...path, i], out);
      });
    }
  }
}

function checkString(s: StringSetting, v: unknown, path: KeyPath, out: Collector): void {
  if (typeof v !== "string" || (s.nonEmpty === true && v === "")) {
    out.add({ path, message: `must be ${allowedText(s)}, not ${describeValue(v)}` });
    return;
  }
  const why = s.format?.check(v) ?? null;
  if (why !== null)
    out.add({ path, message: `must be ${allowedText(s)}, not ${describeValue(v)} (${why})` });
}

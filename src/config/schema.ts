// The shape of a declaration of `dfs serve`'s settings: one entry per setting
// with its type, what values it allows, its default and a one-line
// description. declarations.ts declares every setting with these; from that
// one declaration come the validation (validate.ts), the environment
// overrides (environment.ts), the JSON Schema (json-schema.ts) and the
// README's settings reference (reference.ts). Defaults are not typed here:
// a section takes them from its DEFAULT_*_SETTINGS object.

/** A check of a string's form beyond its type, with the words for what it allows. */
export interface StringFormat {
  /** What a valid value looks like, for messages: "HOST:PORT, e.g. 127.0.0.1:2049". */
  readonly allowed: string;
  /** Why `value` is not valid, or null. */
  check(value: string): string | null;
  /** A JSON Schema (draft 2020-12) pattern that says the same, as far as a regular expression can. */
  readonly jsonSchema: { readonly pattern: string };
}

interface Described {
  /** One line for the README and the JSON Schema's "description". */
  readonly description: string;
  /** The default in words, where it is not a plain value (an export's defaults come from `store`). */
  readonly defaultText?: string;
  /**
   * A secret `dfs config show` redacts: "whole" (a key, a token) or
   * "url-password" (the password of a URL such as postgres://user:pw@host/db).
   */
  readonly secret?: "whole" | "url-password";
}

export interface IntegerSetting extends Described {
  readonly kind: "integer";
  readonly min: number;
  readonly max: number;
  /** Bytes are shown in the reference in KiB/MiB/GiB as well. */
  readonly unit?: "bytes";
}

export interface StringSetting extends Described {
  readonly kind: "string";
  readonly nonEmpty?: boolean;
  readonly format?: StringFormat;
}

export interface ChoiceSetting extends Described {
  readonly kind: "choice";
  readonly values: readonly string[];
}

export interface BooleanSetting extends Described {
  readonly kind: "boolean";
}

export interface ListSetting extends Described {
  readonly kind: "list";
  readonly item: StringSetting | ChoiceSetting;
  readonly minItems: number;
  readonly unique: boolean;
}

export type LeafSetting =
  IntegerSetting | StringSetting | ChoiceSetting | BooleanSetting | ListSetting;

/** A leaf with its default value attached (from a DEFAULT_*_SETTINGS object), if it has one. */
export type Leaf = LeafSetting & { readonly default?: DefaultValue };

export type DefaultValue = string | number | boolean | readonly string[];

/** A mapping of settings: a section such as `nfs`, an export, or the whole file. */
export interface ObjectNode {
  readonly kind: "object";
  readonly description: string;
  readonly fields: { readonly [key: string]: Node };
  readonly required?: readonly string[];
}

/** A list of mappings: `exports`. */
export interface ObjectListNode {
  readonly kind: "objects";
  readonly description: string;
  readonly defaultText: string;
  readonly item: ObjectNode;
  readonly minItems: number;
}

export type Node = Leaf | ObjectNode | ObjectListNode;

/** The declaration a setting of type T needs. */
export type SettingFor<T> = T extends number
  ? IntegerSetting
  : T extends boolean
    ? BooleanSetting
    : T extends string
      ? StringSetting | ChoiceSetting
      : T extends readonly string[]
        ? ListSetting
        : never;

/** One declaration for every key of T, no more, no less (tsc checks). */
export type Declarations<T> = { readonly [K in keyof T]-?: SettingFor<T[K]> };

/** A section whose settings default to `defaults`' values. */
export function section<T extends object>(
  description: string,
  defaults: T,
  declarations: Declarations<T>,
): ObjectNode {
  const fields: { [key: string]: Node } = {};
  const values = new Map<string, unknown>(Object.entries(defaults));
  for (const [key, decl] of Object.entries(declarations) as [string, LeafSetting][]) {
    const value = values.get(key);
    if (!isDefaultValue(value)) throw new Error(`no default for the setting '${key}'`);
    fields[key] = { ...decl, default: value };
  }
  return { kind: "object", description, fields };
}

function isDefaultValue(v: unknown): v is DefaultValue {
  return (
    typeof v === "string" ||
    typeof v === "number" ||
    typeof v === "boolean" ||
    (Array.isArray(v) && v.every((x) => typeof x === "string"))
  );
}

/** setTimeout's longest delay: larger ones fire at once. */
export const MAX_TIMER_MS = 0x7fffffff;
export const MAX_UINT32 = 0xffffffff;

export const int = (
  min: number,
  max: number,
  description: string,
  extra: Partial<Pick<IntegerSetting, "unit">> = {},
): IntegerSetting => ({ kind: "integer", min, max, description, ...extra });
export const bytes = (min: number, max: number, description: string): IntegerSetting =>
  int(min, max, description, { unit: "bytes" });
export const count = (min: number, description: string): IntegerSetting =>
  int(min, Number.MAX_SAFE_INTEGER, description);
export const choice = (values: readonly string[], description: string): ChoiceSetting => ({
  kind: "choice",
  values,
  description,
});
export const text = (
  description: string,
  extra: Partial<Pick<StringSetting, "nonEmpty" | "format" | "secret" | "defaultText">> = {},
): StringSetting => ({ kind: "string", description, ...extra });
export const flag = (description: string): BooleanSetting => ({ kind: "boolean", description });

/** The key path of a setting, as messages show it: `exports[1].clients[0]`. */
export type KeyPath = readonly (string | number)[];

export function pathText(path: KeyPath): string {
  let out = "";
  for (const p of path) out += typeof p === "number" ? `[${p}]` : out === "" ? p : `.${p}`;
  return out === "" ? "(top level)" : out;
}

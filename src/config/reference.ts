// The README's settings reference (Markdown tables), derived from the
// declaration (declarations.ts), so every key is documented once, with its
// default, what it allows and the environment variable that overrides it.
// `npm run config:docs` writes it into README.md between REFERENCE_BEGIN and
// REFERENCE_END; test/config/generated-docs.test.ts fails when it is stale.

import { CONFIG_DECLARATION } from "./declarations.js";
import { environmentSettings } from "./environment.js";
import type { DefaultValue, Leaf, Node, ObjectNode } from "./schema.js";

export const REFERENCE_BEGIN =
  "<!-- settings reference: generated from src/config/declarations.ts by `npm run config:docs`; do not edit by hand -->";
export const REFERENCE_END = "<!-- end of the generated settings reference -->";

const BINARY_UNITS: readonly [string, number][] = [
  ["PiB", 2 ** 50],
  ["GiB", 2 ** 30],
  ["MiB", 2 ** 20],
  ["KiB", 2 ** 10],
];

/** 1114112 → "1 MiB + 64 KiB"; null when no short sum of binary units says it. */
export function binarySize(n: number): string | null {
  if (n < 1024 || n % 1024 !== 0) return null;
  const terms: string[] = [];
  let rest = n;
  for (const [unit, size] of BINARY_UNITS) {
    if (rest >= size) {
      terms.push(`${Math.floor(rest / size)} ${unit}`);
      rest %= size;
    }
  }
  return rest === 0 && terms.length <= 2 ? terms.join(" + ") : null;
}

function defaultCell(leaf: Leaf): string {
  if (leaf.defaultText !== undefined) return leaf.defaultText;
  const v: DefaultValue | undefined = leaf.default;
  if (v === undefined) return "";
  if (typeof v === "number") {
    const human = leaf.kind === "integer" && leaf.unit === "bytes" ? binarySize(v) : null;
    return human === null ? String(v) : `${v} (${human})`;
  }
  return `\`${JSON.stringify(v).replace(/,/g, ", ")}\``;
}

function integerRange(min: number, max: number): string {
  return max === Number.MAX_SAFE_INTEGER ? `integer ≥ ${min}` : `integer ${min} … ${max}`;
}

function allowedCell(leaf: Leaf): string {
  switch (leaf.kind) {
    case "integer":
      return integerRange(leaf.min, leaf.max);
    case "boolean":
      return "`true`, `false`";
    case "choice":
      return leaf.values.map((v) => `\`"${v}"\``).join(", ");
    case "string":
      return leaf.format?.allowed ?? (leaf.nonEmpty === true ? "non-empty string" : "string");
    case "list":
      return `list of ${leaf.item.kind === "choice" ? leaf.item.values.map((v) => `\`"${v}"\``).join(", ") : (leaf.item.format?.allowed ?? "strings")}${leaf.unique ? " (distinct)" : ""}`;
  }
}

/** Table cells may not hold a bare "|". */
const cell = (text: string): string => text.replace(/\|/g, "\\|");

function table(rows: string[][]): string[] {
  return [
    "| setting | default | allowed | what it does |",
    "| --- | --- | --- | --- |",
    ...rows.map((r) => `| ${r.map(cell).join(" | ")} |`),
  ];
}

/** The Markdown reference, without the markers. */
export function settingsReference(): string {
  const variables = new Map(
    [...environmentSettings(CONFIG_DECLARATION).values()].map((s) => [
      s.path.join("."),
      s.variable,
    ]),
  );
  const keyCell = (key: string): string => {
    const v = variables.get(key);
    return v === undefined ? `\`${key}\`` : `\`${key}\` (\`${v}\`)`;
  };
  const leafRow = (key: string, leaf: Leaf): string[] => [
    keyCell(key),
    defaultCell(leaf),
    allowedCell(leaf),
    leaf.description,
  ];
  const out: string[] = [];
  const top: string[][] = [];
  const sections: [string, ObjectNode][] = [];
  let exportsNode: Node | undefined;
  for (const [key, node] of Object.entries(CONFIG_DECLARATION.fields)) {
    if (node.kind === "object") sections.push([key, node]);
    else if (node.kind === "objects") exportsNode = node;
    else top.push(leafRow(key, node));
  }
  out.push(...table(top));
  for (const [name, node] of sections) {
    out.push("", `**\`${name}\`** — ${node.description}`, "");
    out.push(
      ...table(
        Object.entries(node.fields).flatMap(([key, field]) =>
          field.kind === "object" || field.kind === "objects"
            ? []
            : [leafRow(`${name}.${key}`, field)],
        ),
      ),
    );
  }
  if (exportsNode !== undefined && exportsNode.kind === "objects") {
    out.push(
      "",
      `**\`exports\`** (default: ${exportsNode.defaultText}) — ${exportsNode.description}. Each entry (not settable from the environment):`,
      "",
    );
    out.push(
      ...table(
        Object.entries(exportsNode.item.fields).flatMap(([key, field]) =>
          field.kind === "object" || field.kind === "objects"
            ? []
            : [[`\`${key}\``, defaultCell(field), allowedCell(field), field.description]],
        ),
      ),
    );
  }
  return out.join("\n");
}

/** `readme` with the text between the markers replaced by the reference; throws when a marker is missing. */
export function readmeWithReference(readme: string): string {
  const begin = readme.indexOf(REFERENCE_BEGIN);
  const end = readme.indexOf(REFERENCE_END);
  if (begin < 0 || end < begin) throw new Error("README.md lacks the settings reference markers");
  return `${readme.slice(0, begin + REFERENCE_BEGIN.length)}\n\n${settingsReference()}\n\n${readme.slice(end)}`;
}

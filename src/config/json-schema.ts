// The JSON Schema (draft 2020-12) of the configuration file, derived from the
// declaration (declarations.ts). Committed as schema/dfs-config.schema.json
// (`npm run config:docs`) for editors and other tools; the server itself
// validates with validate.ts, which also checks what JSON Schema cannot say
// (a CIDR's host bits, a port's range, one setting needing another).

import { CONFIG_DECLARATION } from "./declarations.js";
import type { Leaf, LeafSetting, Node } from "./schema.js";

export const JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema";

type Json = string | number | boolean | null | readonly Json[] | { readonly [key: string]: Json };

function describe(node: { readonly description: string; readonly defaultText?: string }): string {
  return node.defaultText === undefined
    ? node.description
    : `${node.description} (default: ${node.defaultText})`;
}

function leafSchema(s: LeafSetting): { [key: string]: Json } {
  switch (s.kind) {
    case "integer":
      return { type: "integer", minimum: s.min, maximum: s.max };
    case "boolean":
      return { type: "boolean" };
    case "choice":
      return { type: "string", enum: [...s.values] };
    case "string":
      return {
        type: "string",
        ...(s.nonEmpty === true ? { minLength: 1 } : {}),
        ...(s.format === undefined ? {} : { pattern: s.format.jsonSchema.pattern }),
      };
    case "list":
      return {
        type: "array",
        items: leafSchema(s.item),
        ...(s.minItems > 0 ? { minItems: s.minItems } : {}),
        ...(s.unique ? { uniqueItems: true } : {}),
      };
  }
}

function nodeSchema(node: Node): { [key: string]: Json } {
  switch (node.kind) {
    case "object": {
      const properties: { [key: string]: Json } = {};
      for (const [key, field] of Object.entries(node.fields)) properties[key] = nodeSchema(field);
      return {
        type: "object",
        description: node.description,
        properties,
        ...(node.required === undefined ? {} : { required: [...node.required] }),
        additionalProperties: false,
      };
    }
    case "objects":
      return {
        type: "array",
        description: describe(node),
        minItems: node.minItems,
        items: nodeSchema(node.item),
      };
    default: {
      const leaf: Leaf = node;
      return {
        description: describe(leaf),
        ...leafSchema(leaf),
        ...(leaf.default === undefined ? {} : { default: leaf.default }),
      };
    }
  }
}

/** The JSON Schema of the whole configuration file. */
export function configJsonSchema(): { [key: string]: Json } {
  return {
    $schema: JSON_SCHEMA_DIALECT,
    title: "dfs serve configuration",
    ...nodeSchema(CONFIG_DECLARATION),
  };
}

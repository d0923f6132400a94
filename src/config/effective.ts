// The effective configuration in the file's own shape (`dfs config show`):
// every setting with its value after defaults, file, environment and command
// line, secrets redacted. Without redaction it reads back as the same
// configuration.

import { FLAVOR_NAMES } from "../exports/rules.js";
import { withoutPassword } from "../store/data-dir.js";
import type { ServeConfig } from "./config.js";
import { CONFIG_DECLARATION } from "./declarations.js";
import type { ExportConfig } from "./exports.js";
import { listenText } from "./listen.js";
import type { Node } from "./schema.js";

/** What a secret shows as. */
export const REDACTED = "(redacted)";

type Plain = string | number | boolean | readonly Plain[] | { readonly [key: string]: Plain };

const FLAVOR_BY_NUMBER = new Map([...FLAVOR_NAMES].map(([name, n]) => [n, name]));

/** An export as the file spells it; what does not apply to its backend is left out. */
function exportEntry(e: ExportConfig): { [key: string]: Plain } {
  return {
    path: e.path,
    id: e.id,
    backend: e.backend,
    ...(e.dataDir === "" ? {} : { dataDir: e.dataDir }),
    ...(e.postgresUrl === "" ? {} : { postgresUrl: e.postgresUrl }),
    ...(e.backend === "memory" ? {} : { payload: e.payload }),
    ...(e.rules.clients === null ? {} : { clients: e.rules.clients.map((c) => c.text) }),
    readOnly: e.rules.readOnly,
    squash: e.rules.squash,
    anonuid: e.rules.anonUid,
    anongid: e.rules.anonGid,
    sec: e.rules.flavors.map((f) => FLAVOR_BY_NUMBER.get(f) ?? String(f)),
  };
}

/** `config` as a configuration file would say it, in the declaration's order. */
export function effectiveSettings(config: ServeConfig, redact = true): { [key: string]: Plain } {
  const values: { [key: string]: Plain | undefined } = {
    listen: config.listen.map(listenText),
    nfs: { ...config.nfs },
    rpc: { ...config.rpc },
    store: { ...config.store },
    exports: config.exports?.map(exportEntry),
    logLevel: config.logLevel,
    control: { ...config.control },
    metrics: { ...config.metrics },
  };
  const out: { [key: string]: Plain } = {};
  for (const [key, node] of Object.entries(CONFIG_DECLARATION.fields)) {
    const v = values[key];
    if (v !== undefined) out[key] = shaped(node, v, redact);
  }
  return out;
}

/** `value` with its keys in `node`'s order and, with `redact`, the secrets `node` declares replaced. */
function shaped(node: Node, value: Plain, redact: boolean): Plain {
  if (node.kind === "objects")
    return Array.isArray(value) ? value.map((v: Plain) => shaped(node.item, v, redact)) : value;
  if (node.kind === "object") {
    if (typeof value !== "object" || Array.isArray(value)) return value;
    const given = new Map(Object.entries(value as { readonly [key: string]: Plain }));
    const out: { [key: string]: Plain } = {};
    for (const [key, field] of Object.entries(node.fields)) {
      const v = given.get(key);
      if (v !== undefined) out[key] = shaped(field, v, redact);
    }
    return out;
  }
  if (!redact || typeof value !== "string" || value === "" || node.secret === undefined)
    return value;
  return node.secret === "whole" ? REDACTED : withoutPassword(value);
}

// Reloading the exports configuration (dfsctl reload, SIGHUP): the file is
// read and checked again, and the exports' access rules change in place.
// Exports keep their stores while the server runs: adding or removing an
// export, or moving one to another store, needs a restart, and a reload that
// asks for it changes nothing and says so.

import type { ExportConfig } from "../config/exports.js";
import type { ServeConfig } from "../config/config.js";
import { DEFAULT_EXPORT_RULES, type ExportRules } from "../exports/rules.js";
import type { NfsServer } from "../nfs/server.js";
import { ControlError } from "./actions.js";

export interface ReloadReport {
  /** Exports whose rules changed. */
  readonly changed: readonly string[];
  readonly unchanged: readonly string[];
}

/** The exports a configuration gives, as (path → store identity, rules). */
function exportsOf(config: ServeConfig): Map<string, { store: string; rules: ExportRules }> {
  const out = new Map<string, { store: string; rules: ExportRules }>();
  if (config.exports === null) {
    out.set("/export", { store: "(store)", rules: DEFAULT_EXPORT_RULES });
    return out;
  }
  for (const e of config.exports) out.set(e.path, { store: storeOf(e), rules: e.rules });
  return out;
}

function storeOf(e: ExportConfig): string {
  return JSON.stringify([e.id, e.backend, e.dataDir, e.postgresUrl, e.payload]);
}

function sameRules(a: ExportRules, b: ExportRules): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/**
 * Applies `next`'s export rules to the server started with `current`, or
 * throws ControlError(409) naming what only a restart can change.
 */
export function reloadExports(
  server: NfsServer,
  current: ServeConfig,
  next: ServeConfig,
): ReloadReport {
  const before = exportsOf(current);
  const after = exportsOf(next);
  const problems: string[] = [];
  for (const path of before.keys()) if (!after.has(path)) problems.push(`export ${path} removed`);
  for (const [path, e] of after) {
    const was = before.get(path);
    if (was === undefined) problems.push(`export ${path} added`);
    else if (was.store !== e.store) problems.push(`export ${path} moved to another store`);
  }
  if (problems.length > 0)
    throw new ControlError(
      409,
      `nothing reloaded: ${problems.join("; ")} (exports keep their stores while the server runs: restart for that)`,
    );
  const rules = new Map<string, ExportRules>();
  const served = new Map(server.fs.exports.map((e) => [e.path, e.rules]));
  for (const [path, e] of after) {
    const now = served.get(path);
    if (now !== undefined && !sameRules(now, e.rules)) rules.set(path, e.rules);
  }
  server.fs.replaceRules(rules);
  const changed = [...rules.keys()];
  if (changed.length > 0) server.log.info({ changed }, "export rules reloaded");
  return { changed, unchanged: [...after.keys()].filter((p) => !rules.has(p)) };
}

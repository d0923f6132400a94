// Reloading the exports configuration (dfsctl reload, SIGHUP): the file is
// read and checked again, then applied: exports that are new are opened and
// mounted, exports no longer listed are unmounted (their handles are
// NFS4ERR_STALE from then on) and their stores closed, and changed access
// rules apply to the next request. An export that moved to another store,
// or a change between the lone /export and an exports list, needs a
// restart: such a reload changes nothing and says so. So does one whose new
// store cannot be opened.

import type { ExportConfig } from "../config/exports.js";
import type { ServeConfig } from "../config/config.js";
import type { ExportDefinition } from "../exports/namespace.js";
import { DEFAULT_EXPORT_RULES, type ExportRules } from "../exports/rules.js";
import type { NfsServer } from "../nfs/server.js";
import { ControlError } from "./actions.js";

/** Opens and closes single exports' stores (cli/open-exports.ts). */
export interface ExportStores {
  add(c: ExportConfig, index: number): Promise<ExportDefinition>;
  release(path: string): Promise<void>;
}

export interface ReloadReport {
  readonly added: readonly string[];
  readonly removed: readonly string[];
  /** Exports whose rules changed. */
  readonly changed: readonly string[];
  readonly unchanged: readonly string[];
}

/** What a reload did, in words (dfs's SIGHUP line; dfsctl reload prints the same). */
export function reloadText(r: ReloadReport): string {
  const parts = [
    ...(r.added.length > 0 ? [`added ${r.added.join(", ")}`] : []),
    ...(r.removed.length > 0 ? [`removed ${r.removed.join(", ")}`] : []),
    ...(r.changed.length > 0 ? [`new rules for ${r.changed.join(", ")}`] : []),
  ];
  return parts.length > 0 ? parts.join("; ") : "nothing changed";
}

interface Planned {
  readonly store: string;
  readonly rules: ExportRules;
  /** Its entry in the file (null: the lone /export of a file without `exports`). */
  readonly config: ExportConfig | null;
  readonly index: number;
}

/** The exports a configuration gives, by path. */
function exportsOf(config: ServeConfig): Map<string, Planned> {
  const out = new Map<string, Planned>();
  if (config.exports === null) {
    out.set("/export", { store: "(store)", rules: DEFAULT_EXPORT_RULES, config: null, index: 0 });
    return out;
  }
  for (const [index, e] of config.exports.entries())
    out.set(e.path, { store: storeOf(e), rules: e.rules, config: e, index });
  return out;
}

function storeOf(e: ExportConfig): string {
  return JSON.stringify([e.id, e.backend, e.dataDir, e.postgresUrl, e.payload]);
}

function sameRules(a: ExportRules, b: ExportRules): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function refuse(problems: readonly string[]): never {
  throw new ControlError(
    409,
    `nothing reloaded: ${problems.join("; ")} (restart the server for that)`,
  );
}

/**
 * Applies `next`'s exports to the server started with `current`; `stores`
 * opens and closes export stores (null: exports cannot be added or removed,
 * only their rules changed). Throws ControlError(409), changing nothing, for
 * what only a restart can do or a store that does not open.
 */
export async function reloadExports(
  server: NfsServer,
  current: ServeConfig,
  next: ServeConfig,
  stores: ExportStores | null,
): Promise<ReloadReport> {
  const before = exportsOf(current);
  const after = exportsOf(next);
  const problems: string[] = [];
  if ((current.exports === null) !== (next.exports === null))
    problems.push(
      current.exports === null
        ? "the lone export /export would become an exports list"
        : "the exports list would become the lone export /export",
    );
  const removed = [...before.keys()].filter((p) => !after.has(p));
  const added = [...after.entries()].filter(([p]) => !before.has(p));
  for (const [path, e] of problems.length > 0 ? [] : after) {
    const was = before.get(path);
    if (was !== undefined && was.store !== e.store)
      problems.push(`export ${path} would move to another store`);
  }
  if (stores === null && (removed.length > 0 || added.length > 0))
    problems.push("this server cannot add or remove exports");
  for (const [path, e] of added) {
    const conflict = server.fs.idConflict({ path, id: e.config?.id ?? 0 });
    if (conflict !== null) problems.push(conflict);
  }
  if (problems.length > 0) refuse(problems);

  // The new stores first: if one does not open, nothing has changed.
  const opened: ExportDefinition[] = [];
  try {
    for (const [, e] of added)
      if (e.config !== null && stores !== null) opened.push(await stores.add(e.config, e.index));
  } catch (err) {
    for (const d of opened) await stores?.release(d.path);
    throw new ControlError(
      409,
      `nothing reloaded: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
  // Then, in one turn of the event loop (no request sees a half-done
  // namespace): unmount, mount, new rules.
  for (const path of removed) server.fs.removeExport(path);
  for (const d of opened) server.fs.addExport(d);
  const rules = new Map<string, ExportRules>();
  const served = new Map(server.fs.exports.map((e) => [e.path, e.rules]));
  for (const [path, e] of after) {
    const now = served.get(path);
    if (now !== undefined && !sameRules(now, e.rules)) rules.set(path, e.rules);
  }
  server.fs.replaceRules(rules);
  for (const path of removed) await stores?.release(path);
  const report: ReloadReport = {
    added: opened.map((d) => d.path),
    removed,
    changed: [...rules.keys()],
    unchanged: [...after.keys()].filter((p) => !rules.has(p) && before.has(p)),
  };
  if (report.added.length + report.removed.length + report.changed.length > 0)
    server.log.info(report, "exports reloaded");
  return report;
}

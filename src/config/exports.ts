// The `exports` section of `dfs serve`'s configuration: the list of exports
// the pseudo-filesystem joins (src/exports/namespace.ts), each with its
// backend, its data location and its access rules. Checked whole, so a typo,
// two exports on one path or one data directory, or a bad address is an
// error at start rather than a surprise later. Each key's own type, range
// and form are checked by its declaration (declarations.ts) before this runs.
//
// Without the key the server has one export, "/export", on the top-level
// `store` (ServeConfig.exports is null): what it served before exports.

import { resolve, sep } from "node:path";
import { parsePrefix } from "../exports/address.js";
import { exportIdOf, pathComponents } from "../exports/namespace.js";
import {
  DEFAULT_EXPORT_RULES,
  FLAVOR_NAMES,
  type ExportRules,
  type SquashMode,
} from "../exports/rules.js";
import { type PayloadStoreKind, type StoreBackend, type StoreSettings } from "../store/settings.js";
import { withoutPassword } from "../store/data-dir.js";
import { checkPostgresUrl } from "./postgres-url.js";
import { checkS3Settings } from "./s3-settings.js";
import type { ExportEntry } from "./declarations.js";
import type { KeyPath } from "./schema.js";

/** One export, checked, with every default filled in. */
export interface ExportConfig {
  /** Its path in the pseudo-filesystem: "/a/b". */
  readonly path: string;
  /** The id its handles carry: `id` from the file, or a hash of the path. */
  readonly id: number;
  readonly backend: StoreBackend;
  /** The "sqlite" and "postgres" backends' data directory (absolute); "" for "memory". */
  readonly dataDir: string;
  /** The "postgres" backend's database (a store of its own); "" for the others. */
  readonly postgresUrl: string;
  /**
   * Where files' contents live: "local" (the data directory) or "s3" (the
   * bucket of `store.s3*`, under the export's own prefix); default
   * `store.payload`. "local" for "memory" (it has no payload store).
   */
  readonly payload: PayloadStoreKind;
  readonly rules: ExportRules;
}

/**
 * The error type config.ts reports (defined there; passed in to keep one
 * class); `path` is the key the message is about, for its line in the file.
 */
type ErrorMaker = (message: string, path?: KeyPath) => Error;

/** `<store.dataDir>/exports/<the path's components joined by "-">`. */
export function defaultExportDataDir(store: StoreSettings, path: string): string {
  return resolve(store.dataDir, "exports", pathComponents(path).join("-"));
}

/** True when directory `inner` is `outer` or lies beneath it. */
function within(inner: string, outer: string): boolean {
  return inner === outer || inner.startsWith(outer.endsWith(sep) ? outer : outer + sep);
}

/**
 * The exports of `value` — already checked against the declaration
 * (declarations.ts: each key's type, range and form) — with their defaults
 * filled in from `store`, and checked together: what one export's settings
 * need of each other, and what no two exports may share.
 */
export function exportsSettings(
  value: unknown,
  store: StoreSettings,
  error: ErrorMaker,
): readonly ExportConfig[] | null {
  if (value === undefined) return null;
  const entries = value as readonly Partial<ExportEntry>[];
  const out = entries.map((raw, i) => oneExport(raw, i, store, error));
  checkTogether(out, store, error);
  return out;
}

function oneExport(
  raw: Partial<ExportEntry>,
  i: number,
  store: StoreSettings,
  error: ErrorMaker,
): ExportConfig {
  const path = raw.path ?? "";
  const at = `exports[${i}] (${path})`;
  const key = (name: keyof ExportEntry): KeyPath => ["exports", i, name];
  const backend = (raw.backend ?? store.backend) as StoreBackend;
  let dataDir = "";
  if (backend !== "memory")
    dataDir = raw.dataDir === undefined ? defaultExportDataDir(store, path) : resolve(raw.dataDir);
  else if (raw.dataDir !== undefined)
    throw error(`'${at}.dataDir' is for the "sqlite" and "postgres" backends only`, key("dataDir"));
  const postgresUrl = raw.postgresUrl ?? "";
  const bad = checkPostgresUrl(`${at}.postgresUrl`, postgresUrl, backend);
  if (bad !== null)
    throw error(bad, raw.postgresUrl === undefined ? key("path") : key("postgresUrl"));
  let payload: PayloadStoreKind = "local";
  if (backend === "memory") {
    if (raw.payload !== undefined)
      throw error(
        `'${at}.payload' is for the "sqlite" and "postgres" backends only`,
        key("payload"),
      );
  } else {
    payload = (raw.payload ?? store.payload) as PayloadStoreKind;
    const s3 = payload === "s3" ? checkS3Settings(store, `'${at}.payload'`) : null;
    if (s3 !== null) throw error(s3, raw.payload === undefined ? key("path") : key("payload"));
  }
  const d = DEFAULT_EXPORT_RULES;
  return {
    path,
    id: raw.id ?? exportIdOf(path),
    backend,
    dataDir,
    postgresUrl,
    payload,
    rules: {
      clients: raw.clients === undefined ? d.clients : raw.clients.map(parsePrefix),
      readOnly: raw.readOnly ?? d.readOnly,
      squash: (raw.squash ?? d.squash) as SquashMode,
      anonUid: raw.anonuid ?? d.anonUid,
      anonGid: raw.anongid ?? d.anonGid,
      flavors: raw.sec === undefined ? d.flavors : raw.sec.map((s) => FLAVOR_NAMES.get(s) ?? 0),
    },
  };
}

/** What no two exports may share: a path (or one inside another), an id, a data directory. */
function checkTogether(
  all: readonly ExportConfig[],
  store: StoreSettings,
  error: ErrorMaker,
): void {
  const topDir = resolve(store.dataDir);
  for (const [i, a] of all.entries()) {
    if (store.backend === "postgres" && a.postgresUrl === store.postgresUrl)
      throw error(
        `export ${a.path}: its database is the server's own store (store.postgresUrl); choose another`,
        ["exports", i, "postgresUrl"],
      );
    if (a.dataDir !== "" && within(topDir, a.dataDir))
      throw error(
        `export ${a.path}: dataDir ${a.dataDir} holds the server's own store (store.dataDir ${topDir}); choose another`,
        ["exports", i, "dataDir"],
      );
    for (const [j, b] of all.entries()) {
      if (j <= i) continue;
      // Located at the later export: the one that repeats what came before.
      const pa = pathComponents(a.path);
      const pb = pathComponents(b.path);
      const n = Math.min(pa.length, pb.length);
      if (pa.slice(0, n).join("/") === pb.slice(0, n).join("/"))
        throw error(
          a.path === b.path
            ? `two exports have the path ${a.path}`
            : `exports ${a.path} and ${b.path} overlap: one lies inside the other`,
          ["exports", j, "path"],
        );
      if (a.id === b.id)
        throw error(
          `exports ${a.path} and ${b.path} have the same id ${a.id}: give one an explicit 'id'`,
          ["exports", j, "id"],
        );
      if (a.postgresUrl !== "" && a.postgresUrl === b.postgresUrl)
        throw error(
          `exports ${a.path} and ${b.path} share the database ${withoutPassword(a.postgresUrl)}: a database holds one export's tree`,
          ["exports", j, "postgresUrl"],
        );
      if (
        a.dataDir !== "" &&
        b.dataDir !== "" &&
        (within(a.dataDir, b.dataDir) || within(b.dataDir, a.dataDir))
      )
        throw error(
          `exports ${a.path} and ${b.path} share a data directory (${a.dataDir}, ${b.dataDir}): give each its own 'dataDir'`,
          ["exports", j, "dataDir"],
        );
    }
  }
}

// The `exports` section of `dfs serve`'s configuration: the list of exports
// the pseudo-filesystem joins (src/exports/namespace.ts), each with its
// backend, its data location and its access rules. Checked whole, so a typo,
// two exports on one path or one data directory, or a bad address is an
// error at start rather than a surprise later.
//
// Without the key the server has one export, "/export", on the top-level
// `store` (ServeConfig.exports is null): what it served before exports.

import { resolve, sep } from "node:path";
import { AddressError, parsePrefix, type AddressPrefix } from "../exports/address.js";
import { exportIdOf, pathComponents } from "../exports/namespace.js";
import {
  DEFAULT_EXPORT_RULES,
  FLAVOR_NAMES,
  type ExportRules,
  type SquashMode,
} from "../exports/rules.js";
import {
  PAYLOAD_STORES,
  STORE_BACKENDS,
  type PayloadStoreKind,
  type StoreBackend,
  type StoreSettings,
} from "../store/settings.js";
import { withoutPassword } from "../store/data-dir.js";
import { checkPostgresUrl } from "./postgres-url.js";
import { checkS3Settings } from "./s3-settings.js";

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

/** The error type config.ts reports (defined there; passed in to keep one class). */
type ErrorMaker = (message: string) => Error;

const KEYS = [
  "path",
  "id",
  "backend",
  "dataDir",
  "postgresUrl",
  "payload",
  "clients",
  "readOnly",
  "squash",
  "anonuid",
  "anongid",
  "sec",
] as const;

const SQUASH_MODES: readonly SquashMode[] = ["none", "root", "all"];

/** The longest name of one pseudo-filesystem directory (as a backend's maxNameBytes). */
const MAX_COMPONENT_BYTES = 255;

/** `<store.dataDir>/exports/<the path's components joined by "-">`. */
export function defaultExportDataDir(store: StoreSettings, path: string): string {
  return resolve(store.dataDir, "exports", pathComponents(path).join("-"));
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function u32(v: unknown): boolean {
  return typeof v === "number" && Number.isSafeInteger(v) && v >= 0 && v <= 0xffffffff;
}

/** True when directory `inner` is `outer` or lies beneath it. */
function within(inner: string, outer: string): boolean {
  return inner === outer || inner.startsWith(outer.endsWith(sep) ? outer : outer + sep);
}

/** Parses and checks the `exports` value; `store` gives the default backend and data directory. */
export function exportsSettings(
  value: unknown,
  store: StoreSettings,
  error: ErrorMaker,
): readonly ExportConfig[] | null {
  if (value === undefined) return null;
  if (!Array.isArray(value) || value.length === 0)
    throw error('\'exports\' must be a non-empty list of exports ({ "path": "/name", … })');
  const out: ExportConfig[] = [];
  value.forEach((raw: unknown, i) => {
    const where = `exports[${i}]`;
    if (!isObject(raw)) throw error(`'${where}' must be an object`);
    for (const key of Object.keys(raw))
      if (!(KEYS as readonly string[]).includes(key))
        throw error(`unknown setting '${where}.${key}' (known: ${KEYS.join(", ")})`);
    out.push(oneExport(raw, where, store, error));
  });
  checkTogether(out, store, error);
  return out;
}

function oneExport(
  raw: Record<string, unknown>,
  where: string,
  store: StoreSettings,
  error: ErrorMaker,
): ExportConfig {
  const path = raw.path;
  if (typeof path !== "string" || !/^(\/[^/]+)+$/.test(path))
    throw error(
      `'${where}.path' must be an absolute path like "/data" or "/a/b", not ${JSON.stringify(path)}`,
    );
  for (const c of pathComponents(path))
    if (c === "." || c === ".." || Buffer.byteLength(c) > MAX_COMPONENT_BYTES)
      throw error(`'${where}.path' ${path}: '${c}' cannot be a directory name`);
  const at = `${where} (${path})`;

  let id = exportIdOf(path);
  if (raw.id !== undefined) {
    if (!u32(raw.id) || raw.id === 0)
      throw error(`'${at}.id' must be an integer in [1, 4294967295]`);
    id = raw.id as number;
  }
  const backend = raw.backend ?? store.backend;
  if (typeof backend !== "string" || !(STORE_BACKENDS as readonly string[]).includes(backend))
    throw error(`'${at}.backend' must be one of ${STORE_BACKENDS.map((b) => `"${b}"`).join(", ")}`);
  let dataDir = "";
  if (backend !== "memory") {
    if (raw.dataDir !== undefined && (typeof raw.dataDir !== "string" || raw.dataDir === ""))
      throw error(`'${at}.dataDir' must be a non-empty path`);
    dataDir =
      raw.dataDir === undefined
        ? defaultExportDataDir(store, path)
        : resolve(raw.dataDir as string);
  } else if (raw.dataDir !== undefined) {
    throw error(`'${at}.dataDir' is for the "sqlite" and "postgres" backends only`);
  }
  const postgresUrl = raw.postgresUrl ?? "";
  if (typeof postgresUrl !== "string") throw error(`'${at}.postgresUrl' must be a string`);
  const bad = checkPostgresUrl(`${at}.postgresUrl`, postgresUrl, backend);
  if (bad !== null) throw error(bad);
  return {
    path,
    id,
    backend: backend as StoreBackend,
    dataDir,
    postgresUrl,
    payload: payloadOf(raw, at, backend, store, error),
    rules: rulesOf(raw, at, error),
  };
}

function payloadOf(
  raw: Record<string, unknown>,
  at: string,
  backend: string,
  store: StoreSettings,
  error: ErrorMaker,
): PayloadStoreKind {
  if (backend === "memory") {
    if (raw.payload !== undefined)
      throw error(`'${at}.payload' is for the "sqlite" and "postgres" backends only`);
    return "local";
  }
  const payload = raw.payload ?? store.payload;
  if (typeof payload !== "string" || !(PAYLOAD_STORES as readonly string[]).includes(payload))
    throw error(`'${at}.payload' must be one of ${PAYLOAD_STORES.map((p) => `"${p}"`).join(", ")}`);
  if (payload === "s3") {
    const bad = checkS3Settings(store, `'${at}.payload'`);
    if (bad !== null) throw error(bad);
  }
  return payload as PayloadStoreKind;
}

function rulesOf(raw: Record<string, unknown>, at: string, error: ErrorMaker): ExportRules {
  const d = DEFAULT_EXPORT_RULES;
  let clients: AddressPrefix[] | null = d.clients === null ? null : [...d.clients];
  if (raw.clients !== undefined) {
    if (!Array.isArray(raw.clients) || raw.clients.some((c) => typeof c !== "string"))
      throw error(
        `'${at}.clients' must be a list of addresses or CIDRs, e.g. ["10.0.0.0/8", "::1"]`,
      );
    if (raw.clients.length === 0)
      throw error(`'${at}.clients' is empty: leave it out to admit every client`);
    try {
      clients = (raw.clients as string[]).map(parsePrefix);
    } catch (e) {
      if (e instanceof AddressError) throw error(`'${at}.clients': ${e.message}`);
      throw e;
    }
  }
  const readOnly = raw.readOnly ?? d.readOnly;
  if (typeof readOnly !== "boolean") throw error(`'${at}.readOnly' must be true or false`);
  const squash = raw.squash ?? d.squash;
  if (typeof squash !== "string" || !(SQUASH_MODES as readonly string[]).includes(squash))
    throw error(`'${at}.squash' must be one of "none", "root", "all"`);
  const anonUid = raw.anonuid ?? d.anonUid;
  const anonGid = raw.anongid ?? d.anonGid;
  if (!u32(anonUid) || !u32(anonGid))
    throw error(`'${at}.anonuid' and '${at}.anongid' must be integers in [0, 4294967295]`);
  let flavors = [...d.flavors];
  if (raw.sec !== undefined) {
    const names = [...FLAVOR_NAMES.keys()];
    if (
      !Array.isArray(raw.sec) ||
      raw.sec.length === 0 ||
      raw.sec.some((s) => typeof s !== "string" || !FLAVOR_NAMES.has(s)) ||
      new Set(raw.sec).size !== raw.sec.length
    )
      throw error(
        `'${at}.sec' must be a non-empty list of distinct flavors among ${names.map((n) => `"${n}"`).join(", ")}, most preferred first`,
      );
    flavors = (raw.sec as string[]).map((s) => FLAVOR_NAMES.get(s)!);
  }
  return {
    clients,
    readOnly,
    squash: squash as SquashMode,
    anonUid: anonUid as number,
    anonGid: anonGid as number,
    flavors,
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
      );
    if (a.dataDir !== "" && within(topDir, a.dataDir))
      throw error(
        `export ${a.path}: dataDir ${a.dataDir} holds the server's own store (store.dataDir ${topDir}); choose another`,
      );
    for (const b of all.slice(i + 1)) {
      const pa = pathComponents(a.path);
      const pb = pathComponents(b.path);
      const n = Math.min(pa.length, pb.length);
      if (pa.slice(0, n).join("/") === pb.slice(0, n).join("/"))
        throw error(
          a.path === b.path
            ? `two exports have the path ${a.path}`
            : `exports ${a.path} and ${b.path} overlap: one lies inside the other`,
        );
      if (a.id === b.id)
        throw error(
          `exports ${a.path} and ${b.path} have the same id ${a.id}: give one an explicit 'id'`,
        );
      if (a.postgresUrl !== "" && a.postgresUrl === b.postgresUrl)
        throw error(
          `exports ${a.path} and ${b.path} share the database ${withoutPassword(a.postgresUrl)}: a database holds one export's tree`,
        );
      if (
        a.dataDir !== "" &&
        b.dataDir !== "" &&
        (within(a.dataDir, b.dataDir) || within(b.dataDir, a.dataDir))
      )
        throw error(
          `exports ${a.path} and ${b.path} share a data directory (${a.dataDir}, ${b.dataDir}): give each its own 'dataDir'`,
        );
    }
  }
}

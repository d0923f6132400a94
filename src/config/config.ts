// `dfs serve` configuration: a JSON file whose every key is optional, merged
// over the defaults and checked, so a typo is an error rather than a silently
// ignored setting. Listen addresses given on the command line win.

import { readFileSync } from "node:fs";
import type { NfsSettings } from "../nfs/settings.js";
import { DEFAULT_NFS_SETTINGS, NFS_SETTING_CHOICES } from "../nfs/settings.js";
import type { RpcSettings } from "../rpc/settings.js";
import { DEFAULT_RPC_SETTINGS, resolveRpcSettings } from "../rpc/settings.js";
import type { StoreSettings } from "../store/settings.js";
import {
  DEFAULT_STORE_SETTINGS,
  PAYLOAD_STORES,
  POSTGRES_ROLES,
  S3_DURABILITIES,
  STORE_BACKENDS,
  STORE_TEXT_SETTINGS,
} from "../store/settings.js";
import { exportsSettings, type ExportConfig } from "./exports.js";
import { checkPostgresUrl } from "./postgres-url.js";
import { checkS3Settings } from "./s3-settings.js";
import {
  DEFAULT_CONTROL_SETTINGS,
  DEFAULT_METRICS_SETTINGS,
  type ControlSettings,
  type MetricsSettings,
} from "../control/settings.js";

export interface ListenSpec {
  readonly host: string;
  readonly port: number;
}

export interface ServeConfig {
  readonly listen: readonly ListenSpec[];
  readonly nfs: NfsSettings;
  readonly rpc: RpcSettings;
  /** The server's own store (identity, client records) and, without `exports`, the export "/export". */
  readonly store: StoreSettings;
  /** The exports (config/exports.ts); null: the one export "/export" on `store`. */
  readonly exports: readonly ExportConfig[] | null;
  /** pino level: fatal, error, warn, info, debug, trace or silent. */
  readonly logLevel: string;
  /** The control API dfsctl talks to (src/control). */
  readonly control: ControlSettings;
  /** The Prometheus metrics listener. */
  readonly metrics: MetricsSettings;
}

export const DEFAULT_LISTEN: ListenSpec = { host: "127.0.0.1", port: 2049 };
const TOP_LEVEL_KEYS = [
  "listen",
  "nfs",
  "rpc",
  "store",
  "exports",
  "logLevel",
  "control",
  "metrics",
];
const LOG_LEVELS = new Set(["fatal", "error", "warn", "info", "debug", "trace", "silent"]);

const STORE_CHOICES = {
  backend: STORE_BACKENDS,
  postgresRole: POSTGRES_ROLES,
  payload: PAYLOAD_STORES,
  s3Durability: S3_DURABILITIES,
};

export class ConfigError extends Error {
  override name = "ConfigError";
}

/** Parses "HOST:PORT", "[v6]:PORT" or ":PORT" (all addresses). */
export function parseListen(text: string): ListenSpec {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(text);
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535)
    throw new ConfigError(`bad listen address '${text}': expected HOST:PORT, e.g. 127.0.0.1:2049`);
  return { host: m[1] ?? (m[2] || "0.0.0.0"), port };
}

function settingsFrom<T extends object>(
  section: string,
  defaults: T,
  value: unknown,
  choices: { readonly [key: string]: readonly string[] | undefined } = {},
): T {
  if (value === undefined) return defaults;
  if (typeof value !== "object" || value === null || Array.isArray(value))
    throw new ConfigError(`'${section}' must be an object`);
  const out: Record<string, unknown> = { ...(defaults as Record<string, unknown>) };
  for (const [key, v] of Object.entries(value)) {
    if (!(key in defaults))
      throw new ConfigError(
        `unknown setting '${section}.${key}' (known: ${Object.keys(defaults).join(", ")})`,
      );
    const words = choices[key];
    if (words !== undefined) {
      if (typeof v !== "string" || !words.includes(v))
        throw new ConfigError(
          `'${section}.${key}' must be one of ${words.map((w) => JSON.stringify(w)).join(", ")}, not ${JSON.stringify(v)}`,
        );
      out[key] = v;
      continue;
    }
    if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 0)
      throw new ConfigError(
        `'${section}.${key}' must be a non-negative integer, not ${JSON.stringify(v)}`,
      );
    out[key] = v;
  }
  return out as T;
}

/** Builds the configuration from an optional JSON file's text and command-line listen addresses. */
export function buildConfig(
  fileText: string | null,
  fileName: string,
  listen: readonly string[],
): ServeConfig {
  let raw: Record<string, unknown> = {};
  if (fileText !== null) {
    try {
      const parsed: unknown = JSON.parse(fileText);
      if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed))
        throw new ConfigError("not an object");
      raw = parsed as Record<string, unknown>;
    } catch (e) {
      throw new ConfigError(`${fileName}: ${(e as Error).message}`);
    }
  }
  for (const key of Object.keys(raw))
    if (!TOP_LEVEL_KEYS.includes(key))
      throw new ConfigError(
        `${fileName}: unknown key '${key}' (known: ${TOP_LEVEL_KEYS.join(", ")})`,
      );
  const fileListen = raw.listen ?? [];
  if (!Array.isArray(fileListen) || fileListen.some((x) => typeof x !== "string"))
    throw new ConfigError(`${fileName}: 'listen' must be a list of "HOST:PORT" strings`);
  const addresses = (listen.length > 0 ? listen : (fileListen as string[])).map(parseListen);
  const logLevel = raw.logLevel ?? "info";
  if (typeof logLevel !== "string" || !LOG_LEVELS.has(logLevel))
    throw new ConfigError(`${fileName}: 'logLevel' must be one of ${[...LOG_LEVELS].join(", ")}`);
  const nfs = settingsFrom("nfs", DEFAULT_NFS_SETTINGS, raw.nfs, NFS_SETTING_CHOICES);
  if (nfs.leaseTimeSec < 1 || nfs.maxSlotsPerSession < 1 || nfs.maxOperations < 2)
    throw new ConfigError(
      "nfs.leaseTimeSec and nfs.maxSlotsPerSession must be at least 1, nfs.maxOperations at least 2",
    );
  if (nfs.callbackTimeoutMs < 1 || nfs.callbackTimeoutMs > 0x7fffffff)
    throw new ConfigError("nfs.callbackTimeoutMs must be in [1, 2147483647]");
  // The grace timer runs for up to twice it, in ms (a Node timer's limit is 2^31 - 1 ms).
  if (nfs.graceTimeSec * 2000 > 0x7fffffff)
    throw new ConfigError("nfs.graceTimeSec must be at most 1073741");
  if (nfs.callbackRetryDelayMs > 0x7fffffff)
    throw new ConfigError("nfs.callbackRetryDelayMs must be at most 2147483647");
  let rpc: RpcSettings;
  try {
    rpc = resolveRpcSettings(settingsFrom("rpc", DEFAULT_RPC_SETTINGS, raw.rpc));
  } catch (e) {
    throw new ConfigError((e as Error).message);
  }
  const store = storeSettings(raw.store);
  const exports = exportsSettings(raw.exports, store, (m) => new ConfigError(`${fileName}: ${m}`));
  const control = textSettings("control", DEFAULT_CONTROL_SETTINGS, raw.control);
  if (control.listen !== "") {
    parseListen(control.listen);
    if (control.token.length < 16)
      throw new ConfigError(
        "'control.listen' needs 'control.token', a secret of at least 16 characters: the control API is never served over TCP without authentication",
      );
  }
  const metrics = textSettings("metrics", DEFAULT_METRICS_SETTINGS, raw.metrics);
  if (metrics.listen !== "") parseListen(metrics.listen);
  return {
    listen: addresses.length > 0 ? addresses : [DEFAULT_LISTEN],
    nfs,
    rpc,
    store,
    exports,
    logLevel,
    control,
    metrics,
  };
}

/** A section whose every setting is a string. */
function textSettings<T extends object>(section: string, defaults: T, value: unknown): T {
  if (value === undefined) return defaults;
  if (typeof value !== "object" || value === null || Array.isArray(value))
    throw new ConfigError(`'${section}' must be an object`);
  const out: Record<string, unknown> = { ...(defaults as Record<string, unknown>) };
  for (const [key, v] of Object.entries(value)) {
    if (!(key in defaults))
      throw new ConfigError(
        `unknown setting '${section}.${key}' (known: ${Object.keys(defaults).join(", ")})`,
      );
    if (typeof v !== "string") throw new ConfigError(`'${section}.${key}' must be a string`);
    out[key] = v;
  }
  return out as T;
}

/** The `store` section: STORE_TEXT_SETTINGS are strings, the others numbers or choices. */
function storeSettings(value: unknown): StoreSettings {
  const text: Record<string, string> = {};
  for (const key of STORE_TEXT_SETTINGS) text[key] = DEFAULT_STORE_SETTINGS[key];
  let rest = value;
  if (typeof value === "object" && value !== null && !Array.isArray(value)) {
    const others: Record<string, unknown> = {};
    for (const [key, v] of Object.entries(value)) {
      if (!(STORE_TEXT_SETTINGS as readonly string[]).includes(key)) {
        others[key] = v;
        continue;
      }
      if (typeof v !== "string") throw new ConfigError(`'store.${key}' must be a string`);
      text[key] = v;
    }
    rest = others;
  }
  if (text["dataDir"] === "") throw new ConfigError("'store.dataDir' must be a non-empty path");
  const store: StoreSettings = {
    ...settingsFrom("store", DEFAULT_STORE_SETTINGS, rest, STORE_CHOICES),
    ...text,
  };
  if (store.maxOpenPayloads < 1) throw new ConfigError("store.maxOpenPayloads must be at least 1");
  if (store.postgresPoolSize < 1)
    throw new ConfigError("store.postgresPoolSize must be at least 1");
  if (store.postgresLeaseSec < 3 || store.postgresLeaseSec > 3600)
    throw new ConfigError("store.postgresLeaseSec must be in [3, 3600]");
  const url = checkPostgresUrl("store.postgresUrl", store.postgresUrl, store.backend);
  if (url !== null) throw new ConfigError(url);
  const s3 = checkStoreS3(store);
  if (s3 !== null) throw new ConfigError(s3);
  return store;
}

/** Why the S3 settings cannot work, or null. */
function checkStoreS3(store: StoreSettings): string | null {
  if (store.payload !== "s3") return null;
  if (store.backend === "memory")
    return "'store.payload' \"s3\" needs the sqlite or postgres backend";
  return checkS3Settings(store, "'store.payload'");
}

export function loadConfig(file: string | undefined, listen: readonly string[]): ServeConfig {
  let text: string | null = null;
  if (file !== undefined) {
    try {
      text = readFileSync(file, "utf8");
    } catch (e) {
      throw new ConfigError(`cannot read config file ${file}: ${(e as Error).message}`);
    }
  }
  return buildConfig(text, file ?? "(defaults)", listen);
}

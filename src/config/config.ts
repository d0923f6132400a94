// `dfs serve` configuration: a YAML file (JSON, a subset of YAML 1.2, reads
// the same) whose every key is optional, merged over the defaults, with
// DFS_* environment overrides (environment.ts) and listen addresses from the
// command line on top. Every setting is declared once (declarations.ts); the
// file is checked against that declaration first, so a typo, a wrong type or
// a value out of range is an error naming the file, line, key and what is
// allowed rather than a silently ignored setting. The checks that involve
// several settings follow (a "postgres" backend needs a URL, S3 needs an
// endpoint and bucket, exports may not overlap).

import { readFileSync } from "node:fs";
import type { NfsSettings } from "../nfs/settings.js";
import { DEFAULT_NFS_SETTINGS } from "../nfs/settings.js";
import type { RpcSettings } from "../rpc/settings.js";
import { DEFAULT_RPC_SETTINGS, resolveRpcSettings } from "../rpc/settings.js";
import type { StoreSettings } from "../store/settings.js";
import { DEFAULT_STORE_SETTINGS } from "../store/settings.js";
import {
  DEFAULT_CONTROL_SETTINGS,
  DEFAULT_METRICS_SETTINGS,
  type ControlSettings,
  type MetricsSettings,
} from "../control/settings.js";
import { CONFIG_DECLARATION, DEFAULT_LOG_LEVEL } from "./declarations.js";
import { applyEnvironment, variableFor } from "./environment.js";
import { ConfigError, type ConfigProblem } from "./errors.js";
import { exportsSettings, type ExportConfig } from "./exports.js";
import { LISTEN_ADDRESS } from "./formats.js";
import { DEFAULT_LISTEN, parseListen, type ListenSpec } from "./listen.js";
import { checkPostgresUrl } from "./postgres-url.js";
import { checkS3Settings } from "./s3-settings.js";
import type { KeyPath } from "./schema.js";
import { validate } from "./validate.js";
import { parseConfigText, type ConfigSource } from "./yaml-source.js";

export { ConfigError, type ConfigProblem } from "./errors.js";
export { DEFAULT_LISTEN, parseListen, type ListenSpec } from "./listen.js";

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

/** The environment variables a configuration reads (only DFS_* ones matter). */
export type Environment = { readonly [name: string]: string | undefined };

/** A configuration with where each of its settings came from. */
export interface LoadedConfig {
  readonly config: ServeConfig;
  /**
   * Where the setting at `path` was given: "dfs.yaml:12:5", the variable
   * that set it, "--listen", or the file's name (or "(defaults)") when it
   * is a default.
   */
  where(path: KeyPath): string;
}

/** Builds the configuration from a file's text (null: none), the environment and command-line listen addresses. */
export function buildConfig(
  fileText: string | null,
  fileName: string,
  listen: readonly string[],
  env: Environment = {},
): ServeConfig {
  return readConfig(fileText, fileName, listen, env).config;
}

export function readConfig(
  fileText: string | null,
  fileName: string,
  listen: readonly string[],
  env: Environment = {},
): LoadedConfig {
  let source: ConfigSource | null = null;
  if (fileText !== null) {
    const parsed = parseConfigText(fileText, fileName);
    if ("problems" in parsed) throw new ConfigError(parsed.problems);
    source = parsed.source;
  }
  // An empty file is an empty mapping.
  const fileValue = source === null ? undefined : (source.value ?? {});
  const withEnv = applyEnvironment(CONFIG_DECLARATION, fileValue, env);
  const where = (path: KeyPath, atKey = false): string =>
    variableFor(withEnv.variables, path) ??
    (path[0] === "listen" && listen.length > 0 ? "--listen" : null) ??
    source?.locate(path, atKey) ??
    fileName;
  const problems: ConfigProblem[] = [...withEnv.problems];
  for (const p of validate(CONFIG_DECLARATION, withEnv.value))
    problems.push({ where: where(p.path, p.atKey), path: p.path, message: p.message });
  for (const text of listen)
    if (LISTEN_ADDRESS.check(text) !== null)
      problems.push({
        where: "--listen",
        path: [],
        message: `bad listen address '${text}': expected ${LISTEN_ADDRESS.allowed}`,
      });
  if (problems.length > 0) throw new ConfigError(problems);
  // Valid against the declaration: each key, when present, has its declared type.
  const raw = withEnv.value as { readonly [key: string]: unknown };
  /** A problem the declaration cannot express: the message names the keys, `path` locates it. */
  const fail = (path: KeyPath, message: string): ConfigError =>
    new ConfigError([{ where: where(path), path: [], message }]);
  const config: ServeConfig = {
    listen: listenOf(listen, raw["listen"] as readonly string[] | undefined),
    logLevel: (raw["logLevel"] as string | undefined) ?? DEFAULT_LOG_LEVEL,
    nfs: { ...DEFAULT_NFS_SETTINGS, ...(raw["nfs"] as Partial<NfsSettings> | undefined) },
    rpc: rpcSettings(raw["rpc"] as Partial<RpcSettings> | undefined, fail),
    store: storeSettings(raw["store"] as Partial<StoreSettings> | undefined, fail),
    exports: null,
    control: { ...DEFAULT_CONTROL_SETTINGS, ...(raw["control"] as Partial<ControlSettings>) },
    metrics: { ...DEFAULT_METRICS_SETTINGS, ...(raw["metrics"] as Partial<MetricsSettings>) },
  };
  if (config.control.listen !== "" && config.control.token.length < 16)
    throw fail(
      ["control", "token"],
      "'control.listen' needs 'control.token', a secret of at least 16 characters: the control API is never served over TCP without authentication",
    );
  const exports = exportsSettings(raw["exports"], config.store, (message, path = ["exports"]) =>
    fail(path, message),
  );
  return { config: { ...config, exports }, where: (path) => where(path) };
}

function listenOf(
  commandLine: readonly string[],
  file: readonly string[] | undefined,
): ListenSpec[] {
  const texts = commandLine.length > 0 ? commandLine : (file ?? []);
  return texts.length > 0 ? texts.map(parseListen) : [DEFAULT_LISTEN];
}

type Fail = (path: KeyPath, message: string) => ConfigError;

function rpcSettings(value: Partial<RpcSettings> | undefined, fail: Fail): RpcSettings {
  const s = { ...DEFAULT_RPC_SETTINGS, ...value };
  if (s.maxTotalOutputBytes < s.maxConnectionOutputBytes)
    throw fail(
      ["rpc", "maxTotalOutputBytes"],
      `rpc.maxTotalOutputBytes (${s.maxTotalOutputBytes}) must be at least rpc.maxConnectionOutputBytes (${s.maxConnectionOutputBytes})`,
    );
  return resolveRpcSettings(s);
}

/** The `store` section: the checks that involve several of its settings. */
function storeSettings(value: Partial<StoreSettings> | undefined, fail: Fail): StoreSettings {
  const store: StoreSettings = { ...DEFAULT_STORE_SETTINGS, ...value };
  const url = checkPostgresUrl("store.postgresUrl", store.postgresUrl, store.backend);
  if (url !== null) throw fail(["store", "postgresUrl"], url);
  if (store.payload === "s3") {
    if (store.backend === "memory")
      throw fail(
        ["store", "payload"],
        "'store.payload' \"s3\" needs the sqlite or postgres backend",
      );
    const s3 = checkS3Settings(store, "'store.payload'");
    if (s3 !== null) throw fail(["store", "payload"], s3);
  }
  return store;
}

/** Reads `file` (undefined: none) and builds the configuration with `env`'s overrides. */
export function loadConfigWithSources(
  file: string | undefined,
  listen: readonly string[],
  env: Environment = process.env,
): LoadedConfig {
  let text: string | null = null;
  if (file !== undefined) {
    try {
      text = readFileSync(file, "utf8");
    } catch (e) {
      throw new ConfigError(`cannot read config file ${file}: ${(e as Error).message}`);
    }
  }
  return readConfig(text, file ?? "(defaults)", listen, env);
}

/**
 * Reads and checks the configuration again (for a reload): the file, the
 * environment's DFS_* variables (process.env unless given) and command-line
 * listen addresses. Throws ConfigError listing every problem found.
 */
export function loadConfig(
  file: string | undefined,
  listen: readonly string[],
  env: Environment = process.env,
): ServeConfig {
  return loadConfigWithSources(file, listen, env).config;
}

// Environment overrides: every setting outside `exports` can be set by a
// variable DFS_<SECTION>_<KEY> (DFS_NFS_LEASE_TIME_SEC=30,
// DFS_STORE_BACKEND=memory), or DFS_<KEY> at the top level (DFS_LOG_LEVEL,
// DFS_LISTEN=127.0.0.1:2049,[::1]:2049 — a list is comma-separated). The text
// is typed by the setting's declaration; what it does not fit is reported by
// validate.ts like a value from the file, naming the variable.
// Precedence: defaults < file < environment < command line.

import type { ConfigProblem } from "./errors.js";
import { pathText, type KeyPath, type Leaf, type ObjectNode } from "./schema.js";

export const ENV_PREFIX = "DFS_";

export interface EnvSetting {
  readonly variable: string;
  readonly path: readonly [string] | readonly [string, string];
  readonly leaf: Leaf;
}

/** "leaseTimeSec" → "LEASE_TIME_SEC", "s3AccessKeyId" → "S3_ACCESS_KEY_ID". */
export function screamingSnake(name: string): string {
  return name.replace(/([a-z0-9])([A-Z])/g, "$1_$2").toUpperCase();
}

/** Every variable the declaration allows, by name. */
export function environmentSettings(root: ObjectNode): Map<string, EnvSetting> {
  const out = new Map<string, EnvSetting>();
  for (const [key, node] of Object.entries(root.fields)) {
    if (node.kind === "objects") continue;
    if (node.kind === "object") {
      for (const [inner, leaf] of Object.entries(node.fields)) {
        if (leaf.kind === "object" || leaf.kind === "objects") continue;
        const variable = `${ENV_PREFIX}${screamingSnake(key)}_${screamingSnake(inner)}`;
        out.set(variable, { variable, path: [key, inner], leaf });
      }
    } else {
      const variable = `${ENV_PREFIX}${screamingSnake(key)}`;
      out.set(variable, { variable, path: [key], leaf: node });
    }
  }
  return out;
}

/** The variable's text as the setting's type; text that does not fit stays text, for validate.ts to report. */
function typed(leaf: Leaf, text: string): unknown {
  switch (leaf.kind) {
    case "integer":
      return /^[+-]?[0-9]+$/.test(text.trim()) ? Number(text.trim()) : text;
    case "boolean":
      return text === "true" ? true : text === "false" ? false : text;
    case "list":
      return text.trim() === "" ? [] : text.split(",").map((s) => s.trim());
    default:
      return text;
  }
}

export interface EnvironmentResult {
  /** The file's value with the overrides applied. */
  readonly value: unknown;
  /** The variable that set each overridden key, by pathText. */
  readonly variables: ReadonlyMap<string, string>;
  /** Variables under a section's prefix that name no setting. */
  readonly problems: readonly ConfigProblem[];
}

function isMapping(v: unknown): v is { readonly [key: string]: unknown } {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Applies the DFS_* variables of `env` to `value` (the file's, or undefined without a file). */
export function applyEnvironment(
  root: ObjectNode,
  value: unknown,
  env: { readonly [name: string]: string | undefined },
): EnvironmentResult {
  const settings = environmentSettings(root);
  const sectionPrefixes = Object.entries(root.fields)
    .filter(([, n]) => n.kind === "object")
    .map(([key]) => `${ENV_PREFIX}${screamingSnake(key)}_`);
  const variables = new Map<string, string>();
  const problems: ConfigProblem[] = [];
  if (value !== undefined && value !== null && !isMapping(value))
    return { value, variables, problems };
  const out: { [key: string]: unknown } = { ...(isMapping(value) ? value : {}) };
  for (const name of Object.keys(env).sort()) {
    const text = env[name];
    if (text === undefined || !name.startsWith(ENV_PREFIX)) continue;
    const s = settings.get(name);
    if (s === undefined) {
      const prefix = sectionPrefixes.find((p) => name.startsWith(p));
      if (prefix !== undefined)
        problems.push({
          where: name,
          path: [],
          message: `unknown variable (known: ${[...settings.keys()].filter((v) => v.startsWith(prefix)).join(", ")})`,
        });
      continue;
    }
    const v = typed(s.leaf, text);
    if (s.path.length === 1) out[s.path[0]] = v;
    else {
      const [sectionKey, key] = s.path;
      const current = out[sectionKey];
      // A section that is not a mapping: the file's error is reported (an empty one is null).
      if (current !== undefined && current !== null && !isMapping(current)) continue;
      out[sectionKey] = { ...(isMapping(current) ? current : {}), [key]: v };
    }
    variables.set(pathText(s.path), name);
  }
  return { value: out, variables, problems };
}

/** The variable that set `path` or the key holding it, or undefined. */
export function variableFor(
  variables: ReadonlyMap<string, string>,
  path: KeyPath,
): string | undefined {
  for (let n = path.length; n > 0; n--) {
    const v = variables.get(pathText(path.slice(0, n)));
    if (v !== undefined) return v;
  }
  return undefined;
}

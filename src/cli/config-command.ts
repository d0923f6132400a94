// `dfs config validate` and `dfs config show`: check a configuration (file,
// DFS_* environment, command line) without serving, and print the effective
// configuration.

import { parseArgs } from "node:util";
import { stringify } from "yaml";
import { ConfigError, loadConfigWithSources, type Environment } from "../config/config.js";
import { effectiveSettings } from "../config/effective.js";
import { problemLine } from "../config/errors.js";

/** How long `validate` gives each store to answer (--timeout-ms). */
const STORE_PROBE_TIMEOUT_MS = 5000;

export const CONFIG_USAGE = `usage: dfs config validate [--config FILE] [--listen HOST:PORT ...] [--no-connect] [--timeout-ms MS]
       dfs config show [--config FILE] [--listen HOST:PORT ...] [--json]

validate  checks the configuration — the file (YAML or JSON), DFS_* environment variables and
          --listen, as \`dfs serve\` would read them — and that each PostgreSQL database and the S3
          bucket it names answer within --timeout-ms (default ${STORE_PROBE_TIMEOUT_MS}; --no-connect skips this).
          Prints "ok" (exit 0) or one line per problem: where (file:line:col or the variable), the
          key and what is allowed (exit 1).
show      prints the effective configuration (defaults, then the file, the environment and the
          command line) as YAML, or JSON with --json; passwords, keys and tokens are redacted.`;

export interface ConfigCommandIo {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
  readonly env: Environment;
}

const CONSOLE_IO: ConfigCommandIo = {
  out: (t) => console.log(t),
  err: (t) => console.error(t),
  env: process.env,
};

/** Runs `dfs config ARGS`; returns the exit code. */
export async function configCommand(
  args: readonly string[],
  io: ConfigCommandIo = CONSOLE_IO,
): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === "--help" || sub === "-h" || sub === "help") {
    io.out(CONFIG_USAGE);
    return 0;
  }
  if (sub !== "validate" && sub !== "show") {
    io.err(
      `dfs config: ${sub === undefined ? "which command?" : `unknown command '${sub}'`}\n\n${CONFIG_USAGE}`,
    );
    return 2;
  }
  let values;
  try {
    values = parseArgs({
      args: [...rest],
      options: {
        config: { type: "string" },
        listen: { type: "string", multiple: true },
        json: { type: "boolean" },
        "no-connect": { type: "boolean" },
        "timeout-ms": { type: "string" },
      },
      strict: true,
    }).values;
  } catch (e) {
    io.err(`dfs config ${sub}: ${(e as Error).message}\n\n${CONFIG_USAGE}`);
    return 2;
  }
  const timeoutMs = Number(values["timeout-ms"] ?? STORE_PROBE_TIMEOUT_MS);
  if (!Number.isSafeInteger(timeoutMs) || timeoutMs < 1) {
    io.err(`dfs config ${sub}: --timeout-ms must be a positive integer of milliseconds`);
    return 2;
  }
  let loaded;
  try {
    loaded = loadConfigWithSources(values.config, values.listen ?? [], io.env);
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    io.err(e.message);
    return 1;
  }
  if (sub === "show") {
    const settings = effectiveSettings(loaded.config);
    io.out(
      values.json === true ? JSON.stringify(settings, null, 2) : stringify(settings).trimEnd(),
    );
    return 0;
  }
  if (values["no-connect"] !== true) {
    // Loaded here, not with the CLI: the probe brings the PostgreSQL driver and
    // the AWS SDK, which `dfs serve` on local files never needs.
    const { probeStores } = await import("../config/store-probe.js");
    const problems = await probeStores(loaded.config, loaded.where, timeoutMs);
    if (problems.length > 0) {
      io.err(problems.map(problemLine).join("\n"));
      return 1;
    }
  }
  io.out("ok");
  return 0;
}

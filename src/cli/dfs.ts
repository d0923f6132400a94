// `dfs`: the DittoFS-TS server command.

import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { pino } from "pino";
import { ConfigError, loadConfig } from "../config/config.js";
import { NfsServer } from "../nfs/server.js";

const USAGE = `usage: dfs serve [--listen HOST:PORT ...] [--config FILE]

Serves NFSv4.1 over TCP from an in-memory filesystem whose root holds /export.

  --listen HOST:PORT   an address to listen on (repeatable; default 127.0.0.1:2049)
  --config FILE        a JSON file: { "listen": [...], "nfs": {...}, "rpc": {...}, "logLevel": "info" }
                       (see README.md for every setting and its default)`;

export async function main(args: readonly string[]): Promise<number> {
  const [command, ...rest] = args;
  if (command === undefined || command === "--help" || command === "-h" || command === "help") {
    console.log(USAGE);
    return command === undefined ? 2 : 0;
  }
  if (command !== "serve") {
    console.error(`dfs: unknown command '${command}'\n\n${USAGE}`);
    return 2;
  }
  let listen: string[];
  let configFile: string | undefined;
  try {
    const parsed = parseArgs({
      args: rest,
      options: { listen: { type: "string", multiple: true }, config: { type: "string" } },
      strict: true,
    });
    listen = parsed.values.listen ?? [];
    configFile = parsed.values.config;
  } catch (e) {
    console.error(`dfs serve: ${(e as Error).message}\n\n${USAGE}`);
    return 2;
  }
  let server: NfsServer;
  try {
    const config = loadConfig(configFile, listen);
    const log = pino({ level: config.logLevel });
    server = new NfsServer({ settings: config.nfs, rpc: config.rpc, logger: log });
    const bound = await server.listen(config.listen);
    for (const b of bound)
      console.log(
        `dfs: serving NFSv4.1 on ${b.family === "IPv6" ? `[${b.host}]` : b.host}:${b.port} (export /export)`,
      );
  } catch (e) {
    console.error(`dfs serve: ${e instanceof ConfigError ? e.message : (e as Error).message}`);
    return 1;
  }
  await new Promise<void>((resolve) => {
    const stop = (signal: string): void => {
      console.log(`dfs: ${signal}, shutting down`);
      void server.close().then(resolve);
    };
    process.once("SIGINT", () => stop("SIGINT"));
    process.once("SIGTERM", () => stop("SIGTERM"));
  });
  return 0;
}

// Run directly (`tsx src/cli/dfs.ts serve`), not only through bin/dfs.js.
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = await main(process.argv.slice(2));
}

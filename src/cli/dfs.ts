// `dfs`: the DittoFS-TS server command.

import { resolve as absolutePath } from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { pino } from "pino";
import { ConfigError, loadConfig } from "../config/config.js";
import { storeOpenMessage } from "../config/store-errors.js";
import { configCommand } from "./config-command.js";
import { startServing, type Serving } from "./serving.js";
import { startMetrics } from "../control/metrics-listener.js";
import { NfsServer } from "../nfs/server.js";
import { openDataDir, withoutPassword, type OpenedStore } from "../store/data-dir.js";
import {
  metadataLocation,
  openExports,
  payloadLocation,
  type OpenedExports,
} from "./open-exports.js";

/** The signals that stop `dfs serve`, closing its listeners and stores first. */
const STOP_SIGNALS = ["SIGINT", "SIGTERM"] as const;

const USAGE = `usage: dfs serve [--listen HOST:PORT ...] [--config FILE]
       dfs config validate|show [--config FILE] (dfs config --help)

Serves NFSv4.1 over TCP one export, /export, kept in SQLite plus sparse files
under ./dfs-data (created on first run) across restarts; "store": { "dataDir":
DIR } chooses another directory, "store": { "backend": "postgres", "postgresUrl":
URL } keeps the metadata in that PostgreSQL database (file contents stay in the
directory), and "store": { "backend": "memory" } keeps everything in memory
(lost at exit). An "exports" list serves several exports
instead, each with its path, backend and access rules, joined by a read-only
pseudo-filesystem.

  --listen HOST:PORT   an address to listen on (repeatable; default 127.0.0.1:2049)
  --config FILE        a YAML (or JSON) file: listen, nfs, rpc, store, exports, logLevel,
                       control, metrics (see README.md for every setting and its default;
                       DFS_<SECTION>_<KEY> environment variables override the file)`;

/**
 * Another server took over a PostgreSQL store this one served (its lease
 * lapsed: this process stalled or lost the database): serving on would let
 * two servers hand out conflicting state, so the process ends at once.
 */
function leaseLost(why: string): void {
  console.error(`dfs: stopping: ${why}`);
  process.exit(3);
}

export async function main(args: readonly string[]): Promise<number> {
  const [command, ...rest] = args;
  if (command === undefined || command === "--help" || command === "-h" || command === "help") {
    console.log(USAGE);
    return command === undefined ? 2 : 0;
  }
  if (command === "config") return configCommand(rest);
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
  let serving: Serving;
  let signalled: Promise<NodeJS.Signals>;
  let onStopSignal = (_signal: NodeJS.Signals): void => undefined;
  let store: OpenedStore | null = null;
  let exports: OpenedExports | null = null;
  try {
    const config = loadConfig(configFile, listen);
    const log = pino({ level: config.logLevel });
    if (config.store.backend !== "memory") {
      if (config.store.backend === "postgres" && config.store.postgresRole === "standby")
        console.log("dfs: standby: waiting until no other server holds the store's lease");
      store = await openDataDir(
        config.store.dataDir,
        {},
        config.store,
        metadataLocation(config.store, leaseLost),
        payloadLocation(config.store, config.store.payload),
      ).catch((e: unknown) => {
        throw new Error(storeOpenMessage(e, ["store"]));
      });
      const dir = absolutePath(config.store.dataDir);
      const metadata =
        config.store.backend === "postgres"
          ? `PostgreSQL ${withoutPassword(config.store.postgresUrl)}`
          : `${dir} (sqlite)`;
      const contents =
        config.store.payload === "s3"
          ? `S3 bucket ${config.store.s3Bucket} at ${config.store.s3Endpoint} (${config.store.s3Durability} durability; write-back tier in ${dir})`
          : dir;
      console.log(`dfs: metadata in ${metadata}, file contents in ${contents}`);
    } else {
      console.log("dfs: data in memory (lost when the server stops)");
    }
    if (config.exports !== null) {
      exports = await openExports(config.exports, config.store, leaseLost);
      for (const c of config.exports)
        console.log(
          `dfs: export ${c.path} (${c.backend === "memory" ? "memory" : c.backend === "postgres" ? `PostgreSQL ${withoutPassword(c.postgresUrl)}, ${c.dataDir}` : c.dataDir})`,
        );
    }
    server = new NfsServer({
      settings: config.nfs,
      rpc: config.rpc,
      logger: log,
      // A data directory keeps the server's identity and its client recovery records.
      ...(store === null
        ? {}
        : { fs: store.fs, serverOwner: store.serverOwner, recovery: store.recovery }),
      ...(exports === null ? {} : { exports: exports.exports }),
    });
    // Before the NFS listener: a metrics address in use fails the start with nothing to undo.
    await startMetrics(server, config.metrics);
    // Listening for the stop signals before "dfs: serving" is printed: a
    // supervisor may send one as soon as it reads that line, and the default
    // action would end the process without closing the store.
    signalled = new Promise<NodeJS.Signals>((resolve) => (onStopSignal = resolve));
    for (const s of STOP_SIGNALS) process.once(s, onStopSignal);
    serving = await startServing(server, config, () => loadConfig(configFile, listen), exports);
  } catch (e) {
    console.error(`dfs serve: ${e instanceof ConfigError ? e.message : (e as Error).message}`);
    for (const s of STOP_SIGNALS) process.off(s, onStopSignal);
    await exports?.close();
    await store?.close();
    return 1;
  }
  console.log(`dfs: ${await signalled}, shutting down`);
  await serving.close();
  await server.close();
  await exports?.close();
  await store?.close();
  return 0;
}

// Run directly (`tsx src/cli/dfs.ts serve`), not only through bin/dfs.js.
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = await main(process.argv.slice(2));
}

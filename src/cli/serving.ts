// What `dfs serve` starts once its stores are open: the NFS listeners, the
// control API (dfsctl's) and the SIGHUP handler that reloads the exports.

import { mkdirSync } from "node:fs";
import { dirname, join, resolve as absolutePath } from "node:path";
import type { ServeConfig } from "../config/config.js";
import { ControlError } from "../control/actions.js";
import {
  ControlSocketInUseError,
  startControl,
  type ControlListener,
} from "../control/listener.js";
import {
  reloadExports,
  reloadText,
  type ExportStores,
  type ReloadReport,
} from "../control/reload.js";
import type { ServerFacts } from "../control/views.js";
import type { NfsServer } from "../nfs/server.js";
import { withoutPassword } from "../store/data-dir.js";
import { packageVersion } from "./version.js";

export interface Serving {
  readonly control: ControlListener | null;
  close(): Promise<void>;
}

/** control.socket resolved: "" is "control.sock" in the data directory, "none" is no socket. */
export function controlSocketPath(config: ServeConfig): string | null {
  const s = config.control.socket;
  if (s === "none") return null;
  return absolutePath(s === "" ? join(config.store.dataDir, "control.sock") : s);
}

function exportStores(config: ServeConfig): Map<string, string> {
  const describe = (backend: string, dataDir: string, postgresUrl: string, payload: string) =>
    backend === "memory"
      ? "memory"
      : backend === "postgres"
        ? `postgres ${withoutPassword(postgresUrl)}${payload === "s3" ? " + s3" : ` + ${dataDir}`}`
        : `sqlite ${dataDir}${payload === "s3" ? " + s3" : ""}`;
  const out = new Map<string, string>();
  if (config.exports === null)
    out.set(
      "/export",
      describe(
        config.store.backend,
        absolutePath(config.store.dataDir),
        config.store.postgresUrl,
        config.store.payload,
      ),
    );
  else
    for (const e of config.exports)
      out.set(e.path, describe(e.backend, e.dataDir, e.postgresUrl, e.payload));
  return out;
}

/**
 * Listens for NFS, then serves the control API. `reread` reads the
 * configuration file again (for dfsctl reload and SIGHUP).
 */
export async function startServing(
  server: NfsServer,
  config: ServeConfig,
  reread: () => ServeConfig,
  /** Opens and closes exports' stores for a reload (null: no exports list). */
  stores: ExportStores | null = null,
): Promise<Serving> {
  const paths = server.fs.exports.map((e) => e.path).join(", ");
  const bound = await server.listen(config.listen);
  const listen = bound.map((b) => `${b.family === "IPv6" ? `[${b.host}]` : b.host}:${b.port}`);
  let current = config;
  // Async, so that a bad file is a rejection, never an exception in a signal handler.
  const reload = async (): Promise<ReloadReport> => {
    let next: ServeConfig;
    try {
      next = reread();
    } catch (e) {
      throw new ControlError(
        409,
        `nothing reloaded: ${e instanceof Error ? e.message : String(e)}`,
      );
    }
    const report = await reloadExports(server, current, next, stores);
    current = next;
    stored.clear();
    for (const [path, where] of exportStores(next)) stored.set(path, where);
    return report;
  };
  const stored = exportStores(config);
  const facts: ServerFacts = { version: packageVersion(), listen, exportStores: stored };
  const socket = controlSocketPath(config);
  if (socket !== null) mkdirSync(dirname(socket), { recursive: true, mode: 0o700 });
  const target = { server, facts, reload };
  let control: ControlListener;
  try {
    control = await startControl(target, config.control, socket);
  } catch (e) {
    // The default socket (in the data directory) taken by another server: a
    // memory-backed server started beside it, say. Serve on without it; a
    // socket the configuration names is the administrator's, and must work.
    if (!(e instanceof ControlSocketInUseError) || config.control.socket !== "") throw e;
    console.error(
      `dfs: ${e.message}: no control socket (set control.socket to give this server one)`,
    );
    control = await startControl(target, config.control, null);
  }
  // "dfs: serving" after the control API started: scripts wait for it.
  for (const l of listen) console.log(`dfs: serving NFSv4.1 on ${l} (exports ${paths})`);
  if (control.socket !== null)
    console.log(`dfs: control API on ${control.socket} (dfsctl --socket)`);
  if (control.tcp !== null)
    console.log(`dfs: control API on http://${control.tcp} (token required)`);
  const onHup = (): void => {
    reload().then(
      (r) => console.log(`dfs: SIGHUP: exports reloaded: ${reloadText(r)}`),
      (e: unknown) => console.error(`dfs: SIGHUP: ${e instanceof Error ? e.message : String(e)}`),
    );
  };
  process.on("SIGHUP", onHup);
  return {
    control,
    async close() {
      process.off("SIGHUP", onHup);
      await control.close();
    },
  };
}

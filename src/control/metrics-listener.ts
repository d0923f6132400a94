// The opt-in metrics listener (`metrics.listen`): a plain HTTP server whose
// only resource is GET /metrics, the Prometheus text format (metrics.ts).
// Everything else is 404 (405 for another method on /metrics). The listener
// and its sockets are unref()'d: a scraper's keep-alive connection never holds
// the process open once the NFS server has closed.

import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Logger } from "pino";
import { parseListen } from "../config/config.js";
import type { NfsServer } from "../nfs/server.js";
import { ServerMetrics } from "./metrics.js";
import { closeHttp, listenOn } from "./http.js";
import type { MetricsSettings } from "./settings.js";

export interface MetricsListener {
  readonly metrics: ServerMetrics;
  /** The address bound (port 0 resolved). */
  readonly host: string;
  readonly port: number;
  /** The scrape URL, as logged at start. */
  readonly url: string;
  close(): Promise<void>;
}

/** Serves `metrics` over HTTP on `host`:`port` (0: any free port). */
export async function listenMetrics(
  metrics: ServerMetrics,
  host: string,
  port: number,
  log?: Logger,
): Promise<MetricsListener> {
  const http = createServer((req, res) => void answer(metrics, req, res, log));
  http.on("connection", (socket) => socket.unref());
  await listenOn(http, { host, port }).catch((err: Error) => {
    throw new Error(`metrics listener on ${host}:${port}: ${err.message}`);
  });
  http.unref();
  http.on("error", (err) => log?.error({ err }, "metrics listener error"));
  const bound = http.address() as AddressInfo;
  const shown = bound.family === "IPv6" ? `[${bound.address}]` : bound.address;
  return {
    metrics,
    host: bound.address,
    port: bound.port,
    url: `http://${shown}:${bound.port}/metrics`,
    close: () => closeHttp(http),
  };
}

/**
 * `dfs serve`'s one call: when `settings.listen` is set, turns the server's
 * metrics on, serves them there and prints the URL; null when metrics are off.
 */
export async function startMetrics(
  server: NfsServer,
  settings: MetricsSettings,
): Promise<MetricsListener | null> {
  if (settings.listen === "") return null;
  const { host, port } = parseListen(settings.listen);
  const listener = await listenMetrics(
    new ServerMetrics(server),
    host,
    port,
    server.log.child({ module: "metrics" }),
  );
  console.log(`dfs: metrics on ${listener.url}`);
  return listener;
}

async function answer(
  metrics: ServerMetrics,
  req: IncomingMessage,
  res: ServerResponse,
  log: Logger | undefined,
): Promise<void> {
  const path = (req.url ?? "/").split("?")[0];
  if (path !== "/metrics") {
    res
      .writeHead(404, { "content-type": "text/plain; charset=utf-8" })
      .end("not found: try /metrics\n");
    return;
  }
  if (req.method !== "GET" && req.method !== "HEAD") {
    res.writeHead(405, { allow: "GET, HEAD", "content-type": "text/plain; charset=utf-8" }).end();
    return;
  }
  try {
    const body = await metrics.render();
    res.writeHead(200, { "content-type": metrics.contentType });
    res.end(req.method === "HEAD" ? undefined : body);
  } catch (err) {
    log?.error({ err }, "rendering metrics failed");
    res
      .writeHead(500, { "content-type": "text/plain; charset=utf-8" })
      .end("metrics unavailable\n");
  }
}

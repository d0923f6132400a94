// dfsctl's side of the control API: one HTTP request at a time, over the
// server's Unix socket or over TCP with the token.

import { request } from "node:http";

/** Where the control API is: a Unix socket path, or an http://HOST:PORT URL with its token. */
export type ControlAddress =
  { readonly socket: string } | { readonly url: string; readonly token: string };

/** The server could not be reached at all (no socket, connection refused, …). */
export class ControlUnreachableError extends Error {
  override name = "ControlUnreachableError";
}

export interface ControlReply {
  readonly status: number;
  readonly body: unknown;
}

/** Longest a request may take before dfsctl gives up. */
export const CONTROL_REQUEST_TIMEOUT_MS = 15_000;
/** Largest answer dfsctl reads (a server with very many clients answers big lists). */
const MAX_REPLY_BYTES = 64 * 1024 * 1024;

export function controlRequest(
  at: ControlAddress,
  method: "GET" | "POST",
  path: string,
  body?: unknown,
): Promise<ControlReply> {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  const headers: Record<string, string | number> = { accept: "application/json" };
  if (payload !== undefined) {
    headers["content-type"] = "application/json";
    headers["content-length"] = Buffer.byteLength(payload);
  }
  let target: { socketPath: string } | { host: string; port: number };
  const where = "socket" in at ? at.socket : at.url;
  if ("socket" in at) {
    target = { socketPath: at.socket };
  } else {
    const u = new URL(at.url);
    if (u.protocol !== "http:") throw new ControlUnreachableError(`${at.url}: only http:// URLs`);
    target = { host: u.hostname.replace(/^\[|\]$/g, ""), port: Number(u.port || 80) };
    headers["authorization"] = `Bearer ${at.token}`;
  }
  return new Promise((resolve, reject) => {
    const req = request(
      { ...target, method, path, headers, timeout: CONTROL_REQUEST_TIMEOUT_MS },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on("data", (c: Buffer) => {
          size += c.length;
          if (size > MAX_REPLY_BYTES) {
            req.destroy(new Error(`answer over ${MAX_REPLY_BYTES} bytes`));
            return;
          }
          chunks.push(c);
        });
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          try {
            resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) });
          } catch {
            reject(
              new Error(`${where} answered ${res.statusCode}, not JSON: ${text.slice(0, 200)}`),
            );
          }
        });
        res.on("error", reject);
      },
    );
    req.on("timeout", () =>
      req.destroy(
        new ControlUnreachableError(`${where}: no answer in ${CONTROL_REQUEST_TIMEOUT_MS} ms`),
      ),
    );
    req.on("error", (e: NodeJS.ErrnoException) => {
      if (e instanceof ControlUnreachableError) reject(e);
      else if (e.code !== undefined)
        reject(
          new ControlUnreachableError(
            `cannot reach the server's control API at ${where}: ${e.message}`,
          ),
        );
      else reject(e);
    });
    req.end(payload);
  });
}

// Serves the control API: on a Unix socket (mode 0600: only the server's
// user and root reach it) and, when configured, on a TCP address where every
// request must carry the configured token ("Authorization: Bearer TOKEN").
// The API is never open to the network without authentication.

import { timingSafeEqual } from "node:crypto";
import { chmodSync, lstatSync, unlinkSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { connect } from "node:net";
import { parseListen } from "../config/config.js";
import type { ControlSettings } from "./settings.js";
import { answer, type ControlTarget } from "./api.js";
import { closeHttp, listenOn } from "./http.js";

/** A request body larger than this is refused (the API takes small JSON objects). */
export const MAX_CONTROL_BODY_BYTES = 64 * 1024;
/** Requests served at once per listener; more wait in the kernel's backlog. */
const MAX_CONTROL_CONNECTIONS = 64;

/** Another live server answers on the control socket path. */
export class ControlSocketInUseError extends Error {
  override name = "ControlSocketInUseError";
}

export interface ControlListener {
  /** Where it listens: the socket path and "HOST:PORT", as bound. */
  readonly socket: string | null;
  readonly tcp: string | null;
  close(): Promise<void>;
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v));
  res.writeHead(status, {
    "content-type": "application/json",
    "content-length": Buffer.byteLength(text),
  });
  res.end(text);
}

/** A body over MAX_CONTROL_BODY_BYTES: read to its end and dropped, then answered 413. */
class BodyTooLarge extends Error {}

function readBody(req: IncomingMessage): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (c: Buffer) => {
      size += c.length;
      // Kept only while small; the rest is read and dropped (requestTimeout bounds how long).
      if (size <= MAX_CONTROL_BODY_BYTES) chunks.push(c);
    });
    req.on("error", reject);
    req.on("end", () => {
      if (size > MAX_CONTROL_BODY_BYTES)
        return reject(new BodyTooLarge(`request body over ${MAX_CONTROL_BODY_BYTES} bytes`));
      if (size === 0) return resolve(undefined);
      try {
        resolve(JSON.parse(Buffer.concat(chunks).toString("utf8")));
      } catch {
        reject(new SyntaxError("the request body is not JSON"));
      }
    });
  });
}

function tokenMatches(header: string | undefined, token: string): boolean {
  const m = /^Bearer (.+)$/.exec(header ?? "");
  if (m === null) return false;
  const given = Buffer.from(m[1]!);
  const wanted = Buffer.from(token);
  return given.length === wanted.length && timingSafeEqual(given, wanted);
}

function handler(target: ControlTarget, token: string | null) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    if (token !== null && !tokenMatches(req.headers.authorization, token)) {
      res.setHeader("www-authenticate", "Bearer");
      send(res, 401, { error: "the control API over TCP needs 'Authorization: Bearer TOKEN'" });
      req.resume();
      return;
    }
    readBody(req)
      .then((body) => answer(target, req.method ?? "GET", req.url ?? "/", body))
      .then(
        (a) => send(res, a.status, a.body),
        (e: unknown) => {
          const status = e instanceof BodyTooLarge ? 413 : e instanceof SyntaxError ? 400 : 500;
          if (status === 500) target.server.log.error({ err: e }, "control API request failed");
          send(res, status, { error: e instanceof Error ? e.message : String(e) });
        },
      );
  };
}

/** Removes a socket file left by a server that did not stop cleanly; anything else there is an error. */
function clearStaleSocket(path: string): void {
  let isSocket: boolean;
  try {
    isSocket = lstatSync(path).isSocket();
  } catch {
    return; // nothing there
  }
  if (!isSocket) throw new Error(`control socket path ${path} exists and is not a socket`);
  unlinkSync(path);
}

/**
 * Starts the control API. `socketPath` is the resolved control.socket (null:
 * none). A server already listening on the socket path keeps it: the start
 * fails rather than take another server's socket away.
 */
export async function startControl(
  target: ControlTarget,
  settings: ControlSettings,
  socketPath: string | null,
): Promise<ControlListener> {
  const servers: Server[] = [];
  const make = (token: string | null): Server => {
    const s = createServer(handler(target, token));
    s.maxConnections = MAX_CONTROL_CONNECTIONS;
    s.headersTimeout = 10_000;
    s.requestTimeout = 30_000;
    servers.push(s);
    return s;
  };
  let tcp: string | null = null;
  try {
    if (socketPath !== null) {
      if (await socketAnswers(socketPath))
        throw new ControlSocketInUseError(
          `control socket ${socketPath} is in use by another server`,
        );
      clearStaleSocket(socketPath);
      await listenOn(make(null), socketPath);
      chmodSync(socketPath, 0o600);
    }
    if (settings.listen !== "") {
      const at = parseListen(settings.listen);
      const s = make(settings.token);
      await listenOn(s, at);
      const a = s.address();
      tcp = a !== null && typeof a === "object" ? `${a.address}:${a.port}` : settings.listen;
    }
  } catch (e) {
    await Promise.all(servers.map(closeHttp));
    throw e;
  }
  return {
    socket: socketPath,
    tcp,
    async close() {
      await Promise.all(servers.map(closeHttp));
    },
  };
}

/** True if a server answers on the Unix socket at `path`. */
function socketAnswers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const c = connect(path);
    c.once("connect", () => {
      c.destroy();
      resolve(true);
    });
    c.once("error", () => resolve(false));
  });
}

// The control API's routes: HTTP with JSON bodies, version 1. Every answer
// is a JSON object; errors are {"error": message} with a 4xx status. The
// transport (a Unix socket, or TCP with a token) is listener.ts's job.
//
//   GET  /v1/status                      GET  /v1/exports
//   GET  /v1/clients[/ID]                POST /v1/clients/ID/evict
//   GET  /v1/sessions[/ID]               POST /v1/sessions/ID/destroy
//   GET  /v1/sessions/ID/slots           GET  /v1/connections
//   GET  /v1/delegations                 POST /v1/delegations/STATEID/revoke
//   POST /v1/grace/end                   POST /v1/exports/reload
//   GET  /v1/debug                       POST /v1/debug {"client"|"session": ID, "on": bool}

import type { NfsServer } from "../nfs/server.js";
import {
  ControlError,
  destroySession,
  endGrace,
  evictClient,
  findClient,
  findSession,
  revokeDelegation,
  switchDebug,
} from "./actions.js";
import type { ReloadReport } from "./reload.js";
import {
  clientView,
  clientsView,
  connectionsView,
  delegationsView,
  exportsView,
  sessionView,
  sessionsView,
  slotsView,
  statusView,
  type ServerFacts,
} from "./views.js";

export interface ControlTarget {
  readonly server: NfsServer;
  readonly facts: ServerFacts;
  /** Re-reads the configuration and applies its exports; absent: the server has no file to re-read. */
  readonly reload?: () => Promise<ReloadReport>;
}

export interface ControlAnswer {
  readonly status: number;
  readonly body: unknown;
}

type Route = (target: ControlTarget, id: string, body: unknown) => unknown;

/** "GET clients/:" style keys: ":" stands for the one ID segment. */
const ROUTES: ReadonlyMap<string, Route> = new Map<string, Route>([
  ["GET status", (t) => statusView(t.server, t.facts)],
  ["GET clients", (t) => ({ clients: clientsView(t.server) })],
  ["GET clients/:", (t, id) => clientView(t.server, findClient(t.server, id))],
  ["POST clients/:/evict", (t, id) => evictClient(t.server, id)],
  ["GET sessions", (t) => ({ sessions: sessionsView(t.server) })],
  ["GET sessions/:", (t, id) => sessionView(t.server, findSession(t.server, id))],
  ["GET sessions/:/slots", (t, id) => ({ slots: slotsView(findSession(t.server, id)) })],
  ["POST sessions/:/destroy", (t, id) => destroySession(t.server, id)],
  ["GET connections", (t) => ({ connections: connectionsView(t.server) })],
  ["GET delegations", (t) => ({ delegations: delegationsView(t.server) })],
  ["POST delegations/:/revoke", (t, id) => revokeDelegation(t.server, id)],
  ["GET exports", (t) => ({ exports: exportsView(t.server, t.facts) })],
  [
    "POST exports/reload",
    (t) => {
      if (t.reload === undefined)
        throw new ControlError(501, "this server was started without a configuration file");
      return t.reload();
    },
  ],
  ["POST grace/end", (t) => endGrace(t.server)],
  ["GET debug", (t) => t.server.debug.targets()],
  ["POST debug", (t, _id, body) => switchDebug(t.server, body)],
]);

/** Answers one request; `body` is the parsed JSON body (undefined if none). */
export async function answer(
  target: ControlTarget,
  method: string,
  path: string,
  body: unknown,
): Promise<ControlAnswer> {
  const parts = path
    .split("?")[0]!
    .split("/")
    .filter((p) => p !== "");
  if (parts[0] !== "v1") return { status: 404, body: { error: `no such path ${path}` } };
  const rest = parts.slice(1);
  // The second segment is an ID when the first names a collection of things with IDs.
  const id =
    rest.length >= 2 && ["clients", "sessions", "delegations"].includes(rest[0]!) ? rest[1]! : "";
  const key = `${method} ${id === "" ? rest.join("/") : [rest[0], ":", ...rest.slice(2)].join("/")}`;
  const route = ROUTES.get(key);
  if (route === undefined) {
    const other = [...ROUTES.keys()].some((k) => k.endsWith(` ${key.split(" ")[1]}`));
    return other
      ? { status: 405, body: { error: `${method} is not allowed on ${path}` } }
      : { status: 404, body: { error: `no such path ${path}` } };
  }
  try {
    return { status: 200, body: await route(target, id, body) };
  } catch (e) {
    if (e instanceof ControlError) return { status: e.status, body: { error: e.message } };
    throw e;
  }
}

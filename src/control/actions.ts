// What an administrator can do to a running server (dfsctl's actions), each
// with the effect a client sees that the RFC gives it:
// - evicting a client removes its record with everything it holds: its next
//   SEQUENCE gets NFS4ERR_BADSESSION and its client ID NFS4ERR_STALE_CLIENTID,
//   so it starts over with EXCHANGE_ID (RFC 8881 §8.4.2, as after a lease expiry);
// - destroying a session: NFS4ERR_BADSESSION on its next request, and the
//   client creates another (§2.10.13);
// - revoking a delegation: its stateid answers NFS4ERR_ADMIN_REVOKED and the
//   holder's SEQUENCE replies carry SEQ4_STATUS_ADMIN_STATE_REVOKED until it
//   frees it with FREE_STATEID (§18.46.3, §8.2.4);
// - ending grace: reclaims get NFS4ERR_NO_GRACE and new opens are allowed.

import type { NfsServer } from "../nfs/server.js";
import { clientIdText } from "./views.js";
import type { ClientRecord } from "../state/client.js";
import type { Session } from "../state/session.js";
import { DelegationState } from "../state/delegation-state.js";

/** An action's failure, with the HTTP status the API answers it with. */
export class ControlError extends Error {
  override name = "ControlError";
  constructor(
    readonly status: 400 | 404 | 409 | 501,
    message: string,
  ) {
    super(message);
  }
}

const HEX = /^[0-9a-f]+$/;

function hexId(text: string, digits: number, what: string): string {
  const t = text.toLowerCase().replace(/^0x/, "");
  if (!HEX.test(t) || t.length > digits || (digits === 32 && t.length !== 32))
    throw new ControlError(
      400,
      `bad ${what} '${text}': expected ${digits === 32 ? "" : "up to "}${digits} hex digits`,
    );
  return t;
}

export function findClient(server: NfsServer, text: string): ClientRecord {
  const id = BigInt(`0x${hexId(text, 16, "client ID")}`);
  const record = server.state.client(id);
  if (record === undefined) throw new ControlError(404, `no client ${clientIdText(id)}`);
  return record;
}

export function findSession(server: NfsServer, text: string): Session {
  const id = hexId(text, 32, "session ID");
  const session = server.state.session(Buffer.from(id, "hex"));
  if (session === undefined || session.destroyed) throw new ControlError(404, `no session ${id}`);
  return session;
}

export function findDelegation(server: NfsServer, text: string): DelegationState {
  const key = hexId(text, 24, "delegation stateid");
  const d = server.state.stateids.find(Buffer.from(key.padStart(24, "0"), "hex"));
  if (!(d instanceof DelegationState)) throw new ControlError(404, `no delegation ${key}`);
  return d;
}

export interface EvictReport {
  readonly clientid: string;
  readonly sessions: number;
  readonly opens: number;
  readonly locks: number;
  readonly delegations: number;
}

export function evictClient(server: NfsServer, text: string): EvictReport {
  const record = findClient(server, text);
  const held = server.state.holdingCounts(record);
  server.log.warn(
    { clientid: clientIdText(record.clientid), ...held },
    "client evicted by an administrator",
  );
  server.state.removeClient(record);
  return {
    clientid: clientIdText(record.clientid),
    sessions: held.sessions,
    opens: held.opens,
    locks: held.locks,
    delegations: held.delegations,
  };
}

export function destroySession(server: NfsServer, text: string): { readonly sessionid: string } {
  const session = findSession(server, text);
  server.log.warn(
    { session: session.key, clientid: clientIdText(session.client.clientid) },
    "session destroyed by an administrator",
  );
  server.state.destroySession(session);
  return { sessionid: session.key };
}

export function revokeDelegation(
  server: NfsServer,
  text: string,
): { readonly stateid: string; readonly clientid: string } {
  const d = findDelegation(server, text);
  if (d.revoked) throw new ControlError(409, `delegation ${d.key} is already revoked`);
  server.state.revokeDelegation(d, true);
  return { stateid: d.key, clientid: clientIdText(d.client.clientid) };
}

export function endGrace(server: NfsServer): { readonly ended: true } {
  if (!server.recovery.endByAdministrator())
    throw new ControlError(409, "the server is not in its grace period");
  return { ended: true };
}

/** Switches the debug log of a client or a session on or off. */
export function switchDebug(
  server: NfsServer,
  body: unknown,
): ReturnType<NfsServer["debug"]["targets"]> {
  if (typeof body !== "object" || body === null)
    throw new ControlError(
      400,
      'expected a JSON object: {"client"|"session": ID, "on": true|false}',
    );
  const { client, session, on } = body as { client?: unknown; session?: unknown; on?: unknown };
  if (typeof on !== "boolean") throw new ControlError(400, "'on' must be true or false");
  if ((client === undefined) === (session === undefined))
    throw new ControlError(400, "give exactly one of 'client' and 'session'");
  if (typeof client === "string") {
    // Switching off a client that has gone is allowed (nothing to find).
    if (on) server.debug.setClient(findClient(server, client).clientid, true);
    else server.debug.setClient(BigInt(`0x${hexId(client, 16, "client ID")}`), false);
  } else if (typeof session === "string") {
    if (on) server.debug.setSession(findSession(server, session).key, true);
    else server.debug.setSession(hexId(session, 32, "session ID"), false);
  } else {
    throw new ControlError(400, "'client' or 'session' must be a hex ID");
  }
  return server.debug.targets();
}

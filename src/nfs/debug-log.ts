// The per-client and per-session debug switch (dfsctl debug): while a client
// or a session is switched on, every COMPOUND it sends is logged, with its
// operations and their statuses, whatever the server's log level. Switched at
// run time through the control API, without a restart.

import type { Logger } from "pino";
import type { nfs_resop4 } from "../../generated/nfs4/index.js";
import { nfs_opnum4_names, nfsstat4_names } from "../../generated/nfs4/index.js";
import { statusOf } from "../protocol/results.js";
import type { Session } from "../state/session.js";

/** What is switched on: client IDs and session IDs, in hex. */
export interface DebugTargets {
  readonly clients: readonly string[];
  readonly sessions: readonly string[];
}

export class DebugLog {
  private readonly clients = new Set<bigint>();
  private readonly sessions = new Set<string>();
  private readonly log: Logger;

  constructor(log: Logger) {
    // Its own level: the lines are wanted though the server logs at "info".
    this.log = log.child({ module: "debug" }, { level: "debug" });
  }

  /** Anything is switched on (one check per COMPOUND while nothing is). */
  get active(): boolean {
    return this.clients.size > 0 || this.sessions.size > 0;
  }

  setClient(clientid: bigint, on: boolean): void {
    if (on) this.clients.add(clientid);
    else this.clients.delete(clientid);
  }

  /** `sessionKey`: the session ID in hex (Session.key). */
  setSession(sessionKey: string, on: boolean): void {
    if (on) this.sessions.add(sessionKey);
    else this.sessions.delete(sessionKey);
  }

  /** The switch is on for this client itself (not through one of its sessions). */
  isOnForClient(clientid: bigint): boolean {
    return this.clients.has(clientid);
  }

  /** The switch is on for this session itself (`sessionKey`: Session.key). */
  isOnForSession(sessionKey: string): boolean {
    return this.sessions.has(sessionKey);
  }

  targets(): DebugTargets {
    return {
      clients: [...this.clients].map((c) => c.toString(16).padStart(16, "0")),
      sessions: [...this.sessions],
    };
  }

  /** A client or session went: its switch goes with it, so the sets stay bounded. */
  forgetClient(clientid: bigint): void {
    this.clients.delete(clientid);
  }

  forgetSession(sessionKey: string): void {
    this.sessions.delete(sessionKey);
  }

  /**
   * Logs a COMPOUND of `session` if its client or itself is switched on:
   * its results, or for a retry answered from the replay cache, how many
   * results after SEQUENCE were replayed.
   */
  compound(
    session: Session,
    xid: number,
    status: number,
    results: readonly nfs_resop4[],
    replay: { readonly replayed: number } | null,
  ): void {
    if (!this.clients.has(session.client.clientid) && !this.sessions.has(session.key)) return;
    this.log.debug(
      {
        clientid: session.client.clientid.toString(16).padStart(16, "0"),
        session: session.key,
        xid,
        ...(replay === null ? {} : { replayedResults: replay.replayed }),
        status: nfsstat4_names[status] ?? status,
        ops: results.map((r) => {
          const s = statusOf(r);
          return `${nfs_opnum4_names[r.resop] ?? r.resop}:${nfsstat4_names[s] ?? s}`;
        }),
      },
      "COMPOUND",
    );
  }
}

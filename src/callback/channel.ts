// What the server knows of one session's back channel (RFC 8881 §2.10.3.1,
// §18.36): its slot table, whether the client answers on it, and which of the
// session's connections can carry a callback. The program and the security
// parameters are read from the session each time (BACKCHANNEL_CTL changes
// them); the connections are the session's bindings with the back direction
// whose socket is still open.

import type { RpcConnection } from "../rpc/types.js";
import type { Session } from "../state/session.js";
import { CbSlotTable } from "./cb-slot-table.js";
import type { CallbackCredential } from "./security.js";
import { callbackCredential } from "./security.js";

/**
 * "unknown": not probed yet, or a probe is under way; "up": the last probe or
 * call was answered; "down": the last probe or call was refused or went
 * unanswered at the RPC level (PROG_UNAVAIL, AUTH_ERROR, …), or the session
 * offers no security flavor we can use.
 */
export type ChannelState = "unknown" | "up" | "down";

export class BackChannel {
  readonly table: CbSlotTable;
  state: ChannelState = "unknown";
  /**
   * A call on this session went unanswered (timeout, connection lost) and the
   * client has not answered anything since: SEQ4_STATUS_BACKCHANNEL_FAULT.
   */
  faulted = false;
  /**
   * The client answered CB_SEQUENCE with NFS4ERR_BADSESSION (or DEADSESSION)
   * BAD_SESSION_ANSWERS times in a row: unusable until it re-offers the channel.
   */
  badSession = false;
  /**
   * Such answers in a row. A client may get a callback on a new session
   * before it has processed the CREATE_SESSION reply (pynfs does, its
   * callback thread racing the one reading replies), so one answer is not
   * taken as the client's last word.
   */
  badSessionAnswers = 0;
  /** The last failure on this channel (wall-clock ms and what happened), for dfsctl; null: none yet. */
  lastError: { readonly at: number; readonly what: string } | null = null;
  /** The unusable security parameters have been logged (once per session). */
  securityLogged = false;
  /** Bumped by each probe, so an older probe's answer is ignored. */
  probeGeneration = 0;
  /** The connection the next probe should use (the one just bound), if any. */
  probeOn: RpcConnection | null = null;
  private credFor: readonly unknown[] | null = null;
  private cred: CallbackCredential | null = null;

  constructor(readonly session: Session) {
    // ca_maxrequests is at least 1 (CREATE_SESSION refuses less).
    this.table = new CbSlotTable(Math.max(1, session.back.ca_maxrequests));
  }

  /** The credential of the session's current csa_sec_parms / bca_sec_parms, or null if none is usable. */
  credential(): CallbackCredential | null {
    const parms = this.session.cbSecParms;
    if (this.credFor !== parms) {
      this.credFor = parms;
      this.cred = callbackCredential(parms);
    }
    return this.cred;
  }

  /** An open connection bound to the back channel and not in `except`, or null. */
  connection(except?: ReadonlySet<number>): RpcConnection | null {
    for (const b of this.session.connections.values())
      if (b.back && b.conn.open && !except?.has(b.conn.id)) return b.conn;
    return null;
  }

  /** A call can be sent here now (given a free slot). */
  get sendable(): boolean {
    return (
      !this.session.destroyed &&
      !this.badSession &&
      this.credential() !== null &&
      this.connection() !== null &&
      this.table.usable
    );
  }

  /** Sendable, and nothing says the client does not answer (what CB_PATH_DOWN_SESSION denies). */
  get usable(): boolean {
    return this.sendable && this.state !== "down" && !this.faulted;
  }

  /** Preference among sendable channels: known good, then not yet known, then suspect. */
  get rank(): number {
    if (this.faulted || this.state === "down") return 2;
    return this.state === "up" ? 0 : 1;
  }

  /** Records a failure for the control API (the log says it too). */
  failed(what: string): void {
    this.lastError = { at: Date.now(), what };
  }

  /** The client answered a probe or a call on this channel. */
  answered(): void {
    this.state = "up";
    this.faulted = false;
  }
}

// A session (RFC 8881 §2.10): created by CREATE_SESSION for a client, with the
// negotiated channel attributes, the fore channel's slot table, what the back
// channel needs (program, security parameters, attributes), and the
// connections bound to it. Connections and sessions are many-to-many: a
// session outlives any one of its connections.

import type { callback_sec_parms4, channel_attrs4 } from "../../generated/nfs4/index.js";
import type { RpcConnection } from "../rpc/types.js";
import type { ClientRecord } from "./client.js";
import { keyOf } from "./keys.js";
import { SlotTable } from "./slot-table.js";

export interface Binding {
  readonly conn: RpcConnection;
  fore: boolean;
  back: boolean;
}

export class Session {
  readonly key: string;
  readonly slots: SlotTable;
  readonly connections = new Map<number, Binding>();
  /** Set by DESTROY_SESSION or when the client goes away: no new requests. */
  destroyed = false;
  /**
   * The minor version of the COMPOUND that created the session: callbacks
   * carry it (CB_COMPOUND4args.minorversion, RFC 8881 §20.1), as Linux nfsd
   * does; a client may refuse any other (pynfs answers MINOR_VERS_MISMATCH).
   */
  minorVersion = 1;
  /** COMPOUNDs SEQUENCE accepted on this session, new and replayed (for the metrics endpoint). */
  compounds = 0;

  constructor(
    readonly id: Uint8Array,
    readonly client: ClientRecord,
    readonly flags: number,
    /** The fore channel granted; ca_maxrequests is the table's size at creation. */
    readonly fore: channel_attrs4,
    readonly back: channel_attrs4,
    public cbProgram: number,
    /** Copies: nothing here is a view into a receive buffer. */
    public cbSecParms: readonly callback_sec_parms4[],
    /** The most fore-channel slots the table may grow to (what the client asked for, within our cap). */
    maxSlots: number = fore.ca_maxrequests,
  ) {
    this.key = keyOf(id);
    this.slots = new SlotTable(fore.ca_maxrequests, maxSlots);
  }

  /** Replay-cache bytes reserved per slot: the negotiated ca_maxresponsesize_cached. */
  get bytesPerSlot(): number {
    return this.fore.ca_maxresponsesize_cached;
  }

  /** Binds `conn` to the fore and/or back channel (adding to what it already has). */
  bind(conn: RpcConnection, fore: boolean, back: boolean): void {
    const b = this.connections.get(conn.id);
    if (b) {
      b.fore ||= fore;
      b.back ||= back;
    } else {
      this.connections.set(conn.id, { conn, fore, back });
    }
  }

  unbind(connId: number): void {
    this.connections.delete(connId);
  }

  isBound(connId: number): boolean {
    return this.connections.has(connId);
  }

  /** A connection usable for callbacks, if any is bound to the back channel. */
  backChannel(): RpcConnection | null {
    for (const b of this.connections.values()) if (b.back && b.conn.open) return b.conn;
    return null;
  }
}

// The state one COMPOUND carries from operation to operation (context.ts
// CompoundState), as a class.
//
// Why a class and not an object literal: V8 builds an object literal that
// defines an accessor (`get cred() {…}`) in the runtime, with a fresh getter
// closure each time, and such objects do not die young: under a GETATTR load
// every scavenge promoted 7–10% of all allocation (the request's objects,
// reachable from the literal's getter), for the mark-compacts to collect later;
// with this class none is (`node --trace-gc-nvp`, the `promoted=` field).

import type { stateid4 } from "../../generated/nfs4/index.js";
import type { Credential, RpcConnection } from "../rpc/types.js";
import type { Session } from "../state/session.js";
import type { CompoundState, ServerContext } from "./context.js";
import { effectiveCredential } from "./export-access.js";

export class CompoundRequestState implements CompoundState {
  opIndex = 0;
  currentFh: Uint8Array | null = null;
  savedFh: Uint8Array | null = null;
  currentStateid: stateid4 | null = null;
  savedStateid: stateid4 | null = null;
  session: Session | null = null;
  sequence: { readonly slotid: number; readonly sequenceid: number } | null = null;
  replyRoom: number | null = null;
  /** The filehandle `squashed` was computed for. */
  private credFh: Uint8Array | null = null;
  private squashed: Credential;

  constructor(
    readonly server: ServerContext,
    /** The request's own credential, before any export squashes it. */
    private readonly callCred: Credential,
    readonly conn: RpcConnection,
    readonly minorversion: number,
    readonly opCount: number,
  ) {
    this.squashed = callCred;
  }

  /** The credential squashed by the current filehandle's export, recomputed only when the filehandle changes. */
  get cred(): Credential {
    if (this.currentFh !== this.credFh) {
      this.credFh = this.currentFh;
      this.squashed = effectiveCredential(this.server.exports, this.callCred, this.credFh);
    }
    return this.squashed;
  }
}

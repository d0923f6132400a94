// The state attached to one file (RFC 8881 §9.7, §9.5, §10.4): its opens,
// lock states and delegations, so that OPEN finds conflicting share
// reservations, LOCK conflicting locks, READ/WRITE with special stateids
// share denials, and other clients' operations the delegations to recall.

import type { DelegationState } from "./delegation-state.js";
import type { LockState } from "./lock-state.js";
import type { OpenState } from "./open-state.js";

export class FileState {
  readonly opens = new Set<OpenState>();
  readonly locks = new Set<LockState>();
  /** Delegations in force (revoked ones are not here). */
  readonly delegations = new Set<DelegationState>();
  constructor(readonly fh: Uint8Array) {}

  get empty(): boolean {
    return this.opens.size === 0 && this.locks.size === 0 && this.delegations.size === 0;
  }

  /**
   * The open that stands in the way of an open with these modes by the
   * open-owner whose key is `ownerKey` (OpenOwner.key), if any (§9.7).
   */
  shareConflict(ownerKey: string, access: number, deny: number): OpenState | undefined {
    for (const o of this.opens) {
      if (o.owner.key === ownerKey) continue;
      if ((access & o.deny) !== 0 || (deny & o.access) !== 0) return o;
    }
    return undefined;
  }

  /** Whether some open denies `access` to everyone else (I/O with a special stateid). */
  denies(access: number): boolean {
    for (const o of this.opens) if ((o.deny & access) !== 0) return true;
    return false;
  }
}

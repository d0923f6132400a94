// Opens (RFC 8881 §9): an open-owner's share reservation on a file, named by
// an open stateid. One OpenState per (open-owner, file): a second OPEN by the
// same owner upgrades it. The per-file index lets OPEN find conflicting share
// reservations and READ/WRITE with special stateids find share denials.

import type { ClientRecord } from "./client.js";
import { keyOf } from "./client.js";
import type { LockState } from "./lock-state.js";
import type { StateObject } from "./stateid.js";

export const ACCESS_READ = 1;
export const ACCESS_WRITE = 2;
export const DENY_READ = 1;
export const DENY_WRITE = 2;

export class OpenOwner {
  readonly key: string;
  readonly opens = new Set<OpenState>();
  constructor(
    readonly client: ClientRecord,
    readonly owner: Uint8Array,
  ) {
    this.key = ownerKey(client, owner);
  }
}

export function ownerKey(client: ClientRecord, owner: Uint8Array): string {
  return `${client.clientid.toString(16)}:${keyOf(owner)}`;
}

export class OpenState implements StateObject {
  readonly kind = "open";
  readonly key: string;
  readonly fileKey: string;
  seqid = 1;
  /** The share access and deny bits in force (OPEN4_SHARE_ACCESS_*, OPEN4_SHARE_DENY_*). */
  access = 0;
  deny = 0;
  /** Every access and deny value an OPEN granted: OPEN_DOWNGRADE may only return to one of them. */
  readonly accessHistory = new Set<number>();
  readonly denyHistory = new Set<number>();
  /** Lock states whose lock-owners came to this file through this open. */
  readonly locks = new Set<LockState>();

  constructor(
    readonly other: Uint8Array,
    readonly owner: OpenOwner,
    readonly fh: Uint8Array,
  ) {
    this.key = keyOf(other);
    this.fileKey = keyOf(fh);
  }

  get client(): ClientRecord {
    return this.owner.client;
  }

  /** Adds modes from a new OPEN by the same owner (an upgrade). */
  grant(access: number, deny: number): void {
    this.access |= access;
    this.deny |= deny;
    this.accessHistory.add(access);
    this.denyHistory.add(deny);
  }
}

/** The state attached to one file. */
export class FileState {
  readonly opens = new Set<OpenState>();
  readonly locks = new Set<LockState>();
  constructor(readonly fh: Uint8Array) {}

  get empty(): boolean {
    return this.opens.size === 0 && this.locks.size === 0;
  }

  /** The open that stands in the way of an open by `owner` with these modes, if any (§9.7). */
  shareConflict(owner: OpenOwner, access: number, deny: number): OpenState | undefined {
    for (const o of this.opens) {
      if (o.owner === owner) continue;
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

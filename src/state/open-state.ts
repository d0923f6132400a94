// Opens (RFC 8881 §9): an open-owner's share reservation on a file, named by
// an open stateid. One OpenState per (open-owner, file): a second OPEN by the
// same owner upgrades it. The locks taken through an open point at it
// (lock-state.ts); the state manager keeps the reverse index, so this module
// does not import lock-state.

import type { ClientRecord } from "./client.js";
import { keyOf, ownerKeyOf } from "./keys.js";
import type { StateObject } from "./stateid.js";

export const ACCESS_READ = 1;
export const ACCESS_WRITE = 2;
export const DENY_READ = 1;
export const DENY_WRITE = 2;

export class OpenOwner {
  readonly key: string;
  /** The owner's opens by file key: one per file (a second OPEN upgrades the first, §9.11). */
  readonly opens = new Map<string, OpenState>();
  constructor(
    readonly client: ClientRecord,
    readonly owner: Uint8Array,
  ) {
    this.key = ownerKeyOf(client.clientid, owner);
  }
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

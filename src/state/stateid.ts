// Stateids (RFC 8881 §8.2): the 12-byte `other` names a state object (an
// open, a lock-owner's locks on a file, a delegation); `seqid` counts the
// changes to it. This module issues `other` values, finds the object a
// stateid names, and applies the seqid rules and the special stateids.

import { randomFillSync } from "node:crypto";
import type { stateid4 } from "../../generated/nfs4/index.js";
import { nfsstat4 } from "../../generated/nfs4/index.js";
import type { ClientRecord } from "./client.js";
import { keyOf, sameBytes } from "./keys.js";
import type { NfsError } from "./slot-table.js";

export type StateKind = "open" | "lock" | "delegation";

/** Something a stateid can name. */
export interface StateObject {
  readonly kind: StateKind;
  readonly other: Uint8Array;
  readonly key: string;
  /** Incremented on every change; never 0 (a client's 0 means "the current one"). */
  seqid: number;
  readonly client: ClientRecord;
  /** The file handle the state is for. */
  readonly fh: Uint8Array;
  /** Delegations only: revoked, its stateid kept to answer NFS4ERR_DELEG_REVOKED (RFC 8881 §10.2.1). */
  readonly revoked?: boolean;
  /** Delegations only: revoked by an administrator (answers NFS4ERR_ADMIN_REVOKED instead). */
  readonly adminRevoked?: boolean;
}

const ZERO_OTHER = new Uint8Array(12);
const ONES_OTHER = new Uint8Array(12).fill(0xff);

/** The special stateids of RFC 8881 §8.2.3. */
export type SpecialStateid = "anonymous" | "bypass" | "current" | "invalid";

export function specialStateid(s: stateid4): SpecialStateid | null {
  if (sameBytes(s.other, ZERO_OTHER)) {
    if (s.seqid === 0) return "anonymous";
    if (s.seqid === 1) return "current";
    if (s.seqid === 0xffffffff) return "invalid";
    return null;
  }
  if (s.seqid === 0xffffffff && sameBytes(s.other, ONES_OTHER)) return "bypass";
  return null;
}

/** The stateid naming `obj` as it is now. */
export function stateidOf(obj: StateObject): stateid4 {
  return { seqid: obj.seqid, other: obj.other };
}

/** The "invalid" special stateid, which CLOSE returns (RFC 8881 §18.2.4). */
export const INVALID_STATEID: stateid4 = { seqid: 0xffffffff, other: ZERO_OTHER };

export type Lookup<T extends StateObject> = { readonly ok: T } | { readonly error: NfsError };

/**
 * Random bytes for `other` values, drawn from the CSPRNG a block at a time: one
 * randomBytes(4) per stateid cost about 19 µs of an OPEN (CPU profile,
 * 2026-12-02), a block refill costs that once per 1024 stateids.
 */
class RandomPool {
  private readonly block = new Uint8Array(4096);
  private used = this.block.length;

  /** Copies `n` fresh random bytes into `into` at `at`. */
  fill(into: Uint8Array, at: number, n: number): void {
    if (this.used + n > this.block.length) {
      randomFillSync(this.block);
      this.used = 0;
    }
    into.set(this.block.subarray(this.used, this.used + n), at);
    this.used += n;
  }
}

export class StateidTable {
  private readonly objects = new Map<string, StateObject>();
  private counter = 0;
  private readonly random = new RandomPool();
  /** Four bytes that differ between server instances, so old stateids are never found. */
  private readonly instance: Uint8Array;

  constructor(bootEpoch: number) {
    this.instance = new Uint8Array(4);
    new DataView(this.instance.buffer).setUint32(0, bootEpoch >>> 0);
  }

  /** A fresh `other`: instance, counter and 4 random bytes (so stateids cannot be guessed). */
  newOther(): Uint8Array {
    const other = new Uint8Array(12);
    other.set(this.instance, 0);
    new DataView(other.buffer).setUint32(4, ++this.counter >>> 0);
    this.random.fill(other, 8, 4);
    return other;
  }

  add(obj: StateObject): void {
    this.objects.set(obj.key, obj);
  }

  remove(obj: StateObject): void {
    this.objects.delete(obj.key);
  }

  get size(): number {
    return this.objects.size;
  }

  /** The object `other` names, whatever its seqid. */
  find(other: Uint8Array): StateObject | undefined {
    return this.objects.get(keyOf(other));
  }

  /**
   * Finds the object a (non-special) stateid names and checks its seqid
   * (§8.2.2): 0 means the current seqid; a newer one than the object's is
   * BAD_STATEID, an older one OLD_STATEID.
   */
  lookup<T extends StateObject>(s: stateid4, kinds: readonly T["kind"][]): Lookup<T> {
    const obj = this.objects.get(keyOf(s.other));
    if (!obj || !kinds.includes(obj.kind)) return { error: nfsstat4.NFS4ERR_BAD_STATEID };
    if (s.seqid !== 0 && s.seqid !== obj.seqid) {
      // Sequence IDs wrap (§8.2.2): "newer" is within half the space ahead.
      const ahead = (s.seqid - obj.seqid) >>> 0 < 0x80000000;
      return { error: ahead ? nfsstat4.NFS4ERR_BAD_STATEID : nfsstat4.NFS4ERR_OLD_STATEID };
    }
    return { ok: obj as T };
  }
}

/** Next seqid of a state object: wraps from 0xffffffff to 1, skipping 0 (§8.2.2). */
export function bumpSeqid(obj: StateObject): void {
  obj.seqid = obj.seqid === 0xffffffff ? 1 : obj.seqid + 1;
}

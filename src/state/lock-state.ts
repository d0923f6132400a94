// Byte-range locks (RFC 8881 §9.3-§9.5): a lock-owner's locks on one file,
// named by a lock stateid, as a sorted list of non-overlapping ranges each
// READ or WRITE. Locking merges, splits and upgrades ranges the POSIX way.

import type { ClientRecord } from "./client.js";
import { keyOf, ownerKeyOf } from "./keys.js";
import type { OpenState } from "./open-state.js";
import type { StateObject } from "./stateid.js";

/** Lock ranges end at 2^64 - 1 ("to end of file" is length all ones). */
export const MAX_OFFSET = 0xffffffffffffffffn;

export type LockMode = "read" | "write";

export interface LockRange {
  /** Inclusive bounds. */
  readonly start: bigint;
  readonly end: bigint;
  readonly mode: LockMode;
}

export class LockOwner {
  readonly key: string;
  readonly states = new Set<LockState>();
  constructor(
    readonly client: ClientRecord,
    readonly owner: Uint8Array,
  ) {
    this.key = ownerKeyOf(client.clientid, owner);
  }
}

export class LockState implements StateObject {
  readonly kind = "lock";
  readonly key: string;
  readonly fileKey: string;
  seqid = 1;
  ranges: LockRange[] = [];

  constructor(
    readonly other: Uint8Array,
    readonly owner: LockOwner,
    readonly open: OpenState,
    readonly fh: Uint8Array,
  ) {
    this.key = keyOf(other);
    this.fileKey = keyOf(fh);
  }

  get client(): ClientRecord {
    return this.owner.client;
  }

  /** Sets [start, end] to `mode` (or unlocks it with null), splitting and merging ranges. */
  apply(start: bigint, end: bigint, mode: LockMode | null): void {
    const out: LockRange[] = [];
    for (const r of this.ranges) {
      if (r.end < start || r.start > end) {
        out.push(r);
        continue;
      }
      if (r.start < start) out.push({ start: r.start, end: start - 1n, mode: r.mode });
      if (r.end > end) out.push({ start: end + 1n, end: r.end, mode: r.mode });
    }
    if (mode !== null) out.push({ start, end, mode });
    out.sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
    // Merge neighbours of the same mode.
    const merged: LockRange[] = [];
    for (const r of out) {
      const last = merged.at(-1);
      if (last && last.mode === r.mode && last.end + 1n >= r.start) {
        merged[merged.length - 1] = {
          start: last.start,
          end: r.end > last.end ? r.end : last.end,
          mode: r.mode,
        };
      } else merged.push(r);
    }
    this.ranges = merged;
  }

  /** A range of ours that conflicts with `mode` on [start, end] wanted by someone else. */
  conflict(start: bigint, end: bigint, mode: LockMode): LockRange | undefined {
    return this.ranges.find(
      (r) => r.start <= end && r.end >= start && (mode === "write" || r.mode === "write"),
    );
  }
}

/** The inclusive end of a lock of `length` at `offset` (length all ones = to the end), or null if it overflows. */
export function rangeEnd(offset: bigint, length: bigint): bigint | null {
  if (length === MAX_OFFSET) return MAX_OFFSET;
  if (length === 0n) return null;
  const end = offset + length - 1n;
  return end > MAX_OFFSET ? null : end;
}

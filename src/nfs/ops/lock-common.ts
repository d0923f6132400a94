// What LOCK, LOCKT and LOCKU share: the requested range, the lock mode of a
// lock type, and finding a conflicting lock of another lock-owner on the file.

import type { LOCK4denied, nfs_lock_type4 } from "../../../generated/nfs4/index.js";
import { nfs_lock_type4 as lockType, nfsstat4 } from "../../../generated/nfs4/index.js";
import type { NfsError } from "../../state/slot-table.js";
import type { LockMode } from "../../state/lock-state.js";
import type { StateManager } from "../../state/manager.js";
import { MAX_OFFSET, rangeEnd } from "../../state/lock-state.js";

/** Any error but NFS4ERR_DENIED, which LOCK and LOCKT answer with the conflicting lock. */
export type NotDenied = Exclude<NfsError, typeof nfsstat4.NFS4ERR_DENIED>;

/** Narrows an error from a helper that never returns NFS4ERR_DENIED. */
export function notDenied(status: NfsError): NotDenied {
  if (status === nfsstat4.NFS4ERR_DENIED)
    throw new Error("NFS4ERR_DENIED needs the conflicting lock");
  return status;
}

export function modeOf(t: nfs_lock_type4): LockMode {
  return t === lockType.READ_LT || t === lockType.READW_LT ? "read" : "write";
}

/** [offset, end] of a request, or null for a zero length or one past 2^64 - 1 (NFS4ERR_INVAL). */
export function requestRange(
  offset: bigint,
  length: bigint,
): { start: bigint; end: bigint } | null {
  const end = rangeEnd(offset, length);
  return end === null ? null : { start: offset, end };
}

/**
 * The LOCK4denied describing the first lock of another owner that conflicts,
 * if any (§18.10.4). Locks of courtesy clients (lease expired) give way: the
 * client is expired and the search goes on.
 */
export function findConflict(
  manager: StateManager,
  fileKey: string,
  owner: { key: string },
  start: bigint,
  end: bigint,
  mode: LockMode,
): LOCK4denied | null {
  search: for (;;) {
    const file = manager.fileState(fileKey);
    if (!file) return null;
    for (const l of file.locks) {
      if (l.owner.key === owner.key) continue;
      const r = l.conflict(start, end, mode);
      if (!r) continue;
      if (manager.evictIfCourtesy(l.client)) continue search;
      return {
        offset: r.start,
        length: r.end === MAX_OFFSET ? MAX_OFFSET : r.end - r.start + 1n,
        locktype: r.mode === "read" ? lockType.READ_LT : lockType.WRITE_LT,
        owner: { clientid: l.client.clientid, owner: l.owner.owner },
      };
    }
    return null;
  }
}

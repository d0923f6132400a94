// POSIX permission evaluation from mode bits, for AUTH_SYS callers. The
// backend acts with the server's authority, so the NFS layer decides here
// whether the caller may read, write or search an object (ACCESS, LOOKUP,
// READDIR, and the modifying operations of the next issue).

import { nfs_ftype4 } from "../../generated/nfs4/index.js";
import type { FileAttributes } from "./backend.js";

/** The caller's identity as far as permissions go (a structural subset of rpc Credential). */
export interface Caller {
  readonly uid: number;
  readonly gid: number;
  /** Supplementary groups. */
  readonly gids: readonly number[];
}

/** The uid that bypasses mode bits (no root squashing yet). */
export const SUPERUSER_UID = 0;

/** Permission bits, as in one rwx triple of a mode. */
export const MAY_READ = 4;
export const MAY_WRITE = 2;
export const MAY_EXEC = 1;

const ANY_EXEC = 0o111;

/**
 * The rwx bits (MAY_*) `caller` holds on an object. Only the first matching
 * class counts (owner, then group incl. supplementary groups, then other), as
 * in POSIX: an owner whose own bits are narrower than the group's gets only his.
 * The superuser may read and write anything and execute directories and files
 * that have at least one execute bit.
 */
export function grantedBits(
  attrs: Pick<FileAttributes, "type" | "mode" | "uid" | "gid">,
  caller: Caller,
): number {
  if (caller.uid === SUPERUSER_UID) {
    const exec = attrs.type === nfs_ftype4.NF4DIR || (attrs.mode & ANY_EXEC) !== 0;
    return MAY_READ | MAY_WRITE | (exec ? MAY_EXEC : 0);
  }
  let shift = 0;
  if (caller.uid === attrs.uid) shift = 6;
  else if (caller.gid === attrs.gid || caller.gids.includes(attrs.gid)) shift = 3;
  return (attrs.mode >> shift) & 7;
}

/** True when `caller` holds every bit of `wanted` (MAY_* ORed). */
export function mayAccess(
  attrs: Pick<FileAttributes, "type" | "mode" | "uid" | "gid">,
  caller: Caller,
  wanted: number,
): boolean {
  return (grantedBits(attrs, caller) & wanted) === wanted;
}

// POSIX permission evaluation from mode bits, for AUTH_SYS callers. The
// backend acts with the server's authority, so the NFS layer decides here
// whether the caller may read, write or search an object (ACCESS, LOOKUP,
// READDIR), remove a directory entry (REMOVE, RENAME: the sticky bit), and
// change attributes (SETATTR, and the initial attributes of CREATE/OPEN: the
// chmod/chown/utimes/truncate rules).

import {
  MODE4_SGID,
  MODE4_SUID,
  MODE4_SVTX,
  MODE4_XGRP,
  nfs_ftype4,
  nfsstat4,
} from "../../generated/nfs4/index.js";
import type { FileAttributes, NfsErrorStatus, SetAttributes } from "./backend.js";

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

/** True when `caller` is `gid` or has it among its supplementary groups. */
export function inGroup(caller: Caller, gid: number): boolean {
  return caller.gid === gid || caller.gids.includes(gid);
}

/**
 * May `caller` remove (or rename away, or replace) the entry naming `victim`
 * in directory `dir`? Write and search permission on the directory are checked
 * separately; this is the sticky-bit rule: in a sticky directory (mode 01000,
 * like /tmp) only the victim's owner, the directory's owner or the superuser
 * may remove it.
 */
export function mayUnlinkFrom(
  dir: Pick<FileAttributes, "mode" | "uid">,
  victim: Pick<FileAttributes, "uid">,
  caller: Caller,
): boolean {
  if ((dir.mode & MODE4_SVTX) === 0 || caller.uid === SUPERUSER_UID) return true;
  return caller.uid === victim.uid || caller.uid === dir.uid;
}

export type AuthorizedSetattr =
  | { readonly ok: true; readonly attrs: SetAttributes }
  | { readonly ok: false; readonly status: NfsErrorStatus };

/**
 * Whether `caller` may apply `want` to an object with attributes `obj`, under
 * the POSIX rules (with chown restricted, as FsCapabilities.chownRestricted
 * says), and the attributes to actually apply:
 *
 * - owner: only the superuser gives an object away (NFS4ERR_PERM);
 * - owner_group: the superuser, or the owner choosing one of his groups (PERM);
 * - mode, or a time set to a client-supplied value: the owner or the
 *   superuser (PERM);
 * - a time set to the server's "now": also anyone who may write the object
 *   (NFS4ERR_ACCESS otherwise), as utimes(NULL) allows;
 * - size: write permission, or ownership — Linux nfsd's owner override, so an
 *   owner can truncate a file he created read-only (ACCESS otherwise).
 *
 * As the kernel does, the result silently drops set-id bits that would give
 * away privilege: a change of owner or group of a non-directory clears
 * set-uid, and set-gid when it is an executable set-gid (not a mandatory-lock
 * marker); a non-superuser setting set-gid on a non-directory whose group he
 * is not in loses it. Unchanged fields pass through; values equal to the
 * current ones count as no change (chown to yourself is always allowed).
 * Stateid checks for size (SETATTR with an open) are the caller's business.
 */
export function authorizeSetattr(
  obj: Pick<FileAttributes, "type" | "mode" | "uid" | "gid">,
  want: SetAttributes,
  caller: Caller,
): AuthorizedSetattr {
  const superuser = caller.uid === SUPERUSER_UID;
  const owner = superuser || caller.uid === obj.uid;
  const perm = { ok: false, status: nfsstat4.NFS4ERR_PERM } as const;
  const chown = want.uid !== undefined && want.uid !== obj.uid;
  const chgrp = want.gid !== undefined && want.gid !== obj.gid;
  if (chown && !superuser) return perm;
  if (chgrp && !superuser && !(owner && inGroup(caller, want.gid!))) return perm;
  if (want.mode !== undefined && !owner) return perm;
  const clientTime = (t: SetAttributes["atime"]): boolean => t !== undefined && t !== "now";
  if ((clientTime(want.atime) || clientTime(want.mtime)) && !owner) return perm;
  const writable = mayAccess(obj, caller, MAY_WRITE);
  if ((want.atime === "now" || want.mtime === "now") && !owner && !writable) {
    return { ok: false, status: nfsstat4.NFS4ERR_ACCESS };
  }
  if (want.size !== undefined && !owner && !writable) {
    return { ok: false, status: nfsstat4.NFS4ERR_ACCESS };
  }

  let mode = want.mode;
  if (obj.type !== nfs_ftype4.NF4DIR) {
    const gid = want.gid ?? obj.gid;
    if (mode !== undefined && (mode & MODE4_SGID) !== 0 && !superuser && !inGroup(caller, gid)) {
      mode &= ~MODE4_SGID;
    }
    if (chown || chgrp) {
      let m = mode ?? obj.mode;
      m &= ~MODE4_SUID;
      if ((m & MODE4_XGRP) !== 0) m &= ~MODE4_SGID;
      if (m !== (mode ?? obj.mode)) mode = m;
    }
  }
  return { ok: true, attrs: mode === want.mode ? want : { ...want, mode } };
}

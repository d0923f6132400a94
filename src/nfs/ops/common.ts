// Helpers shared by the filesystem operations: building the AttrSource the
// attrs module encodes from, the type checks several operations repeat, the
// attributes of new objects, comparing attributes (VERIFY/NVERIFY), and
// mapping backend failures onto the errors each operation may return.

import {
  FATTR4_RDATTR_ERROR,
  MODE4_SGID,
  nfs_ftype4,
  nfsstat4,
  type fattr4,
  type nfs_opnum4,
  type notify_type4,
} from "../../../generated/nfs4/index.js";
import {
  statusOfError,
  type ChangeOrigin,
  type CreateAttributes,
  type FileAttributes,
  type FileHandle,
  type FsCapabilities,
  type FsId,
  type FsStats,
  type NfsErrorStatus,
  type SetAttributes,
} from "../../fs/backend.js";
import { authorizeSetattr, type Caller } from "../../fs/permission.js";
import {
  ATTR_BY_BIT,
  bitsOf,
  encodeAttrs,
  needsStats,
  sameWords,
  trim,
  type AttrSource,
} from "../attrs/index.js";
import type { CompoundState } from "../context.js";
import type { Conflict } from "../delegations.js";
import { isAllowedError } from "../../../generated/nfs4/index.js";

/**
 * Who makes the changes of this request, as the backend reports them back
 * (FileSystem.observe): the requesting client, or null outside a session.
 */
export function changeOrigin(state: CompoundState): ChangeOrigin | null {
  return state.session?.client ?? null;
}

/** The AttrSource for one object, with the server's capabilities and settings. */
export function attrSource(
  state: CompoundState,
  handle: FileHandle,
  attrs: FileAttributes,
  stats?: FsStats,
): AttrSource {
  const { exports, settings } = state.server;
  return { handle, attrs, caps: exports.capabilitiesOf(handle), settings, stats };
}

/**
 * The capabilities of the filesystem holding `fh` (by default the current
 * filehandle): exports on different backends differ (xattrs, limits).
 */
export function capabilitiesOf(
  state: CompoundState,
  fh: FileHandle | null = state.currentFh,
): FsCapabilities {
  return fh === null ? state.server.fs.capabilities : state.server.exports.capabilitiesOf(fh);
}

/**
 * The error for using an object as a directory to look names up in (LOOKUP,
 * LOOKUPP): NFS4ERR_SYMLINK for a symbolic link (RFC 8881 §18.13.3, §18.14.3 —
 * the client should follow it itself), NFS4ERR_NOTDIR for anything else, null
 * for a directory.
 */
export function lookupDirError(type: nfs_ftype4): NfsErrorStatus | null {
  if (type === nfs_ftype4.NF4DIR) return null;
  return type === nfs_ftype4.NF4LNK ? nfsstat4.NFS4ERR_SYMLINK : nfsstat4.NFS4ERR_NOTDIR;
}

/**
 * NFS4ERR_NOTDIR for anything but a directory, symbolic links included: for
 * the operations whose valid errors (RFC 8881 §15.2) have no NFS4ERR_SYMLINK
 * (CREATE, REMOVE, RENAME, SECINFO, GET_DIR_DELEGATION).
 */
export function notDirError(type: nfs_ftype4): NfsErrorStatus | null {
  return type === nfs_ftype4.NF4DIR ? null : nfsstat4.NFS4ERR_NOTDIR;
}

/** The answer of an operation that needs a saved filehandle and has none (LINK, RENAME, RESTOREFH). */
export const NO_FILEHANDLE = { status: nfsstat4.NFS4ERR_NOFILEHANDLE } as const;

/**
 * The current filehandle of an operation whose descriptor says
 * needsCurrentFh: COMPOUND has answered NFS4ERR_NOFILEHANDLE before the
 * handler runs when there is none, so its absence here is a server bug.
 */
export function currentFh(state: CompoundState): FileHandle {
  const fh = state.currentFh;
  if (fh === null) throw new Error("no current filehandle: the descriptor must set needsCurrentFh");
  return fh;
}

/** True when two objects are on the same filesystem (LINK and RENAME across them are XDEV). */
export function sameFilesystem(a: FsId, b: FsId): boolean {
  return a.major === b.major && a.minor === b.minor;
}

/**
 * Stand-ins for a backend status `op` may not return, nearest first: the
 * backend names the most precise status it knows (a local directory's EPERM,
 * say), which is not always one RFC 8881 §15.2 lists for the operation.
 */
const SUBSTITUTES: ReadonlyMap<nfsstat4, readonly NfsErrorStatus[]> = new Map([
  [nfsstat4.NFS4ERR_PERM, [nfsstat4.NFS4ERR_ACCESS]],
  [nfsstat4.NFS4ERR_SYMLINK, [nfsstat4.NFS4ERR_NOTDIR, nfsstat4.NFS4ERR_WRONG_TYPE]],
  [nfsstat4.NFS4ERR_WRONG_TYPE, [nfsstat4.NFS4ERR_INVAL]],
  [nfsstat4.NFS4ERR_ISDIR, [nfsstat4.NFS4ERR_WRONG_TYPE, nfsstat4.NFS4ERR_INVAL]],
  [nfsstat4.NFS4ERR_DQUOT, [nfsstat4.NFS4ERR_NOSPC]],
  // A handle that parsed at PUTFH and no longer does names nothing that still exists.
  [nfsstat4.NFS4ERR_BADHANDLE, [nfsstat4.NFS4ERR_STALE]],
]);

/**
 * The status to answer `op` with for the backend failure `e` (rethrowing what
 * is not an FsError): the backend's own status when `op` may return it, else
 * the nearest one it may, else NFS4ERR_IO or, failing that, NFS4ERR_SERVERFAULT.
 * COMPOUND applies it to the FsErrors handlers throw (op.ts invoke).
 */
export function failureStatus(op: nfs_opnum4, e: unknown): NfsErrorStatus {
  const status = statusOfError(e);
  if (isAllowedError(op, status)) return status;
  for (const alt of SUBSTITUTES.get(status) ?? []) if (isAllowedError(op, alt)) return alt;
  return isAllowedError(op, nfsstat4.NFS4ERR_IO)
    ? nfsstat4.NFS4ERR_IO
    : nfsstat4.NFS4ERR_SERVERFAULT;
}

/**
 * Permission bits of an object created without a mode attribute: what the
 * usual umask 022 leaves. Symbolic links get 0777: their bits are never checked.
 */
function defaultMode(type: nfs_ftype4): number {
  if (type === nfs_ftype4.NF4DIR) return 0o755;
  if (type === nfs_ftype4.NF4LNK) return 0o777;
  return 0o644;
}

/**
 * The attributes of a new object of `type` in directory `dir`, created by
 * `caller` with the client's `requested` ones (CREATE's createattrs, OPEN's
 * createattrs). As POSIX: the caller owns it; its group is the caller's, or
 * the directory's when the directory is set-gid (a new directory then
 * inherits set-gid too); `requested` may change these as chown/chmod would
 * (authorizeSetattr: NFS4ERR_PERM for giving the object away). A missing mode
 * defaults per defaultMode().
 */
export function newObjectAttributes(
  type: nfs_ftype4,
  dir: Pick<FileAttributes, "mode" | "gid">,
  requested: SetAttributes,
  caller: Caller,
):
  | { readonly ok: true; readonly attrs: CreateAttributes }
  | { readonly ok: false; readonly status: NfsErrorStatus } {
  const setgidDir = (dir.mode & MODE4_SGID) !== 0;
  const gid = setgidDir ? dir.gid : caller.gid;
  const base = { type, mode: defaultMode(type), uid: caller.uid, gid };
  const allowed = authorizeSetattr(base, requested, caller);
  if (!allowed.ok) return allowed;
  const a = allowed.attrs;
  let mode = a.mode ?? base.mode;
  if (setgidDir && type === nfs_ftype4.NF4DIR) mode |= MODE4_SGID;
  return { ok: true, attrs: { ...a, mode, uid: a.uid ?? base.uid, gid: a.gid ?? base.gid } };
}

/**
 * Compares the client's `given` attributes with the current object's (VERIFY,
 * NVERIFY; RFC 8881 §18.31.3, §18.15.3): the same bits, each encoded exactly
 * as GETATTR would (values are compared as XDR bytes, as Linux nfsd does).
 * An attribute this server does not support is NFS4ERR_ATTRNOTSUPP; a
 * write-only one (time_access_set, time_modify_set) and rdattr_error, which
 * has no value outside READDIR, are NFS4ERR_INVAL. Backend failures propagate
 * (COMPOUND maps them).
 */
export async function compareAttrs(
  state: CompoundState,
  fh: FileHandle,
  given: fattr4,
): Promise<{ readonly same: boolean } | { readonly status: NfsErrorStatus }> {
  const bits = bitsOf(given.attrmask);
  for (const bit of bits) {
    if (ATTR_BY_BIT[bit] === undefined) return { status: nfsstat4.NFS4ERR_ATTRNOTSUPP };
  }
  for (const bit of bits) {
    if (ATTR_BY_BIT[bit]!.write === null || bit === FATTR4_RDATTR_ERROR) {
      return { status: nfsstat4.NFS4ERR_INVAL };
    }
  }
  const fs = state.server.fs;
  const attrs = await fs.getattr(fh);
  const stats = needsStats(given.attrmask) ? await fs.statfs(fh) : undefined;
  const ours = encodeAttrs(given.attrmask, attrSource(state, fh, attrs, stats));
  const wanted = trim(given.attrmask);
  // An attribute the object has no value for leaves our bitmap short: not the same.
  const same =
    sameWords(ours.attrmask, wanted) && Buffer.compare(ours.attr_vals, given.attr_vals) === 0;
  return { same };
}

/**
 * Recalls the delegations of other clients that this request conflicts with
 * (reading the file conflicts with write delegations, changing it or its
 * name with any: RFC 8881 §10.4). NFS4ERR_DELAY while one is outstanding
 * (the client retries), null when the request may go ahead. The requesting
 * client's own delegations never stand in its way.
 */
export function delegationConflict(
  state: CompoundState,
  fh: Uint8Array | DirectoryChange,
  what: Conflict,
): NfsErrorStatus | null {
  return delegationConflicts(state, [fh], what);
}

/**
 * A change of a directory's entries or attributes, with the notification
 * that describes it (RFC 8881 §20.4): a directory delegation granted that
 * type is told of the change instead of being recalled.
 */
export interface DirectoryChange {
  readonly fh: Uint8Array;
  readonly notified: notify_type4;
}

/** delegationConflict for several objects at once: every recall needed starts now. */
export function delegationConflicts(
  state: CompoundState,
  targets: readonly (Uint8Array | DirectoryChange)[],
  what: Conflict,
): NfsErrorStatus | null {
  let status: NfsErrorStatus | null = null;
  const requester = state.session?.client ?? null;
  for (const t of targets) {
    const [fh, notified] = t instanceof Uint8Array ? [t, undefined] : [t.fh, t.notified];
    status = state.server.delegations.conflicts(fh, requester, what, notified) ?? status;
  }
  return status;
}

// RENAME (RFC 8881 §18.26): renames entry `oldname` of the saved directory to
// `newname` in the current directory, replacing a compatible object of that
// name. source_cinfo and target_cinfo are the two directories' changes (one
// directory: the same change twice).
//
// Checks, in order: both handles (NFS4ERR_NOFILEHANDLE); that both are
// directories (NOTDIR, symlinks included: §15.2 gives RENAME no
// NFS4ERR_SYMLINK); both names (as LOOKUP: "." and ".." are NFS4ERR_BADNAME);
// the same filesystem (NFS4ERR_XDEV); write and search permission on both
// directories (NFS4ERR_ACCESS); the source entry (NFS4ERR_NOENT); the sticky
// bit of each directory for the entry leaving it (NFS4ERR_ACCESS, RENAME has
// no NFS4ERR_PERM); write permission on a directory that changes parent (its
// ".." entry changes, as POSIX requires); then the backend:
// - an existing target must be compatible (§18.26.3): both non-directories,
//   or both directories with the target empty; otherwise NFS4ERR_EXIST — the
//   RFC's word for both a type mismatch and a non-empty target directory;
// - a directory cannot move into its own subtree: NFS4ERR_INVAL;
// - renaming onto the same object (same name, or another link to it)
//   succeeds and changes nothing, so both cinfos have before == after.
//
// A replaced file that is still open keeps its data until its last CLOSE, as
// for REMOVE (FileSystem.pin).

import {
  RENAME4res_MAXSIZE,
  nfs_ftype4,
  nfs_opnum4,
  nfsstat4,
  notify_type4,
} from "../../../generated/nfs4/index.js";
import type { FileAttributes, FileHandle, FileSystem, Located } from "../../fs/backend.js";
import { FsError } from "../../fs/backend.js";
import { decodeName } from "../../fs/names.js";
import { MAY_EXEC, MAY_WRITE, mayAccess, mayUnlinkFrom } from "../../fs/permission.js";
import { defineOp, type OpHandler } from "../op.js";
import { keyOf } from "../../state/keys.js";
import {
  changeOrigin,
  NO_FILEHANDLE,
  currentFh,
  delegationConflicts,
  notDirError,
  sameFilesystem,
} from "./common.js";
import { fixed } from "./reply-size.js";

/** The entry `name` of `dir`, or null when there is none. */
async function lookupIfAny(fs: FileSystem, dir: FileHandle, name: string): Promise<Located | null> {
  try {
    return await fs.lookup(dir, name);
  } catch (e) {
    if (e instanceof FsError && e.status === nfsstat4.NFS4ERR_NOENT) return null;
    throw e;
  }
}

function sameObject(a: FileAttributes, b: FileAttributes): boolean {
  return a.fileid === b.fileid && sameFilesystem(a.fsid, b.fsid);
}

export const rename: OpHandler<typeof nfs_opnum4.OP_RENAME> = async (args, state) => {
  const toDir = currentFh(state);
  const fromDir = state.savedFh;
  if (fromDir === null) return NO_FILEHANDLE;
  const fs = state.server.fs;
  const { cred } = state;
  const fromAttrs = await fs.getattr(fromDir);
  const toAttrs = await fs.getattr(toDir);
  const typeError = notDirError(fromAttrs.type) ?? notDirError(toAttrs.type);
  if (typeError !== null) return { status: typeError };
  const oldname = decodeName(args.oldname, fs.capabilities.maxNameBytes);
  if (!oldname.ok) return { status: oldname.status };
  const newname = decodeName(args.newname, fs.capabilities.maxNameBytes);
  if (!newname.ok) return { status: newname.status };
  if (!sameFilesystem(fromAttrs.fsid, toAttrs.fsid)) return { status: nfsstat4.NFS4ERR_XDEV };
  // During grace a name may not go that a client is about to reclaim an open through (as nfsd).
  const graceError = state.server.recovery.graceError();
  if (graceError !== null) return { status: graceError };
  const dirRights = MAY_WRITE | MAY_EXEC;
  if (!mayAccess(fromAttrs, cred, dirRights) || !mayAccess(toAttrs, cred, dirRights)) {
    return { status: nfsstat4.NFS4ERR_ACCESS };
  }
  const moving = await fs.lookup(fromDir, oldname.name);
  const target = await lookupIfAny(fs, toDir, newname.name);
  // Renaming onto the object itself is a no-op; the backend answers it.
  if (target === null || !sameObject(target.attrs, moving.attrs)) {
    if (!mayUnlinkFrom(fromAttrs, moving.attrs, cred)) {
      return { status: nfsstat4.NFS4ERR_ACCESS };
    }
    if (target !== null && !mayUnlinkFrom(toAttrs, target.attrs, cred)) {
      return { status: nfsstat4.NFS4ERR_ACCESS };
    }
    const reparented = moving.attrs.type === nfs_ftype4.NF4DIR && !sameObject(fromAttrs, toAttrs);
    if (reparented && !mayAccess(moving.attrs, cred, MAY_WRITE)) {
      return { status: nfsstat4.NFS4ERR_ACCESS };
    }
  }
  // Renaming a delegated file, or onto one, recalls other clients' delegations (§10.4.6).
  // So does changing a delegated directory, source or target (§10.9.2).
  // A directory delegation told of renames (or of removals and additions) stays.
  const within = keyOf(fromDir) === keyOf(toDir);
  const affected = [
    moving.handle,
    {
      fh: fromDir,
      notified: within ? notify_type4.NOTIFY4_RENAME_ENTRY : notify_type4.NOTIFY4_REMOVE_ENTRY,
    },
    {
      fh: toDir,
      notified: within ? notify_type4.NOTIFY4_RENAME_ENTRY : notify_type4.NOTIFY4_ADD_ENTRY,
    },
    ...(target === null ? [] : [target.handle]),
  ];
  const conflict = delegationConflicts(state, affected, "write");
  if (conflict !== null) return { status: conflict };
  const r = await fs.rename(fromDir, oldname.name, toDir, newname.name, changeOrigin(state));
  return {
    status: nfsstat4.NFS4_OK,
    resok4: { source_cinfo: { ...r.source }, target_cinfo: { ...r.target } },
  };
};

export const RENAME = defineOp({
  op: nfs_opnum4.OP_RENAME,
  handler: rename,
  needsCurrentFh: true,
  replyBound: fixed(RENAME4res_MAXSIZE),
  nonIdempotent: true,
  writesExport: () => true,
});

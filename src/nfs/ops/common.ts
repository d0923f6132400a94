// Helpers shared by the filesystem operations: building the AttrSource the
// attrs module encodes from, and the type checks several operations repeat.

import { nfs_ftype4, nfsstat4 } from "../../../generated/nfs4/index.js";
import type { FileAttributes, FileHandle, FsStats, NfsErrorStatus } from "../../fs/backend.js";
import type { AttrSource } from "../attrs/index.js";
import type { CompoundState } from "../context.js";

/** The AttrSource for one object, with the server's capabilities and settings. */
export function attrSource(
  state: CompoundState,
  handle: FileHandle,
  attrs: FileAttributes,
  stats?: FsStats,
): AttrSource {
  const { fs, settings } = state.server;
  return { handle, attrs, caps: fs.capabilities, settings, stats };
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

/** The answer of every operation that needs a current filehandle and has none. */
export const NO_FILEHANDLE = { status: nfsstat4.NFS4ERR_NOFILEHANDLE } as const;

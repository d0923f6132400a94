// Storage failures as NFS statuses: a full disk is NFS4ERR_NOSPC, a quota
// NFS4ERR_DQUOT, a read-only filesystem NFS4ERR_ROFS, anything else the
// storage reports NFS4ERR_IO (RFC 8881 §15.1). Errors that are not storage
// failures (bugs) are left alone, so COMPOUND answers them SERVERFAULT.

import { nfsstat4 } from "../../generated/nfs4/index.js";
import { FsError, type NfsErrorStatus } from "../fs/backend.js";

const BY_ERRNO: ReadonlyMap<string, NfsErrorStatus> = new Map<string, NfsErrorStatus>([
  ["ENOSPC", nfsstat4.NFS4ERR_NOSPC],
  ["EDQUOT", nfsstat4.NFS4ERR_DQUOT],
  ["EROFS", nfsstat4.NFS4ERR_ROFS],
  ["EFBIG", nfsstat4.NFS4ERR_FBIG],
  ["EIO", nfsstat4.NFS4ERR_IO],
  ["SQLITE_FULL", nfsstat4.NFS4ERR_NOSPC],
]);

/** The FsError for a storage failure `e`, or `e` itself when it is none. */
export function asStoreFailure(e: unknown): unknown {
  if (e instanceof FsError || !(e instanceof Error) || !("code" in e)) return e;
  const code = e.code;
  if (typeof code !== "string") return e;
  const status =
    BY_ERRNO.get(code) ??
    (code.startsWith("SQLITE_READONLY")
      ? nfsstat4.NFS4ERR_ROFS
      : code.startsWith("SQLITE_IOERR") || code.startsWith("E")
        ? nfsstat4.NFS4ERR_IO
        : undefined);
  return status === undefined ? e : new FsError(status, `${code}: ${e.message}`);
}

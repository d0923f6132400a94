// Checks READ, WRITE and COMMIT share.

import { nfs_ftype4, nfsstat4 } from "../../../generated/nfs4/index.js";
import type { NfsError } from "../../state/slot-table.js";

/** The error for I/O on something that is not a regular file. */
export function ioTypeError(type: nfs_ftype4): NfsError {
  if (type === nfs_ftype4.NF4DIR) return nfsstat4.NFS4ERR_ISDIR;
  if (type === nfs_ftype4.NF4LNK) return nfsstat4.NFS4ERR_SYMLINK;
  return nfsstat4.NFS4ERR_INVAL;
}

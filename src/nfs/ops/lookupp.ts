// LOOKUPP (RFC 8881 §18.14): the current filehandle, a directory, is replaced
// by its parent's. The root has no parent: NFS4ERR_NOENT. Like LOOKUP of ".."
// it needs search permission on the directory (as Linux nfsd checks).

import { nfsstat4, type nfs_opnum4 } from "../../../generated/nfs4/index.js";
import { statusOfError } from "../../fs/backend.js";
import { MAY_EXEC, mayAccess } from "../../fs/permission.js";
import type { OpHandler } from "../op.js";
import { NO_FILEHANDLE, lookupDirError } from "./common.js";

export const lookupp: OpHandler<typeof nfs_opnum4.OP_LOOKUPP> = async (_args, state) => {
  const dir = state.currentFh;
  if (dir === null) return NO_FILEHANDLE;
  const fs = state.server.fs;
  try {
    const attrs = await fs.getattr(dir);
    const typeError = lookupDirError(attrs.type);
    if (typeError !== null) return { status: typeError };
    if (!mayAccess(attrs, state.cred, MAY_EXEC)) return { status: nfsstat4.NFS4ERR_ACCESS };
    const parent = await fs.lookupParent(dir);
    state.currentFh = parent.handle;
  } catch (e) {
    return { status: statusOfError(e) };
  }
  return { status: nfsstat4.NFS4_OK };
};

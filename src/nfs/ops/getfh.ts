// GETFH (RFC 8881 §18.8): returns the current filehandle.

import { nfsstat4, type nfs_opnum4 } from "../../../generated/nfs4/index.js";
import type { OpHandler } from "../op.js";
import { NO_FILEHANDLE } from "./common.js";

export const getfh: OpHandler<typeof nfs_opnum4.OP_GETFH> = (_args, state) => {
  const fh = state.currentFh;
  if (fh === null) return NO_FILEHANDLE;
  return { status: nfsstat4.NFS4_OK, resok4: { object: fh } };
};

// SAVEFH (RFC 8881 §18.28): the current filehandle is copied to the saved one,
// for the two-handle operations (RENAME, LINK, COPY) and RESTOREFH.

import { nfsstat4, type nfs_opnum4 } from "../../../generated/nfs4/index.js";
import type { OpHandler } from "../op.js";
import { NO_FILEHANDLE } from "./common.js";

export const savefh: OpHandler<typeof nfs_opnum4.OP_SAVEFH> = (_args, state) => {
  if (state.currentFh === null) return NO_FILEHANDLE;
  state.savedFh = state.currentFh;
  state.savedStateid = state.currentStateid; // §16.2.3.1.2: saved with the filehandle
  return { status: nfsstat4.NFS4_OK };
};

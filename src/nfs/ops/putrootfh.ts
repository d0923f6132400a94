// PUTROOTFH (RFC 8881 §18.21): the current filehandle becomes the root of the
// server's namespace. For now that is the backend's root directory (whose
// child "export" is the export); the pseudo-filesystem will take its place.

import { nfsstat4, type nfs_opnum4 } from "../../../generated/nfs4/index.js";
import { statusOfError } from "../../fs/backend.js";
import type { OpHandler } from "../op.js";

export const putrootfh: OpHandler<typeof nfs_opnum4.OP_PUTROOTFH> = async (_args, state) => {
  try {
    state.currentFh = await state.server.fs.root();
  } catch (e) {
    return { status: statusOfError(e) };
  }
  return { status: nfsstat4.NFS4_OK };
};

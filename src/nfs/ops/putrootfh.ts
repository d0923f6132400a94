// PUTROOTFH (RFC 8881 §18.21): the current filehandle becomes the root of the
// server's namespace. For now that is the backend's root directory (whose
// child "export" is the export); the pseudo-filesystem will take its place.

import { PUTROOTFH4res_MAXSIZE, nfs_opnum4, nfsstat4 } from "../../../generated/nfs4/index.js";
import { defineOp, type OpHandler } from "../op.js";
import { fixed } from "./reply-size.js";

export const putrootfh: OpHandler<typeof nfs_opnum4.OP_PUTROOTFH> = async (_args, state) => {
  state.currentFh = await state.server.fs.root();
  return { status: nfsstat4.NFS4_OK };
};

export const PUTROOTFH = defineOp({
  op: nfs_opnum4.OP_PUTROOTFH,
  handler: putrootfh,
  needsCurrentFh: false,
  replyBound: fixed(PUTROOTFH4res_MAXSIZE),
  nonIdempotent: false,
});

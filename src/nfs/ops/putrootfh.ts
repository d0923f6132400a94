// PUTROOTFH (RFC 8881 §18.21): the current filehandle becomes the root of the
// server's namespace: the root of the pseudo-filesystem joining the exports
// (src/exports/namespace.ts). Every client may see it; what lies beneath
// depends on the exports' client lists.

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

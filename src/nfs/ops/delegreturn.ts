// DELEGRETURN (RFC 8881 §18.6): this server grants no delegations yet, so no
// stateid can name one: NFS4ERR_BAD_STATEID (after the filehandle check).

import { DELEGRETURN4res_MAXSIZE, nfs_opnum4, nfsstat4 } from "../../../generated/nfs4/index.js";
import { defineOp, type OpHandler } from "../op.js";
import { fixed } from "./reply-size.js";

export const delegreturn: OpHandler<typeof nfs_opnum4.OP_DELEGRETURN> = () => ({
  status: nfsstat4.NFS4ERR_BAD_STATEID,
});

export const DELEGRETURN = defineOp({
  op: nfs_opnum4.OP_DELEGRETURN,
  handler: delegreturn,
  needsCurrentFh: true,
  replyBound: fixed(DELEGRETURN4res_MAXSIZE),
  nonIdempotent: true,
});

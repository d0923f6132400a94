// OPENATTR (RFC 8881 §18.17): would make the named-attribute directory of the
// current object the current filehandle. This server has no named attributes
// (fattr4 named_attr is false everywhere), which §17 allows, so it answers
// NFS4ERR_NOTSUPP — but only for a valid current filehandle: without one the
// error is NFS4ERR_NOFILEHANDLE, and a stale one NFS4ERR_STALE, as for every
// operation on the current object.

import { OPENATTR4res_MAXSIZE, nfs_opnum4, nfsstat4 } from "../../../generated/nfs4/index.js";
import { defineOp, type OpHandler } from "../op.js";
import { currentFh } from "./common.js";
import { fixed } from "./reply-size.js";

export const openattr: OpHandler<typeof nfs_opnum4.OP_OPENATTR> = async (_args, state) => {
  await state.server.fs.getattr(currentFh(state));
  return { status: nfsstat4.NFS4ERR_NOTSUPP };
};

export const OPENATTR = defineOp({
  op: nfs_opnum4.OP_OPENATTR,
  handler: openattr,
  needsCurrentFh: true,
  replyBound: fixed(OPENATTR4res_MAXSIZE),
  nonIdempotent: false,
});

// VERIFY (RFC 8881 §18.31): succeeds when the given attributes equal the
// current object's, else NFS4ERR_NOT_SAME — so a client can make the rest of
// a COMPOUND conditional on, say, an unchanged change attribute. The
// comparison and its errors (ATTRNOTSUPP, INVAL) are compareAttrs' (common.ts),
// shared with NVERIFY.

import { VERIFY4res_MAXSIZE, nfs_opnum4, nfsstat4 } from "../../../generated/nfs4/index.js";
import { defineOp, type OpHandler } from "../op.js";
import { compareAttrs, currentFh } from "./common.js";
import { fixed } from "./reply-size.js";

export const verify: OpHandler<typeof nfs_opnum4.OP_VERIFY> = async (args, state) => {
  const r = await compareAttrs(state, currentFh(state), args.obj_attributes);
  if ("status" in r) return { status: r.status };
  return { status: r.same ? nfsstat4.NFS4_OK : nfsstat4.NFS4ERR_NOT_SAME };
};

export const VERIFY = defineOp({
  op: nfs_opnum4.OP_VERIFY,
  handler: verify,
  needsCurrentFh: true,
  replyBound: fixed(VERIFY4res_MAXSIZE),
  nonIdempotent: false,
});

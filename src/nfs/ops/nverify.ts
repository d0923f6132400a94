// NVERIFY (RFC 8881 §18.15): the inverse of VERIFY — succeeds when the given
// attributes differ from the current object's, else NFS4ERR_SAME (a client
// refreshes its cache with "NVERIFY change; GETATTR"). Same comparison and
// errors as VERIFY (compareAttrs, common.ts).

import { NVERIFY4res_MAXSIZE, nfs_opnum4, nfsstat4 } from "../../../generated/nfs4/index.js";
import { defineOp, type OpHandler } from "../op.js";
import { compareAttrs, currentFh } from "./common.js";
import { fixed } from "./reply-size.js";

export const nverify: OpHandler<typeof nfs_opnum4.OP_NVERIFY> = async (args, state) => {
  const r = await compareAttrs(state, currentFh(state), args.obj_attributes);
  if ("status" in r) return { status: r.status };
  return { status: r.same ? nfsstat4.NFS4ERR_SAME : nfsstat4.NFS4_OK };
};

export const NVERIFY = defineOp({
  op: nfs_opnum4.OP_NVERIFY,
  handler: nverify,
  needsCurrentFh: true,
  replyBound: fixed(NVERIFY4res_MAXSIZE),
  nonIdempotent: false,
});

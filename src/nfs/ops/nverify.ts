// NVERIFY (RFC 8881 §18.15): the inverse of VERIFY — succeeds when the given
// attributes differ from the current object's, else NFS4ERR_SAME (a client
// refreshes its cache with "NVERIFY change; GETATTR"). Same comparison and
// errors as VERIFY (compareAttrs, common.ts).

import { nfs_opnum4, nfsstat4 } from "../../../generated/nfs4/index.js";
import type { OpHandler } from "../op.js";
import { NO_FILEHANDLE, compareAttrs } from "./common.js";

export const nverify: OpHandler<typeof nfs_opnum4.OP_NVERIFY> = async (args, state) => {
  const fh = state.currentFh;
  if (fh === null) return NO_FILEHANDLE;
  const r = await compareAttrs(nfs_opnum4.OP_NVERIFY, state, fh, args.obj_attributes);
  if ("status" in r) return { status: r.status };
  return { status: r.same ? nfsstat4.NFS4ERR_SAME : nfsstat4.NFS4_OK };
};

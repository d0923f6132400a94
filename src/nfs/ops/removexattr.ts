// REMOVEXATTR (RFC 8276, Operation 75; NFSv4.2): removes one extended
// attribute of the current object (NFS4ERR_NOXATTR when it is not set).
// Write permission is needed (xattr-common.ts); rxr_info is the object's
// change_info4. Other clients' delegations of the object are recalled first,
// as for SETATTR (RFC 8881 §10.4.6).

import {
  REMOVEXATTR4res_MAXSIZE,
  nfs_opnum4,
  nfsstat4,
  notify_type4,
} from "../../../generated/nfs4/index.js";
import { defineOp, type OpHandler } from "../op.js";
import { changeOrigin, delegationConflict } from "./common.js";
import { fixed } from "./reply-size.js";
import { decodeXattrKey, xattrTarget } from "./xattr-common.js";

export const removexattr: OpHandler<typeof nfs_opnum4.OP_REMOVEXATTR> = async (args, state) => {
  const target = await xattrTarget(state, "write");
  if ("error" in target) return { rxr_status: target.error };
  const key = decodeXattrKey(args.rxa_name, target.limits);
  if (!key.ok) return { rxr_status: key.status };
  // A key that is not there changes nothing: NOXATTR without recalling anything.
  await state.server.fs.getxattr(target.fh, key.name);
  const conflict = delegationConflict(
    state,
    { fh: target.fh, notified: notify_type4.NOTIFY4_CHANGE_DIR_ATTRS },
    "write",
  );
  if (conflict !== null) return { rxr_status: conflict };
  const cinfo = await state.server.fs.removexattr(target.fh, key.name, changeOrigin(state));
  return { rxr_status: nfsstat4.NFS4_OK, rxr_info: { ...cinfo } };
};

export const REMOVEXATTR = defineOp({
  op: nfs_opnum4.OP_REMOVEXATTR,
  handler: removexattr,
  needsCurrentFh: true,
  minMinorVersion: 2,
  replyBound: fixed(REMOVEXATTR4res_MAXSIZE),
  nonIdempotent: true,
  writesExport: () => true,
});

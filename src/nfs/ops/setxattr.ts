// SETXATTR (RFC 8276, Operation 73; NFSv4.2): sets one extended attribute of
// the current object. sxa_option says what may already be there:
// SETXATTR4_CREATE fails with NFS4ERR_EXIST when the key is set,
// SETXATTR4_REPLACE with NFS4ERR_NOXATTR when it is not, SETXATTR4_EITHER
// takes both. A value beyond the backend's limit is NFS4ERR_XATTR2BIG, an
// object whose xattrs are full NFS4ERR_NOSPC. Write permission is needed
// (xattr-common.ts); sxr_info is the object's change_info4. Changing a
// delegated object's xattrs recalls other clients' delegations of it, as
// SETATTR does (RFC 8881 §10.4.6).

import {
  SETXATTR4res_MAXSIZE,
  nfs_opnum4,
  nfsstat4,
  notify_type4,
  setxattr_option4,
} from "../../../generated/nfs4/index.js";
import type { XattrSetHow } from "../../fs/backend.js";
import { defineOp, type OpHandler } from "../op.js";
import { changeOrigin, delegationConflict } from "./common.js";
import { fixed } from "./reply-size.js";
import { decodeXattrKey, xattrTarget } from "./xattr-common.js";

const HOW: Readonly<Record<setxattr_option4, XattrSetHow>> = {
  [setxattr_option4.SETXATTR4_EITHER]: "either",
  [setxattr_option4.SETXATTR4_CREATE]: "create",
  [setxattr_option4.SETXATTR4_REPLACE]: "replace",
};

export const setxattr: OpHandler<typeof nfs_opnum4.OP_SETXATTR> = async (args, state) => {
  const target = await xattrTarget(state, "write");
  if ("error" in target) return { sxr_status: target.error };
  const key = decodeXattrKey(args.sxa_key, target.limits);
  if (!key.ok) return { sxr_status: key.status };
  if (args.sxa_value.length > target.limits.maxValueBytes)
    return { sxr_status: nfsstat4.NFS4ERR_XATTR2BIG };
  const conflict = delegationConflict(
    state,
    { fh: target.fh, notified: notify_type4.NOTIFY4_CHANGE_DIR_ATTRS },
    "write",
  );
  if (conflict !== null) return { sxr_status: conflict };
  const cinfo = await state.server.fs.setxattr(
    target.fh,
    key.name,
    args.sxa_value,
    HOW[args.sxa_option],
    changeOrigin(state),
  );
  return { sxr_status: nfsstat4.NFS4_OK, sxr_info: { ...cinfo } };
};

export const SETXATTR = defineOp({
  op: nfs_opnum4.OP_SETXATTR,
  handler: setxattr,
  needsCurrentFh: true,
  minMinorVersion: 2,
  replyBound: fixed(SETXATTR4res_MAXSIZE),
  nonIdempotent: true,
  writesExport: () => true,
});

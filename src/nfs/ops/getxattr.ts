// GETXATTR (RFC 8276, Operation 72; NFSv4.2): the value of one extended
// attribute of the current object. NFS4ERR_NOXATTR when the key is not set;
// read permission on the object is needed (xattr-common.ts). A value larger
// than what is left of the session's reply limit (CompoundState.replyRoom) is
// NFS4ERR_REP_TOO_BIG: the reply bound is sized to that room, so a session
// whose replies are smaller than the largest value (pynfs asks for 8 KiB)
// still reads the values that fit.

import { nfs_opnum4, nfsstat4 } from "../../../generated/nfs4/index.js";
import type { XattrLimits } from "../../fs/backend.js";
import type { CompoundState } from "../context.js";
import { defineOp, type OpHandler } from "../op.js";
import { capabilitiesOf } from "./common.js";
import { RESOP_SIZE, STATUS_ONLY_SIZE, opaqueSize } from "./reply-size.js";
import { decodeXattrKey, xattrTarget } from "./xattr-common.js";

export const getxattr: OpHandler<typeof nfs_opnum4.OP_GETXATTR> = async (args, state) => {
  const target = await xattrTarget(state, "read");
  if ("error" in target) return { gxr_status: target.error };
  const key = decodeXattrKey(args.gxa_name, target.limits);
  if (!key.ok) return { gxr_status: key.status };
  const value = await state.server.fs.getxattr(target.fh, key.name);
  if (value.length > valueRoom(state, target.limits))
    return { gxr_status: nfsstat4.NFS4ERR_REP_TOO_BIG };
  return { gxr_status: nfsstat4.NFS4_OK, gxr_value: value };
};

/** The largest value this reply can carry: the backend's limit, or less when the session's room is smaller. */
function valueRoom(state: CompoundState, limits: XattrLimits): number {
  const room = state.replyRoom;
  if (room === null) return limits.maxValueBytes;
  // After the operation number and status, the value's length word and padded bytes.
  const forValue = room - RESOP_SIZE - 4 - 4;
  return Math.max(0, Math.min(limits.maxValueBytes, Math.floor(forValue / 4) * 4));
}

/** Status and the largest value valueRoom() lets through. */
function getxattrBound(_args: unknown, state: CompoundState): number {
  const limits = capabilitiesOf(state).xattrs;
  if (limits === null) return STATUS_ONLY_SIZE;
  return Math.max(STATUS_ONLY_SIZE, RESOP_SIZE + 4 + opaqueSize(valueRoom(state, limits)));
}

export const GETXATTR = defineOp({
  op: nfs_opnum4.OP_GETXATTR,
  handler: getxattr,
  needsCurrentFh: true,
  minMinorVersion: 2,
  replyBound: getxattrBound,
  nonIdempotent: false,
});

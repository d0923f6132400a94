// GETATTR (RFC 8881 §18.7): the requested attributes of the current object.
// Unsupported attributes are left out of the reply's bitmap (not an error);
// asking for a write-only one (time_access_set, time_modify_set) is
// NFS4ERR_INVAL. The statfs figures are fetched only when asked for.

import { nfsstat4, type nfs_opnum4 } from "../../../generated/nfs4/index.js";
import { statusOfError } from "../../fs/backend.js";
import { encodeAttrs, needsStats, requestsWriteOnly } from "../attrs/index.js";
import type { OpHandler } from "../op.js";
import { NO_FILEHANDLE, attrSource } from "./common.js";

export const getattr: OpHandler<typeof nfs_opnum4.OP_GETATTR> = async (args, state) => {
  const fh = state.currentFh;
  if (fh === null) return NO_FILEHANDLE;
  const requested = args.attr_request;
  if (requestsWriteOnly(requested)) return { status: nfsstat4.NFS4ERR_INVAL };
  const fs = state.server.fs;
  try {
    const attrs = await fs.getattr(fh);
    const stats = needsStats(requested) ? await fs.statfs(fh) : undefined;
    const obj_attributes = encodeAttrs(requested, attrSource(state, fh, attrs, stats));
    return { status: nfsstat4.NFS4_OK, resok4: { obj_attributes } };
  } catch (e) {
    return { status: statusOfError(e) };
  }
};

// GETATTR (RFC 8881 §18.7): the requested attributes of the current object.
// Unsupported attributes are left out of the reply's bitmap (not an error);
// asking for a write-only one (time_access_set, time_modify_set) is
// NFS4ERR_INVAL. The statfs figures are fetched only when asked for.

import { nfs_opnum4, nfsstat4 } from "../../../generated/nfs4/index.js";
import { encodeAttrs, needsStats, requestsWriteOnly } from "../attrs/index.js";
import { defineOp, type OpHandler } from "../op.js";
import { attrSource, currentFh } from "./common.js";
import { RESOP_SIZE, fattr4Bound } from "./reply-size.js";

export const getattr: OpHandler<typeof nfs_opnum4.OP_GETATTR> = async (args, state) => {
  const fh = currentFh(state);
  const requested = args.attr_request;
  if (requestsWriteOnly(requested)) return { status: nfsstat4.NFS4ERR_INVAL };
  const fs = state.server.fs;
  // Another client's write delegation: its holder knows the size and change (§10.4.3).
  const attrs = await state.server.delegations.attributesFor(
    fh,
    state.session?.client ?? null,
    await fs.getattr(fh),
    requested,
  );
  const stats = needsStats(requested) ? await fs.statfs(fh) : undefined;
  const obj_attributes = encodeAttrs(requested, attrSource(state, fh, attrs, stats));
  return { status: nfsstat4.NFS4_OK, resok4: { obj_attributes } };
};

export const GETATTR = defineOp({
  op: nfs_opnum4.OP_GETATTR,
  handler: getattr,
  needsCurrentFh: true,
  replyBound: (args) => RESOP_SIZE + 4 + fattr4Bound(args.attr_request),
  nonIdempotent: false,
});

// LOCKU (RFC 8881 §18.12): releases a range of a lock-owner's locks,
// splitting a lock that covers more. Unlocking what is not locked is fine.

import { LOCKU4res_MAXSIZE, nfs_opnum4, nfsstat4 } from "../../../generated/nfs4/index.js";
import type { LockState } from "../../state/lock-state.js";
import { bumpSeqid, stateidOf } from "../../state/stateid.js";
import { defineOp, type OpHandler } from "../op.js";
import { resolveForFile } from "../stateids.js";
import { requestRange } from "./lock-common.js";
import { fixed } from "./reply-size.js";

export const locku: OpHandler<typeof nfs_opnum4.OP_LOCKU> = (args, state) => {
  const range = requestRange(args.offset, args.length);
  if (range === null) return { status: nfsstat4.NFS4ERR_INVAL };
  const r = resolveForFile<LockState>(state, args.lock_stateid, ["lock"]);
  if ("error" in r) return { status: r.error };
  r.ok.apply(range.start, range.end, null);
  bumpSeqid(r.ok);
  state.currentStateid = stateidOf(r.ok);
  return { status: nfsstat4.NFS4_OK, lock_stateid: stateidOf(r.ok) };
};

export const LOCKU = defineOp({
  op: nfs_opnum4.OP_LOCKU,
  handler: locku,
  needsCurrentFh: true,
  replyBound: fixed(LOCKU4res_MAXSIZE),
  nonIdempotent: true,
});

// LOCKU (RFC 8881 §18.12): releases a range of a lock-owner's locks,
// splitting a lock that covers more. Unlocking what is not locked is fine.

import { nfsstat4, type nfs_opnum4 } from "../../../generated/nfs4/index.js";
import type { LockState } from "../../state/lock-state.js";
import { bumpSeqid, stateidOf } from "../../state/stateid.js";
import type { OpHandler } from "../op.js";
import { resolveForFile } from "../stateids.js";
import { requestRange } from "./lock-common.js";

export const locku: OpHandler<typeof nfs_opnum4.OP_LOCKU> = (args, state) => {
  if (state.currentFh === null) return { status: nfsstat4.NFS4ERR_NOFILEHANDLE };
  const range = requestRange(args.offset, args.length);
  if (range === null) return { status: nfsstat4.NFS4ERR_INVAL };
  const r = resolveForFile<LockState>(state, args.lock_stateid, ["lock"]);
  if ("error" in r) return { status: r.error };
  r.ok.apply(range.start, range.end, null);
  bumpSeqid(r.ok);
  state.currentStateid = stateidOf(r.ok);
  return { status: nfsstat4.NFS4_OK, lock_stateid: stateidOf(r.ok) };
};

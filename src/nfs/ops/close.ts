// CLOSE (RFC 8881 §18.2): ends an open. Locks still held through it are
// NFS4ERR_LOCKS_HELD (the client must LOCKU first); empty lock states go with
// the open. The reply carries the invalid special stateid (§18.2.4).

import { CLOSE4res_MAXSIZE, nfs_opnum4, nfsstat4 } from "../../../generated/nfs4/index.js";
import type { OpenState } from "../../state/open-state.js";
import { INVALID_STATEID } from "../../state/stateid.js";
import { defineOp, type OpHandler } from "../op.js";
import { resolveForFile } from "../stateids.js";
import { fixed } from "./reply-size.js";

export const close: OpHandler<typeof nfs_opnum4.OP_CLOSE> = (args, state) => {
  const r = resolveForFile<OpenState>(state, args.open_stateid, ["open"]);
  if ("error" in r) return { status: r.error };
  const open = r.ok;
  for (const l of state.server.state.locksOf(open))
    if (l.ranges.length > 0) return { status: nfsstat4.NFS4ERR_LOCKS_HELD };
  state.server.state.removeOpen(open);
  state.currentStateid = INVALID_STATEID;
  return { status: nfsstat4.NFS4_OK, open_stateid: INVALID_STATEID };
};

export const CLOSE = defineOp({
  op: nfs_opnum4.OP_CLOSE,
  handler: close,
  needsCurrentFh: true,
  replyBound: fixed(CLOSE4res_MAXSIZE),
  nonIdempotent: true,
});

// CLOSE (RFC 8881 §18.2): ends an open. Locks still held through it are
// NFS4ERR_LOCKS_HELD (the client must LOCKU first); empty lock states go with
// the open. The reply carries the invalid special stateid (§18.2.4).

import { nfsstat4, type nfs_opnum4 } from "../../../generated/nfs4/index.js";
import type { OpenState } from "../../state/open-state.js";
import { INVALID_STATEID } from "../../state/stateid.js";
import type { OpHandler } from "../op.js";
import { resolveForFile } from "../stateids.js";

export const close: OpHandler<typeof nfs_opnum4.OP_CLOSE> = (args, state) => {
  if (state.currentFh === null) return { status: nfsstat4.NFS4ERR_NOFILEHANDLE };
  const r = resolveForFile<OpenState>(state, args.open_stateid, ["open"]);
  if ("error" in r) return { status: r.error };
  const open = r.ok;
  for (const l of state.server.state.locksOf(open))
    if (l.ranges.length > 0) return { status: nfsstat4.NFS4ERR_LOCKS_HELD };
  state.server.state.removeOpen(open);
  state.currentStateid = INVALID_STATEID;
  return { status: nfsstat4.NFS4_OK, open_stateid: INVALID_STATEID };
};

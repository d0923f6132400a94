// OPEN_DOWNGRADE (RFC 8881 §18.18): narrows an open's share access and deny
// to modes an earlier OPEN of it granted; anything else is NFS4ERR_INVAL.

import { OPEN_DOWNGRADE4res_MAXSIZE, nfs_opnum4, nfsstat4 } from "../../../generated/nfs4/index.js";
import type { OpenState } from "../../state/open-state.js";
import { bumpSeqid, stateidOf } from "../../state/stateid.js";
import { defineOp, type OpHandler } from "../op.js";
import { resolveForFile } from "../stateids.js";
import { fixed } from "./reply-size.js";

export const openDowngrade: OpHandler<typeof nfs_opnum4.OP_OPEN_DOWNGRADE> = (args, state) => {
  const r = resolveForFile<OpenState>(state, args.open_stateid, ["open"]);
  if ("error" in r) return { status: r.error };
  const open = r.ok;
  const access = args.share_access;
  const deny = args.share_deny;
  const subset = (access & ~open.access) === 0 && (deny & ~open.deny) === 0;
  if (access < 1 || access > 3 || deny > 3 || !subset) return { status: nfsstat4.NFS4ERR_INVAL };
  if (!open.accessHistory.has(access) || !open.denyHistory.has(deny))
    return { status: nfsstat4.NFS4ERR_INVAL };
  open.access = access;
  open.deny = deny;
  bumpSeqid(open);
  state.currentStateid = stateidOf(open);
  return { status: nfsstat4.NFS4_OK, resok4: { open_stateid: stateidOf(open) } };
};

export const OPEN_DOWNGRADE = defineOp({
  op: nfs_opnum4.OP_OPEN_DOWNGRADE,
  handler: openDowngrade,
  needsCurrentFh: true,
  replyBound: fixed(OPEN_DOWNGRADE4res_MAXSIZE),
  nonIdempotent: true,
});

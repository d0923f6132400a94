// GET_DIR_DELEGATION (RFC 8881 §18.39): asks for a delegation on the current
// directory. This server grants none yet. RFC 8881 gives the operation a
// non-fatal way to decline — NFS4_OK with gddrnf_status GDD4_UNAVAIL — so
// that the rest of the COMPOUND still runs (NFS4ERR_DIRDELEG_UNAVAIL would
// stop it); Linux nfsd answers the same way. gddrnf_will_signal_deleg_avail
// is false: no CB_RECALLABLE_OBJ_AVAIL will follow. A current object that is
// not a directory is NFS4ERR_NOTDIR (§15.2 has no NFS4ERR_SYMLINK here).

import { gddrnf4_status, nfs_opnum4, nfsstat4 } from "../../../generated/nfs4/index.js";
import { defineOp, type OpHandler } from "../op.js";
import { currentFh, notDirError } from "./common.js";
import { RESOP_SIZE } from "./reply-size.js";

export const getDirDelegation: OpHandler<typeof nfs_opnum4.OP_GET_DIR_DELEGATION> = async (
  _args,
  state,
) => {
  const typeError = notDirError((await state.server.fs.getattr(currentFh(state))).type);
  if (typeError !== null) return { gddr_status: typeError };
  return {
    gddr_status: nfsstat4.NFS4_OK,
    gddr_res_non_fatal4: {
      gddrnf_status: gddrnf4_status.GDD4_UNAVAIL,
      gddrnf_will_signal_deleg_avail: false,
    },
  };
};

/** The one answer this server gives: status, GDD4_UNAVAIL and the will-signal flag. */
const GET_DIR_DELEGATION_BOUND = RESOP_SIZE + 4 + 4 + 4;

export const GET_DIR_DELEGATION = defineOp({
  op: nfs_opnum4.OP_GET_DIR_DELEGATION,
  handler: getDirDelegation,
  needsCurrentFh: true,
  replyBound: () => GET_DIR_DELEGATION_BOUND,
  nonIdempotent: false,
});

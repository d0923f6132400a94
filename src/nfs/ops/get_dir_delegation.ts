// GET_DIR_DELEGATION (RFC 8881 §18.39): asks for a delegation on the current
// directory. This server grants none yet. RFC 8881 gives the operation a
// non-fatal way to decline — NFS4_OK with gddrnf_status GDD4_UNAVAIL — so
// that the rest of the COMPOUND still runs (NFS4ERR_DIRDELEG_UNAVAIL would
// stop it); Linux nfsd answers the same way. gddrnf_will_signal_deleg_avail
// is false: no CB_RECALLABLE_OBJ_AVAIL will follow. A current object that is
// not a directory is NFS4ERR_NOTDIR (§15.2 has no NFS4ERR_SYMLINK here).

import { gddrnf4_status, nfs_opnum4, nfsstat4 } from "../../../generated/nfs4/index.js";
import type { OpHandler } from "../op.js";
import { failureStatus, notDirError } from "./common.js";

export const getDirDelegation: OpHandler<typeof nfs_opnum4.OP_GET_DIR_DELEGATION> = async (
  _args,
  state,
) => {
  const fh = state.currentFh;
  if (fh === null) return { gddr_status: nfsstat4.NFS4ERR_NOFILEHANDLE };
  try {
    const typeError = notDirError((await state.server.fs.getattr(fh)).type);
    if (typeError !== null) return { gddr_status: typeError };
  } catch (e) {
    return { gddr_status: failureStatus(nfs_opnum4.OP_GET_DIR_DELEGATION, e) };
  }
  return {
    gddr_status: nfsstat4.NFS4_OK,
    gddr_res_non_fatal4: {
      gddrnf_status: gddrnf4_status.GDD4_UNAVAIL,
      gddrnf_will_signal_deleg_avail: false,
    },
  };
};

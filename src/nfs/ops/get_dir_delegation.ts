// GET_DIR_DELEGATION (RFC 8881 §18.39): asks for a delegation on the current
// directory. Granted under nfs.directoryDelegations (delegations.ts
// offerDirectory): a caching delegation with no notifications — the reply's
// notification and attribute masks are empty, whatever was asked, which
// §18.39.3 allows (the server returns the subset it will deliver) — that any
// change another client makes to the directory recalls (§10.9.2). When the
// server declines it answers the non-fatal NFS4_OK with GDD4_UNAVAIL, so the
// rest of the COMPOUND still runs (NFS4ERR_DIRDELEG_UNAVAIL would stop it), as
// Linux nfsd does; gddrnf_will_signal_deleg_avail is false: no
// CB_RECALLABLE_OBJ_AVAIL will follow. A current object that is not a
// directory is NFS4ERR_NOTDIR (§15.2 has no NFS4ERR_SYMLINK here).

import {
  NFS4_VERIFIER_SIZE,
  gddrnf4_status,
  nfs_opnum4,
  nfsstat4,
  stateid4_MAXSIZE,
} from "../../../generated/nfs4/index.js";
import { stateidOf } from "../../state/stateid.js";
import { defineOp, type OpHandler } from "../op.js";
import { currentFh, notDirError } from "./common.js";
import { RESOP_SIZE } from "./reply-size.js";

const UNAVAILABLE = {
  gddr_status: nfsstat4.NFS4_OK,
  gddr_res_non_fatal4: {
    gddrnf_status: gddrnf4_status.GDD4_UNAVAIL,
    gddrnf_will_signal_deleg_avail: false,
  },
} as const;

export const getDirDelegation: OpHandler<typeof nfs_opnum4.OP_GET_DIR_DELEGATION> = async (
  _args,
  state,
) => {
  const dir = currentFh(state);
  const fs = state.server.fs;
  const typeError = notDirError((await fs.getattr(dir)).type);
  if (typeError !== null) return { gddr_status: typeError };
  const session = state.session;
  if (session === null) return UNAVAILABLE;
  // The verifier READDIR hands out with its cookies, which the delegation
  // lets the client cache; read first, so a failure leaves no delegation behind.
  const { verifier } = await fs.readdir(dir, 0n, new Uint8Array(NFS4_VERIFIER_SIZE), {
    maxEntries: 1,
  });
  const d = state.server.delegations.offerDirectory(
    session.client,
    dir,
    state.sequence && { sessionId: session.id, ...state.sequence },
  );
  if (d === null) return UNAVAILABLE;
  return {
    gddr_status: nfsstat4.NFS4_OK,
    gddr_res_non_fatal4: {
      gddrnf_status: gddrnf4_status.GDD4_OK,
      gddrnf_resok4: {
        gddr_cookieverf: new Uint8Array(verifier),
        gddr_stateid: stateidOf(d),
        gddr_notification: [],
        gddr_child_attributes: [],
        gddr_dir_attributes: [],
      },
    },
  };
};

/** status, GDD4_OK, the cookie verifier, the stateid and three empty bitmaps. */
const GET_DIR_DELEGATION_BOUND = RESOP_SIZE + 4 + 4 + NFS4_VERIFIER_SIZE + stateid4_MAXSIZE + 3 * 4;

export const GET_DIR_DELEGATION = defineOp({
  op: nfs_opnum4.OP_GET_DIR_DELEGATION,
  handler: getDirDelegation,
  needsCurrentFh: true,
  replyBound: () => GET_DIR_DELEGATION_BOUND,
  // Each call may grant a new delegation: a retry must get the cached reply.
  nonIdempotent: true,
});

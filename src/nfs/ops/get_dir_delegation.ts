// GET_DIR_DELEGATION (RFC 8881 §18.39): asks for a delegation on the current
// directory. Granted under nfs.directoryDelegations (delegations.ts
// offerDirectory): with "notifications", the notification types and
// attributes asked for that the server delivers (the reply names that
// subset, §18.39.3; dir-notifications.ts sends them with CB_NOTIFY); with
// "caching", none — the reply's masks are empty and any change another client
// makes to the directory recalls the delegation (§10.9.2). When the
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
  type nfstime4,
} from "../../../generated/nfs4/index.js";
import { stateidOf } from "../../state/stateid.js";
import { defineOp, type OpHandler } from "../op.js";
import { currentFh, notDirError } from "./common.js";
import { RESOP_SIZE, SUPPORTED_BITMAP_SIZE } from "./reply-size.js";

const UNAVAILABLE = {
  gddr_status: nfsstat4.NFS4_OK,
  gddr_res_non_fatal4: {
    gddrnf_status: gddrnf4_status.GDD4_UNAVAIL,
    gddrnf_will_signal_deleg_avail: false,
  },
} as const;

export const getDirDelegation: OpHandler<typeof nfs_opnum4.OP_GET_DIR_DELEGATION> = async (
  args,
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
    {
      types: args.gdda_notification_types,
      childAttributes: args.gdda_child_attributes,
      dirAttributes: args.gdda_dir_attributes,
      childDelayMs: millisecondsOf(args.gdda_child_attr_delay),
      dirDelayMs: millisecondsOf(args.gdda_dir_attr_delay),
    },
  );
  if (d === null) return UNAVAILABLE;
  const terms = d.notifications;
  return {
    gddr_status: nfsstat4.NFS4_OK,
    gddr_res_non_fatal4: {
      gddrnf_status: gddrnf4_status.GDD4_OK,
      gddrnf_resok4: {
        gddr_cookieverf: new Uint8Array(verifier),
        gddr_stateid: stateidOf(d),
        gddr_notification: terms === null || terms.types === 0 ? [] : [terms.types],
        gddr_child_attributes: terms === null ? [] : [...terms.childAttributes],
        gddr_dir_attributes: terms === null ? [] : [...terms.dirAttributes],
      },
    },
  };
};

/** An attr_notice4 (nfstime4) in ms; a negative or absurd one is clamped later (negotiate). */
function millisecondsOf(t: nfstime4): number {
  if (t.seconds < 0n) return 0;
  const s = t.seconds > 86_400n ? 86_400 : Number(t.seconds);
  return s * 1000 + Math.floor(t.nseconds / 1e6);
}

/**
 * status, GDD4_OK, the cookie verifier, the stateid, the notification
 * bitmap (one word) and the two attribute bitmaps (at most as long as the
 * supported-attribute bitmap).
 */
const GET_DIR_DELEGATION_BOUND =
  RESOP_SIZE + 4 + 4 + NFS4_VERIFIER_SIZE + stateid4_MAXSIZE + 8 + 2 * SUPPORTED_BITMAP_SIZE;

export const GET_DIR_DELEGATION = defineOp({
  op: nfs_opnum4.OP_GET_DIR_DELEGATION,
  handler: getDirDelegation,
  needsCurrentFh: true,
  replyBound: () => GET_DIR_DELEGATION_BOUND,
  // Each call may grant a new delegation: a retry must get the cached reply.
  nonIdempotent: true,
});

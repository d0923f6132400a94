// LOCKT (RFC 8881 §18.11): would this lock be granted? NFS4ERR_DENIED with the
// conflicting lock, or OK. A lock-owner's own locks never conflict. Another
// client's delegation of the file is recalled first (NFS4ERR_DELAY until it
// is returned): its holder may hold locks the server has not seen (the Linux
// client keeps them local under a delegation, §10.4), which it sends when it
// returns the delegation — a write delegation for any test, a read one for a
// write-lock test (its holder may have read locks).

import {
  LOCKT4res_MAXSIZE,
  nfs_ftype4,
  nfs_opnum4,
  nfsstat4,
} from "../../../generated/nfs4/index.js";
import { keyOf, ownerKeyOf } from "../../state/keys.js";
import { defineOp, type OpHandler } from "../op.js";
import { currentFh, delegationConflict } from "./common.js";
import { ioTypeError } from "./io-common.js";
import { findConflict, modeOf, notDenied, requestRange } from "./lock-common.js";
import { fixed } from "./reply-size.js";

export const lockt: OpHandler<typeof nfs_opnum4.OP_LOCKT> = async (args, state) => {
  const fh = currentFh(state);
  const session = state.session;
  if (session === null) return { status: nfsstat4.NFS4ERR_OP_NOT_IN_SESSION };
  const attrs = await state.server.fs.getattr(fh);
  if (attrs.type !== nfs_ftype4.NF4REG) return { status: notDenied(ioTypeError(attrs.type)) };
  const range = requestRange(args.offset, args.length);
  if (range === null) return { status: nfsstat4.NFS4ERR_INVAL };
  // During grace the locks are not all back yet: no answer would be reliable (§8.4.2.1, as nfsd).
  const graceError = state.server.recovery.graceError();
  if (graceError !== null) return { status: notDenied(graceError) };
  const mode = modeOf(args.locktype);
  const recalled = delegationConflict(state, fh, mode === "write" ? "write" : "read");
  if (recalled !== null) return { status: notDenied(recalled) };
  const owner = { key: ownerKeyOf(session.client.clientid, args.owner.owner) };
  const denied = findConflict(state.server.state, keyOf(fh), owner, range.start, range.end, mode);
  return denied ? { status: nfsstat4.NFS4ERR_DENIED, denied } : { status: nfsstat4.NFS4_OK };
};

export const LOCKT = defineOp({
  op: nfs_opnum4.OP_LOCKT,
  handler: lockt,
  needsCurrentFh: true,
  replyBound: fixed(LOCKT4res_MAXSIZE),
  nonIdempotent: false,
});

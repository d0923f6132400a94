// PUTFH (RFC 8881 §18.19): the given handle becomes the current filehandle.
// It is validated now, so a garbled handle fails here with NFS4ERR_BADHANDLE
// and a handle of a vanished object with NFS4ERR_STALE, instead of at
// whichever later operation first uses it. A handle of an export whose client
// list leaves this client out is NFS4ERR_STALE, as Linux nfsd answers.

import {
  NFS4_FHSIZE,
  PUTFH4res_MAXSIZE,
  nfs_opnum4,
  nfsstat4,
} from "../../../generated/nfs4/index.js";
import { reachable } from "../export-access.js";
import { defineOp, type OpHandler } from "../op.js";
import { fixed } from "./reply-size.js";

export const putfh: OpHandler<typeof nfs_opnum4.OP_PUTFH> = async (args, state) => {
  const fh = args.object;
  // The decoder already bounds the length; an empty handle is never one of ours.
  if (fh.length === 0 || fh.length > NFS4_FHSIZE) return { status: nfsstat4.NFS4ERR_BADHANDLE };
  await state.server.fs.getattr(fh);
  // An export the client is not on the list of is no export for it (export-access.ts).
  if (!reachable(state, fh)) return { status: nfsstat4.NFS4ERR_STALE };
  // A copy: the decoded handle is a view into the request buffer.
  state.currentFh = fh.slice();
  return { status: nfsstat4.NFS4_OK };
};

export const PUTFH = defineOp({
  op: nfs_opnum4.OP_PUTFH,
  handler: putfh,
  needsCurrentFh: false,
  replyBound: fixed(PUTFH4res_MAXSIZE),
  nonIdempotent: false,
});

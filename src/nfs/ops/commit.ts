// COMMIT (RFC 8881 §18.3): makes data written UNSTABLE4 to the current file
// durable and returns the write verifier, which the client compares with the
// ones WRITE returned to learn whether to resend (the verifier changes when a
// restart may have lost uncommitted data).
//
// - Non-regular files: NFS4ERR_ISDIR, NFS4ERR_SYMLINK, NFS4ERR_WRONG_TYPE
//   (from the backend).
// - A range whose end passes 2^64 is not refused: §15.2 gives COMMIT no
//   NFS4ERR_INVAL, and committing more than was asked is always correct, so
//   the backend commits to the end of the file (count 0).
// - No permission check: COMMIT changes nothing a client can see and reveals
//   nothing; the data it makes durable was written under a stateid that
//   WRITE already checked (Linux nfsd checks write permission, but its own
//   owner override makes that moot for files opened for writing).

import { COMMIT4res_MAXSIZE, nfs_opnum4, nfsstat4 } from "../../../generated/nfs4/index.js";
import { defineOp, type OpHandler } from "../op.js";
import { currentFh } from "./common.js";
import { fixed } from "./reply-size.js";

const MAX_UINT64 = (1n << 64n) - 1n;

export const commit: OpHandler<typeof nfs_opnum4.OP_COMMIT> = async (args, state) => {
  const overflows = args.offset + BigInt(args.count) > MAX_UINT64;
  const r = await state.server.fs.commit(currentFh(state), args.offset, overflows ? 0 : args.count);
  return { status: nfsstat4.NFS4_OK, resok4: { writeverf: r.verifier } };
};

export const COMMIT = defineOp({
  op: nfs_opnum4.OP_COMMIT,
  handler: commit,
  needsCurrentFh: true,
  replyBound: fixed(COMMIT4res_MAXSIZE),
  nonIdempotent: false,
});

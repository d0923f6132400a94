// READ (RFC 8881 §18.22): reads from the current file under a stateid: an
// open (or lock) stateid, or the anonymous/bypass special stateids, for which
// the caller's own read permission decides.

import { nfs_opnum4, nfsstat4 } from "../../../generated/nfs4/index.js";
import { ACCESS_READ } from "../../state/open-state.js";
import { defineOp, type OpHandler } from "../op.js";
import { ioTarget } from "./io-common.js";
import { readBound } from "./reply-size.js";

export const read: OpHandler<typeof nfs_opnum4.OP_READ> = async (args, state) => {
  const target = await ioTarget(state, args.stateid, ACCESS_READ);
  if ("error" in target) return { status: target.error };
  const count = Math.min(args.count, state.server.settings.maxIoSize);
  const { data, eof } = await state.server.fs.read(target.fh, args.offset, count);
  return { status: nfsstat4.NFS4_OK, resok4: { eof, data } };
};

export const READ = defineOp({
  op: nfs_opnum4.OP_READ,
  handler: read,
  needsCurrentFh: true,
  replyBound: (args, state) => readBound(args.count, state),
  nonIdempotent: false,
  fileData: {
    direction: "read",
    bytes: (res) => (res.status === nfsstat4.NFS4_OK ? res.resok4.data.length : 0),
  },
});

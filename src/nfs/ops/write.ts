// WRITE (RFC 8881 §18.32): writes to the current file under a stateid that
// grants write access (NFS4ERR_OPENMODE otherwise), or the anonymous stateid
// with the caller's write permission.

import { WRITE4res_MAXSIZE, nfs_opnum4, nfsstat4 } from "../../../generated/nfs4/index.js";
import { MAX_OFFSET } from "../../state/lock-state.js";
import { ACCESS_WRITE } from "../../state/open-state.js";
import { defineOp, type OpHandler } from "../op.js";
import { capabilitiesOf, changeOrigin } from "./common.js";
import { ioTarget } from "./io-common.js";
import { fixed } from "./reply-size.js";

export const write: OpHandler<typeof nfs_opnum4.OP_WRITE> = async (args, state) => {
  const target = await ioTarget(state, args.stateid, ACCESS_WRITE);
  if ("error" in target) return { status: target.error };
  const end = args.offset + BigInt(args.data.length);
  if (end > MAX_OFFSET) return { status: nfsstat4.NFS4ERR_INVAL };
  const fs = state.server.fs;
  if (end > capabilitiesOf(state).maxFileSize) return { status: nfsstat4.NFS4ERR_FBIG };
  const res = await fs.write(target.fh, args.offset, args.data, args.stable, changeOrigin(state));
  return {
    status: nfsstat4.NFS4_OK,
    resok4: { count: res.count, committed: res.committed, writeverf: res.verifier },
  };
};

export const WRITE = defineOp({
  op: nfs_opnum4.OP_WRITE,
  handler: write,
  needsCurrentFh: true,
  replyBound: fixed(WRITE4res_MAXSIZE),
  nonIdempotent: true,
  writesExport: () => true,
  fileData: {
    direction: "written",
    bytes: (res) => (res.status === nfsstat4.NFS4_OK ? res.resok4.count : 0),
  },
});

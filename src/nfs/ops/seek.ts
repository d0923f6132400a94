// SEEK (RFC 7862 §15.11, NFSv4.2): where the next data or hole starts. With no
// holes tracked, a file is data up to its size and a hole after it, so DATA
// at an offset inside the file is that offset and HOLE is the end of file.

import {
  SEEK4res_MAXSIZE,
  data_content4,
  nfs_opnum4,
  nfsstat4,
} from "../../../generated/nfs4/index.js";
import { ACCESS_READ } from "../../state/open-state.js";
import { defineOp, type OpHandler } from "../op.js";
import { ioTarget } from "./io-common.js";
import { fixed } from "./reply-size.js";

export const seek: OpHandler<typeof nfs_opnum4.OP_SEEK> = async (args, state) => {
  const target = await ioTarget(state, args.sa_stateid, ACCESS_READ);
  if ("error" in target) return { sa_status: target.error };
  if (
    args.sa_what !== data_content4.NFS4_CONTENT_DATA &&
    args.sa_what !== data_content4.NFS4_CONTENT_HOLE
  )
    return { sa_status: nfsstat4.NFS4ERR_UNION_NOTSUPP };
  const size = target.attrs.size;
  // Nothing, not even the hole at the end, lies at or past the end of file.
  if (args.sa_offset >= size) return { sa_status: nfsstat4.NFS4ERR_NXIO };
  const offset = args.sa_what === data_content4.NFS4_CONTENT_DATA ? args.sa_offset : size;
  return { sa_status: nfsstat4.NFS4_OK, resok4: { sr_eof: offset === size, sr_offset: offset } };
};

export const SEEK = defineOp({
  op: nfs_opnum4.OP_SEEK,
  handler: seek,
  needsCurrentFh: true,
  minMinorVersion: 2,
  replyBound: fixed(SEEK4res_MAXSIZE),
  nonIdempotent: false,
});

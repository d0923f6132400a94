// READ_PLUS (RFC 7862 §15.10, NFSv4.2): READ whose reply may describe holes.
// The in-memory and local backends do not track holes, so the data comes back
// as one NFS4_CONTENT_DATA segment (none at end of file) — what the Linux 6.12
// client uses for every read at vers=4.2.

import {
  data_content4,
  nfs_opnum4,
  nfsstat4,
  type read_plus_content,
} from "../../../generated/nfs4/index.js";
import { defineOp, type OpHandler } from "../op.js";
import { read } from "./read.js";
import { readBound } from "./reply-size.js";

export const readPlus: OpHandler<typeof nfs_opnum4.OP_READ_PLUS> = async (args, state) => {
  const res = await read(
    { stateid: args.rpa_stateid, offset: args.rpa_offset, count: args.rpa_count },
    state,
  );
  if (res.status !== nfsstat4.NFS4_OK) return { rp_status: res.status };
  const { data, eof } = res.resok4;
  const contents: read_plus_content[] =
    data.length > 0
      ? [
          {
            rpc_content: data_content4.NFS4_CONTENT_DATA,
            rpc_data: { d_offset: args.rpa_offset, d_data: data },
          },
        ]
      : [];
  return { rp_status: nfsstat4.NFS4_OK, rp_resok4: { rpr_eof: eof, rpr_contents: contents } };
};

/**
 * READ's bound plus what one data segment adds: the content count, its
 * discriminant and offset (READ's eof and data length line up with
 * READ_PLUS's eof and d_data length).
 */
const SEGMENT_OVERHEAD = 4 + 4 + 8;

export const READ_PLUS = defineOp({
  op: nfs_opnum4.OP_READ_PLUS,
  handler: readPlus,
  needsCurrentFh: true,
  minMinorVersion: 2,
  replyBound: (args, state) => readBound(args.rpa_count, state) + SEGMENT_OVERHEAD,
  nonIdempotent: false,
});

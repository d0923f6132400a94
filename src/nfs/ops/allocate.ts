// ALLOCATE and DEALLOCATE (RFC 7862 §15.1, §15.4, NFSv4.2). ALLOCATE makes
// sure the range is backed (the file grows to cover it, as posix_fallocate);
// DEALLOCATE turns the range inside the file into zeros ("holes" read as
// zeros; the size never changes). Both need a stateid allowing writes.

import {
  ALLOCATE4res_MAXSIZE,
  DEALLOCATE4res_MAXSIZE,
  nfs_opnum4,
  nfsstat4,
  stable_how4,
  type stateid4,
} from "../../../generated/nfs4/index.js";
import { MAX_OFFSET } from "../../state/lock-state.js";
import { ACCESS_WRITE } from "../../state/open-state.js";
import type { NfsError } from "../../state/slot-table.js";
import type { CompoundState } from "../context.js";
import { defineOp, type OpHandler } from "../op.js";
import { capabilitiesOf, changeOrigin, currentFh } from "./common.js";
import { ioTarget } from "./io-common.js";
import { fixed } from "./reply-size.js";

/** Zeros are written in pieces of this size, so a large range needs no large buffer. */
const ZERO_CHUNK = 1024 * 1024;

/** The current file's size if the stateid allows writing and the range is valid. */
async function checked(
  state: CompoundState,
  stateid: stateid4,
  offset: bigint,
  length: bigint,
): Promise<NfsError | bigint> {
  const target = await ioTarget(state, stateid, ACCESS_WRITE);
  if ("error" in target) return target.error;
  if (length === 0n || offset + length - 1n > MAX_OFFSET) return nfsstat4.NFS4ERR_INVAL;
  return target.attrs.size;
}

export const allocate: OpHandler<typeof nfs_opnum4.OP_ALLOCATE> = async (args, state) => {
  const size = await checked(state, args.aa_stateid, args.aa_offset, args.aa_length);
  if (typeof size === "number") return { ar_status: size };
  const end = args.aa_offset + args.aa_length;
  if (end > capabilitiesOf(state).maxFileSize) return { ar_status: nfsstat4.NFS4ERR_FBIG };
  if (end > size)
    await state.server.fs.setattr(currentFh(state), { size: end }, changeOrigin(state));
  return { ar_status: nfsstat4.NFS4_OK };
};

export const deallocate: OpHandler<typeof nfs_opnum4.OP_DEALLOCATE> = async (args, state) => {
  const size = await checked(state, args.da_stateid, args.da_offset, args.da_length);
  if (typeof size === "number") return { dr_status: size };
  const end = args.da_offset + args.da_length < size ? args.da_offset + args.da_length : size;
  const zeros = new Uint8Array(ZERO_CHUNK);
  for (let at = args.da_offset; at < end; at += BigInt(ZERO_CHUNK)) {
    const n = end - at < BigInt(ZERO_CHUNK) ? Number(end - at) : ZERO_CHUNK;
    await state.server.fs.write(
      currentFh(state),
      at,
      zeros.subarray(0, n),
      stable_how4.FILE_SYNC4,
      changeOrigin(state),
    );
  }
  return { dr_status: nfsstat4.NFS4_OK };
};

export const ALLOCATE = defineOp({
  op: nfs_opnum4.OP_ALLOCATE,
  handler: allocate,
  needsCurrentFh: true,
  minMinorVersion: 2,
  replyBound: fixed(ALLOCATE4res_MAXSIZE),
  nonIdempotent: true,
  writesExport: () => true,
});

export const DEALLOCATE = defineOp({
  op: nfs_opnum4.OP_DEALLOCATE,
  handler: deallocate,
  needsCurrentFh: true,
  minMinorVersion: 2,
  replyBound: fixed(DEALLOCATE4res_MAXSIZE),
  nonIdempotent: true,
  writesExport: () => true,
});

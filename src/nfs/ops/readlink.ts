// READLINK (RFC 8881 §18.24): the target of the symbolic link that is the
// current filehandle, as the bytes it was created with. Anything else is
// NFS4ERR_INVAL — what Linux nfsd answers and pynfs expects; §15.2 also allows
// NFS4ERR_WRONG_TYPE, but no NFS4ERR_ISDIR, so a directory is INVAL too. No
// permission is checked: a symlink's own mode bits mean nothing (POSIX
// readlink() needs only search permission on the path, which LOOKUP checked).

import { nfs_ftype4, nfs_opnum4, nfsstat4 } from "../../../generated/nfs4/index.js";
import { defineOp, type OpHandler } from "../op.js";
import { currentFh } from "./common.js";
import { MAX_SYMLINK_BYTES, RESOP_SIZE, opaqueSize } from "./reply-size.js";

export const readlink: OpHandler<typeof nfs_opnum4.OP_READLINK> = async (_args, state) => {
  const fh = currentFh(state);
  const fs = state.server.fs;
  const attrs = await fs.getattr(fh);
  if (attrs.type !== nfs_ftype4.NF4LNK) return { status: nfsstat4.NFS4ERR_INVAL };
  const link = await fs.readlink(fh);
  return { status: nfsstat4.NFS4_OK, resok4: { link } };
};

const READLINK_BOUND = RESOP_SIZE + 4 + opaqueSize(MAX_SYMLINK_BYTES);

export const READLINK = defineOp({
  op: nfs_opnum4.OP_READLINK,
  handler: readlink,
  needsCurrentFh: true,
  replyBound: () => READLINK_BOUND,
  nonIdempotent: false,
});

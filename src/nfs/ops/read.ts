// READ (RFC 8881 §18.22): reads from the current file under a stateid: an
// open (or lock) stateid, or the anonymous/bypass special stateids, for which
// the caller's own read permission decides.

import { nfs_ftype4, nfsstat4, type nfs_opnum4 } from "../../../generated/nfs4/index.js";
import { statusOfError } from "../../fs/backend.js";
import { MAY_READ, mayAccess } from "../../fs/permission.js";
import { ACCESS_READ } from "../../state/open-state.js";
import type { OpHandler } from "../op.js";
import { ioAuthority } from "../stateids.js";
import { ioTypeError } from "./io-common.js";

export const read: OpHandler<typeof nfs_opnum4.OP_READ> = async (args, state) => {
  const fh = state.currentFh;
  if (fh === null) return { status: nfsstat4.NFS4ERR_NOFILEHANDLE };
  const fs = state.server.fs;
  try {
    const attrs = await fs.getattr(fh);
    if (attrs.type !== nfs_ftype4.NF4REG) return { status: ioTypeError(attrs.type) };
    const auth = ioAuthority(state, args.stateid, ACCESS_READ);
    if ("error" in auth) return { status: auth.error };
    // Without an open, the caller's permissions decide (the owner may always read its file).
    if (
      auth.ok.kind === "special" &&
      attrs.uid !== state.cred.uid &&
      !mayAccess(attrs, state.cred, MAY_READ)
    )
      return { status: nfsstat4.NFS4ERR_ACCESS };
    const count = Math.min(args.count, state.server.settings.maxIoSize);
    const { data, eof } = await fs.read(fh, args.offset, count);
    return { status: nfsstat4.NFS4_OK, resok4: { eof, data } };
  } catch (e) {
    return { status: statusOfError(e) };
  }
};

// SECINFO_NO_NAME (RFC 8881 §18.45): the security flavors for the current
// object (SECINFO_STYLE4_CURRENT_FH) or its parent (SECINFO_STYLE4_PARENT; the
// root has none: NFS4ERR_NOENT): the flavors of the export holding it (of
// the pseudo-filesystem for the parent of an export's root). Like SECINFO it consumes the current filehandle (RFC 8881 §2.6.3.1.1.8):
// on success there is none, so a client must PUTFH again.

import { nfs_opnum4, nfsstat4, secinfo_style4 } from "../../../generated/nfs4/index.js";
import { defineOp, type OpHandler } from "../op.js";
import { currentFh } from "./common.js";
import { flavorsFor, SECINFO_BOUND } from "./secinfo.js";

export const secinfoNoName: OpHandler<typeof nfs_opnum4.OP_SECINFO_NO_NAME> = async (
  style,
  state,
) => {
  let fh = currentFh(state);
  if (style === secinfo_style4.SECINFO_STYLE4_PARENT)
    fh = (await state.server.fs.lookupParent(fh)).handle;
  state.currentFh = null;
  return { status: nfsstat4.NFS4_OK, resok4: flavorsFor(state, fh) };
};

export const SECINFO_NO_NAME = defineOp({
  op: nfs_opnum4.OP_SECINFO_NO_NAME,
  handler: secinfoNoName,
  needsCurrentFh: true,
  replyBound: () => SECINFO_BOUND,
  nonIdempotent: false,
});

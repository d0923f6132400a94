// SECINFO_NO_NAME (RFC 8881 §18.45): the security flavors for the current
// object (SECINFO_STYLE4_CURRENT_FH) or its parent (SECINFO_STYLE4_PARENT; the
// root has none: NFS4ERR_NOENT). This server offers AUTH_SYS, then AUTH_NONE,
// everywhere. Like SECINFO it consumes the current filehandle (RFC 8881 §2.6.3.1.1.8):
// on success there is none, so a client must PUTFH again.

import { nfs_opnum4, nfsstat4, secinfo_style4 } from "../../../generated/nfs4/index.js";
import { defineOp, type OpHandler } from "../op.js";
import { currentFh } from "./common.js";
import { FLAVORS, SECINFO_BOUND } from "./secinfo.js";

export const secinfoNoName: OpHandler<typeof nfs_opnum4.OP_SECINFO_NO_NAME> = async (
  style,
  state,
) => {
  const fh = currentFh(state);
  if (style === secinfo_style4.SECINFO_STYLE4_PARENT) await state.server.fs.lookupParent(fh);
  state.currentFh = null;
  return { status: nfsstat4.NFS4_OK, resok4: FLAVORS.slice() };
};

export const SECINFO_NO_NAME = defineOp({
  op: nfs_opnum4.OP_SECINFO_NO_NAME,
  handler: secinfoNoName,
  needsCurrentFh: true,
  replyBound: () => SECINFO_BOUND,
  nonIdempotent: false,
});

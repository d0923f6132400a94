// DELEGRETURN (RFC 8881 §18.6): this server grants no delegations yet, so no
// stateid can name one: NFS4ERR_BAD_STATEID (after the filehandle check).

import { nfsstat4, type nfs_opnum4 } from "../../../generated/nfs4/index.js";
import type { OpHandler } from "../op.js";

export const delegreturn: OpHandler<typeof nfs_opnum4.OP_DELEGRETURN> = (_args, state) => {
  if (state.currentFh === null) return { status: nfsstat4.NFS4ERR_NOFILEHANDLE };
  return { status: nfsstat4.NFS4ERR_BAD_STATEID };
};

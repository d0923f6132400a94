// PUTPUBFH (RFC 8881 §18.20): the current filehandle becomes the public
// filehandle. Which object that is is the server's choice; this server has no
// separate WebNFS-style public tree, so it is the root, as with PUTROOTFH. §15.2 lets PUTPUBFH fail only with session-level errors,
// WRONGSEC and SERVERFAULT: a backend that cannot produce its root has a
// fault, whatever status it names.

import { nfsstat4, type nfs_opnum4 } from "../../../generated/nfs4/index.js";
import { FsError } from "../../fs/backend.js";
import type { OpHandler } from "../op.js";

export const putpubfh: OpHandler<typeof nfs_opnum4.OP_PUTPUBFH> = async (_args, state) => {
  try {
    state.currentFh = await state.server.fs.root();
  } catch (e) {
    if (e instanceof FsError) return { status: nfsstat4.NFS4ERR_SERVERFAULT };
    throw e;
  }
  return { status: nfsstat4.NFS4_OK };
};

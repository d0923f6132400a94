// PUTPUBFH (RFC 8881 §18.20): the current filehandle becomes the public
// filehandle. Which object that is is the server's choice; this server has no
// separate WebNFS-style public tree, so it is the root, as with PUTROOTFH.
// §15.2 lets PUTPUBFH fail only with session-level errors, WRONGSEC and
// SERVERFAULT: a backend that cannot produce its root has a fault, whatever
// status it names (COMPOUND's failureStatus mapping answers SERVERFAULT).

import { PUTPUBFH4res_MAXSIZE, nfs_opnum4, nfsstat4 } from "../../../generated/nfs4/index.js";
import { defineOp, type OpHandler } from "../op.js";
import { fixed } from "./reply-size.js";

export const putpubfh: OpHandler<typeof nfs_opnum4.OP_PUTPUBFH> = async (_args, state) => {
  state.currentFh = await state.server.fs.root();
  return { status: nfsstat4.NFS4_OK };
};

export const PUTPUBFH = defineOp({
  op: nfs_opnum4.OP_PUTPUBFH,
  handler: putpubfh,
  needsCurrentFh: false,
  replyBound: fixed(PUTPUBFH4res_MAXSIZE),
  nonIdempotent: false,
});

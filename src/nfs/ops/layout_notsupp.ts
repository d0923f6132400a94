// The pNFS operations (RFC 8881 §18.40–18.44: GETDEVICEINFO, GETDEVICELIST,
// LAYOUTCOMMIT, LAYOUTGET, LAYOUTRETURN) are OPTIONAL (§17) and this server
// is not a pNFS metadata server — EXCHANGE_ID never sets
// EXCHGID4_FLAG_USE_PNFS_MDS and fs_layout_type is not supported — so each
// answers NFS4ERR_NOTSUPP, which §15.2 allows for all of them. Answering
// explicitly, rather than leaving them out of the operation table, documents
// the choice; the result is the same.
//
// SET_SSV (§18.47) lives here as the other "never applies" operation. It only
// means something on a client that negotiated SP4_SSV state protection, which
// EXCHANGE_ID refuses (NFS4ERR_ENCR_ALG_UNSUPP), so no SET_SSV can be valid.
// §15.2 gives SET_SSV no NFS4ERR_NOTSUPP; of the errors it does allow,
// NFS4ERR_INVAL ("an argument was not valid") is the one that fits.

import { nfs_opnum4, nfsstat4 } from "../../../generated/nfs4/index.js";
import { defineOp, type OpHandler } from "../op.js";
import { statusOnly } from "./reply-size.js";

const NOTSUPP = nfsstat4.NFS4ERR_NOTSUPP;

export const getdeviceinfo: OpHandler<typeof nfs_opnum4.OP_GETDEVICEINFO> = () => ({
  gdir_status: NOTSUPP,
});

export const getdevicelist: OpHandler<typeof nfs_opnum4.OP_GETDEVICELIST> = () => ({
  gdlr_status: NOTSUPP,
});

export const layoutcommit: OpHandler<typeof nfs_opnum4.OP_LAYOUTCOMMIT> = () => ({
  locr_status: NOTSUPP,
});

export const layoutget: OpHandler<typeof nfs_opnum4.OP_LAYOUTGET> = () => ({
  logr_status: NOTSUPP,
});

export const layoutreturn: OpHandler<typeof nfs_opnum4.OP_LAYOUTRETURN> = () => ({
  lorr_status: NOTSUPP,
});

export const setSsv: OpHandler<typeof nfs_opnum4.OP_SET_SSV> = () => ({
  ssr_status: nfsstat4.NFS4ERR_INVAL,
});

// Each answers with a status alone, and changes nothing.
const notSupported = { needsCurrentFh: false, replyBound: statusOnly, nonIdempotent: false };

export const GETDEVICEINFO = defineOp({
  op: nfs_opnum4.OP_GETDEVICEINFO,
  handler: getdeviceinfo,
  ...notSupported,
});

export const GETDEVICELIST = defineOp({
  op: nfs_opnum4.OP_GETDEVICELIST,
  handler: getdevicelist,
  ...notSupported,
});

export const LAYOUTCOMMIT = defineOp({
  op: nfs_opnum4.OP_LAYOUTCOMMIT,
  handler: layoutcommit,
  ...notSupported,
});

export const LAYOUTGET = defineOp({
  op: nfs_opnum4.OP_LAYOUTGET,
  handler: layoutget,
  ...notSupported,
});

export const LAYOUTRETURN = defineOp({
  op: nfs_opnum4.OP_LAYOUTRETURN,
  handler: layoutreturn,
  ...notSupported,
});

export const SET_SSV = defineOp({
  op: nfs_opnum4.OP_SET_SSV,
  handler: setSsv,
  ...notSupported,
});

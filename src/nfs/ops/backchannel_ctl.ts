// BACKCHANNEL_CTL (RFC 8881 §18.33): the client changes the callback program
// and the security parameters of the session's back channel. The server then
// probes the channel again with them (CB_NULL), as after CREATE_SESSION.
//
// When the list offers no flavor this server can use (only RPCSEC_GSS, or
// nothing), the answer is NFS4ERR_INVAL and the session keeps what it had:
// accepting it would leave the back channel silently unusable. Linux nfsd
// refuses such a list too (nfsd4_check_cb_sec), though with
// NFS4ERR_ENCR_ALG_UNSUPP, which RFC 8881 §15.2 does not list for this
// operation; NFS4ERR_INVAL is the listed error for arguments the server cannot
// accept.

import {
  BACKCHANNEL_CTL4res_MAXSIZE,
  nfs_opnum4,
  nfsstat4,
} from "../../../generated/nfs4/index.js";
import { hasUsableFlavor } from "../../callback/security.js";
import { copySecParms } from "../../state/copies.js";
import { defineOp, type OpHandler } from "../op.js";
import { fixed } from "./reply-size.js";

export const backchannelCtl: OpHandler<typeof nfs_opnum4.OP_BACKCHANNEL_CTL> = (args, state) => {
  const session = state.session;
  if (!session) return { bcr_status: nfsstat4.NFS4ERR_OP_NOT_IN_SESSION };
  // Copies: the decoded list is a view into the request's record.
  const secParms = copySecParms(args.bca_sec_parms);
  if (!hasUsableFlavor(secParms)) return { bcr_status: nfsstat4.NFS4ERR_INVAL };
  session.cbProgram = args.bca_cb_program;
  session.cbSecParms = secParms;
  state.server.callbacks.backChannelChanged(session);
  return { bcr_status: nfsstat4.NFS4_OK };
};

export const BACKCHANNEL_CTL = defineOp({
  op: nfs_opnum4.OP_BACKCHANNEL_CTL,
  handler: backchannelCtl,
  needsCurrentFh: false,
  replyBound: fixed(BACKCHANNEL_CTL4res_MAXSIZE),
  // Setting the same program and parameters twice is setting them once.
  nonIdempotent: false,
});

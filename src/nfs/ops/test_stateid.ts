// TEST_STATEID (RFC 8881 §18.48): the status each stateid would get if used
// by this client: NFS4_OK, NFS4ERR_BAD_STATEID (unknown, another client's, or
// special), NFS4ERR_OLD_STATEID (an older seqid), NFS4ERR_DELEG_REVOKED (a
// revoked delegation, §10.2.1), NFS4ERR_ADMIN_REVOKED (one an administrator revoked).

import { nfs_opnum4, nfsstat4 } from "../../../generated/nfs4/index.js";
import { specialStateid } from "../../state/stateid.js";
import { revokedStatus } from "../stateids.js";
import { defineOp, type OpHandler } from "../op.js";
import { RESOP_SIZE } from "./reply-size.js";

export const testStateid: OpHandler<typeof nfs_opnum4.OP_TEST_STATEID> = (args, state) => {
  const client = state.session?.client;
  const codes = args.ts_stateids.map((s): nfsstat4 => {
    if (specialStateid(s) !== null) return nfsstat4.NFS4ERR_BAD_STATEID;
    const r = state.server.state.stateids.lookup(s, ["open", "lock", "delegation"]);
    if ("error" in r) return r.error;
    if (r.ok.client !== client) return nfsstat4.NFS4ERR_BAD_STATEID;
    return r.ok.revoked === true ? revokedStatus(r.ok) : nfsstat4.NFS4_OK;
  });
  return { tsr_status: nfsstat4.NFS4_OK, tsr_resok4: { tsr_status_codes: codes } };
};

export const TEST_STATEID = defineOp({
  op: nfs_opnum4.OP_TEST_STATEID,
  handler: testStateid,
  needsCurrentFh: false,
  // status, then one status code per stateid asked about.
  replyBound: (args) => RESOP_SIZE + 4 + 4 + 4 * args.ts_stateids.length,
  nonIdempotent: false,
});

// TEST_STATEID (RFC 8881 §18.48): the status each stateid would get if used
// by this client: NFS4_OK, NFS4ERR_BAD_STATEID (unknown, another client's, or
// special), NFS4ERR_OLD_STATEID (an older seqid).

import { nfsstat4, type nfs_opnum4 } from "../../../generated/nfs4/index.js";
import { specialStateid } from "../../state/stateid.js";
import type { OpHandler } from "../op.js";

export const testStateid: OpHandler<typeof nfs_opnum4.OP_TEST_STATEID> = (args, state) => {
  const client = state.session?.client;
  const codes = args.ts_stateids.map((s): nfsstat4 => {
    if (specialStateid(s) !== null) return nfsstat4.NFS4ERR_BAD_STATEID;
    const r = state.server.state.stateids.lookup(s, ["open", "lock", "delegation"]);
    if ("error" in r) return r.error;
    return r.ok.client === client ? nfsstat4.NFS4_OK : nfsstat4.NFS4ERR_BAD_STATEID;
  });
  return { tsr_status: nfsstat4.NFS4_OK, tsr_resok4: { tsr_status_codes: codes } };
};

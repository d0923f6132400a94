// The operation table: which handler serves each NFSv4.1 operation. An
// operation missing here is answered NFS4ERR_NOTSUPP by COMPOUND.

import { nfs_opnum4 } from "../../../generated/nfs4/index.js";
import type { OpTable } from "../op.js";
import { bindConnToSession } from "./bind_conn_to_session.js";
import { createSession } from "./create_session.js";
import { destroyClientid } from "./destroy_clientid.js";
import { destroySession } from "./destroy_session.js";
import { exchangeId } from "./exchange_id.js";
import { reclaimComplete } from "./reclaim_complete.js";

export const OPERATIONS: OpTable = {
  [nfs_opnum4.OP_EXCHANGE_ID]: exchangeId,
  [nfs_opnum4.OP_CREATE_SESSION]: createSession,
  [nfs_opnum4.OP_DESTROY_SESSION]: destroySession,
  [nfs_opnum4.OP_DESTROY_CLIENTID]: destroyClientid,
  [nfs_opnum4.OP_BIND_CONN_TO_SESSION]: bindConnToSession,
  [nfs_opnum4.OP_RECLAIM_COMPLETE]: reclaimComplete,
};

// The operation table: which handler serves each NFSv4.1 operation. An
// operation missing here is answered NFS4ERR_NOTSUPP by COMPOUND.

import { nfs_opnum4 } from "../../../generated/nfs4/index.js";
import type { OpTable } from "../op.js";
import { access } from "./access.js";
import { bindConnToSession } from "./bind_conn_to_session.js";
import { allocate, deallocate } from "./allocate.js";
import { close } from "./close.js";
import { readPlus } from "./read_plus.js";
import { seek } from "./seek.js";
import { delegreturn } from "./delegreturn.js";
import { freeStateid } from "./free_stateid.js";
import { lock } from "./lock.js";
import { lockt } from "./lockt.js";
import { locku } from "./locku.js";
import { open } from "./open.js";
import { openDowngrade } from "./open_downgrade.js";
import { read } from "./read.js";
import { setattr } from "./setattr.js";
import { testStateid } from "./test_stateid.js";
import { write } from "./write.js";
import { createSession } from "./create_session.js";
import { destroyClientid } from "./destroy_clientid.js";
import { destroySession } from "./destroy_session.js";
import { exchangeId } from "./exchange_id.js";
import { getattr } from "./getattr.js";
import { getfh } from "./getfh.js";
import { lookup } from "./lookup.js";
import { lookupp } from "./lookupp.js";
import { putfh } from "./putfh.js";
import { putrootfh } from "./putrootfh.js";
import { readdir } from "./readdir.js";
import { reclaimComplete } from "./reclaim_complete.js";
import { restorefh } from "./restorefh.js";
import { savefh } from "./savefh.js";
import { secinfoNoName } from "./secinfo_no_name.js";

export const OPERATIONS: OpTable = {
  [nfs_opnum4.OP_EXCHANGE_ID]: exchangeId,
  [nfs_opnum4.OP_CREATE_SESSION]: createSession,
  [nfs_opnum4.OP_DESTROY_SESSION]: destroySession,
  [nfs_opnum4.OP_DESTROY_CLIENTID]: destroyClientid,
  [nfs_opnum4.OP_BIND_CONN_TO_SESSION]: bindConnToSession,
  [nfs_opnum4.OP_RECLAIM_COMPLETE]: reclaimComplete,
  [nfs_opnum4.OP_PUTROOTFH]: putrootfh,
  [nfs_opnum4.OP_PUTFH]: putfh,
  [nfs_opnum4.OP_GETFH]: getfh,
  [nfs_opnum4.OP_SAVEFH]: savefh,
  [nfs_opnum4.OP_RESTOREFH]: restorefh,
  [nfs_opnum4.OP_LOOKUP]: lookup,
  [nfs_opnum4.OP_LOOKUPP]: lookupp,
  [nfs_opnum4.OP_GETATTR]: getattr,
  [nfs_opnum4.OP_ACCESS]: access,
  [nfs_opnum4.OP_READDIR]: readdir,
  [nfs_opnum4.OP_SECINFO_NO_NAME]: secinfoNoName,
  [nfs_opnum4.OP_OPEN]: open,
  [nfs_opnum4.OP_CLOSE]: close,
  [nfs_opnum4.OP_OPEN_DOWNGRADE]: openDowngrade,
  [nfs_opnum4.OP_READ]: read,
  [nfs_opnum4.OP_WRITE]: write,
  [nfs_opnum4.OP_SETATTR]: setattr,
  [nfs_opnum4.OP_LOCK]: lock,
  [nfs_opnum4.OP_LOCKT]: lockt,
  [nfs_opnum4.OP_LOCKU]: locku,
  [nfs_opnum4.OP_TEST_STATEID]: testStateid,
  [nfs_opnum4.OP_FREE_STATEID]: freeStateid,
  [nfs_opnum4.OP_DELEGRETURN]: delegreturn,
  // NFSv4.2 (RFC 7862)
  [nfs_opnum4.OP_READ_PLUS]: readPlus,
  [nfs_opnum4.OP_SEEK]: seek,
  [nfs_opnum4.OP_ALLOCATE]: allocate,
  [nfs_opnum4.OP_DEALLOCATE]: deallocate,
};

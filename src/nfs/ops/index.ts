// The operation table: which handler serves each NFSv4.1 operation. An
// operation missing here is answered NFS4ERR_NOTSUPP by COMPOUND.

import { nfs_opnum4 } from "../../../generated/nfs4/index.js";
import type { OpTable } from "../op.js";
import { access } from "./access.js";
import { bindConnToSession } from "./bind_conn_to_session.js";
import { allocate, deallocate } from "./allocate.js";
import { close } from "./close.js";
import { commit } from "./commit.js";
import { create } from "./create.js";
import { getDirDelegation } from "./get_dir_delegation.js";
import {
  getdeviceinfo,
  getdevicelist,
  layoutcommit,
  layoutget,
  layoutreturn,
  setSsv,
} from "./layout_notsupp.js";
import { link } from "./link.js";
import { nverify } from "./nverify.js";
import { openattr } from "./openattr.js";
import { putpubfh } from "./putpubfh.js";
import { readlink } from "./readlink.js";
import { remove } from "./remove.js";
import { rename } from "./rename.js";
import { secinfo } from "./secinfo.js";
import { verify } from "./verify.js";
import { wantDelegation } from "./want_delegation.js";
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
  [nfs_opnum4.OP_CREATE]: create,
  [nfs_opnum4.OP_LINK]: link,
  [nfs_opnum4.OP_REMOVE]: remove,
  [nfs_opnum4.OP_RENAME]: rename,
  [nfs_opnum4.OP_READLINK]: readlink,
  [nfs_opnum4.OP_SECINFO]: secinfo,
  [nfs_opnum4.OP_PUTPUBFH]: putpubfh,
  [nfs_opnum4.OP_VERIFY]: verify,
  [nfs_opnum4.OP_NVERIFY]: nverify,
  [nfs_opnum4.OP_OPENATTR]: openattr,
  [nfs_opnum4.OP_COMMIT]: commit,
  [nfs_opnum4.OP_WANT_DELEGATION]: wantDelegation,
  [nfs_opnum4.OP_GET_DIR_DELEGATION]: getDirDelegation,
  [nfs_opnum4.OP_LAYOUTGET]: layoutget,
  [nfs_opnum4.OP_LAYOUTCOMMIT]: layoutcommit,
  [nfs_opnum4.OP_LAYOUTRETURN]: layoutreturn,
  [nfs_opnum4.OP_GETDEVICEINFO]: getdeviceinfo,
  [nfs_opnum4.OP_GETDEVICELIST]: getdevicelist,
  [nfs_opnum4.OP_SET_SSV]: setSsv,
  // NFSv4.2 (RFC 7862)
  [nfs_opnum4.OP_READ_PLUS]: readPlus,
  [nfs_opnum4.OP_SEEK]: seek,
  [nfs_opnum4.OP_ALLOCATE]: allocate,
  [nfs_opnum4.OP_DEALLOCATE]: deallocate,
};

// The operation table: each operation's descriptor (its handler and the facts
// COMPOUND enforces), by number. An operation missing here is answered
// NFS4ERR_NOTSUPP by COMPOUND (or NFS4ERR_OP_ILLEGAL in a COMPOUND of a minor
// version that does not have it).

import { nfs_opnum4 } from "../../../generated/nfs4/index.js";
import {
  operation,
  v40Only,
  type OpDescriptor,
  type OpHandler,
  type OpTable,
  type Operation,
} from "../op.js";
import { ACCESS } from "./access.js";
import { ALLOCATE, DEALLOCATE } from "./allocate.js";
import { BACKCHANNEL_CTL } from "./backchannel_ctl.js";
import { BIND_CONN_TO_SESSION } from "./bind_conn_to_session.js";
import { CLOSE } from "./close.js";
import { COMMIT } from "./commit.js";
import { CREATE } from "./create.js";
import { CREATE_SESSION } from "./create_session.js";
import { DELEGRETURN } from "./delegreturn.js";
import { DESTROY_CLIENTID } from "./destroy_clientid.js";
import { DESTROY_SESSION } from "./destroy_session.js";
import { EXCHANGE_ID } from "./exchange_id.js";
import { FREE_STATEID } from "./free_stateid.js";
import { GET_DIR_DELEGATION } from "./get_dir_delegation.js";
import { GETATTR } from "./getattr.js";
import { GETFH } from "./getfh.js";
import { GETXATTR } from "./getxattr.js";
import {
  GETDEVICEINFO,
  GETDEVICELIST,
  LAYOUTCOMMIT,
  LAYOUTGET,
  LAYOUTRETURN,
  SET_SSV,
} from "./layout_notsupp.js";
import { LINK } from "./link.js";
import { LISTXATTRS } from "./listxattrs.js";
import { LOCK } from "./lock.js";
import { LOCKT } from "./lockt.js";
import { LOCKU } from "./locku.js";
import { LOOKUP } from "./lookup.js";
import { LOOKUPP } from "./lookupp.js";
import { NVERIFY } from "./nverify.js";
import { OPEN } from "./open.js";
import { OPEN_DOWNGRADE } from "./open_downgrade.js";
import { OPENATTR } from "./openattr.js";
import { PUTFH } from "./putfh.js";
import { PUTPUBFH } from "./putpubfh.js";
import { PUTROOTFH } from "./putrootfh.js";
import { READ } from "./read.js";
import { READ_PLUS } from "./read_plus.js";
import { READDIR } from "./readdir.js";
import { READLINK } from "./readlink.js";
import { RECLAIM_COMPLETE } from "./reclaim_complete.js";
import { REMOVE } from "./remove.js";
import { REMOVEXATTR } from "./removexattr.js";
import { RENAME } from "./rename.js";
import { RESTOREFH } from "./restorefh.js";
import { SAVEFH } from "./savefh.js";
import { SECINFO } from "./secinfo.js";
import { SECINFO_NO_NAME } from "./secinfo_no_name.js";
import { SEEK } from "./seek.js";
import { SEQUENCE } from "./sequence.js";
import { SETATTR } from "./setattr.js";
import { SETXATTR } from "./setxattr.js";
import { TEST_STATEID } from "./test_stateid.js";
import { VERIFY } from "./verify.js";
import { WANT_DELEGATION } from "./want_delegation.js";
import { WRITE } from "./write.js";

/** Every implemented operation's descriptor, by number. */
export const DESCRIPTORS: { readonly [N in nfs_opnum4]?: OpDescriptor<N> } = {
  [nfs_opnum4.OP_ACCESS]: ACCESS,
  [nfs_opnum4.OP_CLOSE]: CLOSE,
  [nfs_opnum4.OP_COMMIT]: COMMIT,
  [nfs_opnum4.OP_CREATE]: CREATE,
  [nfs_opnum4.OP_DELEGRETURN]: DELEGRETURN,
  [nfs_opnum4.OP_GETATTR]: GETATTR,
  [nfs_opnum4.OP_GETFH]: GETFH,
  [nfs_opnum4.OP_LINK]: LINK,
  [nfs_opnum4.OP_LOCK]: LOCK,
  [nfs_opnum4.OP_LOCKT]: LOCKT,
  [nfs_opnum4.OP_LOCKU]: LOCKU,
  [nfs_opnum4.OP_LOOKUP]: LOOKUP,
  [nfs_opnum4.OP_LOOKUPP]: LOOKUPP,
  [nfs_opnum4.OP_NVERIFY]: NVERIFY,
  [nfs_opnum4.OP_OPEN]: OPEN,
  [nfs_opnum4.OP_OPENATTR]: OPENATTR,
  [nfs_opnum4.OP_OPEN_DOWNGRADE]: OPEN_DOWNGRADE,
  [nfs_opnum4.OP_PUTFH]: PUTFH,
  [nfs_opnum4.OP_PUTPUBFH]: PUTPUBFH,
  [nfs_opnum4.OP_PUTROOTFH]: PUTROOTFH,
  [nfs_opnum4.OP_READ]: READ,
  [nfs_opnum4.OP_READDIR]: READDIR,
  [nfs_opnum4.OP_READLINK]: READLINK,
  [nfs_opnum4.OP_REMOVE]: REMOVE,
  [nfs_opnum4.OP_RENAME]: RENAME,
  [nfs_opnum4.OP_RESTOREFH]: RESTOREFH,
  [nfs_opnum4.OP_SAVEFH]: SAVEFH,
  [nfs_opnum4.OP_SECINFO]: SECINFO,
  [nfs_opnum4.OP_SETATTR]: SETATTR,
  [nfs_opnum4.OP_VERIFY]: VERIFY,
  [nfs_opnum4.OP_WRITE]: WRITE,
  // NFSv4.1 (RFC 8881)
  [nfs_opnum4.OP_BACKCHANNEL_CTL]: BACKCHANNEL_CTL,
  [nfs_opnum4.OP_BIND_CONN_TO_SESSION]: BIND_CONN_TO_SESSION,
  [nfs_opnum4.OP_EXCHANGE_ID]: EXCHANGE_ID,
  [nfs_opnum4.OP_CREATE_SESSION]: CREATE_SESSION,
  [nfs_opnum4.OP_DESTROY_SESSION]: DESTROY_SESSION,
  [nfs_opnum4.OP_FREE_STATEID]: FREE_STATEID,
  [nfs_opnum4.OP_GET_DIR_DELEGATION]: GET_DIR_DELEGATION,
  [nfs_opnum4.OP_GETDEVICEINFO]: GETDEVICEINFO,
  [nfs_opnum4.OP_GETDEVICELIST]: GETDEVICELIST,
  [nfs_opnum4.OP_LAYOUTCOMMIT]: LAYOUTCOMMIT,
  [nfs_opnum4.OP_LAYOUTGET]: LAYOUTGET,
  [nfs_opnum4.OP_LAYOUTRETURN]: LAYOUTRETURN,
  [nfs_opnum4.OP_SECINFO_NO_NAME]: SECINFO_NO_NAME,
  [nfs_opnum4.OP_SEQUENCE]: SEQUENCE,
  [nfs_opnum4.OP_SET_SSV]: SET_SSV,
  [nfs_opnum4.OP_TEST_STATEID]: TEST_STATEID,
  [nfs_opnum4.OP_WANT_DELEGATION]: WANT_DELEGATION,
  [nfs_opnum4.OP_DESTROY_CLIENTID]: DESTROY_CLIENTID,
  [nfs_opnum4.OP_RECLAIM_COMPLETE]: RECLAIM_COMPLETE,
  // NFSv4.2 (RFC 7862)
  [nfs_opnum4.OP_ALLOCATE]: ALLOCATE,
  [nfs_opnum4.OP_DEALLOCATE]: DEALLOCATE,
  [nfs_opnum4.OP_READ_PLUS]: READ_PLUS,
  [nfs_opnum4.OP_SEEK]: SEEK,
  // Extended attributes (RFC 8276), an NFSv4.2 extension
  [nfs_opnum4.OP_GETXATTR]: GETXATTR,
  [nfs_opnum4.OP_SETXATTR]: SETXATTR,
  [nfs_opnum4.OP_LISTXATTRS]: LISTXATTRS,
  [nfs_opnum4.OP_REMOVEXATTR]: REMOVEXATTR,
};

/** NFSv4.0 operations that NFSv4.1 forbids (RFC 8881 §18: "MUST NOT be used"). */
const V40_ONLY = [
  nfs_opnum4.OP_OPEN_CONFIRM,
  nfs_opnum4.OP_RENEW,
  nfs_opnum4.OP_SETCLIENTID,
  nfs_opnum4.OP_SETCLIENTID_CONFIRM,
  nfs_opnum4.OP_RELEASE_LOCKOWNER,
] as const;

/** Every operation number, in ascending order. */
const ALL_OPS: readonly nfs_opnum4[] = Object.values(nfs_opnum4).sort((a, b) => a - b);

function fromDescriptor<N extends nfs_opnum4>(n: N): Operation | undefined {
  const d = DESCRIPTORS[n];
  return d === undefined ? undefined : operation(d);
}

/** The server's operation table. */
export const OPERATIONS: OpTable = Object.fromEntries([
  ...ALL_OPS.flatMap((n) => {
    const op = fromDescriptor(n);
    return op === undefined ? [] : [[n, op] as const];
  }),
  ...V40_ONLY.map((n) => [n, v40Only(n)] as const),
]);

/** Operation `n` of `table`: a bare handler takes the place of the handler of n's descriptor. */
function resolve<N extends nfs_opnum4>(table: OpTable, n: N): Operation | undefined {
  const entry: Operation | OpHandler<N> | undefined = table[n];
  if (entry === undefined || typeof entry !== "function") return entry;
  const d = DESCRIPTORS[n];
  if (d === undefined) throw new Error(`operation ${n} has a handler but no descriptor`);
  return operation({ ...d, handler: entry });
}

/** `table` resolved to Operations, by number (see OpTable). */
export function resolveOperations(table: OpTable): ReadonlyMap<number, Operation> {
  const out = new Map<number, Operation>();
  for (const n of ALL_OPS) {
    const op = resolve(table, n);
    if (op !== undefined) out.set(n, op);
  }
  return out;
}

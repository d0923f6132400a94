// ACCESS (RFC 8881 §18.1): which of the requested access rights the caller has
// on the current object, evaluated from the mode bits for the AUTH_SYS
// credential (permission.ts). `supported` is the requested rights that mean
// something for the object's type — LOOKUP and DELETE for directories, EXECUTE
// for everything else (as Linux nfsd) — and `access` the granted subset.
// Bits this server does not know (e.g. NFSv4.2's xattr rights) are in neither.

import {
  ACCESS4_DELETE,
  ACCESS4_EXECUTE,
  ACCESS4_EXTEND,
  ACCESS4_LOOKUP,
  ACCESS4_MODIFY,
  ACCESS4_READ,
  ACCESS4res_MAXSIZE,
  nfs_ftype4,
  nfs_opnum4,
  nfsstat4,
} from "../../../generated/nfs4/index.js";
import { MAY_EXEC, MAY_READ, MAY_WRITE, grantedBits } from "../../fs/permission.js";
import { defineOp, type OpHandler } from "../op.js";
import { currentFh } from "./common.js";
import { fixed } from "./reply-size.js";

/** Each right and the permission bits it needs, by kind of object. */
const DIRECTORY_RIGHTS: readonly (readonly [number, number])[] = [
  [ACCESS4_READ, MAY_READ],
  [ACCESS4_LOOKUP, MAY_EXEC],
  // Changing a directory's entries needs write and search permission.
  [ACCESS4_MODIFY, MAY_WRITE | MAY_EXEC],
  [ACCESS4_EXTEND, MAY_WRITE | MAY_EXEC],
  [ACCESS4_DELETE, MAY_WRITE | MAY_EXEC],
];

const OTHER_RIGHTS: readonly (readonly [number, number])[] = [
  [ACCESS4_READ, MAY_READ],
  [ACCESS4_MODIFY, MAY_WRITE],
  [ACCESS4_EXTEND, MAY_WRITE],
  [ACCESS4_EXECUTE, MAY_EXEC],
];

export const access: OpHandler<typeof nfs_opnum4.OP_ACCESS> = async (args, state) => {
  const attrs = await state.server.fs.getattr(currentFh(state));
  const rights = attrs.type === nfs_ftype4.NF4DIR ? DIRECTORY_RIGHTS : OTHER_RIGHTS;
  const granted = grantedBits(attrs, state.cred);
  let supported = 0;
  let allowed = 0;
  for (const [right, needs] of rights) {
    if ((args.access & right) === 0) continue;
    supported |= right;
    if ((granted & needs) === needs) allowed |= right;
  }
  return { status: nfsstat4.NFS4_OK, resok4: { supported, access: allowed } };
};

export const ACCESS = defineOp({
  op: nfs_opnum4.OP_ACCESS,
  handler: access,
  needsCurrentFh: true,
  replyBound: fixed(ACCESS4res_MAXSIZE),
  nonIdempotent: false,
});

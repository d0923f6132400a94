// ACCESS (RFC 8881 §18.1): which of the requested access rights the caller has
// on the current object, evaluated from the mode bits for the AUTH_SYS
// credential (permission.ts). `supported` is the requested rights that mean
// something for the object's type — LOOKUP and DELETE for directories, EXECUTE
// for everything else (as Linux nfsd) — and `access` the granted subset.
// In NFSv4.2 the extended-attribute rights of RFC 8276 join them, for the
// objects that carry xattrs (ops/xattr-common.ts: files and directories):
// XAREAD and XALIST need read permission, XAWRITE write permission (the sticky
// directory rule of SETXATTR is not folded in, as Linux nfsd does not).
// Bits this server does not know are in neither. On a read-only export (and
// the pseudo-filesystem) no right that needs write permission is granted.

import {
  ACCESS4_DELETE,
  ACCESS4_EXECUTE,
  ACCESS4_EXTEND,
  ACCESS4_LOOKUP,
  ACCESS4_MODIFY,
  ACCESS4_READ,
  ACCESS4_XALIST,
  ACCESS4_XAREAD,
  ACCESS4_XAWRITE,
  ACCESS4res_MAXSIZE,
  nfs_ftype4,
  nfs_opnum4,
  nfsstat4,
} from "../../../generated/nfs4/index.js";
import { MAY_EXEC, MAY_READ, MAY_WRITE, grantedBits } from "../../fs/permission.js";
import { defineOp, type OpHandler } from "../op.js";
import { capabilitiesOf, currentFh } from "./common.js";
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

/** The RFC 8276 rights, from NFSv4.2 on, on objects that carry xattrs. */
const XATTR_RIGHTS: readonly (readonly [number, number])[] = [
  [ACCESS4_XAREAD, MAY_READ],
  [ACCESS4_XAWRITE, MAY_WRITE],
  [ACCESS4_XALIST, MAY_READ],
];

export const access: OpHandler<typeof nfs_opnum4.OP_ACCESS> = async (args, state) => {
  const fs = state.server.fs;
  const attrs = await fs.getattr(currentFh(state));
  const base = attrs.type === nfs_ftype4.NF4DIR ? DIRECTORY_RIGHTS : OTHER_RIGHTS;
  const xattrs =
    state.minorversion >= 2 &&
    capabilitiesOf(state).xattrs !== null &&
    (attrs.type === nfs_ftype4.NF4REG || attrs.type === nfs_ftype4.NF4DIR);
  const rights = xattrs ? [...base, ...XATTR_RIGHTS] : base;
  // Nothing may be changed on a read-only export (nfsd_access: nfsd_permission says ROFS).
  const readOnly = state.server.exports.rulesOf(currentFh(state)).readOnly;
  const granted = grantedBits(attrs, state.cred) & (readOnly ? ~MAY_WRITE : ~0);
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

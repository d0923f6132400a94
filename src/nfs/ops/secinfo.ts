// SECINFO (RFC 8881 §18.29): the security flavors for the entry `name` of the
// current directory. This server offers AUTH_SYS, then AUTH_NONE, for every
// object, but still looks the name up so that a missing entry is
// NFS4ERR_NOENT and the name and permission checks match LOOKUP's (NOTDIR for
// any non-directory: §15.2 gives SECINFO no NFS4ERR_SYMLINK). On success the
// current filehandle is consumed (RFC 8881 §2.6.3.1.1.8): the client must
// PUTFH again before using one, so a GETFH straight after is NOFILEHANDLE.

import { auth_flavor } from "../../../generated/rpc/index.js";
import { nfs_opnum4, nfsstat4, type secinfo4 } from "../../../generated/nfs4/index.js";
import { decodeName } from "../../fs/names.js";
import { MAY_EXEC, mayAccess } from "../../fs/permission.js";
import { defineOp, type OpHandler } from "../op.js";
import { currentFh, notDirError } from "./common.js";
import { RESOP_SIZE } from "./reply-size.js";

/** In order of preference (the same as SECINFO_NO_NAME's). */
export const FLAVORS: readonly secinfo4[] = [
  { flavor: auth_flavor.AUTH_SYS },
  { flavor: auth_flavor.AUTH_NONE },
];

export const secinfo: OpHandler<typeof nfs_opnum4.OP_SECINFO> = async (args, state) => {
  const dir = currentFh(state);
  const fs = state.server.fs;
  const dirAttrs = await fs.getattr(dir);
  const typeError = notDirError(dirAttrs.type);
  if (typeError !== null) return { status: typeError };
  const name = decodeName(args.name, fs.capabilities.maxNameBytes);
  if (!name.ok) return { status: name.status };
  if (!mayAccess(dirAttrs, state.cred, MAY_EXEC)) return { status: nfsstat4.NFS4ERR_ACCESS };
  await fs.lookup(dir, name.name);
  state.currentFh = null;
  return { status: nfsstat4.NFS4_OK, resok4: FLAVORS.slice() };
};

/** status and the flavors, each a bare flavor number (no RPCSEC_GSS triples). */
export const SECINFO_BOUND = RESOP_SIZE + 4 + 4 + 4 * FLAVORS.length;

export const SECINFO = defineOp({
  op: nfs_opnum4.OP_SECINFO,
  handler: secinfo,
  needsCurrentFh: true,
  replyBound: () => SECINFO_BOUND,
  nonIdempotent: false,
});

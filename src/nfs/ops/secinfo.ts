// SECINFO (RFC 8881 §18.29): the security flavors for the entry `name` of the
// current directory: those the export holding the entry accepts (its `sec`
// rule, most preferred first; for a pseudo-filesystem directory, every
// flavor some export accepts). The name is looked up as LOOKUP does, so a
// missing entry, or an export hidden from this client, is NFS4ERR_NOENT and
// the name and permission checks match LOOKUP's (NOTDIR for
// any non-directory: §15.2 gives SECINFO no NFS4ERR_SYMLINK). On success the
// current filehandle is consumed (RFC 8881 §2.6.3.1.1.8): the client must
// PUTFH again before using one, so a GETFH straight after is NOFILEHANDLE.

import { auth_flavor } from "../../../generated/rpc/index.js";
import { nfs_opnum4, nfsstat4, type secinfo4 } from "../../../generated/nfs4/index.js";
import { decodeName } from "../../fs/names.js";
import { MAY_EXEC, mayAccess } from "../../fs/permission.js";
import type { CompoundState } from "../context.js";
import { reachable } from "../export-access.js";
import { defineOp, type OpHandler } from "../op.js";
import { currentFh, notDirError } from "./common.js";
import { RESOP_SIZE } from "./reply-size.js";

/** Every flavor this server can accept: an export accepts some of them (ExportRules.flavors). */
export const FLAVORS: readonly secinfo4[] = [
  { flavor: auth_flavor.AUTH_SYS },
  { flavor: auth_flavor.AUTH_NONE },
];

/** The secinfo4 list for the object `fh`: its export's flavors, in its order of preference. */
export function flavorsFor(state: CompoundState, fh: Uint8Array): secinfo4[] {
  return state.server.exports.rulesOf(fh).flavors.map((flavor) => ({ flavor }));
}

export const secinfo: OpHandler<typeof nfs_opnum4.OP_SECINFO> = async (args, state) => {
  const dir = currentFh(state);
  const fs = state.server.fs;
  const dirAttrs = await fs.getattr(dir);
  const typeError = notDirError(dirAttrs.type);
  if (typeError !== null) return { status: typeError };
  const name = decodeName(args.name, fs.capabilities.maxNameBytes);
  if (!name.ok) return { status: name.status };
  if (!mayAccess(dirAttrs, state.cred, MAY_EXEC)) return { status: nfsstat4.NFS4ERR_ACCESS };
  const found = await fs.lookup(dir, name.name);
  if (!reachable(state, found.handle)) return { status: nfsstat4.NFS4ERR_NOENT };
  state.currentFh = null;
  return { status: nfsstat4.NFS4_OK, resok4: flavorsFor(state, found.handle) };
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

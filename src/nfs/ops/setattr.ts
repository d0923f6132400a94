// SETATTR (RFC 8881 §18.30): changes attributes of the current object. Who
// may change what follows POSIX (fs/permission.ts authorizeSetattr: the owner
// or root changes mode and times, root changes the owner, the owner changes
// the group to one of its groups, set-id bits are dropped as the kernel
// does). A size change also needs a stateid that allows writing: an open for
// writing, or the anonymous stateid with the caller's own write permission.

import {
  errorSETATTR4res,
  nfs_ftype4,
  nfs_opnum4,
  nfsstat4,
  notify_type4,
} from "../../../generated/nfs4/index.js";
import { MAY_WRITE, authorizeSetattr, mayAccess } from "../../fs/permission.js";
import { ACCESS_WRITE } from "../../state/open-state.js";
import type { NfsError } from "../../state/slot-table.js";
import { decodeAttrs, toSetAttributes } from "../attrs/index.js";
import { defineOp, type OpHandler } from "../op.js";
import { ioAuthority } from "../stateids.js";
import { capabilitiesOf, changeOrigin, currentFh, delegationConflict } from "./common.js";
import { RESOP_SIZE, SUPPORTED_BITMAP_SIZE } from "./reply-size.js";

// SETATTR4res carries attrsset even on error (§18.30.2): the generated builder
// makes it empty, as it does for COMPOUND's own error results.
const fail = (status: NfsError) => errorSETATTR4res(status);

export const setattr: OpHandler<typeof nfs_opnum4.OP_SETATTR> = async (args, state) => {
  const fh = currentFh(state);
  const decoded = decodeAttrs(args.obj_attributes);
  if (!decoded.ok) return fail(decoded.status);
  const wanted = toSetAttributes(decoded.attrs);
  if (!wanted.ok) return fail(wanted.status);
  const fs = state.server.fs;
  const attrs = await fs.getattr(fh);
  const { size, ...rest } = wanted.attrs;
  if (size !== undefined) {
    // Only regular files have a settable size; RFC 8881 §15.2 gives SETATTR no ISDIR.
    if (attrs.type !== nfs_ftype4.NF4REG) return fail(nfsstat4.NFS4ERR_INVAL);
    const auth = ioAuthority(state, args.stateid, ACCESS_WRITE);
    if ("error" in auth) return fail(auth.error);
    // An open for writing already carries the right to change the size.
    if (auth.ok.kind === "special" && !mayAccess(attrs, state.cred, MAY_WRITE))
      return fail(nfsstat4.NFS4ERR_ACCESS);
    if (size > capabilitiesOf(state).maxFileSize) return fail(nfsstat4.NFS4ERR_FBIG);
  }
  const allowed = authorizeSetattr(attrs, rest, state.cred);
  if (!allowed.ok) return fail(allowed.status);
  // Changing a delegated file's attributes recalls other clients' delegations
  // (§10.4.6); a directory's, its directory delegations not told of them (§10.9.4).
  const conflict = delegationConflict(
    state,
    { fh, notified: notify_type4.NOTIFY4_CHANGE_DIR_ATTRS },
    "write",
  );
  if (conflict !== null) return fail(conflict);
  await fs.setattr(
    fh,
    size === undefined ? allowed.attrs : { ...allowed.attrs, size },
    changeOrigin(state),
  );
  return { status: nfsstat4.NFS4_OK, attrsset: decoded.attrsset };
};

export const SETATTR = defineOp({
  op: nfs_opnum4.OP_SETATTR,
  handler: setattr,
  needsCurrentFh: true,
  // status and attrsset, which holds supported attributes only.
  replyBound: () => RESOP_SIZE + 4 + SUPPORTED_BITMAP_SIZE,
  nonIdempotent: true,
  writesExport: () => true,
});

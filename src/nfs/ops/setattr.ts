// SETATTR (RFC 8881 §18.30): changes attributes of the current object. Only
// a size change needs the stateid (an open for writing, or the anonymous
// stateid with write permission). Who may change what follows POSIX: the
// owner (or root) changes mode and times, root changes the owner, the owner
// changes the group to one of its groups; anyone with write permission may
// set the times to "now" and, with the right stateid, the size.

import { nfs_ftype4, nfsstat4, type nfs_opnum4 } from "../../../generated/nfs4/index.js";
import type { SetAttributes } from "../../fs/backend.js";
import { statusOfError } from "../../fs/backend.js";
import { MAY_WRITE, SUPERUSER_UID, mayAccess } from "../../fs/permission.js";
import { ACCESS_WRITE } from "../../state/open-state.js";
import type { NfsError } from "../../state/slot-table.js";
import { decodeAttrs, numericId } from "../attrs/index.js";
import type { OpHandler } from "../op.js";
import { ioAuthority } from "../stateids.js";

const fail = (status: NfsError) => ({ status, attrsset: [] });

export const setattr: OpHandler<typeof nfs_opnum4.OP_SETATTR> = async (args, state) => {
  const fh = state.currentFh;
  if (fh === null) return fail(nfsstat4.NFS4ERR_NOFILEHANDLE);
  const decoded = decodeAttrs(args.obj_attributes);
  if (!decoded.ok) return fail(decoded.status);
  const a = decoded.attrs;
  const fs = state.server.fs;
  const cred = state.cred;
  try {
    const attrs = await fs.getattr(fh);
    const root = cred.uid === SUPERUSER_UID;
    const owner = root || cred.uid === attrs.uid;
    const change: { -readonly [K in keyof SetAttributes]: SetAttributes[K] } = {};
    if (a.size !== undefined) {
      if (attrs.type === nfs_ftype4.NF4DIR) return fail(nfsstat4.NFS4ERR_ISDIR);
      if (attrs.type !== nfs_ftype4.NF4REG) return fail(nfsstat4.NFS4ERR_INVAL);
      const auth = ioAuthority(state, args.stateid, ACCESS_WRITE);
      if ("error" in auth) return fail(auth.error);
      if (auth.ok.kind === "special" && !mayAccess(attrs, cred, MAY_WRITE))
        return fail(nfsstat4.NFS4ERR_ACCESS);
      if (a.size > fs.capabilities.maxFileSize) return fail(nfsstat4.NFS4ERR_FBIG);
      change.size = a.size;
    }
    if (a.mode !== undefined) {
      if (!owner) return fail(nfsstat4.NFS4ERR_PERM);
      change.mode = a.mode;
    }
    if (a.owner !== undefined) {
      const uid = numericId(a.owner);
      if (uid === null) return fail(nfsstat4.NFS4ERR_BADOWNER);
      if (uid !== attrs.uid && !root) return fail(nfsstat4.NFS4ERR_PERM);
      change.uid = uid;
    }
    if (a.ownerGroup !== undefined) {
      const gid = numericId(a.ownerGroup);
      if (gid === null) return fail(nfsstat4.NFS4ERR_BADOWNER);
      const member = gid === cred.gid || cred.gids.includes(gid);
      if (gid !== attrs.gid && !root && !(owner && member)) return fail(nfsstat4.NFS4ERR_PERM);
      change.gid = gid;
    }
    for (const [key, value] of [
      ["atime", a.atime],
      ["mtime", a.mtime],
    ] as const) {
      if (value === undefined) continue;
      // Setting "now" needs write permission; a given time needs ownership (as utimensat(2)).
      if (!owner && (value !== "now" || !mayAccess(attrs, cred, MAY_WRITE)))
        return fail(value === "now" ? nfsstat4.NFS4ERR_ACCESS : nfsstat4.NFS4ERR_PERM);
      change[key] = value;
    }
    await fs.setattr(fh, change);
  } catch (e) {
    return fail(statusOfError(e));
  }
  return { status: nfsstat4.NFS4_OK, attrsset: decoded.attrsset };
};

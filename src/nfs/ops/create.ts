// CREATE (RFC 8881 §18.4): makes a non-regular object — a directory, a
// symbolic link, a block or character device, a socket or a FIFO — named
// `objname` in the current directory, which the new object then replaces as
// the current filehandle. Regular files are made by OPEN: NF4REG (like any
// type this server cannot make) is NFS4ERR_BADTYPE.
//
// Checks, in order: a current handle; that it is a directory (NFS4ERR_NOTDIR,
// symlinks included — §15.2 gives CREATE no NFS4ERR_SYMLINK); the type; the
// name (as LOOKUP: INVAL, BADNAME, BADCHAR, NAMETOOLONG); the createattrs
// (ATTRNOTSUPP for unsupported attributes, INVAL for read-only ones, bad
// values or a size — only regular files have one to set —, BADOWNER); write
// and search permission on the directory (NFS4ERR_ACCESS); whether the owner
// may be given away (NFS4ERR_PERM, see newObjectAttributes); then the backend
// (EXIST, MLINK, NOSPC; INVAL for an empty link target, NAMETOOLONG for an
// overlong one).
//
// On success attrset holds every requested attribute (all are applied or the
// operation fails), and cinfo the directory's change, atomic since the
// backend brackets its own modification.

import {
  change_info4_MAXSIZE,
  nfs_ftype4,
  nfs_opnum4,
  nfsstat4,
  type createtype4,
  notify_type4,
} from "../../../generated/nfs4/index.js";
import type {
  ChangeOrigin,
  CreateAttributes,
  CreateResult,
  FileHandle,
  FileSystem,
} from "../../fs/backend.js";
import { decodeName } from "../../fs/names.js";
import { MAY_EXEC, MAY_WRITE, mayAccess } from "../../fs/permission.js";
import { decodeAttrs, toSetAttributes } from "../attrs/index.js";
import { defineOp, type OpHandler } from "../op.js";
import {
  capabilitiesOf,
  changeOrigin,
  currentFh,
  delegationConflict,
  newObjectAttributes,
  notDirError,
} from "./common.js";
import { RESOP_SIZE, SUPPORTED_BITMAP_SIZE } from "./reply-size.js";

/** Makes the object `objtype` describes through the backend call for its kind. */
function make(
  fs: FileSystem,
  dir: FileHandle,
  name: string,
  objtype: createtype4,
  attrs: CreateAttributes,
  origin: ChangeOrigin | null,
): Promise<CreateResult> {
  switch (objtype.type) {
    case nfs_ftype4.NF4DIR:
      return fs.mkdir(dir, name, attrs, origin);
    case nfs_ftype4.NF4LNK:
      return fs.symlink(dir, name, objtype.linkdata, attrs, origin);
    case nfs_ftype4.NF4BLK:
    case nfs_ftype4.NF4CHR: {
      const { specdata1: major, specdata2: minor } = objtype.devdata;
      return fs.mknod(dir, name, objtype.type, { major, minor }, attrs, origin);
    }
    case nfs_ftype4.NF4SOCK:
    case nfs_ftype4.NF4FIFO:
      return fs.mknod(dir, name, objtype.type, { major: 0, minor: 0 }, attrs, origin);
    default:
      // Unreachable: the handler refused every other type with BADTYPE.
      throw new Error(`CREATE: no way to make type ${objtype.type}`);
  }
}

/** The types CREATE makes on this server's filesystem, given whether it has symlinks. */
function creatable(type: nfs_ftype4, symlinks: boolean): boolean {
  switch (type) {
    case nfs_ftype4.NF4DIR:
    case nfs_ftype4.NF4BLK:
    case nfs_ftype4.NF4CHR:
    case nfs_ftype4.NF4SOCK:
    case nfs_ftype4.NF4FIFO:
      return true;
    case nfs_ftype4.NF4LNK:
      return symlinks;
    default:
      // NF4REG (OPEN's job), NF4ATTRDIR, NF4NAMEDATTR and unknown values.
      return false;
  }
}

export const create: OpHandler<typeof nfs_opnum4.OP_CREATE> = async (args, state) => {
  const dir = currentFh(state);
  const fs = state.server.fs;
  const dirAttrs = await fs.getattr(dir);
  const typeError = notDirError(dirAttrs.type);
  if (typeError !== null) return { status: typeError };
  const type = args.objtype.type;
  if (!creatable(type, capabilitiesOf(state).symlinkSupport)) {
    return { status: nfsstat4.NFS4ERR_BADTYPE };
  }
  const name = decodeName(args.objname, fs.capabilities.maxNameBytes);
  if (!name.ok) return { status: name.status };
  const decoded = decodeAttrs(args.createattrs);
  if (!decoded.ok) return { status: decoded.status };
  // Only regular files have a size to set, and CREATE never makes one.
  if (decoded.attrs.size !== undefined) return { status: nfsstat4.NFS4ERR_INVAL };
  const requested = toSetAttributes(decoded.attrs);
  if (!requested.ok) return { status: requested.status };
  if (!mayAccess(dirAttrs, state.cred, MAY_WRITE | MAY_EXEC)) {
    return { status: nfsstat4.NFS4ERR_ACCESS };
  }
  const attrs = newObjectAttributes(type, dirAttrs, requested.attrs, state.cred);
  if (!attrs.ok) return { status: attrs.status };
  // A new entry changes the directory: other clients' directory delegations are recalled (§10.9.2).
  const conflict = delegationConflict(
    state,
    { fh: dir, notified: notify_type4.NOTIFY4_ADD_ENTRY },
    "write",
  );
  if (conflict !== null) return { status: conflict };
  const made = await make(fs, dir, name.name, args.objtype, attrs.attrs, changeOrigin(state));
  state.currentFh = made.handle;
  return {
    status: nfsstat4.NFS4_OK,
    resok4: { cinfo: { ...made.dirChange }, attrset: decoded.attrsset },
  };
};

/** status, cinfo (change_info4_MAXSIZE), and attrset: the supported attributes that were set. */
const CREATE_BOUND = RESOP_SIZE + 4 + change_info4_MAXSIZE + SUPPORTED_BITMAP_SIZE;

export const CREATE = defineOp({
  op: nfs_opnum4.OP_CREATE,
  handler: create,
  needsCurrentFh: true,
  replyBound: () => CREATE_BOUND,
  nonIdempotent: true,
  writesExport: () => true,
});

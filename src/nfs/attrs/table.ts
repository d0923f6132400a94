// The attributes this server supports (RFC 8881 §5): for each, its number, the
// generated encoder of its fattr4_* type, and how its value is derived from
// what the backend reports. Attributes missing from this table are not
// supported; GETATTR/READDIR silently leave them out of the reply, SETATTR
// answers NFS4ERR_ATTRNOTSUPP.
//
// The set covers the REQUIRED attributes, the RECOMMENDED ones a POSIX
// filesystem can answer, and everything the Linux client asks for at mount
// (nfs4proc.c: _nfs4_server_capabilities, nfs4_fattr_bitmap, nfs4_fsinfo_bitmap,
// nfs4_pathconf_bitmap, nfs4_statfs_bitmap), and RFC 9754's open_arguments
// (open-arguments.ts). Left out: ACLs (aclsupport says 0), named attributes,
// quotas, archive/hidden/system, mimetype, time_backup, the
// directory-notification delays, pNFS layout attributes and retention, and
// RFC 9754's offline and time_deleg_access/time_deleg_modify: this server
// grants no delegation with timestamps (RFC 9754 §5), so it neither answers
// nor sets them; a client's CB_GETATTR reply that carries them still decodes
// with the generated decodefattr4_time_deleg_access/_modify.

import {
  FATTR4_ACLSUPPORT,
  FATTR4_CANSETTIME,
  FATTR4_CASE_INSENSITIVE,
  FATTR4_CASE_PRESERVING,
  FATTR4_CHANGE,
  FATTR4_CHOWN_RESTRICTED,
  FATTR4_FH_EXPIRE_TYPE,
  FATTR4_FILEHANDLE,
  FATTR4_FILEID,
  FATTR4_FILES_AVAIL,
  FATTR4_FILES_FREE,
  FATTR4_FILES_TOTAL,
  FATTR4_FS_LOCATIONS,
  FATTR4_FSID,
  FATTR4_HOMOGENEOUS,
  FATTR4_LEASE_TIME,
  FATTR4_LINK_SUPPORT,
  FATTR4_MAXFILESIZE,
  FATTR4_MAXLINK,
  FATTR4_MAXNAME,
  FATTR4_MAXREAD,
  FATTR4_MAXWRITE,
  FATTR4_MODE,
  FATTR4_MOUNTED_ON_FILEID,
  FATTR4_NAMED_ATTR,
  FATTR4_NO_TRUNC,
  FATTR4_NUMLINKS,
  FATTR4_OPEN_ARGUMENTS,
  FATTR4_OWNER,
  FATTR4_OWNER_GROUP,
  FATTR4_RAWDEV,
  FATTR4_RDATTR_ERROR,
  FATTR4_SIZE,
  FATTR4_SPACE_AVAIL,
  FATTR4_SPACE_FREE,
  FATTR4_SPACE_TOTAL,
  FATTR4_SPACE_USED,
  FATTR4_SUPPATTR_EXCLCREAT,
  FATTR4_SUPPORTED_ATTRS,
  FATTR4_SYMLINK_SUPPORT,
  FATTR4_TIME_ACCESS,
  FATTR4_TIME_ACCESS_SET,
  FATTR4_TIME_CREATE,
  FATTR4_TIME_DELTA,
  FATTR4_TIME_METADATA,
  FATTR4_TIME_MODIFY,
  FATTR4_XATTR_SUPPORT,
  FATTR4_TIME_MODIFY_SET,
  FATTR4_TYPE,
  FATTR4_UNIQUE_HANDLES,
  encodefattr4_aclsupport,
  encodefattr4_cansettime,
  encodefattr4_case_insensitive,
  encodefattr4_case_preserving,
  encodefattr4_change,
  encodefattr4_chown_restricted,
  encodefattr4_fh_expire_type,
  encodefattr4_filehandle,
  encodefattr4_fileid,
  encodefattr4_files_avail,
  encodefattr4_files_free,
  encodefattr4_files_total,
  encodefattr4_fs_locations,
  encodefattr4_fsid,
  encodefattr4_homogeneous,
  encodefattr4_lease_time,
  encodefattr4_link_support,
  encodefattr4_maxfilesize,
  encodefattr4_maxlink,
  encodefattr4_maxname,
  encodefattr4_maxread,
  encodefattr4_maxwrite,
  encodefattr4_mode,
  encodefattr4_mounted_on_fileid,
  encodefattr4_named_attr,
  encodefattr4_no_trunc,
  encodefattr4_numlinks,
  encodefattr4_open_arguments,
  encodefattr4_owner,
  encodefattr4_owner_group,
  encodefattr4_rawdev,
  encodefattr4_rdattr_error,
  encodefattr4_size,
  encodefattr4_space_avail,
  encodefattr4_space_free,
  encodefattr4_space_total,
  encodefattr4_space_used,
  encodefattr4_suppattr_exclcreat,
  encodefattr4_supported_attrs,
  encodefattr4_symlink_support,
  encodefattr4_time_access,
  encodefattr4_time_create,
  encodefattr4_time_delta,
  encodefattr4_time_metadata,
  encodefattr4_time_modify,
  encodefattr4_type,
  encodefattr4_xattr_support,
  encodefattr4_unique_handles,
  nfsstat4,
  type bitmap4,
} from "../../../generated/nfs4/index.js";
import type { FileAttributes, FileHandle, FsCapabilities, FsStats } from "../../fs/backend.js";
import type { XdrWriter } from "../../xdr/index.js";
import type { NfsSettings } from "../settings.js";
import { bitmapOf } from "../../protocol/bitmap.js";
import { OPEN_ARGUMENTS } from "./open-arguments.js";

/** Everything an attribute value can be derived from, for one object. */
export interface AttrSource {
  readonly handle: FileHandle;
  readonly attrs: FileAttributes;
  readonly caps: FsCapabilities;
  readonly settings: NfsSettings;
  /** statfs figures; needed only when a needsStats attribute is requested (see needsStats()). */
  readonly stats?: FsStats;
  /** READDIR: the entry's rdattr_error (NFS4_OK when its attributes were read). */
  readonly rdattrError?: nfsstat4;
}

export interface AttrDef {
  readonly bit: number;
  readonly name: string;
  /**
   * Encodes the attribute's value for `src`; returns false, writing nothing,
   * when the object has no value for it (the bit is then left out of the
   * reply). Null for write-only attributes (GETATTR of them is NFS4ERR_INVAL).
   */
  readonly write: ((w: XdrWriter, src: AttrSource) => boolean) | null;
  /** May be set with SETATTR and at creation (see decode.ts). */
  readonly settable: boolean;
  /** Derived from the statfs figures (AttrSource.stats). */
  readonly needsStats: boolean;
}

interface DefOptions {
  readonly settable?: boolean;
  readonly needsStats?: boolean;
}

/** A readable attribute: `get` returns undefined when the object has no value for it. */
function readable<T>(
  bit: number,
  name: string,
  encode: (w: XdrWriter, v: T) => void,
  get: (src: AttrSource) => T | undefined,
  opts: DefOptions = {},
): AttrDef {
  return {
    bit,
    name,
    settable: opts.settable ?? false,
    needsStats: opts.needsStats ?? false,
    write: (w, src) => {
      const v = get(src);
      if (v === undefined) return false;
      encode(w, v);
      return true;
    },
  };
}

function writeOnly(bit: number, name: string): AttrDef {
  return { bit, name, write: null, settable: true, needsStats: false };
}

const utf8 = new TextEncoder();

/**
 * owner and owner_group as decimal ids ("0", "1000"): RFC 8881 (§5, owner) allows
 * numeric strings when the server has no name mapping, and the Linux client
 * accepts them (its idmapper falls back to numbers, and the test VM has none).
 */
function numericName(id: number): Uint8Array {
  let name = numericNames.get(id);
  if (name === undefined) {
    name = utf8.encode(String(id));
    // Bounded: ids repeat (a few users own most files), but a client may send many.
    if (numericNames.size >= MAX_NUMERIC_NAMES) numericNames.clear();
    numericNames.set(id, name);
  }
  return name;
}

/**
 * Encoded owner strings by id, shared (the encoders only read them): every
 * GETATTR and READDIR entry carries two, and TextEncoder.encode was the
 * largest cost of a READDIR entry (CPU profile, 2026-12-02).
 */
const numericNames = new Map<number, Uint8Array>();
const MAX_NUMERIC_NAMES = 4096;

/** Attributes settable in an EXCLUSIVE4_1 create (as Linux nfsd: the times may hold the verifier). */
const EXCLCREAT_BITS = [FATTR4_SIZE, FATTR4_MODE, FATTR4_OWNER, FATTR4_OWNER_GROUP];

const stat = { needsStats: true } as const;
const settable = { settable: true } as const;

/** Every supported attribute, ascending by number. */
export const ATTRS: readonly AttrDef[] = [
  readable(
    FATTR4_SUPPORTED_ATTRS,
    "supported_attrs",
    encodefattr4_supported_attrs,
    () => SUPPORTED_ATTRS,
  ),
  readable(FATTR4_TYPE, "type", encodefattr4_type, (s) => s.attrs.type),
  readable(
    FATTR4_FH_EXPIRE_TYPE,
    "fh_expire_type",
    encodefattr4_fh_expire_type,
    (s) => s.caps.fhExpireType,
  ),
  readable(FATTR4_CHANGE, "change", encodefattr4_change, (s) => s.attrs.change),
  readable(FATTR4_SIZE, "size", encodefattr4_size, (s) => s.attrs.size, settable),
  readable(
    FATTR4_LINK_SUPPORT,
    "link_support",
    encodefattr4_link_support,
    (s) => s.caps.linkSupport,
  ),
  readable(
    FATTR4_SYMLINK_SUPPORT,
    "symlink_support",
    encodefattr4_symlink_support,
    (s) => s.caps.symlinkSupport,
  ),
  readable(FATTR4_NAMED_ATTR, "named_attr", encodefattr4_named_attr, () => false),
  readable(FATTR4_FSID, "fsid", encodefattr4_fsid, (s) => s.attrs.fsid),
  readable(
    FATTR4_UNIQUE_HANDLES,
    "unique_handles",
    encodefattr4_unique_handles,
    (s) => s.caps.uniqueHandles,
  ),
  readable(
    FATTR4_LEASE_TIME,
    "lease_time",
    encodefattr4_lease_time,
    (s) => s.settings.leaseTimeSec,
  ),
  readable(
    FATTR4_RDATTR_ERROR,
    "rdattr_error",
    encodefattr4_rdattr_error,
    (s) => s.rdattrError ?? nfsstat4.NFS4_OK,
  ),
  readable(FATTR4_ACLSUPPORT, "aclsupport", encodefattr4_aclsupport, () => 0),
  readable(FATTR4_CANSETTIME, "cansettime", encodefattr4_cansettime, (s) => s.caps.canSetTime),
  readable(
    FATTR4_CASE_INSENSITIVE,
    "case_insensitive",
    encodefattr4_case_insensitive,
    (s) => s.caps.caseInsensitive,
  ),
  readable(
    FATTR4_CASE_PRESERVING,
    "case_preserving",
    encodefattr4_case_preserving,
    (s) => s.caps.casePreserving,
  ),
  readable(
    FATTR4_CHOWN_RESTRICTED,
    "chown_restricted",
    encodefattr4_chown_restricted,
    (s) => s.caps.chownRestricted,
  ),
  readable(FATTR4_FILEHANDLE, "filehandle", encodefattr4_filehandle, (s) => s.handle),
  readable(FATTR4_FILEID, "fileid", encodefattr4_fileid, (s) => s.attrs.fileid),
  readable(
    FATTR4_FILES_AVAIL,
    "files_avail",
    encodefattr4_files_avail,
    (s) => s.stats?.filesAvail,
    stat,
  ),
  readable(
    FATTR4_FILES_FREE,
    "files_free",
    encodefattr4_files_free,
    (s) => s.stats?.filesFree,
    stat,
  ),
  readable(
    FATTR4_FILES_TOTAL,
    "files_total",
    encodefattr4_files_total,
    (s) => s.stats?.filesTotal,
    stat,
  ),
  // One filesystem, served from this server only: its root is the server's root
  // and there are no other locations (RFC 8881 §11, fs_locations). The pseudo-fs will
  // report the export's path here.
  readable(FATTR4_FS_LOCATIONS, "fs_locations", encodefattr4_fs_locations, () => ({
    fs_root: [],
    locations: [],
  })),
  readable(FATTR4_HOMOGENEOUS, "homogeneous", encodefattr4_homogeneous, () => true),
  readable(FATTR4_MAXFILESIZE, "maxfilesize", encodefattr4_maxfilesize, (s) => s.caps.maxFileSize),
  readable(FATTR4_MAXLINK, "maxlink", encodefattr4_maxlink, (s) => s.caps.maxLink),
  readable(FATTR4_MAXNAME, "maxname", encodefattr4_maxname, (s) => s.caps.maxNameBytes),
  readable(FATTR4_MAXREAD, "maxread", encodefattr4_maxread, (s) => BigInt(s.settings.maxIoSize)),
  readable(FATTR4_MAXWRITE, "maxwrite", encodefattr4_maxwrite, (s) => BigInt(s.settings.maxIoSize)),
  readable(FATTR4_MODE, "mode", encodefattr4_mode, (s) => s.attrs.mode, settable),
  readable(FATTR4_NO_TRUNC, "no_trunc", encodefattr4_no_trunc, (s) => s.caps.noTrunc),
  readable(FATTR4_NUMLINKS, "numlinks", encodefattr4_numlinks, (s) => s.attrs.nlink),
  readable(FATTR4_OWNER, "owner", encodefattr4_owner, (s) => numericName(s.attrs.uid), settable),
  readable(
    FATTR4_OWNER_GROUP,
    "owner_group",
    encodefattr4_owner_group,
    (s) => numericName(s.attrs.gid),
    settable,
  ),
  readable(FATTR4_RAWDEV, "rawdev", encodefattr4_rawdev, (s) => ({
    specdata1: s.attrs.rdev.major,
    specdata2: s.attrs.rdev.minor,
  })),
  readable(
    FATTR4_SPACE_AVAIL,
    "space_avail",
    encodefattr4_space_avail,
    (s) => s.stats?.spaceAvail,
    stat,
  ),
  readable(
    FATTR4_SPACE_FREE,
    "space_free",
    encodefattr4_space_free,
    (s) => s.stats?.spaceFree,
    stat,
  ),
  readable(
    FATTR4_SPACE_TOTAL,
    "space_total",
    encodefattr4_space_total,
    (s) => s.stats?.spaceTotal,
    stat,
  ),
  readable(FATTR4_SPACE_USED, "space_used", encodefattr4_space_used, (s) => s.attrs.spaceUsed),
  readable(FATTR4_TIME_ACCESS, "time_access", encodefattr4_time_access, (s) => s.attrs.atime),
  writeOnly(FATTR4_TIME_ACCESS_SET, "time_access_set"),
  readable(FATTR4_TIME_CREATE, "time_create", encodefattr4_time_create, (s) => s.attrs.birthtime),
  readable(FATTR4_TIME_DELTA, "time_delta", encodefattr4_time_delta, (s) => s.caps.timeDelta),
  readable(FATTR4_TIME_METADATA, "time_metadata", encodefattr4_time_metadata, (s) => s.attrs.ctime),
  readable(FATTR4_TIME_MODIFY, "time_modify", encodefattr4_time_modify, (s) => s.attrs.mtime),
  writeOnly(FATTR4_TIME_MODIFY_SET, "time_modify_set"),
  readable(
    FATTR4_MOUNTED_ON_FILEID,
    "mounted_on_fileid",
    encodefattr4_mounted_on_fileid,
    // An export's root names the pseudo-fs directory it is mounted on (FileAttributes.mountedOnFileid).
    (s) => s.attrs.mountedOnFileid ?? s.attrs.fileid,
  ),
  readable(
    FATTR4_SUPPATTR_EXCLCREAT,
    "suppattr_exclcreat",
    encodefattr4_suppattr_exclcreat,
    () => SUPPATTR_EXCLCREAT,
  ),
  // RFC 8276: true when the backend stores extended attributes (GETXATTR … REMOVEXATTR).
  readable(
    FATTR4_XATTR_SUPPORT,
    "xattr_support",
    encodefattr4_xattr_support,
    (s) => s.caps.xattrs !== null,
  ),
  // RFC 9754 §3: what OPEN accepts; read-only, the same for every filesystem.
  readable(
    FATTR4_OPEN_ARGUMENTS,
    "open_arguments",
    encodefattr4_open_arguments,
    () => OPEN_ARGUMENTS,
  ),
];

/** The table indexed by attribute number (holes for unsupported ones). */
export const ATTR_BY_BIT: readonly (AttrDef | undefined)[] = (() => {
  const out: (AttrDef | undefined)[] = [];
  let last = -1;
  for (const d of ATTRS) {
    if (d.bit <= last) throw new Error(`attribute table out of order at ${d.name}`);
    last = d.bit;
    out[d.bit] = d;
  }
  return out;
})();

/** fattr4_supported_attrs. */
export const SUPPORTED_ATTRS: bitmap4 = bitmapOf(ATTRS.map((d) => d.bit));

/** fattr4_suppattr_exclcreat. */
export const SUPPATTR_EXCLCREAT: bitmap4 = bitmapOf(EXCLCREAT_BITS);

/** Attributes whose values come from statfs. */
export const STATS_ATTRS: bitmap4 = bitmapOf(ATTRS.filter((d) => d.needsStats).map((d) => d.bit));

/** Supported attributes that cannot be read. */
export const WRITE_ONLY_ATTRS: bitmap4 = bitmapOf(
  ATTRS.filter((d) => d.write === null).map((d) => d.bit),
);

/** Attributes SETATTR can change. */
export const SETTABLE_ATTRS: bitmap4 = bitmapOf(ATTRS.filter((d) => d.settable).map((d) => d.bit));

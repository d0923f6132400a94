// The storage backend behind the NFS server. The NFS operations (src/nfs/ops)
// speak only this interface, so the in-memory tree (memory.ts) and the
// persistent local-directory backend (next) are interchangeable.
//
// Design rules every backend follows:
// - File handles are opaque bytes (≤ NFS4_FHSIZE) minted by the backend. A
//   persistent backend encodes something that survives restarts (a filesystem
//   id plus inode and generation); any backend rejects bytes it cannot parse
//   with NFS4ERR_BADHANDLE and parseable handles of objects that no longer
//   exist (or belong to another instance) with NFS4ERR_STALE.
// - Failures are FsErrors carrying the nfsstat4 to answer with (errors.ts).
// - The backend performs no permission checks: the NFS layer evaluates the
//   caller's rights from the attributes (permission.ts) and the backend then
//   acts with the server's own authority.
// - Names are validated by the NFS layer (UTF-8, not "." or "..", no "/",
//   length ≤ capabilities.maxNameBytes); a backend may re-check them.
// - Every modification of an object moves its `change` attribute (and its
//   ctime); a modification of a directory's entries also moves the directory's.
// - Every modification is reported, once it is done, to the observers
//   registered with observe() as FsChange records (changes.ts), whoever made
//   it: this is what directory notifications (RFC 8881 §20.4) are built on.

import type { nfs_ftype4, stable_how4 } from "../../generated/nfs4/index.js";
import type { ChangeListener, ChangeOrigin } from "./changes.js";
import type { NfsErrorStatus } from "./errors.js";
import type { StoreLatency } from "./timed.js";

export { FsError, notSupported, statusOfError, type NfsErrorStatus } from "./errors.js";
export type {
  ChangeListener,
  ChangeOrigin,
  ChangedEntry,
  EntryPlace,
  FsChange,
} from "./changes.js";

/** An opaque file handle, at most NFS4_FHSIZE (128) bytes. */
export type FileHandle = Uint8Array;

/** A point in time, shaped like nfstime4 so it can be encoded directly. */
export interface FsTime {
  readonly seconds: bigint;
  /** 0 ≤ nseconds < 1e9. */
  readonly nseconds: number;
}

/** A device number (fattr4_rawdev's specdata4). */
export interface DeviceNumber {
  readonly major: number;
  readonly minor: number;
}

/** A filesystem id (fattr4_fsid): objects with equal fsids are on the same filesystem. */
export interface FsId {
  readonly major: bigint;
  readonly minor: bigint;
}

/** What a backend knows about one object; the NFS layer derives every fattr4 value from it. */
export interface FileAttributes {
  /** NF4REG, NF4DIR, NF4LNK, NF4BLK, NF4CHR, NF4SOCK or NF4FIFO. */
  readonly type: nfs_ftype4;
  /** Permission bits and set-id/sticky bits (07777). */
  readonly mode: number;
  readonly nlink: number;
  readonly uid: number;
  readonly gid: number;
  /** Bytes of data (for a symlink: the length of its target). */
  readonly size: bigint;
  /** Bytes of storage the object occupies. */
  readonly spaceUsed: bigint;
  /** Unique within the filesystem for the object's lifetime. */
  readonly fileid: bigint;
  readonly atime: FsTime;
  readonly mtime: FsTime;
  readonly ctime: FsTime;
  /** Creation time (fattr4_time_create). */
  readonly birthtime: FsTime;
  /** Moves (never repeats) on every modification of the object's data or attributes. */
  readonly change: bigint;
  /** For block and character devices; zeros otherwise. */
  readonly rdev: DeviceNumber;
  readonly fsid: FsId;
  /**
   * For the root of a filesystem mounted in a namespace (an export's root in
   * the pseudo-filesystem, src/exports/namespace.ts): the fileid of the
   * directory it is mounted on (fattr4_mounted_on_fileid, RFC 8881 §5.8.2.19).
   * Absent: the object's own fileid. Backends leave it out.
   */
  readonly mountedOnFileid?: bigint;
}

/** Properties of the filesystem as a whole (fattr4 "per file system" attributes). */
export interface FsCapabilities {
  /** fattr4_fh_expire_type: FH4_PERSISTENT (0) for handles valid as long as their object lives. */
  readonly fhExpireType: number;
  readonly linkSupport: boolean;
  readonly symlinkSupport: boolean;
  readonly uniqueHandles: boolean;
  readonly caseInsensitive: boolean;
  readonly casePreserving: boolean;
  /** Only a privileged caller may change an object's owner. */
  readonly chownRestricted: boolean;
  /** Overlong names are refused (NFS4ERR_NAMETOOLONG) rather than truncated. */
  readonly noTrunc: boolean;
  /** Times can be set to a client-supplied value. */
  readonly canSetTime: boolean;
  /** Largest byte length of one name. */
  readonly maxNameBytes: number;
  /** Largest link count of one object. */
  readonly maxLink: number;
  /** Largest file size, bytes. */
  readonly maxFileSize: bigint;
  /** Largest symlink target, bytes. */
  readonly maxSymlinkBytes: number;
  /** The granularity of the timestamps (fattr4_time_delta). */
  readonly timeDelta: FsTime;
  /** Extended attributes (RFC 8276) and their limits; null when the backend has none. */
  readonly xattrs: XattrLimits | null;
}

/** A backend's limits on extended attributes (RFC 8276). */
export interface XattrLimits {
  /** Largest key, bytes of UTF-8 (NAMETOOLONG beyond). */
  readonly maxNameBytes: number;
  /** Largest value, bytes (XATTR2BIG beyond). */
  readonly maxValueBytes: number;
  /** Most bytes of keys and values one object may hold in all (NOSPC beyond). */
  readonly maxBytesPerObject: number;
}

/**
 * How SETXATTR treats the key's current state (setxattr_option4, RFC 8276):
 * "either" creates or replaces; "create" fails with EXIST when the key is
 * there; "replace" fails with NOXATTR when it is not.
 */
export type XattrSetHow = "either" | "create" | "replace";

/** A key as LISTXATTRS names it: the key and the cookie to resume after it. */
export interface XattrEntry {
  readonly name: string;
  /** Resuming a listing at this cookie yields the keys after this one; never 0. */
  readonly cookie: bigint;
}

export interface XattrListResult {
  /** In cookie order. */
  readonly entries: readonly XattrEntry[];
  /** True when `entries` ends the object's keys. */
  readonly eof: boolean;
}

/** Space and file-slot figures (the statfs attributes). */
export interface FsStats {
  readonly spaceTotal: bigint;
  readonly spaceFree: bigint;
  /** Free space available to an unprivileged caller. */
  readonly spaceAvail: bigint;
  readonly filesTotal: bigint;
  readonly filesFree: bigint;
  readonly filesAvail: bigint;
}

/** An object found by name: its handle and its attributes. */
export interface Located {
  readonly handle: FileHandle;
  readonly attrs: FileAttributes;
}

/** A directory entry: a name, a cookie to resume after it, and the object or the error met reading it. */
export type DirEntry = {
  readonly name: string;
  /**
   * Resuming a listing at this cookie yields the entries after this one. Stable:
   * the same entry keeps its cookie for as long as the cookie verifier is unchanged.
   * Never 0, 1 or 2 (reserved by NFSv4); real cookies start at FIRST_COOKIE.
   */
  readonly cookie: bigint;
} & (
  | { readonly ok: true; readonly handle: FileHandle; readonly attrs: FileAttributes }
  /** The entry exists but its attributes could not be read (reported as rdattr_error). */
  | { readonly ok: false; readonly error: NfsErrorStatus }
);

/** The first cookie a backend may hand out: 0 starts a listing, 1 and 2 are reserved (RFC 8881 §18.23.3). */
export const FIRST_COOKIE = 3n;

/** Size of a cookie verifier (NFS4_VERIFIER_SIZE). */
export const COOKIE_VERIFIER_BYTES = 8;

/**
 * The cookie verifier a backend whose cookies never go stale hands out (RFC
 * 8881 §18.23.3): all zeros, as Linux nfsd and NFS-Ganesha answer. Such a
 * backend keeps its cookies and never reuses one, and a handle of another
 * instance is NFS4ERR_STALE before its cookie is looked at, so a verifier
 * would tell nothing. Any other value also costs the Linux client: filling
 * its cache of a directory from cookie 0, it keeps the verifier in the
 * directory's inode and, when the reply's differs from the one held there —
 * zero for a directory just read in — drops every cached page but the first,
 * so a cold `ls` of a large directory asked again for what it had just read.
 */
export function stableCookieVerifier(): Uint8Array {
  return new Uint8Array(COOKIE_VERIFIER_BYTES);
}

/** Whether `v` is stableCookieVerifier()'s value (what a client must send back with a cookie). */
export function isStableCookieVerifier(v: Uint8Array): boolean {
  return v.length === COOKIE_VERIFIER_BYTES && v.every((b) => b === 0);
}

/**
 * The index of the first item whose cookie is above `after` (items.length if
 * none), by binary search over items in ascending cookie order: where a
 * listing resumes after a cookie.
 */
export function firstAfterCookie(
  items: readonly { readonly cookie: bigint }[],
  after: bigint,
): number {
  let lo = 0;
  let hi = items.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (items[mid]!.cookie <= after) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export interface ReaddirLimits {
  /** Most entries to return; the NFS layer asks for about as many as its reply can hold. */
  readonly maxEntries: number;
}

export interface ReaddirResult {
  /** In cookie order, never "." or "..". */
  readonly entries: readonly DirEntry[];
  /** True when `entries` ends the directory. */
  readonly eof: boolean;
  /** The verifier the client must present with the returned cookies (8 bytes). */
  readonly verifier: Uint8Array;
}

/** Directory change information (change_info4) for operations that modify a directory. */
export interface ChangeInfo {
  /** True when `before` and `after` bracket exactly this operation's change. */
  readonly atomic: boolean;
  readonly before: bigint;
  readonly after: bigint;
}

/** A time to set: the server's current time, or the given one. */
export type TimeToSet = "now" | FsTime;

/** Attributes to change (SETATTR) or to create an object with. Absent fields stay as they are. */
export interface SetAttributes {
  readonly mode?: number;
  readonly uid?: number;
  readonly gid?: number;
  /** Regular files only: truncates or extends (with zeros). */
  readonly size?: bigint;
  readonly atime?: TimeToSet;
  readonly mtime?: TimeToSet;
}

/** The attributes of a new object: the NFS layer always supplies mode and owner. */
export interface CreateAttributes extends SetAttributes {
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
}

/**
 * How to create a regular file (createmode4, RFC 8881 §18.16):
 * - "unchecked": an existing regular file is not an error; it is returned
 *   untouched except that a requested size of 0 truncates it;
 * - "guarded": an existing entry is NFS4ERR_EXIST;
 * - "exclusive": the backend stores `verifier` with the file; a retry with the
 *   same verifier finds the file and succeeds, any other existing entry is
 *   NFS4ERR_EXIST.
 * An existing entry that is not a regular file is NFS4ERR_ISDIR (directory),
 * NFS4ERR_SYMLINK (symbolic link) or NFS4ERR_WRONG_TYPE, whatever the mode.
 */
export type CreateHow =
  | { readonly kind: "unchecked" }
  | { readonly kind: "guarded" }
  | { readonly kind: "exclusive"; readonly verifier: Uint8Array };

export interface CreateResult extends Located {
  /** False when "unchecked" or "exclusive" found the file already there. */
  readonly created: boolean;
  /** The change of the parent directory. */
  readonly dirChange: ChangeInfo;
}

export interface ReadResult {
  readonly data: Uint8Array;
  /** True when the read reached the end of the file. */
  readonly eof: boolean;
}

export interface WriteResult {
  /** Bytes written: all of them (a backend fails rather than writing short). */
  readonly count: number;
  /** How durable the data now is: at least what was asked for. */
  readonly committed: stable_how4;
  /** Changes when uncommitted data may have been lost (e.g. at restart), 8 bytes. */
  readonly verifier: Uint8Array;
}

export interface CommitResult {
  readonly verifier: Uint8Array;
}

export interface RenameResult {
  readonly source: ChangeInfo;
  readonly target: ChangeInfo;
}

/** Special files MKNOD can make. */
export type SpecialType =
  | typeof nfs_ftype4.NF4BLK
  | typeof nfs_ftype4.NF4CHR
  | typeof nfs_ftype4.NF4SOCK
  | typeof nfs_ftype4.NF4FIFO;

/**
 * An exported filesystem. Every method may fail with an FsError; the statuses
 * listed are the ones callers should expect beyond NFS4ERR_BADHANDLE/STALE
 * (any handle argument) and NFS4ERR_IO/NOSPC/DQUOT/ROFS (any modification).
 * Methods a backend does not implement fail with NFS4ERR_NOTSUPP.
 */
export interface FileSystem {
  readonly capabilities: FsCapabilities;
  /** What keeps its data ("memory", "sqlite+local", "postgres+s3"): the metrics endpoint's store label. */
  readonly storeKind?: string;
  /**
   * Times the calls into the payload store beneath (file contents: "local",
   * "s3") into `latency` from now on, for the metrics endpoint; a backend
   * without one need not have it. Called once (src/fs/timed.ts).
   */
  timePayloads?(latency: StoreLatency): void;

  /** The handle of the filesystem's root directory. */
  root(): Promise<FileHandle>;

  /** The object's attributes; also how a handle is validated. */
  getattr(handle: FileHandle): Promise<FileAttributes>;

  /** The entry `name` of directory `dir`. NOENT, NOTDIR. */
  lookup(dir: FileHandle, name: string): Promise<Located>;

  /** The directory containing directory `dir`. NOENT for the root, NOTDIR. */
  lookupParent(dir: FileHandle): Promise<Located>;

  /**
   * Entries of `dir` after `cookie` (0: from the start). For a non-zero
   * cookie `verifier` must equal the one returned with it (else NOT_SAME);
   * a cookie never handed out is BAD_COOKIE. NOTDIR.
   */
  readdir(
    dir: FileHandle,
    cookie: bigint,
    verifier: Uint8Array,
    limits: ReaddirLimits,
  ): Promise<ReaddirResult>;

  /** Space and file figures of the filesystem holding `handle`. */
  statfs(handle: FileHandle): Promise<FsStats>;

  /** Up to `count` bytes at `offset`. ISDIR, SYMLINK, WRONG_TYPE for non-regular files. */
  read(handle: FileHandle, offset: bigint, count: number): Promise<ReadResult>;

  /** Writes `data` at `offset`, extending the file as needed. ISDIR, SYMLINK, WRONG_TYPE, FBIG. */
  write(
    handle: FileHandle,
    offset: bigint,
    data: Uint8Array,
    stable: stable_how4,
    origin?: ChangeOrigin | null,
  ): Promise<WriteResult>;

  /** Makes data written with UNSTABLE4 durable (`count` 0: to the end of the file). */
  commit(handle: FileHandle, offset: bigint, count: number): Promise<CommitResult>;

  /** Creates (or, per `how`, finds) the regular file `name` in `dir`. EXIST, NOTDIR. */
  create(
    dir: FileHandle,
    name: string,
    how: CreateHow,
    attrs: CreateAttributes,
    origin?: ChangeOrigin | null,
  ): Promise<CreateResult>;

  /** Creates directory `name` in `dir`. EXIST, NOTDIR, MLINK. */
  mkdir(
    dir: FileHandle,
    name: string,
    attrs: CreateAttributes,
    origin?: ChangeOrigin | null,
  ): Promise<CreateResult>;

  /** Creates symbolic link `name` in `dir` pointing at `target` (bytes, not interpreted). EXIST, NOTDIR, NAMETOOLONG. */
  symlink(
    dir: FileHandle,
    name: string,
    target: Uint8Array,
    attrs: CreateAttributes,
    origin?: ChangeOrigin | null,
  ): Promise<CreateResult>;

  /** Creates a device, socket or FIFO. EXIST, NOTDIR, BADTYPE. */
  mknod(
    dir: FileHandle,
    name: string,
    type: SpecialType,
    rdev: DeviceNumber,
    attrs: CreateAttributes,
    origin?: ChangeOrigin | null,
  ): Promise<CreateResult>;

  /** The target of a symbolic link. INVAL for other objects. */
  readlink(handle: FileHandle): Promise<Uint8Array>;

  /** Removes entry `name` (a non-directory, or an empty directory). NOENT, NOTDIR, NOTEMPTY. */
  remove(dir: FileHandle, name: string, origin?: ChangeOrigin | null): Promise<ChangeInfo>;

  /**
   * Renames, replacing a compatible target (both non-directories, or both
   * directories with the target empty; otherwise EXIST). Renaming a name onto a
   * link to the same object does nothing. Moving a directory into itself is INVAL.
   */
  rename(
    fromDir: FileHandle,
    fromName: string,
    toDir: FileHandle,
    toName: string,
    origin?: ChangeOrigin | null,
  ): Promise<RenameResult>;

  /** Adds the name `name` in `dir` for the non-directory `handle`. EXIST, ISDIR, MLINK. */
  link(
    handle: FileHandle,
    dir: FileHandle,
    name: string,
    origin?: ChangeOrigin | null,
  ): Promise<ChangeInfo>;

  /** Applies `attrs` and returns the new attributes. INVAL (size of a non-file), ISDIR (size of a directory), FBIG. */
  setattr(
    handle: FileHandle,
    attrs: SetAttributes,
    origin?: ChangeOrigin | null,
  ): Promise<FileAttributes>;

  /** The value of extended attribute `name`. NOXATTR. */
  getxattr(handle: FileHandle, name: string): Promise<Uint8Array>;

  /**
   * Sets extended attribute `name` to `value` as `how` says (EXIST,
   * NOXATTR), within the limits of capabilities.xattrs (NAMETOOLONG,
   * XATTR2BIG, NOSPC). The object's change attribute and ctime move and an
   * "attributes" change is reported. Returns the object's change_info.
   */
  setxattr(
    handle: FileHandle,
    name: string,
    value: Uint8Array,
    how: XattrSetHow,
    origin?: ChangeOrigin | null,
  ): Promise<ChangeInfo>;

  /**
   * The keys of the object after `cookie` (0: from the start), at most
   * `maxEntries` of them. Cookies are stable while their key lives; a cookie
   * never handed out for this object is BAD_COOKIE.
   */
  listxattrs(handle: FileHandle, cookie: bigint, maxEntries: number): Promise<XattrListResult>;

  /** Removes extended attribute `name` (NOXATTR), reported like setxattr. */
  removexattr(handle: FileHandle, name: string, origin?: ChangeOrigin | null): Promise<ChangeInfo>;

  /**
   * Registers `listener` for every change made from now on (by any caller;
   * `origin`, as the mutating method was given it, says by whom). Listeners
   * run synchronously once the change is done and must not throw. Returns
   * the function that unregisters it. A backend builds no records while no
   * listener is registered.
   */
  observe(listener: ChangeListener): () => void;

  /**
   * Keeps the object alive while the NFS layer holds state on it (an OPEN):
   * when its last name goes (REMOVE, or RENAME over it) its handle, attributes
   * and data stay usable — nlink 0, reachable by handle only — until the
   * matching unpin(). Pins are counted: n pin() calls need n unpin()
   * calls. A persistent backend keeps a descriptor open or an orphan record;
   * after a restart there are no pins. Names cannot be added to an object
   * that has lost its last one (NFS4ERR_STALE).
   */
  pin(handle: FileHandle): Promise<void>;

  /**
   * Drops one pin(); the last unpin of an object with no names left frees
   * it (its handle is STALE from then on). Never fails: unpinning an object
   * that is not pinned, or whose handle is stale, does nothing, so cleanup paths
   * (CLOSE, lease expiry) need no error handling.
   */
  unpin(handle: FileHandle): Promise<void>;
}

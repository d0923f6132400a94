// The objects of the in-memory tree and their handles.

import { nfs_ftype4, nfsstat4 } from "../../generated/nfs4/index.js";
import {
  FsError,
  type DeviceNumber,
  type FileHandle,
  type FsTime,
  type NfsErrorStatus,
} from "./backend.js";
import type { DirListing } from "./memory-dir.js";
import type { FileData } from "./memory-file-data.js";

/** Handle layout: 8-byte big-endian fileid, then the 8-byte instance generation. */
const HANDLE_BYTES = 16;
export const GENERATION_BYTES = 8;

export const NO_DEVICE: DeviceNumber = { major: 0, minor: 0 };

export type Content =
  | {
      readonly kind: "file";
      /** The bytes; `size` says where the file ends. */
      readonly data: FileData;
      size: number;
      /** The EXCLUSIVE4(_1) create verifier, kept to recognise a retried create. */
      createVerifier: Uint8Array | null;
    }
  | {
      readonly kind: "dir";
      readonly entries: DirListing<MemNode>;
      /** null for the root. */
      parent: MemNode | null;
    }
  | { readonly kind: "symlink"; readonly target: Uint8Array }
  | { readonly kind: "special"; readonly rdev: DeviceNumber };

/** One name of a node: the entry `name` of directory `parent`. */
export interface MemLink {
  parent: MemNode;
  name: string;
}

export interface MemNode {
  readonly fileid: bigint;
  readonly type: nfs_ftype4;
  readonly handle: FileHandle;
  mode: number;
  uid: number;
  gid: number;
  nlink: number;
  /** The entries naming the node (none for the root and for a node whose names are all gone). */
  readonly links: MemLink[];
  /** pin() calls not yet unpinned: while positive, the node outlives its last name. */
  pins: number;
  atime: FsTime;
  mtime: FsTime;
  ctime: FsTime;
  readonly birthtime: FsTime;
  change: bigint;
  readonly content: Content;
  /** Extended attributes by key, in cookie order (a replaced value keeps its place). */
  readonly xattrs: Map<string, MemXattr>;
  /** The last xattr cookie handed out for this node (cookies start at 1). */
  xattrCookie: bigint;
  /** Bytes of keys and values in `xattrs`, charged against capacity. */
  xattrBytes: number;
}

/** One extended attribute of a node. */
export interface MemXattr {
  value: Uint8Array;
  readonly cookie: bigint;
}

/** Throws the FsError for `status` (typed `never` so it can end an expression). */
export function fail(status: NfsErrorStatus, message?: string): never {
  throw new FsError(status, message);
}

/** Byte-wise equality (handles, verifiers). */
export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** The error for using a non-regular object as a regular file (READ, WRITE, OPEN, COMMIT). */
export function notAFile(node: MemNode): never {
  if (node.type === nfs_ftype4.NF4DIR) fail(nfsstat4.NFS4ERR_ISDIR);
  if (node.type === nfs_ftype4.NF4LNK) fail(nfsstat4.NFS4ERR_SYMLINK);
  fail(nfsstat4.NFS4ERR_WRONG_TYPE);
}

/** The handle of object `fileid` in the instance with `generation`. */
export function makeHandle(fileid: bigint, generation: Uint8Array): FileHandle {
  const handle = new Uint8Array(HANDLE_BYTES);
  new DataView(handle.buffer).setBigUint64(0, fileid);
  handle.set(generation, HANDLE_BYTES - GENERATION_BYTES);
  return handle;
}

/**
 * The fileid a handle names: BADHANDLE for bytes not shaped like ours, STALE
 * for another instance's (whose objects are gone).
 */
export function parseHandle(handle: FileHandle, generation: Uint8Array): bigint {
  if (handle.length !== HANDLE_BYTES) fail(nfsstat4.NFS4ERR_BADHANDLE);
  const gen = handle.subarray(HANDLE_BYTES - GENERATION_BYTES);
  if (!sameBytes(gen, generation)) fail(nfsstat4.NFS4ERR_STALE, "handle of another instance");
  return new DataView(handle.buffer, handle.byteOffset, handle.length).getBigUint64(0);
}

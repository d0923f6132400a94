// Tunables of the in-memory backend, each with its default.

import type { FsId, FsTime } from "./backend.js";
import { now } from "./clock.js";

/** Tunables of the in-memory backend; every field has a default in MEMORY_FS_DEFAULTS. */
export interface MemoryFsOptions {
  /** Bytes of storage the tree may use (space_total). */
  readonly capacityBytes: number;
  /** Most objects the tree may hold, root included (files_total). */
  readonly maxFiles: number;
  /** Allocation unit: files use whole blocks, a directory one block (space_used). */
  readonly blockSize: number;
  /** Largest name, bytes (maxname). */
  readonly maxNameBytes: number;
  /** Largest link count (maxlink). */
  readonly maxLink: number;
  /** Largest symlink target, bytes. */
  readonly maxSymlinkBytes: number;
  /** Largest file (maxfilesize); null means capacityBytes, since data is stored densely. */
  readonly maxFileSize: number | null;
  /** Largest extended-attribute key, bytes (Linux XATTR_NAME_MAX). */
  readonly maxXattrNameBytes: number;
  /** Largest extended-attribute value, bytes (Linux XATTR_SIZE_MAX). */
  readonly maxXattrValueBytes: number;
  /** Most bytes of extended-attribute keys and values one object holds; they count against capacityBytes too. */
  readonly maxXattrBytesPerObject: number;
  /** The filesystem id reported for every object. */
  readonly fsid: FsId;
  /** Name, mode and owner of the export directory under the root. */
  readonly exportName: string;
  readonly exportMode: number;
  readonly exportUid: number;
  readonly exportGid: number;
  /** Source of timestamps (tests pin it). */
  readonly clock: () => FsTime;
}

export const MEMORY_FS_DEFAULTS: MemoryFsOptions = {
  capacityBytes: 1024 * 1024 * 1024,
  maxFiles: 1_000_000,
  blockSize: 4096,
  maxNameBytes: 255,
  maxLink: 65_000,
  maxSymlinkBytes: 4096,
  maxFileSize: null,
  maxXattrNameBytes: 255,
  maxXattrValueBytes: 64 * 1024,
  maxXattrBytesPerObject: 256 * 1024,
  fsid: { major: 1n, minor: 0n },
  exportName: "export",
  exportMode: 0o755,
  exportUid: 0,
  exportGid: 0,
  clock: now,
};

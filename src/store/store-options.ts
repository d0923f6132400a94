// Tunables of StoreFileSystem, each with its default.

import type { FsId, FsTime } from "../fs/backend.js";
import { now } from "../fs/clock.js";

export interface StoreFsOptions {
  /** Most objects the store may hold, root included (files_total); one more is NOSPC. */
  readonly maxFiles: number;
  /** Allocation unit reported in space_used: files use whole blocks, a directory one. */
  readonly blockSize: number;
  /** Largest name, bytes (maxname). */
  readonly maxNameBytes: number;
  /** Largest link count (maxlink). */
  readonly maxLink: number;
  /** Largest symlink target, bytes. */
  readonly maxSymlinkBytes: number;
  /** Largest file, bytes (maxfilesize): 16 TiB, ext4's limit with 4 KiB blocks. */
  readonly maxFileSize: number;
  /** The filesystem id reported for every object. */
  readonly fsid: FsId;
  /** Name, mode and owner of the export directory made under the root of a new store. */
  readonly exportName: string;
  readonly exportMode: number;
  readonly exportUid: number;
  readonly exportGid: number;
  /** Source of timestamps (tests pin it). */
  readonly clock: () => FsTime;
}

export const STORE_FS_DEFAULTS: StoreFsOptions = {
  maxFiles: 100_000_000,
  blockSize: 4096,
  maxNameBytes: 255,
  maxLink: 65_000,
  maxSymlinkBytes: 4096,
  maxFileSize: 2 ** 44,
  fsid: { major: 1n, minor: 0n },
  exportName: "export",
  exportMode: 0o755,
  exportUid: 0,
  exportGid: 0,
  clock: now,
};

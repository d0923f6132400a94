// The tunables every backend shares (names, links, the export directory, the
// clock), each with its default; a backend's own options extend them.

import type { FsId, FsTime } from "./backend.js";
import { now } from "./clock.js";

export interface CommonFsOptions {
  /** Allocation unit: files use whole blocks, a directory one block (space_used). */
  readonly blockSize: number;
  /** Largest name, bytes (maxname). */
  readonly maxNameBytes: number;
  /** Largest link count (maxlink). */
  readonly maxLink: number;
  /** Largest symlink target, bytes. */
  readonly maxSymlinkBytes: number;
  /** The filesystem id reported for every object. */
  readonly fsid: FsId;
  /** Name, mode and owner of the export directory made under the root. */
  readonly exportName: string;
  readonly exportMode: number;
  readonly exportUid: number;
  readonly exportGid: number;
  /** Source of timestamps (tests pin it). */
  readonly clock: () => FsTime;
  /** Largest extended-attribute key, bytes (Linux XATTR_NAME_MAX). */
  readonly maxXattrNameBytes: number;
  /** Largest extended-attribute value, bytes (Linux XATTR_SIZE_MAX). */
  readonly maxXattrValueBytes: number;
  /** Most bytes of extended-attribute keys and values one object holds (NOSPC beyond). */
  readonly maxXattrBytesPerObject: number;
}

export const COMMON_FS_DEFAULTS: CommonFsOptions = {
  blockSize: 4096,
  maxNameBytes: 255,
  maxLink: 65_000,
  maxSymlinkBytes: 4096,
  fsid: { major: 1n, minor: 0n },
  exportName: "export",
  exportMode: 0o755,
  exportUid: 0,
  exportGid: 0,
  clock: now,
  maxXattrNameBytes: 255,
  maxXattrValueBytes: 64 * 1024,
  maxXattrBytesPerObject: 256 * 1024,
};

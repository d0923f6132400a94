// Tunables of the in-memory backend, each with its default.

import { COMMON_FS_DEFAULTS, type CommonFsOptions } from "./fs-options.js";

/** Tunables of the in-memory backend; every field has a default in MEMORY_FS_DEFAULTS. */
export interface MemoryFsOptions extends CommonFsOptions {
  /** Bytes of storage the tree may use (space_total). */
  readonly capacityBytes: number;
  /** Most objects the tree may hold, root included (files_total). */
  readonly maxFiles: number;
  /** Largest file (maxfilesize); null means capacityBytes, since data is stored densely. */
  readonly maxFileSize: number | null;
  /** Largest extended-attribute key, bytes (Linux XATTR_NAME_MAX). */
  readonly maxXattrNameBytes: number;
  /** Largest extended-attribute value, bytes (Linux XATTR_SIZE_MAX). */
  readonly maxXattrValueBytes: number;
  /** Most bytes of extended-attribute keys and values one object holds; they count against capacityBytes too. */
  readonly maxXattrBytesPerObject: number;
}

export const MEMORY_FS_DEFAULTS: MemoryFsOptions = {
  ...COMMON_FS_DEFAULTS,
  capacityBytes: 1024 * 1024 * 1024,
  maxFiles: 1_000_000,
  maxFileSize: null,
  maxXattrNameBytes: 255,
  maxXattrValueBytes: 64 * 1024,
  maxXattrBytesPerObject: 256 * 1024,
};

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
  // Extended attributes (maxXattr*: CommonFsOptions) count against capacityBytes too.
}

export const MEMORY_FS_DEFAULTS: MemoryFsOptions = {
  ...COMMON_FS_DEFAULTS,
  capacityBytes: 1024 * 1024 * 1024,
  maxFiles: 1_000_000,
  maxFileSize: null,
};

// Tunables of StoreFileSystem, each with its default.

import { COMMON_FS_DEFAULTS, type CommonFsOptions } from "../fs/fs-options.js";

export interface StoreFsOptions extends CommonFsOptions {
  /** Most objects the store may hold, root included (files_total); one more is NOSPC. */
  readonly maxFiles: number;
  /** Largest file, bytes (maxfilesize): 16 TiB, ext4's limit with 4 KiB blocks. */
  readonly maxFileSize: number;
}

export const STORE_FS_DEFAULTS: StoreFsOptions = {
  ...COMMON_FS_DEFAULTS,
  maxFiles: 100_000_000,
  maxFileSize: 2 ** 44,
};

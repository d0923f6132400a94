// Tunables of StoreFileSystem, each with its default.

import { COMMON_FS_DEFAULTS, type CommonFsOptions } from "../fs/fs-options.js";
import { DEFAULT_STORE_SETTINGS } from "./settings.js";

export interface StoreFsOptions extends CommonFsOptions {
  /** Most objects the store may hold, root included (files_total); one more is NOSPC. */
  readonly maxFiles: number;
  /** Largest file, bytes (maxfilesize): 16 TiB, ext4's limit with 4 KiB blocks. */
  readonly maxFileSize: number;
  /**
   * Files whose UNSTABLE4 WRITEs' size and times are held in memory until a
   * transaction on the file, its COMMIT or the age limit (held-attributes.ts),
   * at most; 0: each such WRITE takes a metadata transaction.
   */
  readonly heldAttributesFiles: number;
  /**
   * Files remembered as holding nothing past their size in their payload
   * (clean-tails.ts), at most; 0: none (every extending WRITE cuts first).
   */
  readonly cleanTailFiles: number;
  /** Held attributes go into the store at the latest this long after the first of them (ms). */
  readonly heldAttributesMaxAgeMs: number;
}

export const STORE_FS_DEFAULTS: StoreFsOptions = {
  ...COMMON_FS_DEFAULTS,
  maxFiles: 100_000_000,
  maxFileSize: 2 ** 44,
  heldAttributesFiles: DEFAULT_STORE_SETTINGS.heldAttributesFiles,
  heldAttributesMaxAgeMs: DEFAULT_STORE_SETTINGS.writeBehindMaxAgeMs,
  cleanTailFiles: DEFAULT_STORE_SETTINGS.cleanTailFiles,
};

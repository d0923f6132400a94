// What the NFS layer asks about the export an object belongs to. The
// Namespace (namespace.ts) answers for a server with exports; a lone
// backend used without one (unit tests of single operations) is one export
// with the default rules (singleExportPolicy).

import type { FileHandle, FileSystem, FsCapabilities } from "../fs/backend.js";
import type { AddressBytes } from "./address.js";
import { DEFAULT_EXPORT_RULES, type ExportRules } from "./rules.js";

export interface ExportPolicy {
  /** The rules of the export holding `handle` (the pseudo-filesystem's for its directories). */
  rulesOf(handle: FileHandle): ExportRules;
  /** The capabilities of the filesystem holding `handle` (backends differ: xattrs, limits). */
  capabilitiesOf(handle: FileHandle): FsCapabilities;
  /**
   * May a client at `address` see and use `handle`? For an export's object,
   * whether the export's client list admits it; for a pseudo-filesystem
   * directory, whether some export beneath it does (the root always).
   */
  reachable(handle: FileHandle, address: AddressBytes | null): boolean;
  /**
   * True when every entry of directory `dir` lies in `dir`'s own export, as
   * in any directory but the pseudo-filesystem's (exports do not nest): then
   * what rulesOf, capabilitiesOf and reachable answer for `dir` holds for
   * each entry, and READDIR asks once instead of per entry.
   */
  entriesShareExport(dir: FileHandle): boolean;
}

/** Every object in one export with `rules`, on `fs`. */
export function singleExportPolicy(
  fs: Pick<FileSystem, "capabilities">,
  rules: ExportRules = DEFAULT_EXPORT_RULES,
): ExportPolicy {
  return {
    rulesOf: () => rules,
    capabilitiesOf: () => fs.capabilities,
    reachable: () => true,
    entriesShareExport: () => true,
  };
}

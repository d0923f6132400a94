// Opens the backends of the configured exports (config/exports.ts) for
// `dfs serve`: a new memory tree, a SQLite data directory, or a PostgreSQL
// database with its data directory, per export.
// Either every export opens or none stays open.

import type { ExportConfig } from "../config/exports.js";
import type { ExportDefinition } from "../exports/namespace.js";
import { MemoryFileSystem } from "../fs/memory.js";
import { openDataDir, type MetadataLocation, type OpenedStore } from "../store/data-dir.js";
import type { DataDirLimits } from "../store/settings.js";

export interface OpenedExports {
  readonly exports: readonly ExportDefinition[];
  /** Closes every store the exports opened. */
  close(): Promise<void>;
}

export async function openExports(
  configs: readonly ExportConfig[],
  limits: DataDirLimits,
): Promise<OpenedExports> {
  const stores: OpenedStore[] = [];
  const close = async (): Promise<void> => {
    for (const s of stores.splice(0).reverse()) await s.close();
  };
  const exports: ExportDefinition[] = [];
  try {
    for (const c of configs) {
      let fs;
      if (c.backend !== "memory") {
        const store = await openDataDir(c.dataDir, {}, limits, metadataLocation(c));
        stores.push(store);
        fs = store.fs;
      } else {
        fs = new MemoryFileSystem();
      }
      exports.push({ path: c.path, id: c.id, fs, rules: c.rules });
    }
  } catch (e) {
    await close();
    throw e;
  }
  return { exports, close };
}

/** Where a store's metadata lives, from its backend and URL (config: `store` or an export). */
export function metadataLocation(c: {
  readonly backend: string;
  readonly postgresUrl: string;
}): MetadataLocation {
  return c.backend === "postgres" ? { kind: "postgres", url: c.postgresUrl } : { kind: "sqlite" };
}

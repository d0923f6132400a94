// Opens the backends of the configured exports (config/exports.ts) for
// `dfs serve`: a new memory tree, a SQLite data directory, or a PostgreSQL
// database with its data directory, per export.
// Either every export opens or none stays open. A reload opens and closes
// single exports' stores (add, release).

import type { ExportConfig } from "../config/exports.js";
import { storeOpenMessage } from "../config/store-errors.js";
import { pathComponents, type ExportDefinition } from "../exports/namespace.js";
import { MemoryFileSystem } from "../fs/memory.js";
import {
  openDataDir,
  type MetadataLocation,
  type OpenedStore,
  type PayloadLocation,
} from "../store/data-dir.js";
import type { PayloadStoreKind, StoreSettings } from "../store/settings.js";

export interface OpenedExports {
  readonly exports: readonly ExportDefinition[];
  /**
   * Opens the store of one more export (a configuration reload, `index` its
   * place in the file for messages); closed by close() like the others.
   */
  add(c: ExportConfig, index: number): Promise<ExportDefinition>;
  /** Closes the store of the export at `path` (a reload removed it). */
  release(path: string): Promise<void>;
  /** Closes every store the exports opened. */
  close(): Promise<void>;
}

/** Opens one export's store: a new memory tree, or its data directory (and database). */
async function openOne(
  c: ExportConfig,
  index: number,
  store: StoreSettings,
  onLeaseLost: ((why: string) => void) | undefined,
): Promise<{ def: ExportDefinition; store: OpenedStore | null }> {
  if (c.backend === "memory")
    return {
      def: { path: c.path, id: c.id, fs: new MemoryFileSystem(), rules: c.rules },
      store: null,
    };
  const opened = await openDataDir(
    c.dataDir,
    {},
    store,
    metadataLocation(c, onLeaseLost),
    // Each export's objects under a prefix of its own in the one bucket.
    payloadLocation(store, c.payload, `exports/${pathComponents(c.path).join("-")}/`),
  ).catch((e: unknown) => {
    throw new Error(storeOpenMessage(e, ["exports", index]));
  });
  return { def: { path: c.path, id: c.id, fs: opened.fs, rules: c.rules }, store: opened };
}

export async function openExports(
  configs: readonly ExportConfig[],
  store: StoreSettings,
  onLeaseLost?: (why: string) => void,
): Promise<OpenedExports> {
  /** Each export's store, by path, in the order opened (memory exports have none). */
  const stores = new Map<string, OpenedStore>();
  const close = async (): Promise<void> => {
    const all = [...stores.values()].reverse();
    stores.clear();
    for (const s of all) await s.close();
  };
  const add = async (c: ExportConfig, index: number): Promise<ExportDefinition> => {
    const opened = await openOne(c, index, store, onLeaseLost);
    if (opened.store !== null) stores.set(c.path, opened.store);
    return opened.def;
  };
  const exports: ExportDefinition[] = [];
  try {
    for (const [i, c] of configs.entries()) exports.push(await add(c, i));
  } catch (e) {
    await close();
    throw e;
  }
  const release = async (path: string): Promise<void> => {
    const s = stores.get(path);
    stores.delete(path);
    await s?.close();
  };
  return { exports, add, release, close };
}

/** Where a store's metadata lives, from its backend and URL (config: `store` or an export). */
export function metadataLocation(
  c: { readonly backend: string; readonly postgresUrl: string },
  onLeaseLost?: (why: string) => void,
): MetadataLocation {
  if (c.backend !== "postgres") return { kind: "sqlite" };
  return { kind: "postgres", url: c.postgresUrl, ...(onLeaseLost ? { onLeaseLost } : {}) };
}

/** Where a store's files' contents live (`payload`), S3 keys under `store.s3Prefix` + `subPrefix`. */
export function payloadLocation(
  store: StoreSettings,
  payload: PayloadStoreKind,
  subPrefix = "",
): PayloadLocation {
  if (payload === "local") return { kind: "local" };
  return {
    kind: "s3",
    options: {
      endpoint: store.s3Endpoint,
      region: store.s3Region,
      bucket: store.s3Bucket,
      prefix: store.s3Prefix + subPrefix,
      accessKeyId: store.s3AccessKeyId,
      secretAccessKey: store.s3SecretAccessKey,
      blockSize: store.s3BlockSize,
      durability: store.s3Durability,
      uploadDelayMs: store.s3UploadDelayMs,
      uploadConcurrency: store.s3UploadConcurrency,
      maxDirtyBlocks: store.s3MaxDirtyBlocks,
      capacityBytes: store.s3CapacityBytes,
    },
  };
}

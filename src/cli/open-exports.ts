// Opens the backends of the configured exports (config/exports.ts) for
// `dfs serve`: a new memory tree, a SQLite data directory, or a PostgreSQL
// database with its data directory, per export.
// Either every export opens or none stays open.

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
  /** Closes every store the exports opened. */
  close(): Promise<void>;
}

export async function openExports(
  configs: readonly ExportConfig[],
  store: StoreSettings,
  onLeaseLost?: (why: string) => void,
): Promise<OpenedExports> {
  const stores: OpenedStore[] = [];
  const close = async (): Promise<void> => {
    for (const s of stores.splice(0).reverse()) await s.close();
  };
  const exports: ExportDefinition[] = [];
  try {
    for (const [i, c] of configs.entries()) {
      let fs;
      if (c.backend !== "memory") {
        const opened = await openDataDir(
          c.dataDir,
          {},
          store,
          metadataLocation(c, onLeaseLost),
          // Each export's objects under a prefix of its own in the one bucket.
          payloadLocation(store, c.payload, `exports/${pathComponents(c.path).join("-")}/`),
        ).catch((e: unknown) => {
          throw new Error(storeOpenMessage(e, ["exports", i]));
        });
        stores.push(opened);
        fs = opened.fs;
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

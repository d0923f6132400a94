// The data directory of the embedded store: `metadata.sqlite` (the SQLite
// metadata store, with its -wal and -shm files), `payload/` (one sparse file
// per regular file) and `lock`, which holds the pid of the server using it.
// With the metadata in PostgreSQL (pg-metadata.ts) the directory holds no
// metadata.sqlite; with files' contents in S3 (s3-payload.ts) it holds
// `s3-staging/`, the write-back tier, instead of `payload/`.
//
// The lock file, not SQLite's own locking, keeps a second server process
// away: SQLite would let two processes share the database (WAL allows it),
// but pins and the write verifier live in one process's memory, so two
// servers on one directory would free each other's open files. The lock is
// taken with O_EXCL; a lock whose pid no longer runs is stale and replaced.

import { accessSync, constants, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join, resolve } from "node:path";
import { LocalPayloadStore } from "./local-payload.js";
import type { MetadataStore } from "./metadata.js";
import type { PayloadStore } from "./payload.js";
import type { S3PayloadOptions } from "./s3-payload.js";
import type { ClientRecoveryStore } from "./recovery.js";
import { DEFAULT_STORE_SETTINGS, type DataDirLimits } from "./settings.js";
import { SqliteMetadataStore } from "./sqlite-metadata.js";
import { StoreFileSystem, type StoreFsOptions } from "./store-fs.js";
import { WriteBehindPayloadStore } from "./write-behind.js";

/** Which part of a store could not be opened: the directory, the metadata database, or the payload store. */
export type StorePart = "directory" | "metadata" | "payload";

export class DataDirError extends Error {
  override readonly name = "DataDirError";
  constructor(
    message: string,
    /** So a caller can name the setting at fault (config/store-errors.ts). */
    readonly part: StorePart = "directory",
  ) {
    super(message);
  }
}

/** A StoreFileSystem over the data directory, and how to close it (releasing the lock). */
export interface OpenedStore {
  readonly fs: StoreFileSystem;
  /**
   * The server's identity (eir_server_owner.so_major_id, eir_server_scope)
   * for this store: derived from the store's persistent id, so a server
   * restarted on the same data directory is the same server to its clients
   * (RFC 8881 §2.10.4), whose file handles stay valid.
   */
  readonly serverOwner: Uint8Array;
  /**
   * The client recovery records kept in the metadata store, so that a server
   * restarted on this directory lets its clients reclaim (NfsServerOptions.recovery).
   */
  readonly recovery: ClientRecoveryStore;
  close(): Promise<void>;
}

/** Where files' contents live: sparse files in the data directory, or an S3 bucket. */
export type PayloadLocation =
  | { readonly kind: "local" }
  | {
      readonly kind: "s3";
      readonly options: Omit<S3PayloadOptions, "stagingDir" | "maxOpenFiles" | "inlineIoMaxBytes">;
    };

/** Where the metadata lives: SQLite in the data directory, or a PostgreSQL database. */
export type MetadataLocation =
  | { readonly kind: "sqlite" }
  | {
      readonly kind: "postgres";
      readonly url: string;
      /** Another server took the database over (pg-lease.ts): this one must stop serving. */
      readonly onLeaseLost?: (why: string) => void;
    };

/** Opens (creating if needed) the data directory `dir` for this process. */
export async function openDataDir(
  dir: string,
  options: Partial<StoreFsOptions> = {},
  limits: Partial<DataDirLimits> = {},
  metadata: MetadataLocation = { kind: "sqlite" },
  payload: PayloadLocation = { kind: "local" },
): Promise<OpenedStore> {
  const {
    maxOpenPayloads,
    inlineIoMaxBytes,
    writeBehindFileMaxBytes,
    writeBehindMaxBytes,
    writeBehindMaxAgeMs,
    heldAttributesFiles,
    cleanTailFiles,
    objectCacheEntries,
    inlineSyncMaxMs,
    batchTransactions,
    postgresPoolSize,
    postgresLeaseSec,
    postgresRole,
  } = {
    ...DEFAULT_STORE_SETTINGS,
    ...limits,
  };
  try {
    mkdirSync(dir, { recursive: true });
    accessSync(dir, constants.R_OK | constants.W_OK | constants.X_OK);
  } catch (e) {
    throw new DataDirError(`data directory ${dir} is not usable: ${(e as Error).message}`);
  }
  const lock = join(dir, "lock");
  takeLock(lock);
  try {
    let meta: MetadataStore;
    if (metadata.kind === "sqlite") {
      meta = SqliteMetadataStore.open(join(dir, "metadata.sqlite"), {
        objectCacheEntries,
        inlineSyncMaxMs,
        batchTransactions,
      });
    } else {
      try {
        // The driver is loaded only for a PostgreSQL store (see openS3Payload).
        const { PgMetadataStore } = await import("./pg-metadata.js");
        meta = await PgMetadataStore.open(metadata.url, {
          poolSize: postgresPoolSize,
          objectCacheEntries,
          leaseSec: postgresLeaseSec,
          standby: postgresRole === "standby",
          // This machine and directory: the data directory's lock says no
          // other live process uses it, so a lease under this name is a
          // crashed earlier run's, taken over at once.
          leaseHolder: `${hostname()}:${resolve(dir)}`,
          ...(metadata.onLeaseLost === undefined ? {} : { onLeaseLost: metadata.onLeaseLost }),
        });
      } catch (e) {
        throw new DataDirError(
          `PostgreSQL store ${withoutPassword(metadata.url)}: ${(e as Error).message}`,
          "metadata",
        );
      }
    }
    let fs: StoreFileSystem;
    try {
      const stored: PayloadStore =
        payload.kind === "local"
          ? new LocalPayloadStore(join(dir, "payload"), maxOpenPayloads, inlineIoMaxBytes)
          : await openS3Payload({
              ...payload.options,
              stagingDir: join(dir, "s3-staging"),
              maxOpenFiles: maxOpenPayloads,
              inlineIoMaxBytes,
            }).catch((e: unknown) => {
              throw new DataDirError((e as Error).message, "payload");
            });
      const payloads =
        writeBehindFileMaxBytes > 0
          ? new WriteBehindPayloadStore(stored, {
              fileMaxBytes: writeBehindFileMaxBytes,
              maxBytes: writeBehindMaxBytes,
              maxAgeMs: writeBehindMaxAgeMs,
            })
          : stored;
      fs = await StoreFileSystem.open(meta, payloads, {
        heldAttributesFiles,
        heldAttributesMaxAgeMs: writeBehindMaxAgeMs,
        cleanTailFiles,
        ...options,
      });
    } catch (e) {
      // A database pool left open would keep the process alive.
      await meta.close().catch(() => undefined);
      throw e;
    }
    const storeId = Buffer.from(meta.identity.storeId).toString("hex");
    return {
      fs,
      serverOwner: new TextEncoder().encode(`dittofs-ts:store:${storeId}`),
      recovery: meta.clients,
      close: async () => {
        await fs.close();
        rmSync(lock, { force: true });
      },
    };
  } catch (e) {
    rmSync(lock, { force: true });
    throw e instanceof DataDirError
      ? e
      : new DataDirError(`data directory ${dir}: ${(e as Error).message}`);
  }
}

/**
 * The S3 payload store, its module (and the AWS SDK) loaded only when a
 * configuration asks for it: with the PostgreSQL driver, loading it added
 * ~0.15 s and ~20 MiB of resident memory to every server's start
 * (2026-12-05), which a server on local files should not pay.
 */
async function openS3Payload(options: S3PayloadOptions): Promise<PayloadStore> {
  const { S3PayloadStore } = await import("./s3-payload.js");
  return S3PayloadStore.open(options);
}

/** `url` with any password replaced by "***", for messages. */
export function withoutPassword(url: string): string {
  try {
    const u = new URL(url);
    if (u.password !== "") u.password = "***";
    return u.toString();
  } catch {
    return "(an unparsable URL)";
  }
}

function takeLock(lock: string): void {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(lock, `${process.pid}\n`, { flag: "wx" });
      return;
    } catch (e) {
      if (!(e instanceof Error) || !("code" in e) || e.code !== "EEXIST")
        throw new DataDirError(`cannot create ${lock}: ${(e as Error).message}`);
    }
    const pid = Number.parseInt(readFileSync(lock, "utf8"), 10);
    if (Number.isSafeInteger(pid) && pid > 0 && running(pid))
      throw new DataDirError(`${lock}: the data directory is in use by process ${pid}`);
    // Stale: its process is gone.
    rmSync(lock, { force: true });
  }
  throw new DataDirError(`${lock}: could not take the lock`);
}

function running(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: it runs, as another user.
    return e instanceof Error && "code" in e && e.code === "EPERM";
  }
}

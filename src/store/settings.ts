// The `store` section of `dfs serve`'s configuration: which backend holds the
// export, and where the embedded one keeps its files. Each setting's allowed
// values and its description for users are in src/config/declarations.ts;
// the comments here say what the code does with it.

/**
 * Where files live: SQLite + sparse files in `dataDir` (the default: kept
 * across restarts); PostgreSQL at `postgresUrl` for the metadata with the
 * files' contents in `dataDir` (data-dir.ts); or the process's memory (lost
 * at exit; for tests and benchmarks).
 */
export const STORE_BACKENDS = ["memory", "sqlite", "postgres"] as const;
export type StoreBackend = (typeof STORE_BACKENDS)[number];

/**
 * Where the "sqlite" and "postgres" backends keep files' contents: sparse
 * files in `dataDir` ("local"), or an S3 bucket (s3-payload.ts) with a
 * write-back tier in `dataDir`.
 */
export const PAYLOAD_STORES = ["local", "s3"] as const;
export type PayloadStoreKind = (typeof PAYLOAD_STORES)[number];

export const POSTGRES_ROLES = ["active", "standby"] as const;

/** When COMMIT and FILE_SYNC writes to S3 return: the tier synced, or the objects written. */
export const S3_DURABILITIES = ["local", "remote"] as const;

export interface StoreSettings {
  readonly backend: StoreBackend;
  /**
   * The data directory of the "sqlite" and "postgres" backends (data-dir.ts);
   * relative paths are from the working directory.
   */
  readonly dataDir: string;
  /** The "postgres" backend's database, e.g. "postgres://dfs:secret@db.example:5432/dfs". */
  readonly postgresUrl: string;
  /** Connections the "postgres" backend keeps to its database at most. */
  readonly postgresPoolSize: number;
  /**
   * Seconds the "postgres" backend's serving lease lasts unrenewed (renewed
   * every third of it): one server at a time serves a database, and a standby
   * takes over this long after the server holding it died.
   */
  readonly postgresLeaseSec: number;
  /**
   * "active": fail at start if another server holds the database's lease;
   * "standby": wait for it (for failover), then serve.
   */
  readonly postgresRole: (typeof POSTGRES_ROLES)[number];
  /** Where files' contents live. */
  readonly payload: PayloadStoreKind;
  /** The S3 service, e.g. "http://127.0.0.1:7480" (path-style requests). */
  readonly s3Endpoint: string;
  readonly s3Region: string;
  readonly s3Bucket: string;
  /** Prepended to every object key; each export of an "exports" list adds "exports/<path>/". */
  readonly s3Prefix: string;
  /** Empty: the AWS SDK's own sources (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, ~/.aws). */
  readonly s3AccessKeyId: string;
  readonly s3SecretAccessKey: string;
  /** Bytes per object. */
  readonly s3BlockSize: number;
  readonly s3Durability: (typeof S3_DURABILITIES)[number];
  /** Milliseconds without a write before a changed block is uploaded (s3-payload.ts). */
  readonly s3UploadDelayMs: number;
  /** Uploads in progress at once. */
  readonly s3UploadConcurrency: number;
  /** Changed blocks waiting for upload at most (each up to s3BlockSize on disk). */
  readonly s3MaxDirtyBlocks: number;
  /** The size and free space statfs reports for an S3 store (an object store has no size). */
  readonly s3CapacityBytes: number;
  /** Payload files the "sqlite" backend keeps open at once (file descriptors). */
  readonly maxOpenPayloads: number;
  /**
   * Payload reads and writes of at most this many bytes, and the opening,
   * closing and unlinking of small payload files, run on the event loop's
   * thread instead of the thread pool (local-payload.ts); 0: all on the pool.
   */
  readonly inlineIoMaxBytes: number;
  /**
   * Writes of at most this many bytes to a payload are held in memory until
   * its commit, another use of it, or the limits below (write-behind.ts), up
   * to this many bytes per payload; 0: every write goes straight to the payload store.
   */
  readonly writeBehindFileMaxBytes: number;
  /** Bytes held by write-behind for all payloads at most. */
  readonly writeBehindMaxBytes: number;
  /** Held writes go to the payload store, and held attributes to the metadata store, at the latest this long after the first of them (ms). */
  readonly writeBehindMaxAgeMs: number;
  /**
   * Files whose UNSTABLE4 WRITEs' size and times are held in memory instead
   * of a metadata transaction per WRITE (held-attributes.ts), at most; 0: none.
   */
  readonly heldAttributesFiles: number;
  /**
   * Files remembered as holding nothing past their size in their payload
   * (clean-tails.ts), at most; a WRITE that extends a file not remembered
   * cuts the payload to the size first. 0: none remembered.
   */
  readonly cleanTailFiles: number;
  /** Decoded object records, and as many directory entries (and SQLite: as many names of directory listings), the "sqlite" and "postgres" backends keep in memory (object-cache.ts); 0: none. */
  readonly objectCacheEntries: number;
  /**
   * The "sqlite" backend syncs its log on the event loop's thread when no
   * other transaction waits, while such syncs take at most this long on
   * average (ms); slower, they go to the thread pool (wal-sync.ts). 0: always the pool.
   */
  readonly inlineSyncMaxMs: number;
  /**
   * Transactions the "sqlite" backend finds queued back to back, or that
   * start in one turn of the event loop, that share one SQL transaction, one
   * COMMIT and one sync, at most (sqlite-metadata.ts WriteBatch); 1: each
   * commits alone.
   */
  readonly batchTransactions: number;
}

/** The settings openDataDir() takes besides the directory. */
export type DataDirLimits = Pick<
  StoreSettings,
  | "maxOpenPayloads"
  | "inlineIoMaxBytes"
  | "writeBehindFileMaxBytes"
  | "writeBehindMaxBytes"
  | "writeBehindMaxAgeMs"
  | "heldAttributesFiles"
  | "cleanTailFiles"
  | "objectCacheEntries"
  | "inlineSyncMaxMs"
  | "batchTransactions"
  | "postgresPoolSize"
  | "postgresLeaseSec"
  | "postgresRole"
>;

export const DEFAULT_STORE_SETTINGS: StoreSettings = {
  backend: "sqlite",
  dataDir: "dfs-data",
  postgresUrl: "",
  postgresPoolSize: 10,
  postgresLeaseSec: 30,
  postgresRole: "active",
  payload: "local",
  s3Endpoint: "",
  s3Region: "us-east-1",
  s3Bucket: "",
  s3Prefix: "",
  s3AccessKeyId: "",
  s3SecretAccessKey: "",
  s3BlockSize: 4 * 1024 * 1024,
  s3Durability: "local",
  s3UploadDelayMs: 1000,
  s3UploadConcurrency: 4,
  s3MaxDirtyBlocks: 64,
  s3CapacityBytes: 2 ** 50,
  maxOpenPayloads: 64,
  // A 64 KiB copy into the page cache takes ~10 µs; a pool round trip ~35 µs of CPU.
  inlineIoMaxBytes: 64 * 1024,
  // A small file written UNSTABLE4 and removed before any COMMIT then never
  // reaches the disk; 16 MiB holds 256 such writes of 64 KiB or 4096 of 4 KiB.
  writeBehindFileMaxBytes: 64 * 1024,
  writeBehindMaxBytes: 16 * 1024 * 1024,
  writeBehindMaxAgeMs: 1000,
  // A small record each (~0.2 KiB): under 1 MiB.
  heldAttributesFiles: 4096,
  // A payload id each (~0.1 KiB): under 7 MiB; a file forgotten costs one cut at its next extension.
  cleanTailFiles: 65_536,
  // About 0.5 KiB per record and 0.2 KiB per entry: 23 MiB at most.
  objectCacheEntries: 32_768,
  inlineSyncMaxMs: 1,
  batchTransactions: 32,
};

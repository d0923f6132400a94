// The `store` section of `dfs serve`'s configuration: which backend holds the
// export, and where the embedded one keeps its files.

/**
 * Where files live: SQLite + sparse files in `dataDir` (the default: kept
 * across restarts); PostgreSQL at `postgresUrl` for the metadata with the
 * files' contents in `dataDir` (data-dir.ts); or the process's memory (lost
 * at exit; for tests and benchmarks).
 */
export const STORE_BACKENDS = ["memory", "sqlite", "postgres"] as const;
export type StoreBackend = (typeof STORE_BACKENDS)[number];

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
  /** Payload files the "sqlite" backend keeps open at once (file descriptors). */
  readonly maxOpenPayloads: number;
  /** Decoded object records, and as many directory entries, the "sqlite" backend keeps in memory (object-cache.ts); 0: none. */
  readonly objectCacheEntries: number;
  /**
   * The "sqlite" backend syncs its log on the event loop's thread when no
   * other transaction waits, while such syncs take at most this long on
   * average (ms); slower, they go to the thread pool (wal-sync.ts). 0: always the pool.
   */
  readonly inlineSyncMaxMs: number;
}

/** The settings openDataDir() takes besides the directory. */
export type DataDirLimits = Pick<
  StoreSettings,
  "maxOpenPayloads" | "objectCacheEntries" | "inlineSyncMaxMs" | "postgresPoolSize"
>;

export const DEFAULT_STORE_SETTINGS: StoreSettings = {
  backend: "sqlite",
  dataDir: "dfs-data",
  postgresUrl: "",
  postgresPoolSize: 10,
  maxOpenPayloads: 64,
  // About 0.5 KiB per record and 0.2 KiB per entry: 23 MiB at most.
  objectCacheEntries: 32_768,
  inlineSyncMaxMs: 1,
};

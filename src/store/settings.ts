// The `store` section of `dfs serve`'s configuration: which backend holds the
// export, and where the embedded one keeps its files.

/** Where files live: in the process's memory (lost at exit), or SQLite + sparse files in `dataDir`. */
export const STORE_BACKENDS = ["memory", "sqlite"] as const;
export type StoreBackend = (typeof STORE_BACKENDS)[number];

export interface StoreSettings {
  readonly backend: StoreBackend;
  /** The data directory of the "sqlite" backend (data-dir.ts); relative paths are from the working directory. */
  readonly dataDir: string;
  /** Payload files the "sqlite" backend keeps open at once (file descriptors). */
  readonly maxOpenPayloads: number;
}

export const DEFAULT_STORE_SETTINGS: StoreSettings = {
  backend: "memory",
  dataDir: "dfs-data",
  maxOpenPayloads: 64,
};

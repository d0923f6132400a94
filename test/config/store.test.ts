import { describe, expect, it } from "vitest";
import { buildConfig } from "../../src/config/config.js";
import { DEFAULT_STORE_SETTINGS } from "../../src/store/settings.js";

const build = (store: unknown) => buildConfig(JSON.stringify({ store }), "test.json", []);

describe("store settings", () => {
  it("default to the sqlite backend", () => {
    expect(buildConfig(null, "(defaults)", []).store).toEqual(DEFAULT_STORE_SETTINGS);
    expect(DEFAULT_STORE_SETTINGS.backend).toBe("sqlite");
  });

  it("select the sqlite backend and its data directory", () => {
    expect(build({ backend: "sqlite", dataDir: "/srv/dfs" }).store).toEqual({
      backend: "sqlite",
      dataDir: "/srv/dfs",
      maxOpenPayloads: DEFAULT_STORE_SETTINGS.maxOpenPayloads,
      inlineIoMaxBytes: DEFAULT_STORE_SETTINGS.inlineIoMaxBytes,
      writeBehindFileMaxBytes: DEFAULT_STORE_SETTINGS.writeBehindFileMaxBytes,
      writeBehindMaxBytes: DEFAULT_STORE_SETTINGS.writeBehindMaxBytes,
      writeBehindMaxAgeMs: DEFAULT_STORE_SETTINGS.writeBehindMaxAgeMs,
      heldAttributesFiles: DEFAULT_STORE_SETTINGS.heldAttributesFiles,
      cleanTailFiles: DEFAULT_STORE_SETTINGS.cleanTailFiles,
      objectCacheEntries: DEFAULT_STORE_SETTINGS.objectCacheEntries,
      inlineSyncMaxMs: DEFAULT_STORE_SETTINGS.inlineSyncMaxMs,
      batchTransactions: DEFAULT_STORE_SETTINGS.batchTransactions,
      postgresUrl: "",
      postgresPoolSize: DEFAULT_STORE_SETTINGS.postgresPoolSize,
      postgresLeaseSec: DEFAULT_STORE_SETTINGS.postgresLeaseSec,
      postgresRole: "active",
      payload: "local",
      s3Endpoint: "",
      s3Region: DEFAULT_STORE_SETTINGS.s3Region,
      s3Bucket: "",
      s3Prefix: "",
      s3AccessKeyId: "",
      s3SecretAccessKey: "",
      s3BlockSize: DEFAULT_STORE_SETTINGS.s3BlockSize,
      s3Durability: "local",
      s3UploadDelayMs: DEFAULT_STORE_SETTINGS.s3UploadDelayMs,
      s3UploadConcurrency: DEFAULT_STORE_SETTINGS.s3UploadConcurrency,
      s3MaxDirtyBlocks: DEFAULT_STORE_SETTINGS.s3MaxDirtyBlocks,
      s3CapacityBytes: 2 ** 50,
    });
    expect(build({ objectCacheEntries: 0 }).store.objectCacheEntries).toBe(0);
    expect(build({ heldAttributesFiles: 0 }).store.heldAttributesFiles).toBe(0);
  });

  it("select the postgres backend with its database URL and pool size", () => {
    const store = build({
      backend: "postgres",
      postgresUrl: "postgres://dfs:pw@db:5432/dfs",
      postgresPoolSize: 4,
    }).store;
    expect(store.backend).toBe("postgres");
    expect(store.postgresUrl).toBe("postgres://dfs:pw@db:5432/dfs");
    expect(store.postgresPoolSize).toBe(4);
    expect(store.dataDir).toBe(DEFAULT_STORE_SETTINGS.dataDir);
  });

  it("put files' contents in S3 with its endpoint, bucket, keys and durability", () => {
    const store = build({
      payload: "s3",
      s3Endpoint: "http://127.0.0.1:7480",
      s3Bucket: "dfs-data",
      s3AccessKeyId: "AK",
      s3SecretAccessKey: "SK",
      s3Durability: "remote",
      s3BlockSize: 1048576,
    }).store;
    expect(store).toMatchObject({
      backend: "sqlite",
      payload: "s3",
      s3Endpoint: "http://127.0.0.1:7480",
      s3Bucket: "dfs-data",
      s3Durability: "remote",
      s3BlockSize: 1048576,
    });
  });

  it("refuse S3 settings that cannot work, naming the key", () => {
    const s3 = { payload: "s3", s3Endpoint: "http://127.0.0.1:7480", s3Bucket: "dfs" };
    expect(() => build({ ...s3, backend: "memory" })).toThrow(/needs the sqlite or postgres/);
    expect(() => build({ ...s3, s3Endpoint: "" })).toThrow(/needs 'store.s3Endpoint'/);
    expect(() => build({ ...s3, s3Endpoint: "ftp://x" })).toThrow(
      /store.s3Endpoint: must be "" or an http:\/\/ or https:\/\//,
    );
    expect(() => build({ ...s3, s3Bucket: "Bad_Bucket" })).toThrow(
      /store.s3Bucket: must be "" or a bucket name/,
    );
    expect(() => build({ ...s3, s3AccessKeyId: "AK" })).toThrow(/go together/);
    expect(() => build({ ...s3, s3BlockSize: 100 })).toThrow(
      /store.s3BlockSize: must be an integer in \[4096, 1073741824\], not 100/,
    );
    expect(() => build({ ...s3, s3CapacityBytes: 0 })).toThrow(
      /s3CapacityBytes: must be an integer in \[1, /,
    );
    expect(() => build({ ...s3, s3CapacityBytes: 1.5 })).toThrow(/s3CapacityBytes/);
    expect(() => build({ ...s3, s3Durability: "eventual" })).toThrow(
      /s3Durability: must be one of "local", "remote", not "eventual"/,
    );
    expect(() => build({ ...s3, s3Bucket: 5 })).toThrow(/store.s3Bucket: must be .*, not 5/);
    expect(() => build({ payload: "tape" })).toThrow(/store.payload: must be one of "local", "s3"/);
  });

  it("refuse unknown backends, empty directories and unknown keys", () => {
    expect(() => build({ backend: "oracle" })).toThrow(/store.backend/);
    expect(() => build({ backend: "postgres" })).toThrow(/needs 'store.postgresUrl'/);
    expect(() => build({ backend: "postgres", postgresUrl: "db:5432" })).toThrow(
      /store.postgresUrl: must be "" or a postgres:\/\/ or postgresql:\/\//,
    );
    expect(() => build({ backend: "postgres", postgresUrl: "not a url" })).toThrow(/\(not a URL\)/);
    expect(() => build({ backend: "postgres", postgresUrl: 5 })).toThrow(
      /store.postgresUrl: must be .*, not 5/,
    );
    expect(() => build({ postgresUrl: "postgres://db/dfs" })).toThrow(
      /for the "postgres" backend only/,
    );
    expect(() =>
      build({ backend: "postgres", postgresUrl: "postgres://db/dfs", postgresPoolSize: 0 }),
    ).toThrow(/postgresPoolSize/);
    expect(() =>
      build({ backend: "postgres", postgresUrl: "postgres://db/dfs", postgresLeaseSec: 1 }),
    ).toThrow(/store.postgresLeaseSec: must be an integer in \[3, 3600\], not 1/);
    expect(() =>
      build({ backend: "postgres", postgresUrl: "postgres://db/dfs", postgresRole: "backup" }),
    ).toThrow(/postgresRole: must be one of "active", "standby"/);
    expect(() => build({ dataDir: "" })).toThrow(/store.dataDir/);
    expect(() => build({ dataDir: 5 })).toThrow(/store.dataDir/);
    expect(() => build({ datadir: "x" })).toThrow(/store.datadir: unknown key \(known: backend, /);
    expect(() => build({ maxOpenPayloads: 0 })).toThrow(/maxOpenPayloads/);
    expect(() => build({ objectCacheEntries: -1 })).toThrow(/objectCacheEntries/);
    expect(() => build({ objectCacheEntries: "many" })).toThrow(/objectCacheEntries/);
    expect(() => build({ inlineSyncMaxMs: -1 })).toThrow(/inlineSyncMaxMs/);
    expect(() => build({ inlineIoMaxBytes: -1 })).toThrow(/inlineIoMaxBytes/);
    expect(build({ inlineIoMaxBytes: 0 }).store.inlineIoMaxBytes).toBe(0);
    expect(() => build({ writeBehindFileMaxBytes: -1 })).toThrow(/writeBehindFileMaxBytes/);
    expect(build({ writeBehindFileMaxBytes: 0 }).store.writeBehindFileMaxBytes).toBe(0);
    expect(() => build({ batchTransactions: 0 })).toThrow(/batchTransactions/);
  });
});

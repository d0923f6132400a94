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
      objectCacheEntries: DEFAULT_STORE_SETTINGS.objectCacheEntries,
      inlineSyncMaxMs: DEFAULT_STORE_SETTINGS.inlineSyncMaxMs,
    });
    expect(build({ objectCacheEntries: 0 }).store.objectCacheEntries).toBe(0);
  });

  it("refuse unknown backends, empty directories and unknown keys", () => {
    expect(() => build({ backend: "postgres" })).toThrow(/store.backend/);
    expect(() => build({ dataDir: "" })).toThrow(/store.dataDir/);
    expect(() => build({ dataDir: 5 })).toThrow(/store.dataDir/);
    expect(() => build({ datadir: "x" })).toThrow(/unknown setting 'store.datadir'/);
    expect(() => build({ maxOpenPayloads: 0 })).toThrow(/maxOpenPayloads/);
    expect(() => build({ objectCacheEntries: -1 })).toThrow(/objectCacheEntries/);
    expect(() => build({ objectCacheEntries: "many" })).toThrow(/objectCacheEntries/);
    expect(() => build({ inlineSyncMaxMs: -1 })).toThrow(/inlineSyncMaxMs/);
  });
});

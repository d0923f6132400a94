import { describe, expect, it } from "vitest";
import { ConfigError, buildConfig } from "../../src/config/config.js";
import { CONFIG_DECLARATION } from "../../src/config/declarations.js";
import { environmentSettings, screamingSnake } from "../../src/config/environment.js";
import { DEFAULT_NFS_SETTINGS } from "../../src/nfs/settings.js";

const message = (f: () => unknown): string => {
  try {
    f();
  } catch (e) {
    if (e instanceof ConfigError) return e.message;
    throw e;
  }
  throw new Error("no error");
};

describe("environment overrides", () => {
  it("are named DFS_<SECTION>_<KEY>, one per setting outside exports, all distinct", () => {
    expect(screamingSnake("leaseTimeSec")).toBe("LEASE_TIME_SEC");
    expect(screamingSnake("s3AccessKeyId")).toBe("S3_ACCESS_KEY_ID");
    const vars = environmentSettings(CONFIG_DECLARATION);
    expect(vars.get("DFS_NFS_LEASE_TIME_SEC")?.path).toEqual(["nfs", "leaseTimeSec"]);
    expect(vars.get("DFS_STORE_S3_SECRET_ACCESS_KEY")?.path).toEqual([
      "store",
      "s3SecretAccessKey",
    ]);
    expect(vars.get("DFS_LOG_LEVEL")?.path).toEqual(["logLevel"]);
    expect(vars.get("DFS_LISTEN")?.path).toEqual(["listen"]);
    // Map keys are distinct by construction: the count shows no two settings collapsed into one name.
    const leaves = Object.values(CONFIG_DECLARATION.fields).reduce(
      (n, node) =>
        n +
        (node.kind === "object"
          ? Object.keys(node.fields).length
          : node.kind === "objects"
            ? 0
            : 1),
      0,
    );
    expect(vars.size).toBe(leaves);
  });

  it("are typed by the declaration and override the file", () => {
    const config = buildConfig("nfs:\n  leaseTimeSec: 60\n  maxClients: 5\n", "dfs.yaml", [], {
      DFS_NFS_LEASE_TIME_SEC: "30",
      DFS_STORE_BACKEND: "memory",
      DFS_LOG_LEVEL: "debug",
      DFS_LISTEN: "127.0.0.1:2049,[::1]:2049",
      DFS_CONTROL_TOKEN: "0123456789abcdef",
      DFS_CRASH_SEED: "7", // not a section's variable: not ours
    });
    expect(config.nfs.leaseTimeSec).toBe(30);
    expect(config.nfs.maxClients).toBe(5);
    expect(config.nfs.graceTimeSec).toBe(DEFAULT_NFS_SETTINGS.graceTimeSec);
    expect(config.store.backend).toBe("memory");
    expect(config.logLevel).toBe("debug");
    expect(config.control.token).toBe("0123456789abcdef");
    expect(config.listen).toEqual([
      { host: "127.0.0.1", port: 2049 },
      { host: "::1", port: 2049 },
    ]);
  });

  it("lose to the command line", () => {
    const config = buildConfig(null, "(defaults)", ["127.0.0.1:5049"], {
      DFS_LISTEN: "127.0.0.1:4049",
    });
    expect(config.listen).toEqual([{ host: "127.0.0.1", port: 5049 }]);
  });

  it("name the variable when its value does not fit", () => {
    expect(
      message(() => buildConfig(null, "(defaults)", [], { DFS_NFS_LEASE_TIME_SEC: "soon" })),
    ).toBe(
      'DFS_NFS_LEASE_TIME_SEC: nfs.leaseTimeSec: must be an integer in [1, 4294967295], not "soon"',
    );
    expect(
      message(() => buildConfig(null, "(defaults)", [], { DFS_STORE_BACKEND: "oracle" })),
    ).toBe(
      'DFS_STORE_BACKEND: store.backend: must be one of "memory", "sqlite", "postgres", not "oracle"',
    );
    expect(
      message(() => buildConfig(null, "(defaults)", [], { DFS_LISTEN: "127.0.0.1:2049,nowhere" })),
    ).toMatch(/^DFS_LISTEN: listen\[1\]: must be HOST:PORT.*not "nowhere"/);
  });

  it("refuse a variable in a section's namespace that names no setting", () => {
    expect(
      message(() => buildConfig(null, "(defaults)", [], { DFS_NFS_LEASE_TIME: "30" })),
    ).toMatch(
      /^DFS_NFS_LEASE_TIME: unknown variable \(known: DFS_NFS_LEASE_TIME_SEC, DFS_NFS_GRACE_TIME_SEC, /,
    );
  });
});

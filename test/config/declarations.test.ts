import { describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { buildConfig } from "../../src/config/config.js";
import { CONFIG_DECLARATION } from "../../src/config/declarations.js";
import { REDACTED, effectiveSettings } from "../../src/config/effective.js";
import { binarySize } from "../../src/config/reference.js";
import { validate } from "../../src/config/validate.js";
import { DEFAULT_RPC_SETTINGS, resolveRpcSettings } from "../../src/rpc/settings.js";

describe("the settings' declaration", () => {
  it("admits every default (the effective configuration of no file validates)", () => {
    const defaults = effectiveSettings(buildConfig(null, "(defaults)", []), false);
    expect(validate(CONFIG_DECLARATION, defaults)).toEqual([]);
    // And it declares every setting the defaults have, in every section.
    for (const section of ["nfs", "rpc", "store", "control", "metrics"]) {
      const node = CONFIG_DECLARATION.fields[section];
      expect(node?.kind).toBe("object");
      if (node?.kind === "object")
        expect(Object.keys(node.fields).sort()).toEqual(
          Object.keys(defaults[section] as object).sort(),
        );
    }
  });

  it("gives the rpc settings the ranges resolveRpcSettings enforces", () => {
    const rpc = CONFIG_DECLARATION.fields["rpc"];
    if (rpc?.kind !== "object") throw new Error("no rpc section");
    for (const [key, s] of Object.entries(rpc.fields)) {
      if (s.kind !== "integer") throw new Error(`rpc.${key} is not an integer`);
      // maxTotalOutputBytes must also be at least maxConnectionOutputBytes: give both room.
      const base = {
        ...DEFAULT_RPC_SETTINGS,
        maxConnectionOutputBytes: 1,
        maxTotalOutputBytes: Number.MAX_SAFE_INTEGER,
      };
      expect(() => resolveRpcSettings({ ...base, [key]: s.min }), `${key} = min`).not.toThrow();
      expect(() => resolveRpcSettings({ ...base, [key]: s.min - 1 }), `${key} < min`).toThrow();
      expect(() => resolveRpcSettings({ ...base, [key]: s.max }), `${key} = max`).not.toThrow();
      if (s.max < Number.MAX_SAFE_INTEGER)
        expect(() => resolveRpcSettings({ ...base, [key]: s.max + 1 }), `${key} > max`).toThrow();
    }
  });

  it("refuses rpc.maxTotalOutputBytes below rpc.maxConnectionOutputBytes, naming both", () => {
    expect(() =>
      buildConfig(
        "rpc:\n  maxConnectionOutputBytes: 2048\n  maxTotalOutputBytes: 1024\n",
        "dfs.yaml",
        [],
      ),
    ).toThrow(
      /^dfs\.yaml:3:24: rpc\.maxTotalOutputBytes \(1024\) must be at least rpc\.maxConnectionOutputBytes \(2048\)$/,
    );
  });

  it("writes sizes as binary units in the reference", () => {
    expect(binarySize(1024 * 1024 + 64 * 1024)).toBe("1 MiB + 64 KiB");
    expect(binarySize(2 ** 50)).toBe("1 PiB");
    expect(binarySize(1000)).toBeNull();
    expect(binarySize(1024 + 2 ** 20 + 2 ** 30)).toBeNull();
  });
});

describe("the effective configuration", () => {
  const text = [
    "listen: ['[::1]:3049']",
    "store:",
    "  backend: postgres",
    "  postgresUrl: postgres://dfs:pw@127.0.0.1:5432/dfs",
    "  payload: s3",
    "  s3Endpoint: http://127.0.0.1:7480",
    "  s3Bucket: dfs",
    "  s3AccessKeyId: AK",
    "  s3SecretAccessKey: SK",
    "control:",
    "  listen: 127.0.0.1:9000",
    "  token: 0123456789abcdef",
    "exports:",
    "  - path: /a",
    "    backend: memory",
    "    clients: [10.0.0.0/8]",
    "    sec: [sys]",
    "  - path: /b",
    "    backend: postgres",
    "    postgresUrl: postgres://u:secret@127.0.0.1/b",
    "    dataDir: /srv/b",
  ].join("\n");

  it("reads back as the same configuration", () => {
    const config = buildConfig(text, "dfs.yaml", []);
    const again = buildConfig(stringify(effectiveSettings(config, false)), "show.yaml", []);
    expect(again).toEqual(config);
  });

  it("redacts passwords, the S3 secret and the control token", () => {
    const shown = effectiveSettings(buildConfig(text, "dfs.yaml", []));
    expect(shown["store"]).toMatchObject({
      postgresUrl: "postgres://dfs:***@127.0.0.1:5432/dfs",
      s3AccessKeyId: "AK",
      s3SecretAccessKey: REDACTED,
    });
    expect(shown["control"]).toMatchObject({ token: REDACTED, listen: "127.0.0.1:9000" });
    expect(shown["exports"]).toMatchObject([
      { path: "/a", clients: ["10.0.0.0/8"], sec: ["sys"] },
      { path: "/b", postgresUrl: "postgres://u:***@127.0.0.1/b" },
    ]);
    expect(JSON.stringify(shown)).not.toMatch(/secret|"SK"|:pw@|0123456789abcdef/);
  });
});

import { describe, expect, it } from "vitest";
import { ConfigError, buildConfig, readConfig } from "../../src/config/config.js";

/** The problems `text` (a file named dfs.yaml) gives, one line each. */
function problems(text: string, listen: readonly string[] = []): string[] {
  try {
    buildConfig(text, "dfs.yaml", listen);
  } catch (e) {
    if (e instanceof ConfigError) return e.message.split("\n");
    throw e;
  }
  throw new Error("no error");
}

describe("a YAML configuration file", () => {
  it("reads as the same configuration as its JSON form", () => {
    const yaml = [
      "# comments are allowed",
      "listen: ['127.0.0.1:3049', '[::1]:3049']",
      "nfs:",
      "  leaseTimeSec: 30",
      "  delegationPolicy: read",
      "store:",
      "  backend: memory",
      "exports:",
      "  - path: /a",
      "    backend: memory",
      "    clients: [10.0.0.0/8, '::1']",
      "    sec: [sys]",
    ].join("\n");
    const json = JSON.stringify({
      listen: ["127.0.0.1:3049", "[::1]:3049"],
      nfs: { leaseTimeSec: 30, delegationPolicy: "read" },
      store: { backend: "memory" },
      exports: [{ path: "/a", backend: "memory", clients: ["10.0.0.0/8", "::1"], sec: ["sys"] }],
    });
    const fromYaml = buildConfig(yaml, "dfs.yaml", []);
    expect(fromYaml).toEqual(buildConfig(json, "dfs.json", []));
    expect(fromYaml.nfs.leaseTimeSec).toBe(30);
    expect(fromYaml.listen).toEqual([
      { host: "127.0.0.1", port: 3049 },
      { host: "::1", port: 3049 },
    ]);
  });

  it("is the defaults when empty", () => {
    expect(buildConfig("", "dfs.yaml", [])).toEqual(buildConfig(null, "(defaults)", []));
    expect(buildConfig("# nothing\n", "dfs.yaml", [])).toEqual(buildConfig(null, "(defaults)", []));
    // A section whose keys are all commented out.
    const commented = buildConfig("nfs:\n  # leaseTimeSec: 30\nrpc:\n", "dfs.yaml", [], {
      DFS_RPC_MAX_CONNECTIONS: "10",
    });
    expect(commented.nfs).toEqual(buildConfig(null, "(defaults)", []).nfs);
    expect(commented.rpc.maxConnections).toBe(10);
    // But not an export.
    expect(problems("exports:\n  -\n")).toEqual([
      expect.stringMatching(
        /^dfs\.yaml:2:4: exports\[0\]: must be a mapping of settings .*, not an empty value$/,
      ),
    ]);
  });

  it("unknown key: names file, line and column of the key, and the known keys", () => {
    expect(problems("nfs:\n  leaseTimee: 30\n")).toEqual([
      expect.stringMatching(
        /^dfs\.yaml:2:3: nfs\.leaseTimee: unknown key \(known: leaseTimeSec, graceTimeSec, .*maxQueuedNotifications\)$/,
      ),
    ]);
    expect(problems("nsf: {}\n")).toEqual([
      "dfs.yaml:1:1: nsf: unknown key (known: listen, nfs, rpc, store, exports, logLevel, control, metrics)",
    ]);
  });

  it("wrong type: a quoted number is a string", () => {
    expect(problems('nfs:\n  leaseTimeSec: "90"\n')).toEqual([
      'dfs.yaml:2:17: nfs.leaseTimeSec: must be an integer in [1, 4294967295], not "90"',
    ]);
    expect(problems("store: [sqlite]\n")).toEqual([
      expect.stringMatching(
        /^dfs\.yaml:1:8: store: must be a mapping of settings \(known: backend, .*\), not a list$/,
      ),
    ]);
    expect(problems("exports:\n  - path: /a\n    readOnly: yes\n")).toEqual([
      'dfs.yaml:3:15: exports[0].readOnly: must be true or false, not "yes"',
    ]);
  });

  it("out of range or not a choice: says what is allowed", () => {
    expect(problems("rpc:\n  maxInFlightPerConnection: 0\n")).toEqual([
      "dfs.yaml:2:29: rpc.maxInFlightPerConnection: must be an integer in [1, 1048576], not 0",
    ]);
    expect(problems("nfs:\n  delegationPolicy: write\n")).toEqual([
      'dfs.yaml:2:21: nfs.delegationPolicy: must be one of "none", "read", "read-write", not "write"',
    ]);
    expect(problems("logLevel: verbose\n")).toEqual([
      'dfs.yaml:1:11: logLevel: must be one of "fatal", "error", "warn", "info", "debug", "trace", "silent", not "verbose"',
    ]);
  });

  it("bad CIDR or address in an export's rules: names the list item", () => {
    const text = [
      "exports:",
      "  - path: /a",
      "    backend: memory",
      "  - path: /b",
      "    backend: memory",
      "    clients: [10.0.0.0/8, 10.0.0.1/8, 300.1.1.1, 'fe80::/129']",
    ].join("\n");
    expect(problems(text)).toEqual([
      expect.stringMatching(
        /^dfs\.yaml:6:27: exports\[1\]\.clients\[1\]: must be an IPv4\/IPv6 address or CIDR prefix.*, not "10\.0\.0\.1\/8" \('10\.0\.0\.1\/8' has bits set beyond its \/8 prefix\)$/,
      ),
      expect.stringMatching(/^dfs\.yaml:6:39: exports\[1\]\.clients\[2\]: .*not "300\.1\.1\.1"/),
      expect.stringMatching(
        /^dfs\.yaml:6:50: exports\[1\]\.clients\[3\]: .*the prefix length must be 0\.\.128/,
      ),
    ]);
  });

  it("bad listen address: in the file, in a section, or on the command line", () => {
    expect(problems("listen: [127.0.0.1:2049, 'localhost']\n")).toEqual([
      'dfs.yaml:1:26: listen[1]: must be HOST:PORT, [IPv6]:PORT or :PORT, e.g. 127.0.0.1:2049, not "localhost" (not an address)',
    ]);
    expect(problems("metrics:\n  listen: 127.0.0.1:99999\n")).toEqual([
      expect.stringMatching(
        /^dfs\.yaml:2:11: metrics\.listen: must be "" \(off\) or HOST:PORT.*not "127\.0\.0\.1:99999"/,
      ),
    ]);
    expect(problems("", ["127.0.0.1"])).toEqual([
      "--listen: bad listen address '127.0.0.1': expected HOST:PORT, [IPv6]:PORT or :PORT, e.g. 127.0.0.1:2049",
    ]);
  });

  it("YAML syntax error: names its line and column", () => {
    expect(problems("nfs:\n  leaseTimeSec: 30\n\tgraceTimeSec: 3\n")).toEqual([
      "dfs.yaml:3:1: YAML syntax: Tabs are not allowed as indentation",
    ]);
    expect(problems("nfs:\n  graceTimeSec: [1, 2\nrpc: {}\n")[0]).toMatch(
      /^dfs\.yaml:3:1: YAML syntax: Flow sequence .* must .* end with a \]/,
    );
    // A key given twice is an error, not "the last one wins".
    expect(problems("nfs:\n  leaseTimeSec: 30\n  leaseTimeSec: 40\n")[0]).toMatch(
      /^dfs\.yaml:3:3: YAML syntax: Map keys must be unique/,
    );
    // A JSON file's syntax error too.
    expect(problems('{ "nfs": { "leaseTimeSec": 30, } ')[0]).toMatch(
      /^dfs\.yaml:1:\d+: YAML syntax/,
    );
  });

  it("collects several problems at once", () => {
    expect(
      problems("nfs:\n  leaseTimee: 30\n  maxOperations: 1\nrpc:\n  maxConnections: many\n"),
    ).toEqual([
      expect.stringMatching(/^dfs\.yaml:2:3: nfs\.leaseTimee: unknown key/),
      "dfs.yaml:3:18: nfs.maxOperations: must be an integer in [2, 9007199254740991], not 1",
      'dfs.yaml:5:19: rpc.maxConnections: must be an integer in [1, 9007199254740991], not "many"',
    ]);
  });

  it("locates a problem between settings at the setting that asks for the other", () => {
    expect(problems("store:\n  backend: postgres\n")).toEqual([
      `dfs.yaml:2:3: the "postgres" backend needs 'store.postgresUrl', e.g. "postgres://dfs:secret@127.0.0.1:5432/dfs"`,
    ]);
    expect(
      problems(
        "exports:\n  - path: /a\n    backend: memory\n  - path: /a/b\n    backend: memory\n",
      ),
    ).toEqual(["dfs.yaml:4:11: exports /a and /a/b overlap: one lies inside the other"]);
  });

  it("tells where each setting came from", () => {
    const loaded = readConfig("nfs:\n  leaseTimeSec: 30\n", "dfs.yaml", ["127.0.0.1:4049"], {
      DFS_STORE_BACKEND: "memory",
    });
    expect(loaded.where(["nfs", "leaseTimeSec"])).toBe("dfs.yaml:2:17");
    expect(loaded.where(["store", "backend"])).toBe("DFS_STORE_BACKEND");
    expect(loaded.where(["listen"])).toBe("--listen");
    expect(loaded.where(["rpc", "maxConnections"])).toBe("dfs.yaml");
  });
});

import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { buildConfig } from "../../src/config/config.js";
import { exportIdOf } from "../../src/exports/namespace.js";
import { DEFAULT_EXPORT_RULES } from "../../src/exports/rules.js";

const build = (exports: unknown, store: unknown = { dataDir: "/srv/dfs" }) =>
  buildConfig(JSON.stringify({ store, exports }), "test.json", []);

describe("exports settings", () => {
  it("are absent by default: one export /export on the top-level store", () => {
    expect(buildConfig(null, "(defaults)", []).exports).toBeNull();
  });

  it("fill in every default: id from the path, the store's backend, a data directory under it, open rules", () => {
    const [a, b] = build([{ path: "/a/b" }, { path: "/c", backend: "memory", id: 42 }], {
      backend: "sqlite",
      dataDir: "/srv/dfs",
    }).exports!;
    expect(a).toEqual({
      path: "/a/b",
      id: exportIdOf("/a/b"),
      backend: "sqlite",
      dataDir: resolve("/srv/dfs/exports/a-b"),
      postgresUrl: "",
      payload: "local",
      rules: DEFAULT_EXPORT_RULES,
    });
    expect(b).toMatchObject({ path: "/c", id: 42, backend: "memory", dataDir: "" });
  });

  it("give a postgres export its database and a data directory for its files' contents", () => {
    const [a] = build(
      [{ path: "/pg", backend: "postgres", postgresUrl: "postgres://dfs@db:5432/pg" }],
      { backend: "sqlite", dataDir: "/srv/dfs" },
    ).exports!;
    expect(a).toMatchObject({
      backend: "postgres",
      postgresUrl: "postgres://dfs@db:5432/pg",
      dataDir: resolve("/srv/dfs/exports/pg"),
    });
  });

  it("let each export choose where its files' contents live: SQLite+local next to PostgreSQL+S3", () => {
    const s3 = { s3Endpoint: "http://127.0.0.1:7480", s3Bucket: "dfs" };
    const [local, scaled, memory] = build(
      [
        { path: "/local" },
        {
          path: "/scaled",
          backend: "postgres",
          postgresUrl: "postgres://dfs@db:5432/pg",
          payload: "s3",
        },
        { path: "/tmp", backend: "memory" },
      ],
      { backend: "sqlite", dataDir: "/srv/dfs", ...s3 },
    ).exports!;
    expect(local).toMatchObject({ backend: "sqlite", payload: "local" });
    expect(scaled).toMatchObject({ backend: "postgres", payload: "s3" });
    expect(memory).toMatchObject({ backend: "memory", payload: "local" });
    // The store's payload is the default; an export may keep its own local.
    const [byDefault, own] = build([{ path: "/a" }, { path: "/b", payload: "local" }], {
      dataDir: "/srv/dfs",
      payload: "s3",
      ...s3,
    }).exports!;
    expect(byDefault!.payload).toBe("s3");
    expect(own!.payload).toBe("local");
  });

  it("parse the rules", () => {
    const [e] = build([
      {
        path: "/x",
        backend: "memory",
        clients: ["10.0.0.0/8", "::1"],
        readOnly: true,
        squash: "all",
        anonuid: 1000,
        anongid: 1001,
        sec: ["sys"],
      },
    ]).exports!;
    expect(e!.rules).toMatchObject({
      readOnly: true,
      squash: "all",
      anonUid: 1000,
      anonGid: 1001,
      flavors: [1],
    });
    expect(e!.rules.clients!.map((c) => c.text)).toEqual(["10.0.0.0/8", "::1"]);
  });

  it("refuse what is wrong, naming it", () => {
    const cases: [unknown, RegExp][] = [
      [{}, /exports: must be a non-empty list of mappings, not a mapping/],
      [[], /exports: must be a non-empty list of mappings, not an empty list/],
      [[{ path: "/x", readonly: true }], /exports\[0\].readonly: unknown key/],
      [[{ path: "x" }], /exports\[0\].path: must be an absolute path/],
      [[{ path: "/" }], /absolute path/],
      [[{ path: "/a/" }], /absolute path/],
      [[{ path: "/a/../b" }], /cannot be a directory name/],
      [[{ path: "/a" }, { path: "/a" }], /two exports have the path \/a/],
      [[{ path: "/a" }, { path: "/a/b" }], /overlap/],
      [
        [
          { path: "/a", id: 3 },
          { path: "/b", id: 3 },
        ],
        /same id 3/,
      ],
      [[{ path: "/a", id: 0 }], /exports\[0\].id: must be an integer in \[1, 4294967295\], not 0/],
      [[{ path: "/a", backend: "oracle" }], /exports\[0\].backend: must be one of/],
      [[{ path: "/a", backend: "postgres" }], /needs 'exports\[0\] \(\/a\)\.postgresUrl'/],
      [[{ path: "/a", backend: "postgres", postgresUrl: "http://x/" }], /postgres:\/\//],
      [[{ path: "/a", postgresUrl: "postgres://db/a" }], /for the "postgres" backend only/],
      [
        [{ path: "/a", payload: "tape" }],
        /exports\[0\].payload: must be one of "local", "s3", not "tape"/,
      ],
      [
        [{ path: "/a", backend: "memory", payload: "s3" }],
        /payload' is for the "sqlite" and "postgres"/,
      ],
      [[{ path: "/a", payload: "s3" }], /payload' "s3" needs 'store.s3Endpoint'/],
      [
        [
          { path: "/a", backend: "postgres", postgresUrl: "postgres://u:secret@db/a" },
          { path: "/b", backend: "postgres", postgresUrl: "postgres://u:secret@db/a" },
        ],
        /share the database postgres:\/\/u:\*\*\*@db\/a/,
      ],
      [
        [{ path: "/a", backend: "memory", dataDir: "/d" }],
        /for the "sqlite" and "postgres" backends only/,
      ],
      [
        [
          { path: "/a", backend: "sqlite", dataDir: "/d" },
          { path: "/b", backend: "sqlite", dataDir: "/d" },
        ],
        /share a data directory/,
      ],
      [
        [
          { path: "/a", backend: "sqlite", dataDir: "/d" },
          { path: "/b", backend: "sqlite", dataDir: "/d/e" },
        ],
        /share a data directory/,
      ],
      [[{ path: "/a", backend: "sqlite", dataDir: "/srv" }], /holds the server's own store/],
      [
        [{ path: "/a", clients: ["10.0.0.300"] }],
        /exports\[0\].clients\[0\]: must be an IPv4\/IPv6 address or CIDR/,
      ],
      [[{ path: "/a", clients: ["10.0.0.1/8"] }], /bits set beyond/],
      [[{ path: "/a", clients: [] }], /clients: must be a list .* at least 1, not an empty list/],
      [[{ path: "/a", readOnly: "yes" }], /readOnly: must be true or false, not "yes"/],
      [[{ path: "/a", squash: "root_squash" }], /squash: must be one of "none", "root", "all"/],
      [[{ path: "/a", anonuid: -1 }], /anonuid: must be an integer in \[0, 4294967295\]/],
      [[{ path: "/a", sec: ["krb5"] }], /sec\[0\]: must be one of "sys", "none", not "krb5"/],
      [[{ path: "/a", sec: ["sys", "sys"] }], /sec\[1\]: repeats "sys"/],
    ];
    for (const [exports, message] of cases)
      expect(() => build(exports), JSON.stringify(exports)).toThrow(message);
  });

  it("default data directories that collide are an error asking for an explicit one", () => {
    expect(() =>
      build([
        { path: "/a-b", backend: "sqlite" },
        { path: "/a/b", backend: "sqlite" },
      ]),
    ).toThrow(/share a data directory/);
  });

  it("is a known top-level key", () => {
    expect(() => buildConfig(JSON.stringify({ export: [] }), "t.json", [])).toThrow(
      /known: listen, nfs, rpc, store, exports, logLevel, control, metrics/,
    );
  });
});

import { describe, expect, it } from "vitest";
import { readConfig } from "../../src/config/config.js";
import { problemLine } from "../../src/config/errors.js";
import { probeStores } from "../../src/config/store-probe.js";
import { freePort } from "../support/ports.js";

// freePort(): a loopback port nobody listens on once it returns, so connecting is refused at once.
const closedPort = freePort;

async function probe(text: string): Promise<string[]> {
  const loaded = readConfig(text, "dfs.yaml", []);
  return (await probeStores(loaded.config, loaded.where, 3000)).map(problemLine);
}

describe("the store check of dfs config validate", () => {
  it("names the key and line of a PostgreSQL URL nobody answers at", async () => {
    const port = await closedPort();
    const lines = await probe(
      [
        "store:",
        "  backend: postgres",
        `  postgresUrl: postgres://dfs:secret@127.0.0.1:${port}/dfs`,
        "exports:",
        "  - path: /a",
        "    backend: memory",
        "  - path: /b",
        "    backend: postgres",
        `    postgresUrl: postgres://dfs@127.0.0.1:${port}/b`,
      ].join("\n"),
    );
    expect(lines).toEqual([
      `dfs.yaml:3:16: store.postgresUrl: cannot use the database postgres://dfs:***@127.0.0.1:${port}/dfs (within 3000 ms): connect ECONNREFUSED 127.0.0.1:${port}`,
      `dfs.yaml:9:18: exports[1].postgresUrl: cannot use the database postgres://dfs@127.0.0.1:${port}/b (within 3000 ms): connect ECONNREFUSED 127.0.0.1:${port}`,
    ]);
  });

  it("names the key and line of an S3 endpoint nobody answers at", async () => {
    const port = await closedPort();
    const lines = await probe(
      [
        "store:",
        "  payload: s3",
        `  s3Endpoint: http://127.0.0.1:${port}`,
        "  s3Bucket: dfs",
        "  s3AccessKeyId: AK",
        "  s3SecretAccessKey: SK",
      ].join("\n"),
    );
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      new RegExp(
        `^dfs\\.yaml:3:15: store\\.s3Endpoint: cannot list the bucket dfs at http://127\\.0\\.0\\.1:${port} \\(within 3000 ms\\): .*ECONNREFUSED`,
      ),
    );
  });

  it("checks nothing when no store is remote", async () => {
    expect(await probe("store:\n  backend: memory\n")).toEqual([]);
    expect(await probe("")).toEqual([]);
  });
});

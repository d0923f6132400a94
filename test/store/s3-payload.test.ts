// The S3 payload store (src/store/s3-payload.ts) against a real S3 service:
// Ceph's RADOS Gateway on a throwaway single-node cluster
// (test/support/radosgw.ts). Then the backend conformance suite on
// PostgreSQL + S3 (test/support/postgres.ts), the scale-out backend.

import type { S3Client } from "@aws-sdk/client-s3";
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command } from "@aws-sdk/client-s3";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FileSystem } from "../../src/fs/backend.js";
import { openExports } from "../../src/cli/open-exports.js";
import { buildConfig } from "../../src/config/config.js";
import { PgMetadataStore } from "../../src/store/pg-metadata.js";
import { S3PayloadStore, type S3PayloadOptions } from "../../src/store/s3-payload.js";
import { StoreFileSystem } from "../../src/store/store-fs.js";
import { describeBackendConformance } from "../fs/conformance.js";
import { postgresMissing, startPostgres, type PostgresCluster } from "../support/postgres.js";
import {
  radosgwMissing,
  s3ClientOf,
  startRadosgw,
  type RadosgwCluster,
} from "../support/radosgw.js";

const missing = radosgwMissing() ?? postgresMissing();
if (missing !== null) {
  // CI installs Ceph and PostgreSQL (.ci/run) and sets DFS_REQUIRE_SERVICES: there this is a failure.
  if (process.env["DFS_REQUIRE_SERVICES"] === "1") throw new Error(`S3 store tests: ${missing}`);
  console.warn(`\n*** SKIPPING the S3 payload store tests: ${missing} ***\n`);
}

const BLOCK = 64 * 1024;
const ATTRS = { mode: 0o644, uid: 0, gid: 0 };
const bytes = (n: number, seed: number): Uint8Array =>
  Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) & 0xff);

describe.skipIf(missing !== null)("S3 payload store", () => {
  let rgw: RadosgwCluster;
  let pg: PostgresCluster;
  let s3: S3Client;
  const root = mkdtempSync(join(tmpdir(), "dfs-s3-test-"));
  let seq = 0;
  const open: S3PayloadStore[] = [];

  beforeAll(async () => {
    [rgw, pg] = await Promise.all([startRadosgw(), startPostgres()]);
    s3 = s3ClientOf(rgw);
  }, 120_000);

  afterAll(async () => {
    for (const p of open.splice(0)) await p.close().catch(() => undefined);
    s3?.destroy();
    rgw?.stop();
    pg?.stop();
    rmSync(root, { recursive: true, force: true });
  });

  /** A bucket and staging directory of their own. */
  async function place(): Promise<{ bucket: string; stagingDir: string }> {
    const n = ++seq;
    const bucket = `b${n}-${process.pid}`;
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    return { bucket, stagingDir: join(root, `staging${n}`) };
  }

  async function store(
    at: { bucket: string; stagingDir: string },
    options: Partial<S3PayloadOptions> = {},
  ): Promise<S3PayloadStore> {
    const p = await S3PayloadStore.open({
      endpoint: rgw.endpoint,
      region: rgw.region,
      accessKeyId: rgw.accessKeyId,
      secretAccessKey: rgw.secretAccessKey,
      blockSize: BLOCK,
      ...at,
      ...options,
    });
    open.push(p);
    return p;
  }

  async function keys(bucket: string): Promise<string[]> {
    const r = await s3.send(new ListObjectsV2Command({ Bucket: bucket }));
    return (r.Contents ?? []).map((o) => o.Key ?? "").sort();
  }

  async function object(bucket: string, key: string): Promise<Uint8Array> {
    const r = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    return r.Body!.transformToByteArray();
  }

  it("writes across blocks and reads back, holes as zeros, before and after the upload", async () => {
    const at = await place();
    const p = await store(at, { durability: "remote" });
    const data = bytes(BLOCK * 2 + 100, 7);
    await p.write("f1", BLOCK / 2, data);
    // A hole of three blocks, then one byte.
    await p.write("f1", BLOCK * 6, Uint8Array.of(9));
    const expected = new Uint8Array(BLOCK * 6 + 1);
    expected.set(data, BLOCK / 2);
    expected[BLOCK * 6] = 9;
    expect(await p.read("f1", 0, expected.length)).toEqual(expected);
    await p.commit("f1");
    expect(p.dirtyBlocks).toBe(0);
    // Blocks 0-2 and 6; the hole (3-5) has no objects.
    expect(await keys(at.bucket)).toEqual(
      ["00000000", "00000001", "00000002", "00000006"].map((k) => `f1/${k}`),
    );
    expect(await object(at.bucket, "f1/00000001")).toEqual(expected.subarray(BLOCK, 2 * BLOCK));
    // Read back from the object store now, across a block boundary.
    expect(await p.read("f1", BLOCK - 10, 30)).toEqual(expected.subarray(BLOCK - 10, BLOCK + 20));
    expect(await p.read("f1", 0, expected.length)).toEqual(expected);
  });

  it("a partial write of an uploaded block keeps the rest of it", async () => {
    const at = await place();
    const p = await store(at, { durability: "remote" });
    const block = bytes(BLOCK, 3);
    await p.write("g", 0, block);
    await p.commit("g");
    await p.write("g", 100, Uint8Array.of(1, 2, 3));
    await p.commit("g");
    const expected = new Uint8Array(block);
    expected.set([1, 2, 3], 100);
    expect(await object(at.bucket, "g/00000000")).toEqual(expected);
  });

  it("truncate drops whole blocks and cuts the last; growing again reads zeros", async () => {
    const at = await place();
    const p = await store(at, { durability: "remote" });
    await p.write("t", 0, bytes(BLOCK * 3, 1));
    await p.commit("t");
    await p.truncate("t", BLOCK + 10);
    await p.commit("t");
    expect(await keys(at.bucket)).toEqual(["t/00000000", "t/00000001"]);
    expect((await object(at.bucket, "t/00000001")).length).toBe(10);
    await p.truncate("t", BLOCK * 3);
    const back = await p.read("t", BLOCK, BLOCK * 2);
    expect(back.subarray(0, 10)).toEqual(bytes(BLOCK * 3, 1).subarray(BLOCK, BLOCK + 10));
    expect(back.subarray(10).every((b) => b === 0)).toBe(true);
  });

  it("delete removes every object of the payload; ids() lists payloads in the tier and the bucket", async () => {
    const at = await place();
    const p = await store(at, { durability: "remote", uploadDelayMs: 60_000 });
    await p.write("a", 0, bytes(BLOCK * 2, 1));
    await p.commit("a");
    await p.write("b", 0, bytes(10, 2)); // still in the tier
    const ids: string[] = [];
    for await (const id of p.ids()) ids.push(id);
    expect(ids.sort()).toEqual(["a", "b"]);
    await p.delete("a");
    await p.delete("b");
    expect(await keys(at.bucket)).toEqual([]);
    expect(p.dirtyBlocks).toBe(0);
  });

  it('durability "local": COMMIT returns with the blocks in the tier; a new store over it (after kill -9) uploads them', async () => {
    const at = await place();
    // No upload for a minute: only the restart can move the blocks.
    const first = await store(at, { durability: "local", uploadDelayMs: 60_000 });
    const data = bytes(BLOCK + 5, 11);
    await first.write("k", 0, data);
    await first.commit("k");
    expect(first.dirtyBlocks).toBe(2);
    expect(await keys(at.bucket)).toEqual([]);
    expect(readdirSync(at.stagingDir).sort()).toEqual(["k-0", "k-1"]);
    // The first store is abandoned as a killed process would leave it.
    const second = await store(at, { durability: "local", uploadDelayMs: 60_000 });
    expect(second.dirtyBlocks).toBe(2);
    expect(await second.read("k", 0, data.length)).toEqual(data);
    await second.flush();
    expect(await keys(at.bucket)).toEqual(["k/00000000", "k/00000001"]);
    expect(readdirSync(at.stagingDir)).toEqual([]);
    expect(await second.read("k", 0, data.length)).toEqual(data);
  });

  it("exports choose their payload: one SQLite with local files, one PostgreSQL with S3, in one server", async () => {
    const { bucket, stagingDir } = await place();
    const dataDir = join(stagingDir, "srv");
    const url = await pg.createDatabase(`exports${seq}`);
    const config = buildConfig(
      JSON.stringify({
        store: {
          dataDir,
          s3Endpoint: rgw.endpoint,
          s3Region: rgw.region,
          s3Bucket: bucket,
          s3AccessKeyId: rgw.accessKeyId,
          s3SecretAccessKey: rgw.secretAccessKey,
        },
        exports: [
          { path: "/local" },
          { path: "/scaled", backend: "postgres", postgresUrl: url, payload: "s3" },
        ],
      }),
      "test.json",
      [],
    );
    const opened = await openExports(config.exports!, config.store);
    try {
      for (const e of opened.exports) {
        const f = await e.fs.create(await e.fs.root(), "f", { kind: "guarded" }, ATTRS);
        await e.fs.write(f.handle, 0n, bytes(1000, 7), 2);
        await e.fs.commit(f.handle, 0n, 0);
      }
    } finally {
      await opened.close();
    }
    // The local export's contents are files in its data directory; the other's are objects
    // under its own prefix, none of them from the local export.
    expect(readdirSync(join(dataDir, "exports", "local", "payload")).length).toBeGreaterThan(0);
    const keys = (await s3.send(new ListObjectsV2Command({ Bucket: bucket }))).Contents ?? [];
    expect(keys.length).toBeGreaterThan(0);
    expect(keys.every((k) => k.Key?.startsWith("exports/scaled/"))).toBe(true);
    expect(readdirSync(join(dataDir, "exports", "scaled"))).not.toContain("payload");
  });

  it("reports store.s3CapacityBytes as its size and free space", async () => {
    const p = await store(await place(), { capacityBytes: 5 * 2 ** 40 });
    expect(await p.space()).toEqual({
      totalBytes: 5n * 2n ** 40n,
      freeBytes: 5n * 2n ** 40n,
      availBytes: 5n * 2n ** 40n,
    });
  });

  it("a wrong key or bucket fails at open with the service's answer", async () => {
    const at = await place();
    await expect(store(at, { secretAccessKey: "wrong" })).rejects.toThrow(
      /SignatureDoesNotMatch|403/,
    );
    await expect(store({ ...at, bucket: "no-such-bucket" })).rejects.toThrow(/NoSuchBucket|404/);
  });

  describe("PostgreSQL + S3", () => {
    const stores = new Map<
      FileSystem,
      { fs: StoreFileSystem; url: string; at: { bucket: string; stagingDir: string } }
    >();

    async function openAt(
      url: string,
      at: { bucket: string; stagingDir: string },
    ): Promise<StoreFileSystem> {
      const meta = await PgMetadataStore.open(url, { poolSize: 4 });
      const fs = await StoreFileSystem.open(meta, await store(at, { durability: "local" }));
      stores.set(fs, { fs, url, at });
      return fs;
    }

    async function closeAll(): Promise<void> {
      for (const [k, v] of [...stores]) {
        stores.delete(k);
        await v.fs.close();
      }
    }

    afterAll(closeAll);

    describeBackendConformance(
      "postgres+s3",
      async () => {
        await closeAll();
        return openAt(await pg.createDatabase(`s3conf${++seq}`), await place());
      },
      {
        restart: async (old) => {
          const o = stores.get(old);
          if (o === undefined) throw new Error("not a store of this test");
          stores.delete(old);
          await o.fs.close();
          return openAt(o.url, o.at);
        },
        handlesSurviveRestart: true,
      },
    );
  });
});

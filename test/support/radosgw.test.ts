// The throwaway RADOS Gateway (test/support/radosgw.ts) is a real S3 service:
// buckets, objects, ranged reads, listings, deletes, and signatures checked.

import type { S3Client } from "@aws-sdk/client-s3";
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3ServiceException,
} from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { radosgwMissing, s3ClientOf, startRadosgw, type RadosgwCluster } from "./radosgw.js";

const missing = radosgwMissing();
if (missing !== null) {
  // CI installs Ceph (.ci/run) and sets DFS_REQUIRE_SERVICES: there this is a failure.
  if (process.env["DFS_REQUIRE_SERVICES"] === "1")
    throw new Error(`RADOS Gateway tests: ${missing}`);
  console.warn(`\n*** SKIPPING the RADOS Gateway tests: ${missing} ***\n`);
}

describe.skipIf(missing !== null)("throwaway RADOS Gateway", () => {
  let cluster: RadosgwCluster;
  let s3: S3Client;
  const bucket = "dfs-test";

  const client = (secretAccessKey: string): S3Client => s3ClientOf(cluster, secretAccessKey);

  beforeAll(async () => {
    cluster = await startRadosgw();
    s3 = client(cluster.secretAccessKey);
  }, 120_000);

  afterAll(() => {
    s3?.destroy();
    cluster?.stop();
  });

  it("listens on loopback", () => {
    expect(cluster.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });

  it("stores, reads ranges of, lists and deletes objects", async () => {
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    const body = Buffer.from("0123456789abcdef");
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: "dir/object", Body: body }));

    const ranged = await s3.send(
      new GetObjectCommand({ Bucket: bucket, Key: "dir/object", Range: "bytes=2-5" }),
    );
    expect(ranged.ContentRange).toBe("bytes 2-5/16");
    expect(Buffer.from((await ranged.Body?.transformToByteArray()) ?? [])).toEqual(
      Buffer.from("2345"),
    );

    const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: "dir/" }));
    expect(listed.Contents?.map((o) => [o.Key, o.Size])).toEqual([["dir/object", 16]]);

    await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: "dir/object" }));
    const after = await s3.send(new ListObjectsV2Command({ Bucket: bucket }));
    expect(after.KeyCount).toBe(0);
    expect(after.Contents ?? []).toEqual([]);
  });

  it("refuses a wrong secret key", async () => {
    const wrong = client(
      `${cluster.secretAccessKey.slice(0, -1)}${cluster.secretAccessKey.endsWith("x") ? "y" : "x"}`,
    );
    try {
      const refused = await wrong.send(new ListObjectsV2Command({ Bucket: bucket })).then(
        () => null,
        (e: unknown) => e,
      );
      expect(refused).toBeInstanceOf(S3ServiceException);
      if (!(refused instanceof S3ServiceException)) return;
      expect(refused.name).toBe("SignatureDoesNotMatch");
      expect(refused.$metadata.httpStatusCode).toBe(403);
    } finally {
      wrong.destroy();
    }
  });
});

// `npm run serve:scale-out -- [PORT [JSON]]`: `dfs serve` on the scale-out backend
// with nothing installed by hand but Debian's postgresql and Ceph packages —
// a throwaway PostgreSQL cluster (postgres.ts) and RADOS Gateway
// (radosgw.ts), a bucket, and a config file joining them — until Ctrl-C,
// which stops all of it. For trying the backend with real clients (e.g.
// ../shared/kclient/run.sh PORT /export workloads/smoke.sh); nothing here is
// a test. JSON is merged into the config's top level (e.g.
// '{"nfs":{"leaseTimeSec":20,"graceTimeSec":20}}' for pynfs).

import { CreateBucketCommand } from "@aws-sdk/client-s3";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { postgresMissing, startPostgres } from "./postgres.js";
import { radosgwMissing, s3ClientOf, scaleOutStore, startRadosgw } from "./radosgw.js";

const port = Number(process.argv[2] ?? 2049);
const extra: unknown = JSON.parse(process.argv[3] ?? "{}");
if (typeof extra !== "object" || extra === null || Array.isArray(extra)) {
  console.error("serve:scale-out: the second argument must be a JSON object");
  process.exit(2);
}
const missing = postgresMissing() ?? radosgwMissing();
if (missing !== null) {
  console.error(`serve:scale-out: ${missing}`);
  process.exit(2);
}
const dir = mkdtempSync(join(tmpdir(), "dfs-scale-out-"));
const [pg, rgw] = await Promise.all([startPostgres(), startRadosgw()]);
const s3 = s3ClientOf(rgw);
await s3.send(new CreateBucketCommand({ Bucket: "dfs" }));
s3.destroy();
const url = await pg.createDatabase("dfs");
const config = join(dir, "dfs.json");
writeFileSync(
  config,
  JSON.stringify(
    {
      ...extra,
      listen: [`127.0.0.1:${port}`],
      store: { ...scaleOutStore(url, rgw, "dfs"), dataDir: join(dir, "data") },
    },
    null,
    2,
  ),
);
console.log(`serve:scale-out: PostgreSQL ${url}, S3 ${rgw.endpoint} bucket dfs; config ${config}`);
const server = spawn(process.execPath, [resolve("bin", "dfs.js"), "serve", "--config", config], {
  stdio: "inherit",
});
const stop = (): void => {
  server.kill("SIGINT");
};
process.once("SIGINT", stop);
process.once("SIGTERM", stop);
const code = await new Promise<number>((done) => server.once("exit", (c) => done(c ?? 1)));
rgw.stop();
pg.stop();
rmSync(dir, { recursive: true, force: true });
process.exit(code);

// `dfs config validate`'s check that the stores a configuration names answer:
// each PostgreSQL database (`store.postgresUrl`, an export's `postgresUrl`)
// accepts a connection and a query, and the S3 bucket (`store.s3Endpoint`,
// `store.s3Bucket`) can be listed. Each check is bounded by a timeout, so an
// address nobody answers at is reported rather than waited on.

import { ListObjectsV2Command, S3Client, S3ServiceException } from "@aws-sdk/client-s3";
import pg from "pg";
import { withoutPassword } from "../store/data-dir.js";
import type { ServeConfig } from "./config.js";
import type { ConfigProblem } from "./errors.js";
import type { KeyPath } from "./schema.js";

interface PostgresTarget {
  readonly kind: "postgres";
  readonly path: KeyPath;
  readonly url: string;
}
interface S3Target {
  readonly kind: "s3";
  readonly path: KeyPath;
}
type Target = PostgresTarget | S3Target;

/** The stores `config` would open, each with the key that names it. */
function targets(config: ServeConfig): Target[] {
  const out: Target[] = [];
  if (config.store.backend === "postgres")
    out.push({ kind: "postgres", path: ["store", "postgresUrl"], url: config.store.postgresUrl });
  config.exports?.forEach((e, i) => {
    if (e.backend === "postgres")
      out.push({ kind: "postgres", path: ["exports", i, "postgresUrl"], url: e.postgresUrl });
  });
  const s3 =
    (config.store.backend !== "memory" && config.store.payload === "s3") ||
    (config.exports ?? []).some((e) => e.payload === "s3");
  if (s3) out.push({ kind: "s3", path: ["store", "s3Endpoint"] });
  return out;
}

async function probePostgres(url: string, timeoutMs: number): Promise<string | null> {
  const client = new pg.Client({
    connectionString: url,
    connectionTimeoutMillis: timeoutMs,
    query_timeout: timeoutMs,
  });
  // A failed connection also emits "error"; without a listener it would end the process.
  client.on("error", () => undefined);
  try {
    await client.connect();
    await client.query("SELECT 1");
    return null;
  } catch (e) {
    return `cannot use the database ${withoutPassword(url)} (within ${timeoutMs} ms): ${describe(e)}`;
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function probeS3(config: ServeConfig, timeoutMs: number): Promise<string | null> {
  const s = config.store;
  // As s3-payload.ts: the SDK's Node version notice is for this project, not its users.
  process.env["AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED"] ??= "true";
  const s3 = new S3Client({
    endpoint: s.s3Endpoint,
    region: s.s3Region,
    forcePathStyle: true,
    maxAttempts: 1,
    ...(s.s3AccessKeyId === ""
      ? {}
      : { credentials: { accessKeyId: s.s3AccessKeyId, secretAccessKey: s.s3SecretAccessKey } }),
  });
  try {
    await s3.send(
      new ListObjectsV2Command({ Bucket: s.s3Bucket, Prefix: s.s3Prefix, MaxKeys: 1 }),
      {
        abortSignal: AbortSignal.timeout(timeoutMs),
      },
    );
    return null;
  } catch (e) {
    return `cannot list the bucket ${s.s3Bucket} at ${s.s3Endpoint} (within ${timeoutMs} ms): ${describe(e)}`;
  } finally {
    s3.destroy();
  }
}

function describe(e: unknown): string {
  if (e instanceof S3ServiceException)
    return `${e.name} (HTTP ${e.$metadata.httpStatusCode ?? "?"}): ${e.message}`;
  if (e instanceof AggregateError && e.errors.length > 0)
    return e.errors.map((x: unknown) => describe(x)).join("; ");
  if (e instanceof Error) {
    const code = (e as NodeJS.ErrnoException).code;
    return e.message !== "" ? e.message : (code ?? e.name);
  }
  return String(e);
}

/**
 * One problem per store of `config` that does not answer within
 * `timeoutMs`; `where` locates its key (LoadedConfig.where).
 */
export async function probeStores(
  config: ServeConfig,
  where: (path: KeyPath) => string,
  timeoutMs: number,
): Promise<ConfigProblem[]> {
  const results = await Promise.all(
    targets(config).map(async (t) => ({
      t,
      why:
        t.kind === "postgres"
          ? await probePostgres(t.url, timeoutMs)
          : await probeS3(config, timeoutMs),
    })),
  );
  return results.flatMap(({ t, why }) =>
    why === null ? [] : [{ where: where(t.path), path: t.path, message: why }],
  );
}

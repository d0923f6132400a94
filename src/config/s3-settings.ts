// The check of the S3 settings (`store.s3*`) together, shared by the `store`
// section (config.ts) and each export whose payload is "s3" (exports.ts): every
// export keeps its files' contents in the one bucket, under a prefix of its own.
// Each setting's own form and range is checked by its declaration (declarations.ts).

import type { StoreSettings } from "../store/settings.js";

/** Why the `store.s3*` settings cannot serve an S3 payload store (`who` needs one), or null. */
export function checkS3Settings(store: StoreSettings, who: string): string | null {
  if (store.s3Endpoint === "")
    return `${who} "s3" needs 'store.s3Endpoint', e.g. "http://127.0.0.1:7480"`;
  if (store.s3Bucket === "") return `${who} "s3" needs 'store.s3Bucket', the bucket's name`;
  if ((store.s3AccessKeyId === "") !== (store.s3SecretAccessKey === ""))
    return "'store.s3AccessKeyId' and 'store.s3SecretAccessKey' go together (or leave both empty for the AWS SDK's environment)";
  return null;
}

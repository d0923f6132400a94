// The check of the S3 settings (`store.s3*`), shared by the `store` section
// (config.ts) and each export whose payload is "s3" (exports.ts): every
// export keeps its files' contents in the one bucket, under a prefix of its own.

import type { StoreSettings } from "../store/settings.js";

/** Why the `store.s3*` settings cannot serve an S3 payload store (`who` needs one), or null. */
export function checkS3Settings(store: StoreSettings, who: string): string | null {
  if (store.s3Endpoint === "")
    return `${who} "s3" needs 'store.s3Endpoint', e.g. "http://127.0.0.1:7480"`;
  try {
    const u = new URL(store.s3Endpoint);
    if (u.protocol !== "http:" && u.protocol !== "https:")
      return "'store.s3Endpoint' must be an http:// or https:// URL";
  } catch {
    return "'store.s3Endpoint' is not a URL";
  }
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(store.s3Bucket))
    return "'store.s3Bucket' must be a bucket name (3-63 lowercase letters, digits, dots and hyphens)";
  if ((store.s3AccessKeyId === "") !== (store.s3SecretAccessKey === ""))
    return "'store.s3AccessKeyId' and 'store.s3SecretAccessKey' go together (or leave both empty for the AWS SDK's environment)";
  if (store.s3BlockSize < 4096 || store.s3BlockSize > 1 << 30)
    return "store.s3BlockSize must be in [4096, 1073741824]";
  if (store.s3UploadConcurrency < 1 || store.s3MaxDirtyBlocks < 1)
    return "store.s3UploadConcurrency and store.s3MaxDirtyBlocks must be at least 1";
  if (store.s3UploadDelayMs > 0x7fffffff) return "store.s3UploadDelayMs must be at most 2147483647";
  if (store.s3CapacityBytes < 1 || !Number.isSafeInteger(store.s3CapacityBytes))
    return "store.s3CapacityBytes must be a whole number of bytes, at least 1";
  return null;
}

// Names the setting at fault when a store cannot be opened (`dfs serve`) or
// reached (`dfs config validate`): the database of `store.postgresUrl`, the
// bucket of `store.s3Endpoint` / `store.s3Bucket`, or a data directory.

import { DataDirError } from "../store/data-dir.js";
import { pathText, type KeyPath } from "./schema.js";

/** The key paths of the settings behind each part of a store configured at `prefix` ("store", or ["exports", i]). */
export function storePartKeys(prefix: KeyPath): {
  readonly directory: KeyPath;
  readonly metadata: KeyPath;
  readonly payload: KeyPath;
} {
  return {
    directory: [...prefix, "dataDir"],
    metadata: [...prefix, "postgresUrl"],
    // Every export's S3 payload is in the one bucket of the store section.
    payload: ["store", "s3Endpoint"],
  };
}

/** `e` (from openDataDir) as a message that starts with the setting at fault. */
export function storeOpenMessage(e: unknown, prefix: KeyPath): string {
  const message = e instanceof Error ? e.message : String(e);
  if (!(e instanceof DataDirError)) return message;
  const keys = storePartKeys(prefix);
  const key = e.part === "payload" ? "store.s3Endpoint, store.s3Bucket" : pathText(keys[e.part]);
  return `${key}: ${message}`;
}

// ObjectRecords for tests of the metadata stores: a regular file unless told otherwise.

import { nfs_ftype4 } from "../../generated/nfs4/index.js";
import type { ObjectRecord } from "../../src/store/metadata.js";

const T = { seconds: 1n, nseconds: 0 };

export function objectRecord(
  id: bigint,
  over: Partial<Omit<ObjectRecord, "id">> = {},
): ObjectRecord {
  return {
    id,
    type: nfs_ftype4.NF4REG,
    mode: 0o644,
    uid: 0,
    gid: 0,
    nlink: 1,
    size: 0n,
    atime: T,
    mtime: T,
    ctime: T,
    birthtime: T,
    change: 1n,
    rdev: { major: 0, minor: 0 },
    target: null,
    createVerifier: null,
    parent: null,
    payload: null,
    ...over,
  };
}

// Typed reading of the SQL stores' result rows (SQLite, PostgreSQL). Both
// return a row as an array of column values with every integer a bigint
// (SQLite: raw mode with safe integers; PostgreSQL: the integer type parsers
// of pg-metadata.ts) and binary columns as bytes; these helpers check each
// value's type instead of casting.

import type { EntryRecord, ObjectRecord } from "./metadata.js";
import type { ClientRecoveryRecord } from "./recovery.js";
import type { nfs_ftype4 } from "../../generated/nfs4/index.js";
import { nfs_ftype4 as FTYPE } from "../../generated/nfs4/index.js";

export class CorruptStoreError extends Error {
  override readonly name = "CorruptStoreError";
}

export function columns(row: unknown): readonly unknown[] {
  if (!Array.isArray(row)) throw new CorruptStoreError("expected a row");
  return row;
}

export function big(v: unknown): bigint {
  if (typeof v !== "bigint") throw new CorruptStoreError(`expected an integer, got ${typeof v}`);
  return v;
}

export function int(v: unknown): number {
  return Number(big(v));
}

export function text(v: unknown): string {
  if (typeof v !== "string") throw new CorruptStoreError(`expected text, got ${typeof v}`);
  return v;
}

/** A BLOB column (copied out of SQLite's buffer), or null. */
export function blobOrNull(v: unknown): Uint8Array | null {
  if (v === null) return null;
  if (!(v instanceof Uint8Array)) throw new CorruptStoreError("expected a blob");
  return new Uint8Array(v);
}

function fileType(v: unknown): nfs_ftype4 {
  const n = int(v);
  const t = Object.values(FTYPE).find((x) => x === n);
  if (t === undefined) throw new CorruptStoreError(`bad object type ${n}`);
  return t;
}

/** The columns of `objects` in the order OBJECT_COLUMNS lists them. */
export const OBJECT_COLUMNS =
  "id, type, mode, uid, gid, nlink, size, atime_s, atime_ns, mtime_s, mtime_ns, ctime_s, ctime_ns, " +
  "btime_s, btime_ns, change, rdev_major, rdev_minor, target, create_verifier, parent, payload";

export function objectFromRow(row: unknown): ObjectRecord {
  const c = columns(row);
  const parent = c[20] === null ? null : big(c[20]);
  const payload = c[21] === null ? null : text(c[21]);
  return {
    id: big(c[0]),
    type: fileType(c[1]),
    mode: int(c[2]),
    uid: int(c[3]),
    gid: int(c[4]),
    nlink: int(c[5]),
    size: big(c[6]),
    atime: { seconds: big(c[7]), nseconds: int(c[8]) },
    mtime: { seconds: big(c[9]), nseconds: int(c[10]) },
    ctime: { seconds: big(c[11]), nseconds: int(c[12]) },
    birthtime: { seconds: big(c[13]), nseconds: int(c[14]) },
    change: big(c[15]),
    rdev: { major: int(c[16]), minor: int(c[17]) },
    target: blobOrNull(c[18]),
    createVerifier: blobOrNull(c[19]),
    parent,
    payload,
  };
}

/** Parameters for an INSERT listing OBJECT_COLUMNS. */
export function objectToRow(o: ObjectRecord): unknown[] {
  return [
    o.id,
    o.type,
    o.mode,
    o.uid,
    o.gid,
    o.nlink,
    o.size,
    o.atime.seconds,
    o.atime.nseconds,
    o.mtime.seconds,
    o.mtime.nseconds,
    o.ctime.seconds,
    o.ctime.nseconds,
    o.birthtime.seconds,
    o.birthtime.nseconds,
    o.change,
    o.rdev.major,
    o.rdev.minor,
    o.target,
    o.createVerifier,
    o.parent,
    o.payload,
  ];
}

export const ENTRY_COLUMNS = "dir, name, cookie, child";

export function entryFromRow(row: unknown): EntryRecord {
  const c = columns(row);
  return { dir: big(c[0]), name: text(c[1]), cookie: big(c[2]), child: big(c[3]) };
}

/** A row of the clients table (owner_id, principal, recorded_at): a client recovery record. */
export function clientFromRow(row: unknown): ClientRecoveryRecord {
  const [owner, principal, at] = columns(row);
  const ownerId = blobOrNull(owner);
  if (ownerId === null) throw new CorruptStoreError("client recovery record without an owner");
  return { ownerId, principal: text(principal), recordedAt: int(at) };
}

// The PostgreSQL store's schema as a list of migrations, applied at open
// (pg-metadata.ts). Entry i takes a database from version i to i + 1 (the
// dfs_schema table). All of an open's upgrades run in one transaction —
// PostgreSQL's DDL is transactional, so a crash mid-upgrade leaves the old
// version whole — under an advisory lock, so servers starting together
// upgrade once. Append; never edit one that has shipped. A database newer
// than this list is refused.
//
// Integers are BIGINT throughout (the rows come back as bigints: sql-rows.ts);
// names compare and sort byte-wise (COLLATE "C"), as NFS names are bytes.

import type pg from "pg";
import { CorruptStoreError, blobOrNull, columns, int } from "./sql-rows.js";

/** Rows of object_counts (pg-metadata.ts: PgTx.count). */
export const OBJECT_COUNT_SHARDS = 16;

/** The advisory lock key of schema upgrades: "dfs-ts" in ASCII. */
const MIGRATION_LOCK = 0x6466_732d_7473n;

const MIGRATIONS: readonly string[] = [
  `
CREATE TABLE meta (key TEXT PRIMARY KEY, value BYTEA NOT NULL);
-- Object ids (the root is 1) and change values: never handed out twice, even
-- by transactions that roll back.
CREATE SEQUENCE object_ids START 1;
CREATE SEQUENCE change_values START 1;
CREATE TABLE objects (
  id BIGINT PRIMARY KEY, type BIGINT NOT NULL, mode BIGINT NOT NULL,
  uid BIGINT NOT NULL, gid BIGINT NOT NULL, nlink BIGINT NOT NULL, size BIGINT NOT NULL,
  atime_s BIGINT NOT NULL, atime_ns BIGINT NOT NULL, mtime_s BIGINT NOT NULL, mtime_ns BIGINT NOT NULL,
  ctime_s BIGINT NOT NULL, ctime_ns BIGINT NOT NULL, btime_s BIGINT NOT NULL, btime_ns BIGINT NOT NULL,
  change BIGINT NOT NULL, rdev_major BIGINT NOT NULL, rdev_minor BIGINT NOT NULL,
  target BYTEA, create_verifier BYTEA, parent BIGINT, payload TEXT);
CREATE INDEX objects_orphans ON objects (nlink) WHERE nlink = 0;
CREATE TABLE entries (
  dir BIGINT NOT NULL, name TEXT COLLATE "C" NOT NULL, cookie BIGINT NOT NULL, child BIGINT NOT NULL,
  PRIMARY KEY (dir, name));
-- READDIR's pages come from this index alone.
CREATE UNIQUE INDEX entries_by_cookie ON entries (dir, cookie) INCLUDE (name, child);
CREATE INDEX entries_by_child ON entries (child);
-- The last cookie each directory handed out: cookies are never reused, even after removals.
CREATE TABLE dir_cookies (dir BIGINT PRIMARY KEY, last BIGINT NOT NULL);
CREATE TABLE xattrs (
  object BIGINT NOT NULL, name TEXT COLLATE "C" NOT NULL, cookie BIGINT NOT NULL, value BYTEA NOT NULL,
  PRIMARY KEY (object, name));
CREATE UNIQUE INDEX xattrs_by_cookie ON xattrs (object, cookie);
CREATE TABLE xattr_cookies (object BIGINT PRIMARY KEY, last BIGINT NOT NULL);
-- Client recovery records (recovery.ts, RFC 8881 §8.4.2.1): one per client owner.
CREATE TABLE clients (
  owner_id BYTEA PRIMARY KEY, principal TEXT NOT NULL, recorded_at BIGINT NOT NULL);
-- Objects stored, as the sum of rows that transactions update at random.
CREATE TABLE object_counts (shard BIGINT PRIMARY KEY, n BIGINT NOT NULL);
INSERT INTO object_counts (shard, n) SELECT g, 0 FROM generate_series(0, ${OBJECT_COUNT_SHARDS - 1}) g;
`,
  // 1: the lease of the server serving the store (pg-lease.ts): one row at most.
  `
CREATE TABLE store_lease (
  id BIGINT PRIMARY KEY CHECK (id = 1), holder TEXT NOT NULL, expires_at TIMESTAMPTZ NOT NULL);
`,
];
const SCHEMA_VERSION = MIGRATIONS.length;

/**
 * Creates or upgrades the schema on `client` (a connection of its own, not
 * in a transaction); returns the store id, made by `newStoreId` when the
 * store is new.
 */
export async function migrate(
  client: pg.ClientBase,
  newStoreId: () => Uint8Array,
): Promise<Uint8Array> {
  await client.query("BEGIN");
  try {
    await client.query("SELECT pg_advisory_xact_lock($1)", [MIGRATION_LOCK.toString()]);
    await client.query("CREATE TABLE IF NOT EXISTS dfs_schema (version BIGINT NOT NULL)");
    const row = (
      await client.query<unknown[]>({ text: "SELECT version FROM dfs_schema", rowMode: "array" })
    ).rows[0];
    const version = row === undefined ? 0 : int(columns(row)[0]);
    if (row === undefined) await client.query("INSERT INTO dfs_schema (version) VALUES (0)");
    if (version > SCHEMA_VERSION)
      throw new CorruptStoreError(
        `metadata schema version ${version}, this server knows up to ${SCHEMA_VERSION}`,
      );
    for (let v = version; v < SCHEMA_VERSION; v++) {
      await client.query(MIGRATIONS[v] ?? "");
      if (v === 0)
        await client.query("INSERT INTO meta (key, value) VALUES ('store_id', $1)", [
          Buffer.from(newStoreId()),
        ]);
    }
    await client.query("UPDATE dfs_schema SET version = $1", [SCHEMA_VERSION]);
    const id = (
      await client.query<unknown[]>({
        text: "SELECT value FROM meta WHERE key = 'store_id'",
        rowMode: "array",
      })
    ).rows[0];
    const storeId = id === undefined ? null : blobOrNull(columns(id)[0]);
    if (storeId === null) throw new CorruptStoreError("the store has no id");
    await client.query("COMMIT");
    return storeId;
  } catch (e) {
    await client.query("ROLLBACK").catch(() => undefined);
    throw e;
  }
}

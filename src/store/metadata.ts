// The metadata store: the namespace (directory entries with their stable
// READDIR cookies), each object's attributes, link counts, extended
// attributes (RFC 8276) and the counters that make fileids and change
// attributes unique. File contents live in the
// payload store (payload.ts); StoreFileSystem (store-fs.ts) joins the two
// into a FileSystem.
//
// The interface is asynchronous and transactional so that a networked store
// (PostgreSQL, issue 11) fits it unchanged: every namespace operation runs as
// one transaction, counters live in the store (several server processes may
// share it), and objects are named by a persistent id, never by a path.

import type { nfs_ftype4 } from "../../generated/nfs4/index.js";
import type { DeviceNumber, FsTime } from "../fs/backend.js";
import type { ClientRecoveryStore } from "./recovery.js";

/** The persistent id of an object (its fileid). Never reused. */
export type ObjectId = bigint;

/** Object ids start at 1: the root directory, in every store. */
export const ROOT_ID: ObjectId = 1n;

/** Bytes of StoreIdentity.storeId. */
export const STORE_ID_BYTES = 8;

/** One object's stored record. */
export interface ObjectRecord {
  readonly id: ObjectId;
  readonly type: nfs_ftype4;
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  /** Names of a non-directory; 2 + subdirectories for a directory; 0 once its last name is gone. */
  readonly nlink: number;
  /** Bytes of data (regular files; for a symlink the length of its target). */
  readonly size: bigint;
  readonly atime: FsTime;
  readonly mtime: FsTime;
  readonly ctime: FsTime;
  readonly birthtime: FsTime;
  readonly change: bigint;
  readonly rdev: DeviceNumber;
  /** A symlink's target bytes; null otherwise. */
  readonly target: Uint8Array | null;
  /** The EXCLUSIVE4(_1) create verifier of a regular file, kept to recognise a retried create. */
  readonly createVerifier: Uint8Array | null;
  /** A directory's parent (null for the root and for non-directories). */
  readonly parent: ObjectId | null;
  /** The payload holding a regular file's contents (payload.ts); null otherwise. */
  readonly payload: string | null;
}

/** One directory entry. */
export interface EntryRecord {
  readonly dir: ObjectId;
  readonly name: string;
  /** Its READDIR cookie: taken from the directory's sequence when added, never reused. */
  readonly cookie: bigint;
  readonly child: ObjectId;
}

/** One entry of a page listEntriesWithObjects() returns: the entry and what getObject(child) returns. */
export interface ListedEntry {
  readonly name: string;
  readonly cookie: bigint;
  readonly child: ObjectId;
  /** The child's record, as getObject() would return it; null when the entry names no object. */
  readonly object: ObjectRecord | null;
}

/** An extended attribute's key as LISTXATTRS names it (RFC 8276 LISTXATTRS). */
export interface XattrKeyRecord {
  readonly name: string;
  /** Taken from the object's own sequence when the key was added (from 1), never reused. */
  readonly cookie: bigint;
}

/** The work of one transaction. Nothing is visible to others until it commits. */
export interface MetadataTx {
  /** Allocates an id no object ever had. */
  newObjectId(): Promise<ObjectId>;
  /** The next value of the store-wide change counter (never repeats, survives restarts). */
  nextChange(): Promise<bigint>;

  getObject(id: ObjectId): Promise<ObjectRecord | null>;
  /** Stores a new object (its id from newObjectId()). */
  createObject(record: ObjectRecord): Promise<void>;
  /** Replaces the stored record with `record.id`. */
  putObject(record: ObjectRecord): Promise<void>;
  /**
   * Deletes the object's record, its directory cookie sequence and its
   * extended attributes (its entries must be gone already).
   */
  deleteObject(id: ObjectId): Promise<void>;

  getEntry(dir: ObjectId, name: string): Promise<EntryRecord | null>;
  /** Adds the entry (the name must be free) with the directory's next cookie, which it returns. */
  addEntry(dir: ObjectId, name: string, child: ObjectId): Promise<bigint>;
  removeEntry(dir: ObjectId, name: string): Promise<void>;
  /** Up to `limit` entries of `dir` with cookies above `after`, in cookie order. */
  listEntries(dir: ObjectId, after: bigint, limit: number): Promise<EntryRecord[]>;
  /**
   * listEntries() with getObject() of each entry's child: READDIR's page in
   * one call, without the intermediate entry records and id arrays.
   */
  listEntriesWithObjects(dir: ObjectId, after: bigint, limit: number): Promise<ListedEntry[]>;
  /** The entry just before `cookie` in `dir` (null if none). */
  entryBefore(dir: ObjectId, cookie: bigint): Promise<EntryRecord | null>;
  /** True when `dir` has an entry whose cookie is above `cookie`. */
  hasEntryAfter(dir: ObjectId, cookie: bigint): Promise<boolean>;
  /** True when `cookie` was handed out by `dir` (whether or not its entry still exists). */
  cookieIssued(dir: ObjectId, cookie: bigint): Promise<boolean>;
  /** True when `dir` has no entries. */
  isEmpty(dir: ObjectId): Promise<boolean>;
  /** Every entry naming `child`. */
  namesOf(child: ObjectId): Promise<EntryRecord[]>;

  /** The value of `object`'s extended attribute `name`, or null. */
  getXattr(object: ObjectId, name: string): Promise<Uint8Array | null>;
  /**
   * Sets `object`'s extended attribute `name` to a copy of `value`: a new key
   * takes the object's next xattr cookie, a replaced one keeps its cookie.
   */
  setXattr(object: ObjectId, name: string, value: Uint8Array): Promise<void>;
  /** Removes `object`'s extended attribute `name` (nothing if it has none). */
  removeXattr(object: ObjectId, name: string): Promise<void>;
  /** Up to `limit` keys of `object` with cookies above `after`, in cookie order. */
  listXattrs(object: ObjectId, after: bigint, limit: number): Promise<XattrKeyRecord[]>;
  /** True when `cookie` was handed out by `object`'s keys (whether or not its key still exists). */
  xattrCookieIssued(object: ObjectId, cookie: bigint): Promise<boolean>;
  /** Bytes of `object`'s extended-attribute keys (UTF-8) and values together. */
  xattrBytes(object: ObjectId): Promise<number>;

  /** Objects stored, root included. */
  objectCount(): Promise<bigint>;
  /** Objects no entry names (nlink 0): left by a restart while they were pinned. */
  orphans(): Promise<ObjectRecord[]>;
}

export interface TransactOptions {
  /**
   * Wait for the commit to be on stable storage (default true). False for the
   * metadata of an UNSTABLE4 WRITE (its new size and times): like its data,
   * the client keeps it until a COMMIT (RFC 8881 §18.32.3), and COMMIT calls
   * sync(); the write verifier changes with every start, so after a crash
   * the client sends it again.
   */
  readonly durable?: boolean;
}

export interface ViewOptions {
  /**
   * Resolve without waiting for what it saw to be durable (default false).
   * Only for a caller whose outcome a crash undoes anyway: an UNSTABLE4
   * WRITE, which reads its file's size and answers nothing of it.
   */
  readonly unsynced?: boolean;
}

/** A change attempted inside view(). */
export class ReadOnlyTransactionError extends Error {
  override readonly name = "ReadOnlyTransactionError";
  constructor() {
    super("a read-only transaction (view) cannot change the store");
  }
}

/** Facts about the store fixed when it was created. */
export interface StoreIdentity {
  /** 8 random bytes chosen when the store was created: part of every handle. */
  readonly storeId: Uint8Array;
  /** The root directory's id. */
  readonly rootId: ObjectId;
}

export interface MetadataStore {
  /** What keeps it ("sqlite", "postgres"): the metrics endpoint's store label. */
  readonly kind?: string;
  readonly identity: StoreIdentity;
  /** The client recovery records (RFC 8881 §8.4.2.1) kept with the namespace. */
  readonly clients: ClientRecoveryStore;
  /**
   * Runs `work` as one transaction: committed when it resolves, rolled back
   * when it throws (the error is rethrown). Transactions of one store do not
   * interleave their effects. It resolves once the commit is on stable
   * storage, unless `options.durable` is false: then it may still be lost in
   * a crash until a later durable transaction, a view that saw it, or sync().
   */
  transact<T>(work: (tx: MetadataTx) => Promise<T>, options?: TransactOptions): Promise<T>;
  /**
   * A value of the change counter taken outside any transaction, for the
   * attributes of UNSTABLE4 WRITEs held in memory (held-attributes.ts): it
   * never repeats, a crash included. Null when the store cannot give one
   * without a transaction now (or at all: then nothing is held).
   */
  changeOutsideTransaction?(): bigint | null;
  /** Puts every transaction committed so far on stable storage (those with `durable: false` too). */
  sync(): Promise<void>;
  /**
   * Runs `work`, which only reads, as a read-only transaction: it sees one
   * consistent committed (and durable) state and need not wait for write
   * transactions in progress. Writing from it is an error.
   */
  view<T>(work: (tx: MetadataTx) => Promise<T>, options?: ViewOptions): Promise<T>;
  close(): Promise<void>;
}

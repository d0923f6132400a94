// One StoreFileSystem operation inside its metadata transaction: a working
// set of the objects it reads and changes (so an object touched twice — the
// one directory of a rename within it — is one record), the change records it
// will report, and the payloads to delete or cut once the transaction has
// committed (earlier would lose data if the transaction then rolled back).
// Records read include the attributes UNSTABLE4 WRITEs hold in memory
// (held-attributes.ts), so a transaction that writes a file stores them.

import { nfs_ftype4, nfsstat4 } from "../../generated/nfs4/index.js";
import {
  FsError,
  type ChangedEntry,
  type FileAttributes,
  type FileHandle,
  type FsTime,
} from "../fs/backend.js";
import type { ChangeOrigin, FsChange } from "../fs/changes.js";
import type { HeldAttributes } from "./held-attributes.js";
import type { MetadataTx, ObjectId, ObjectRecord } from "./metadata.js";
import { makeStoreHandle, parseStoreHandle } from "./store-handles.js";
import type { StoreFsOptions } from "./store-options.js";

export const NO_DEVICE = { major: 0, minor: 0 };

export function fail(status: FsError["status"], message?: string): never {
  throw new FsError(status, message);
}

/** The error for using a non-regular object as a regular file (READ, WRITE, COMMIT, OPEN). */
export function notAFile(o: ObjectRecord): never {
  if (o.type === nfs_ftype4.NF4DIR) fail(nfsstat4.NFS4ERR_ISDIR);
  if (o.type === nfs_ftype4.NF4LNK) fail(nfsstat4.NFS4ERR_SYMLINK);
  fail(nfsstat4.NFS4ERR_WRONG_TYPE);
}

export class StoreOp {
  private readonly objects = new Map<ObjectId, ObjectRecord>();
  private readonly dirty = new Set<ObjectId>();
  private readonly created = new Set<ObjectId>();
  private readonly deleted = new Set<ObjectId>();
  readonly changes: FsChange[] = [];
  readonly payloadsToDelete: string[] = [];
  /** Files whose size went down: their payloads are cut once the new size is committed. */
  readonly payloadsToTrim: ObjectId[] = [];
  /** Objects read (a write transaction's, for HeldAttributes.ended). */
  readonly read = new Set<ObjectId>();
  /** Objects stored or deleted. */
  readonly written = new Set<ObjectId>();

  constructor(
    readonly tx: MetadataTx,
    private readonly storeId: Uint8Array,
    private readonly options: StoreFsOptions,
    /** Whether anyone listens: records (and the snapshots they need) are built only then. */
    readonly recording: boolean,
    readonly origin: ChangeOrigin | null,
    /** Attributes held for UNSTABLE4 WRITEs, added to every record read; null: none are held. */
    private readonly held: HeldAttributes | null = null,
    /** A write transaction: it tells `held` what it reads (a view does not). */
    private readonly writing = false,
  ) {}

  handle(id: ObjectId): FileHandle {
    return makeStoreHandle(this.storeId, id);
  }

  /** The object a handle names: BADHANDLE, or STALE when it is gone or of another store. */
  async resolve(handle: FileHandle): Promise<ObjectRecord> {
    return this.get(parseStoreHandle(this.storeId, handle));
  }

  async get(id: ObjectId): Promise<ObjectRecord> {
    const known = this.objects.get(id);
    if (known !== undefined) return known;
    if (this.deleted.has(id)) fail(nfsstat4.NFS4ERR_STALE);
    // Before the read: a WRITE holding attributes meanwhile takes a transaction instead.
    if (this.writing && this.held !== null && !this.read.has(id)) {
      this.read.add(id);
      this.held.read(id);
    }
    const o = this.withHeld((await this.tx.getObject(id)) ?? fail(nfsstat4.NFS4ERR_STALE));
    this.objects.set(id, o);
    return o;
  }

  /** `o` with the attributes UNSTABLE4 WRITEs hold for it (a record read without get()). */
  withHeld(o: ObjectRecord): ObjectRecord {
    return this.held === null ? o : this.held.overlay(o);
  }

  /** The object as a directory: NOTDIR otherwise. */
  async dir(handle: FileHandle): Promise<ObjectRecord> {
    const o = await this.resolve(handle);
    if (o.type !== nfs_ftype4.NF4DIR) fail(nfsstat4.NFS4ERR_NOTDIR);
    return o;
  }

  /** Records a change of `id` (stored at flush()); returns the new record. */
  async update(id: ObjectId, patch: Partial<Omit<ObjectRecord, "id">>): Promise<ObjectRecord> {
    const o = { ...(await this.get(id)), ...patch };
    this.objects.set(id, o);
    this.dirty.add(id);
    return o;
  }

  create(o: ObjectRecord): void {
    this.objects.set(o.id, o);
    this.created.add(o.id);
  }

  /** Forgets the object (its entries are gone) and, after commit, its payload. */
  async delete(id: ObjectId): Promise<void> {
    const o = await this.get(id);
    this.objects.delete(id);
    this.dirty.delete(id);
    this.created.delete(id);
    this.deleted.add(id);
    this.written.add(id);
    await this.tx.deleteObject(id);
    if (o.payload !== null) this.payloadsToDelete.push(o.payload);
  }

  isDeleted(id: ObjectId): boolean {
    return this.deleted.has(id);
  }

  /** Writes every changed record. */
  async flush(): Promise<void> {
    for (const id of this.created) await this.tx.createObject(this.objects.get(id)!);
    for (const id of this.dirty) {
      if (!this.created.has(id)) await this.tx.putObject(this.objects.get(id)!);
      this.written.add(id);
    }
    this.created.clear();
    this.dirty.clear();
  }

  now(): FsTime {
    return this.options.clock();
  }

  /** Contents changed: mtime, ctime and change move. */
  async modified(id: ObjectId): Promise<ObjectRecord> {
    const t = this.now();
    return this.update(id, { mtime: t, ctime: t, change: await this.tx.nextChange() });
  }

  /** Only metadata changed: ctime and change move. */
  async metaChanged(id: ObjectId): Promise<ObjectRecord> {
    return this.update(id, { ctime: this.now(), change: await this.tx.nextChange() });
  }

  attrsOf(o: ObjectRecord): FileAttributes {
    const bs = this.options.blockSize;
    const isDir = o.type === nfs_ftype4.NF4DIR;
    const space =
      o.type === nfs_ftype4.NF4REG ? ((o.size + BigInt(bs) - 1n) / BigInt(bs)) * BigInt(bs) : 0n;
    return {
      type: o.type,
      mode: o.mode,
      nlink: o.nlink,
      uid: o.uid,
      gid: o.gid,
      size: isDir ? BigInt(bs) : o.size,
      spaceUsed: isDir ? BigInt(bs) : space,
      fileid: o.id,
      atime: o.atime,
      mtime: o.mtime,
      ctime: o.ctime,
      birthtime: o.birthtime,
      change: o.change,
      rdev: o.rdev,
      fsid: this.options.fsid,
    };
  }

  // ---- change records ----

  /** The object's attributes before a change, when recording (else null). */
  async snapshot(id: ObjectId): Promise<FileAttributes | null> {
    return this.recording ? this.attrsOf(await this.get(id)) : null;
  }

  async changedEntry(name: string, cookie: bigint, id: ObjectId): Promise<ChangedEntry> {
    return { name, cookie, handle: this.handle(id), attrs: this.attrsOf(await this.get(id)) };
  }

  /** Where the entry with `cookie` sits in `dir`'s READDIR order. */
  async placeOf(
    dir: ObjectId,
    cookie: bigint,
  ): Promise<{
    previous: { name: string; cookie: bigint } | null;
    last: boolean;
  }> {
    const before = await this.tx.entryBefore(dir, cookie);
    return {
      previous: before === null ? null : { name: before.name, cookie: before.cookie },
      last: !(await this.tx.hasEntryAfter(dir, cookie)),
    };
  }

  /** Reports that `id`'s attributes changed from `before`, if recording and the object still exists. */
  async attributesChanged(id: ObjectId, before: FileAttributes | null): Promise<void> {
    if (before === null || !this.recording || this.deleted.has(id)) return;
    const names = (await this.tx.namesOf(id)).map((e) => ({
      dir: this.handle(e.dir),
      name: e.name,
      cookie: e.cookie,
    }));
    this.changes.push({
      origin: this.origin,
      kind: "attributes",
      handle: this.handle(id),
      before,
      after: this.attrsOf(await this.get(id)),
      names,
    });
  }

  /** Reports the new entry `name` of `dir` naming `id`, then the directory's attribute change. */
  async entryAdded(
    dir: ObjectId,
    dirBefore: FileAttributes | null,
    name: string,
    cookie: bigint,
    id: ObjectId,
  ): Promise<void> {
    if (!this.recording) return;
    this.changes.push({
      origin: this.origin,
      kind: "added",
      dir: this.handle(dir),
      entry: await this.changedEntry(name, cookie, id),
      place: await this.placeOf(dir, cookie),
    });
    await this.attributesChanged(dir, dirBefore);
  }
}

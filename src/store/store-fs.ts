// A FileSystem over a metadata store (metadata.ts) and a payload store
// (payload.ts): the namespace, attributes and cookies live in one, file
// contents in the other. Every operation is one metadata transaction; change
// records (changes.ts) are reported once it has committed, payloads of freed
// files are deleted after it.
//
// Handles carry the store id and the object's persistent id (store-handles.ts),
// so they survive restarts. READDIR cookies are stored with each entry and
// never reused, so a cookie stays valid across changes and restarts and the
// cookie verifier — the store id — never has to change. Pins (open files
// whose names are gone) are kept in memory: after a restart there are none,
// and open() frees the objects they were keeping (nlink 0), then deletes the
// payloads no object names (a crash can leave them: reclaimPayloads()).
//
// Extended attributes (RFC 8276) live in the metadata store with the object,
// under the same limits as the memory backend (StoreFsOptions.maxXattr*).
//
// An UNSTABLE4 WRITE takes no transaction when it can help it: the size and
// times it gives the file are held in memory (held-attributes.ts) until a
// transaction on the file, its COMMIT or an age limit writes them into the
// store, as its data may be (write-behind.ts). Until COMMIT neither is
// durable; the write verifier changes at every open(), which is what tells
// clients to send them again. No atime updates on READ.

import { randomBytes } from "node:crypto";
import { FH4_PERSISTENT, nfs_ftype4, nfsstat4, stable_how4 } from "../../generated/nfs4/index.js";
import {
  isStableCookieVerifier,
  stableCookieVerifier,
  FsError,
  type ChangeInfo,
  type CommitResult,
  type CreateAttributes,
  type CreateHow,
  type CreateResult,
  type DeviceNumber,
  type DirEntry,
  type FileAttributes,
  type FileHandle,
  type FileSystem,
  type FsCapabilities,
  type FsStats,
  type Located,
  type ReaddirLimits,
  type ReaddirResult,
  type ReadResult,
  type RenameResult,
  type SetAttributes,
  type SpecialType,
  type WriteResult,
  type XattrListResult,
  type XattrSetHow,
} from "../fs/backend.js";
import { ChangeFeed, type ChangeListener, type ChangeOrigin } from "../fs/changes.js";
import { nameError } from "../fs/names.js";
import { HeldAttributes, type HeldWrite } from "./held-attributes.js";
import { asStoreFailure } from "./io-errors.js";
import type {
  MetadataStore,
  ObjectId,
  ObjectRecord,
  TransactOptions,
  ViewOptions,
} from "./metadata.js";
import type { PayloadStore } from "./payload.js";
import { PAYLOAD_OPERATIONS, TimedPayloadStore } from "./timed-payload.js";
import { CleanTails } from "./clean-tails.js";
import type { StoreLatency } from "../fs/timed.js";
import { parseStoreHandle } from "./store-handles.js";
import { NO_DEVICE, StoreOp, fail, notAFile } from "./store-op.js";
import { STORE_FS_DEFAULTS, type StoreFsOptions } from "./store-options.js";

export { STORE_FS_DEFAULTS, type StoreFsOptions } from "./store-options.js";

const ROOT_MODE = 0o755;
const MODE_MASK = 0o7777;
const WRITE_VERIFIER_BYTES = 8;

/** A regular file's payload id: derived from its object id, so no lookup is needed. */
function payloadIdOf(id: ObjectId): string {
  return `f${id}`;
}

/** The object a payload id was made for (payloadIdOf), or null for an id this store never makes. */
function objectOfPayload(payload: string): ObjectId | null {
  return /^f[1-9][0-9]*$/.test(payload) ? BigInt(payload.slice(1)) : null;
}

/** Payload ids checked against the metadata per transaction by reclaimPayloads(). */
const RECLAIM_BATCH = 1000;

/** Bytes an extended attribute counts against maxXattrBytesPerObject: its key (UTF-8) and value. */
function xattrSize(name: string, value: Uint8Array): number {
  return Buffer.byteLength(name, "utf8") + value.length;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

export class StoreFileSystem implements FileSystem {
  readonly capabilities: FsCapabilities;
  readonly storeKind: string;
  private readonly feed = new ChangeFeed();
  /** Payload deletions under way (deletePayload). */
  private readonly deletions = new Set<Promise<void>>();
  /** pin() counts per object, for this process only. */
  private readonly pins = new Map<ObjectId, number>();
  /** Changes at every open(): uncommitted (UNSTABLE4) writes of an earlier run may be lost. */
  private readonly writeVerifier = new Uint8Array(randomBytes(WRITE_VERIFIER_BYTES));
  /** Size and times of UNSTABLE4 WRITEs not yet in the store; null when none are held. */
  private readonly held: HeldAttributes | null;
  /** Writes held attributes older than the age limit into the store. */
  private heldTimer: NodeJS.Timeout | null = null;
  /** A foldHeld() under way. */
  private folding: Promise<void> | null = null;
  /** Payloads known to hold nothing past their file's size (clean-tails.ts). */
  private readonly tails: CleanTails;

  private constructor(
    private readonly meta: MetadataStore,
    /** Replaced by a timing wrapper once metrics are on (timePayloads). */
    private payloads: PayloadStore,
    private readonly options: StoreFsOptions,
  ) {
    this.storeKind = `${meta.kind ?? "metadata"}+${payloads.kind ?? "payload"}`;
    // Only a store that hands out change values outside a transaction can hold them.
    this.held =
      options.heldAttributesFiles > 0 && meta.changeOutsideTransaction !== undefined
        ? new HeldAttributes(options.heldAttributesFiles)
        : null;
    this.tails = new CleanTails(options.cleanTailFiles);
    this.capabilities = {
      fhExpireType: FH4_PERSISTENT,
      linkSupport: true,
      symlinkSupport: true,
      uniqueHandles: true,
      caseInsensitive: false,
      casePreserving: true,
      chownRestricted: true,
      noTrunc: true,
      canSetTime: true,
      maxNameBytes: options.maxNameBytes,
      maxLink: options.maxLink,
      maxFileSize: BigInt(options.maxFileSize),
      maxSymlinkBytes: options.maxSymlinkBytes,
      timeDelta: { seconds: 0n, nseconds: 1 },
      xattrs: {
        maxNameBytes: options.maxXattrNameBytes,
        maxValueBytes: options.maxXattrValueBytes,
        maxBytesPerObject: options.maxXattrBytesPerObject,
      },
    };
  }

  /**
   * The filesystem over `meta` and `payloads`: a new store gets its root and
   * export directory; objects kept only by pins of an earlier run are freed.
   */
  static async open(
    meta: MetadataStore,
    payloads: PayloadStore,
    options: Partial<StoreFsOptions> = {},
  ): Promise<StoreFileSystem> {
    const fs = new StoreFileSystem(meta, payloads, { ...STORE_FS_DEFAULTS, ...options });
    await fs.initialise();
    await fs.reclaimPayloads();
    return fs;
  }

  /**
   * Times every payload call from now on under the payload store's kind
   * ("local", "s3"): FileSystem.timePayloads, for the metrics endpoint. Once:
   * a second call does nothing.
   */
  timePayloads(latency: StoreLatency): void {
    if (this.payloads instanceof TimedPayloadStore) return;
    this.payloads = new TimedPayloadStore(
      this.payloads,
      latency.histograms(this.payloads.kind ?? "payload", PAYLOAD_OPERATIONS),
    );
  }

  /** Files whose UNSTABLE4 WRITEs' size and times are held in memory now (for tests and diagnostics). */
  get heldAttributeFiles(): number {
    return this.held?.files ?? 0;
  }

  /** Closes both stores (after the operations in progress and the payload deletions). */
  async close(): Promise<void> {
    if (this.heldTimer !== null) clearInterval(this.heldTimer);
    this.heldTimer = null;
    await this.foldHeld((held) => held.heldSince(Number.POSITIVE_INFINITY)).catch(() => undefined);
    await this.meta.close();
    await Promise.all(this.deletions);
    await this.payloads.close();
  }

  // ---- handles and lookups ----

  async root(): Promise<FileHandle> {
    return this.view(async (op) => op.handle((await op.get(this.meta.identity.rootId)).id));
  }

  async getattr(handle: FileHandle): Promise<FileAttributes> {
    return this.view(async (op) => op.attrsOf(await op.resolve(handle)));
  }

  async lookup(dir: FileHandle, name: string): Promise<Located> {
    return this.view(async (op) => {
      const d = await op.dir(dir);
      this.checkName(name);
      const e = (await op.tx.getEntry(d.id, name)) ?? fail(nfsstat4.NFS4ERR_NOENT);
      return this.located(op, await op.get(e.child));
    });
  }

  async lookupParent(dir: FileHandle): Promise<Located> {
    return this.view(async (op) => {
      const d = await op.dir(dir);
      if (d.parent === null) fail(nfsstat4.NFS4ERR_NOENT, "the root has no parent");
      return this.located(op, await op.get(d.parent));
    });
  }

  async readdir(
    dir: FileHandle,
    cookie: bigint,
    verifier: Uint8Array,
    limits: ReaddirLimits,
  ): Promise<ReaddirResult> {
    return this.view(async (op) => {
      const d = await op.dir(dir);
      if (cookie !== 0n) {
        // Cookies are stored and never reused: they never go stale (backend.ts).
        if (!isStableCookieVerifier(verifier)) fail(nfsstat4.NFS4ERR_NOT_SAME);
        if (!(await op.tx.cookieIssued(d.id, cookie))) fail(nfsstat4.NFS4ERR_BAD_COOKIE);
      }
      const max = Math.max(0, limits.maxEntries);
      // One more than asked: whether the directory ends here.
      const rows = await op.tx.listEntriesWithObjects(d.id, cookie, max + 1);
      const count = Math.min(rows.length, max);
      const entries: DirEntry[] = new Array<DirEntry>(count);
      for (let i = 0; i < count; i++) {
        const { name, cookie: at, object } = rows[i]!;
        entries[i] =
          object === null
            ? { name, cookie: at, ok: false, error: nfsstat4.NFS4ERR_IO }
            : {
                name,
                cookie: at,
                ok: true,
                handle: op.handle(object.id),
                attrs: op.attrsOf(op.withHeld(object)),
              };
      }
      return { entries, eof: rows.length <= max, verifier: stableCookieVerifier() };
    });
  }

  async statfs(handle: FileHandle): Promise<FsStats> {
    const objects = await this.view(async (op) => {
      await op.resolve(handle);
      return op.tx.objectCount();
    });
    const space = await this.payloads.space();
    const filesTotal = BigInt(this.options.maxFiles);
    const filesFree = filesTotal > objects ? filesTotal - objects : 0n;
    return {
      spaceTotal: space.totalBytes,
      spaceFree: space.freeBytes,
      spaceAvail: space.availBytes,
      filesTotal,
      filesFree,
      filesAvail: filesFree,
    };
  }

  // ---- data ----

  async read(handle: FileHandle, offset: bigint, count: number): Promise<ReadResult> {
    const o = await this.view(async (op) => {
      const found = await op.resolve(handle);
      if (found.type !== nfs_ftype4.NF4REG || found.payload === null) notAFile(found);
      return { payload: found.payload, size: found.size };
    });
    if (offset >= o.size) return { data: new Uint8Array(0), eof: true };
    const end = o.size < offset + BigInt(Math.max(0, count)) ? o.size : offset + BigInt(count);
    const length = Number(end - offset);
    // Outside the transaction: the payload I/O holds up no other operation. A
    // write racing with it may show in the data or not, as with any server.
    const got = await this.io(() => this.payloads.read(o.payload, Number(offset), length));
    // The payload may be shorter than the size (a hole at the end): zeros.
    const data = got.length === length ? got : padded(got, length);
    return { data, eof: end >= o.size };
  }

  async write(
    handle: FileHandle,
    offset: bigint,
    data: Uint8Array,
    stable: stable_how4,
    origin: ChangeOrigin | null = null,
  ): Promise<WriteResult> {
    const durable = stable !== stable_how4.UNSTABLE4;
    if (durable || data.length === 0 || this.held === null || this.feed.active)
      return this.writeInTransaction(handle, offset, data, durable, origin);
    const outcome = await this.writeHeld(this.held, handle, offset, data);
    if (outcome === true) {
      return {
        count: data.length,
        committed: stable_how4.UNSTABLE4,
        verifier: this.writeVerifier.slice(),
      };
    }
    try {
      return await this.writeInTransaction(handle, offset, data, durable, origin);
    } catch (e) {
      // Removed while its data was on the way: that write may have made the
      // payload again after its deletion (payload ids are never reused).
      if (outcome !== null && e instanceof FsError && e.status === nfsstat4.NFS4ERR_STALE)
        this.deletePayload(outcome);
      throw e;
    }
  }

  private async writeInTransaction(
    handle: FileHandle,
    offset: bigint,
    data: Uint8Array,
    durable: boolean,
    origin: ChangeOrigin | null,
  ): Promise<WriteResult> {
    // The payload this WRITE extends: clean once its transaction has committed.
    let extended: string | null = null;
    const result = await this.run(
      origin,
      async (op) => {
        const o = await op.resolve(handle);
        if (o.type !== nfs_ftype4.NF4REG || o.payload === null) notAFile(o);
        const end = offset + BigInt(data.length);
        if (end > BigInt(this.options.maxFileSize)) fail(nfsstat4.NFS4ERR_FBIG);
        // A zero-length write succeeds without touching the file (RFC 8881 §18.32.3).
        if (data.length > 0) {
          const before = await op.snapshot(o.id);
          // A hole must read as zeros, and so must the bytes past the size
          // should a crash keep the new size but not the data (clean-tails.ts):
          // drop anything past the size first.
          const extending = end > o.size;
          if (extending && (offset > o.size || !this.tails.has(o.payload)))
            await this.payloads.truncate(o.payload, Number(o.size));
          if (extending) {
            this.tails.forget(o.payload);
            extended = o.payload;
          }
          await this.payloads.write(o.payload, Number(offset), data);
          if (durable) await this.payloads.commit(o.payload);
          if (extending) await op.update(o.id, { size: end });
          await op.modified(o.id);
          await op.flush();
          await op.attributesChanged(o.id, before);
        }
        return {
          count: data.length,
          // Asked-for stability is met by fdatasync of the payload plus the
          // metadata commit (durable before run() returns): FILE_SYNC4 covers DATA_SYNC4.
          committed: durable ? stable_how4.FILE_SYNC4 : stable_how4.UNSTABLE4,
          verifier: this.writeVerifier.slice(),
        };
      },
      // An UNSTABLE4 WRITE's metadata (size, times) waits for COMMIT like its
      // data: one WAL sync per COMMIT instead of one per WRITE.
      { durable },
    );
    if (extended !== null) this.tails.add(extended);
    return result;
  }

  /**
   * An UNSTABLE4 WRITE without a transaction: its data goes to the payload
   * and its size and times are held (held-attributes.ts). True when done;
   * otherwise it must take a transaction after all — a hole to zero first,
   * no change value at hand, a transaction on the file meanwhile, an error to
   * report — which then writes the data (again), and this returns the
   * payload it already wrote to (null if none).
   */
  private async writeHeld(
    held: HeldAttributes,
    handle: FileHandle,
    offset: bigint,
    data: Uint8Array,
  ): Promise<true | string | null> {
    let id: ObjectId;
    try {
      id = parseStoreHandle(this.meta.identity.storeId, handle);
    } catch {
      return null;
    }
    const ticket = held.begin(id);
    if (ticket === null) return null;
    try {
      // Unsynced: nothing it reads is answered, and a crash undoes the WRITE anyway.
      const o = await this.view(async (op) => op.resolve(handle), { unsynced: true }).catch(
        () => null,
      );
      const end = offset + BigInt(data.length);
      if (o === null || o.type !== nfs_ftype4.NF4REG || o.payload === null) return null;
      if (offset > o.size || end > BigInt(this.options.maxFileSize)) return null;
      const payload = o.payload;
      // Extending a payload not known clean: it is cut first, in a transaction.
      const extending = end > o.size;
      if (extending && !this.tails.has(payload)) return null;
      // Until the size is held, the payload holds bytes past it.
      if (extending) this.tails.forget(payload);
      await this.io(() => this.payloads.write(payload, Number(offset), data));
      if (ticket.voided) return payload;
      const change = this.meta.changeOutsideTransaction?.() ?? null;
      if (change === null) return payload;
      if (!held.hold(ticket, o, end, this.options.clock(), change)) return payload;
      if (extending) this.tails.add(payload);
      this.scheduleHeldFold();
      return true;
    } finally {
      held.release(ticket);
    }
  }

  /** Starts the age limit's timer for held attributes, if it is not running. */
  private scheduleHeldFold(): void {
    if (this.heldTimer !== null) return;
    const maxAge = this.options.heldAttributesMaxAgeMs;
    this.heldTimer = setInterval(
      () => {
        if (this.held === null || this.held.files === 0) {
          if (this.heldTimer !== null) clearInterval(this.heldTimer);
          this.heldTimer = null;
          return;
        }
        const since = performance.now() - maxAge;
        void this.foldHeld((held) => held.heldSince(since)).catch(() => undefined);
      },
      Math.max(1, Math.ceil(maxAge / 2)),
    );
    this.heldTimer.unref();
  }

  /**
   * Writes the attributes held for the files `select` picks (once any
   * foldHeld() under way has ended) into the store, in one transaction that
   * waits for no sync: they were not durable before either (COMMIT makes them
   * so). It stores them as they are, so WRITEs under way on those files need
   * not take a transaction (HeldAttributes.stored).
   */
  private async foldHeld(select: (held: HeldAttributes) => ObjectId[]): Promise<void> {
    const held = this.held;
    if (held === null) return;
    while (this.folding !== null) await this.folding;
    const ids = select(held);
    if (ids.length === 0) return;
    const folding = this.meta
      .transact(
        async (tx) => {
          const folded = new Map<ObjectId, HeldWrite>();
          for (const id of ids) {
            const entry = held.get(id);
            if (entry === undefined) continue;
            const o = await tx.getObject(id);
            if (o === null) {
              held.forget(id);
              continue;
            }
            const merged = held.overlay(o);
            // Not applied: a transaction on the file stored them already.
            if (merged !== o) await tx.putObject(merged);
            folded.set(id, entry);
          }
          return folded;
        },
        { durable: false },
      )
      .then((folded) => {
        for (const [id, entry] of folded) held.stored(id, entry);
      });
    // Only for the next foldHeld() to wait on: its failure is this call's to report.
    this.folding = folding.then(
      () => {
        this.folding = null;
      },
      () => {
        this.folding = null;
      },
    );
    try {
      await folding;
    } catch (e) {
      throw asStoreFailure(e);
    }
  }

  async commit(handle: FileHandle, _offset: bigint, _count: number): Promise<CommitResult> {
    const { id, payload } = await this.view(async (op) => {
      const o = await op.resolve(handle);
      if (o.type !== nfs_ftype4.NF4REG || o.payload === null) notAFile(o);
      return { id: o.id, payload: o.payload };
    });
    // Held size and times go into the store first; the sync below makes them durable.
    if (this.held?.has(id) === true) await this.foldHeld((held) => (held.has(id) ? [id] : []));
    // The data and the metadata of every WRITE answered so far become durable
    // here, before the reply (UNSTABLE4 WRITEs did not wait for either).
    await this.io(() => this.payloads.commit(payload));
    await this.meta.sync();
    return { verifier: this.writeVerifier.slice() };
  }

  // ---- creation ----

  async create(
    dir: FileHandle,
    name: string,
    how: CreateHow,
    attrs: CreateAttributes,
    origin: ChangeOrigin | null = null,
  ): Promise<CreateResult> {
    return this.run(origin, async (op) => {
      const parent = await op.dir(dir);
      this.checkName(name);
      const existing = await op.tx.getEntry(parent.id, name);
      if (existing !== null) {
        if (how.kind === "guarded") fail(nfsstat4.NFS4ERR_EXIST);
        const o = await op.get(existing.child);
        if (o.type !== nfs_ftype4.NF4REG) notAFile(o);
        if (how.kind === "exclusive") {
          if (o.createVerifier === null || !sameBytes(o.createVerifier, how.verifier))
            fail(nfsstat4.NFS4ERR_EXIST);
        } else if (attrs.size === 0n && o.size !== 0n) {
          const before = await op.snapshot(o.id);
          await this.resize(op, o, 0n);
          await op.modified(o.id);
          await op.flush();
          await op.attributesChanged(o.id, before);
        }
        const same = { atomic: true, before: parent.change, after: parent.change };
        return { ...this.located(op, await op.get(o.id)), created: false, dirChange: same };
      }
      this.checkAttrs(nfs_ftype4.NF4REG, attrs);
      return this.addObject(op, parent, name, nfs_ftype4.NF4REG, attrs, {
        createVerifier: how.kind === "exclusive" ? how.verifier.slice() : null,
      });
    });
  }

  async mkdir(
    dir: FileHandle,
    name: string,
    attrs: CreateAttributes,
    origin: ChangeOrigin | null = null,
  ): Promise<CreateResult> {
    return this.run(origin, async (op) => {
      const parent = await op.dir(dir);
      this.checkName(name);
      this.checkAttrs(nfs_ftype4.NF4DIR, attrs);
      return this.addObject(op, parent, name, nfs_ftype4.NF4DIR, attrs, {});
    });
  }

  async symlink(
    dir: FileHandle,
    name: string,
    target: Uint8Array,
    attrs: CreateAttributes,
    origin: ChangeOrigin | null = null,
  ): Promise<CreateResult> {
    return this.run(origin, async (op) => {
      const parent = await op.dir(dir);
      this.checkName(name);
      if (target.length === 0) fail(nfsstat4.NFS4ERR_INVAL, "empty symlink target");
      if (target.length > this.options.maxSymlinkBytes) fail(nfsstat4.NFS4ERR_NAMETOOLONG);
      this.checkAttrs(nfs_ftype4.NF4LNK, attrs);
      return this.addObject(op, parent, name, nfs_ftype4.NF4LNK, attrs, {
        target: target.slice(),
        size: BigInt(target.length),
      });
    });
  }

  async mknod(
    dir: FileHandle,
    name: string,
    type: SpecialType,
    rdev: DeviceNumber,
    attrs: CreateAttributes,
    origin: ChangeOrigin | null = null,
  ): Promise<CreateResult> {
    return this.run(origin, async (op) => {
      const parent = await op.dir(dir);
      this.checkName(name);
      const device = type === nfs_ftype4.NF4BLK || type === nfs_ftype4.NF4CHR;
      if (!device && type !== nfs_ftype4.NF4SOCK && type !== nfs_ftype4.NF4FIFO)
        fail(nfsstat4.NFS4ERR_BADTYPE);
      this.checkAttrs(type, attrs);
      return this.addObject(op, parent, name, type, attrs, {
        rdev: device ? { major: rdev.major, minor: rdev.minor } : NO_DEVICE,
      });
    });
  }

  async readlink(handle: FileHandle): Promise<Uint8Array> {
    return this.view(async (op) => {
      const o = await op.resolve(handle);
      if (o.type !== nfs_ftype4.NF4LNK || o.target === null)
        fail(nfsstat4.NFS4ERR_INVAL, "not a symbolic link");
      return o.target.slice();
    });
  }

  // ---- namespace changes ----

  async remove(
    dir: FileHandle,
    name: string,
    origin: ChangeOrigin | null = null,
  ): Promise<ChangeInfo> {
    return this.run(origin, async (op) => {
      const parent = await op.dir(dir);
      this.checkName(name);
      const e = (await op.tx.getEntry(parent.id, name)) ?? fail(nfsstat4.NFS4ERR_NOENT);
      const node = await op.get(e.child);
      if (node.type === nfs_ftype4.NF4DIR && !(await op.tx.isEmpty(node.id)))
        fail(nfsstat4.NFS4ERR_NOTEMPTY);
      const parentBefore = await op.snapshot(parent.id);
      const nodeBefore = await op.snapshot(node.id);
      await this.unlink(op, parent.id, name, node.id);
      await op.flush();
      if (op.recording) {
        op.changes.push({
          origin,
          kind: "removed",
          dir,
          entry: { name, cookie: e.cookie, handle: op.handle(node.id) },
        });
        await op.attributesChanged(parent.id, parentBefore);
        await op.attributesChanged(node.id, nodeBefore);
      }
      return { atomic: true, before: parent.change, after: (await op.get(parent.id)).change };
    });
  }

  async rename(
    fromDir: FileHandle,
    fromName: string,
    toDir: FileHandle,
    toName: string,
    origin: ChangeOrigin | null = null,
  ): Promise<RenameResult> {
    return this.run(origin, async (op) => {
      const src = await op.dir(fromDir);
      const dst = await op.dir(toDir);
      this.checkName(fromName);
      this.checkName(toName);
      const from = (await op.tx.getEntry(src.id, fromName)) ?? fail(nfsstat4.NFS4ERR_NOENT);
      const node = await op.get(from.child);
      this.checkLive(dst);
      const to = await op.tx.getEntry(dst.id, toName);
      if (to !== null && to.child === node.id) {
        // Same name, or two links to one object: RFC 8881 §18.26.3 says do nothing.
        return {
          source: { atomic: true, before: src.change, after: src.change },
          target: { atomic: true, before: dst.change, after: dst.change },
        };
      }
      const isDir = node.type === nfs_ftype4.NF4DIR;
      if (isDir) {
        // A directory cannot move below itself.
        for (let p: ObjectId | null = dst.id; p !== null; p = (await op.get(p)).parent)
          if (p === node.id) fail(nfsstat4.NFS4ERR_INVAL, "cannot move a directory into itself");
      }
      const target = to === null ? null : await op.get(to.child);
      if (target !== null) {
        const targetIsDir = target.type === nfs_ftype4.NF4DIR;
        if (isDir !== targetIsDir) fail(nfsstat4.NFS4ERR_EXIST);
        if (targetIsDir && !(await op.tx.isEmpty(target.id))) fail(nfsstat4.NFS4ERR_EXIST);
      } else if (isDir && src.id !== dst.id && dst.nlink >= this.options.maxLink) {
        fail(nfsstat4.NFS4ERR_MLINK);
      }
      const srcAttrs = await op.snapshot(src.id);
      const dstAttrs = dst.id === src.id ? null : await op.snapshot(dst.id);
      const nodeAttrs = await op.snapshot(node.id);
      const targetAttrs = target === null ? null : await op.snapshot(target.id);
      if (target !== null) await this.unlink(op, dst.id, toName, target.id);
      await op.tx.removeEntry(src.id, fromName);
      const toCookie = await op.tx.addEntry(dst.id, toName, node.id);
      if (isDir && src.id !== dst.id) {
        await op.update(node.id, { parent: dst.id });
        await op.update(src.id, { nlink: (await op.get(src.id)).nlink - 1 });
        await op.update(dst.id, { nlink: (await op.get(dst.id)).nlink + 1 });
      }
      await op.metaChanged(node.id);
      await op.modified(src.id);
      if (dst.id !== src.id) await op.modified(dst.id);
      await op.flush();
      if (op.recording) {
        op.changes.push({
          origin,
          kind: "renamed",
          fromDir,
          from: { name: fromName, cookie: from.cookie, handle: op.handle(node.id) },
          toDir,
          to: await op.changedEntry(toName, toCookie, node.id),
          place: await op.placeOf(dst.id, toCookie),
          replaced:
            to === null || target === null
              ? null
              : { name: toName, cookie: to.cookie, handle: op.handle(target.id) },
        });
        await op.attributesChanged(src.id, srcAttrs);
        if (dstAttrs !== null) await op.attributesChanged(dst.id, dstAttrs);
        await op.attributesChanged(node.id, nodeAttrs);
        if (target !== null) await op.attributesChanged(target.id, targetAttrs);
      }
      return {
        source: { atomic: true, before: src.change, after: (await op.get(src.id)).change },
        target: { atomic: true, before: dst.change, after: (await op.get(dst.id)).change },
      };
    });
  }

  async link(
    handle: FileHandle,
    dir: FileHandle,
    name: string,
    origin: ChangeOrigin | null = null,
  ): Promise<ChangeInfo> {
    return this.run(origin, async (op) => {
      const node = await op.resolve(handle);
      const parent = await op.dir(dir);
      this.checkName(name);
      if (node.type === nfs_ftype4.NF4DIR) fail(nfsstat4.NFS4ERR_ISDIR);
      // An open file whose names are all gone cannot get a new one (as POSIX linkat()).
      if (node.nlink === 0) fail(nfsstat4.NFS4ERR_STALE, "object has no name left");
      this.checkLive(parent);
      if ((await op.tx.getEntry(parent.id, name)) !== null) fail(nfsstat4.NFS4ERR_EXIST);
      if (node.nlink >= this.options.maxLink) fail(nfsstat4.NFS4ERR_MLINK);
      const parentBefore = await op.snapshot(parent.id);
      const nodeBefore = await op.snapshot(node.id);
      const cookie = await op.tx.addEntry(parent.id, name, node.id);
      await op.update(node.id, { nlink: node.nlink + 1 });
      await op.metaChanged(node.id);
      // A new entry is a change of the directory's contents (mtime, ctime, change).
      await op.modified(parent.id);
      await op.flush();
      await op.entryAdded(parent.id, parentBefore, name, cookie, node.id);
      await op.attributesChanged(node.id, nodeBefore);
      return { atomic: true, before: parent.change, after: (await op.get(parent.id)).change };
    });
  }

  async setattr(
    handle: FileHandle,
    attrs: SetAttributes,
    origin: ChangeOrigin | null = null,
  ): Promise<FileAttributes> {
    return this.run(origin, async (op) => {
      const o = await op.resolve(handle);
      const before = await op.snapshot(o.id);
      await this.applyAttrs(op, o, attrs);
      await op.flush();
      await op.attributesChanged(o.id, before);
      return op.attrsOf(await op.get(o.id));
    });
  }

  // ---- extended attributes (RFC 8276) ----

  async getxattr(handle: FileHandle, name: string): Promise<Uint8Array> {
    return this.run(null, async (op) => {
      const o = await op.resolve(handle);
      this.checkXattrName(name);
      return (await op.tx.getXattr(o.id, name)) ?? fail(nfsstat4.NFS4ERR_NOXATTR);
    });
  }

  async setxattr(
    handle: FileHandle,
    name: string,
    value: Uint8Array,
    how: XattrSetHow,
    origin: ChangeOrigin | null = null,
  ): Promise<ChangeInfo> {
    return this.run(origin, async (op) => {
      const o = await op.resolve(handle);
      this.checkXattrName(name);
      const limits = this.options;
      if (value.length > limits.maxXattrValueBytes) fail(nfsstat4.NFS4ERR_XATTR2BIG);
      const existing = await op.tx.getXattr(o.id, name);
      if (existing !== null && how === "create") fail(nfsstat4.NFS4ERR_EXIST);
      if (existing === null && how === "replace") fail(nfsstat4.NFS4ERR_NOXATTR);
      const oldBytes = existing === null ? 0 : xattrSize(name, existing);
      const held = await op.tx.xattrBytes(o.id);
      if (held - oldBytes + xattrSize(name, value) > limits.maxXattrBytesPerObject)
        fail(nfsstat4.NFS4ERR_NOSPC, "the object's extended attributes are full");
      const before = await op.snapshot(o.id);
      await op.tx.setXattr(o.id, name, value);
      return this.xattrChanged(op, o, before);
    });
  }

  async listxattrs(
    handle: FileHandle,
    cookie: bigint,
    maxEntries: number,
  ): Promise<XattrListResult> {
    return this.run(null, async (op) => {
      const o = await op.resolve(handle);
      if (cookie < 0n || (cookie !== 0n && !(await op.tx.xattrCookieIssued(o.id, cookie))))
        fail(nfsstat4.NFS4ERR_BAD_COOKIE);
      const max = Math.max(0, maxEntries);
      const rows = await op.tx.listXattrs(o.id, cookie, max + 1);
      return { entries: rows.slice(0, max), eof: rows.length <= max };
    });
  }

  async removexattr(
    handle: FileHandle,
    name: string,
    origin: ChangeOrigin | null = null,
  ): Promise<ChangeInfo> {
    return this.run(origin, async (op) => {
      const o = await op.resolve(handle);
      this.checkXattrName(name);
      if ((await op.tx.getXattr(o.id, name)) === null) fail(nfsstat4.NFS4ERR_NOXATTR);
      const before = await op.snapshot(o.id);
      await op.tx.removeXattr(o.id, name);
      return this.xattrChanged(op, o, before);
    });
  }

  /** After an xattr change of `o`: ctime and change move, the change is reported. */
  private async xattrChanged(
    op: StoreOp,
    o: ObjectRecord,
    before: FileAttributes | null,
  ): Promise<ChangeInfo> {
    const after = await op.metaChanged(o.id);
    await op.flush();
    await op.attributesChanged(o.id, before);
    return { atomic: true, before: o.change, after: after.change };
  }

  /** INVAL for an empty key or one holding NUL (it cannot be a POSIX xattr name); NAMETOOLONG. */
  private checkXattrName(name: string): void {
    if (name.length === 0 || name.includes("\0")) fail(nfsstat4.NFS4ERR_INVAL, "bad xattr key");
    if (Buffer.byteLength(name, "utf8") > this.options.maxXattrNameBytes)
      fail(nfsstat4.NFS4ERR_NAMETOOLONG);
  }

  // ---- changes ----

  observe(listener: ChangeListener): () => void {
    return this.feed.observe(listener);
  }

  // ---- pins (open files) ----

  async pin(handle: FileHandle): Promise<void> {
    const id = await this.view(async (op) => (await op.resolve(handle)).id);
    this.pins.set(id, (this.pins.get(id) ?? 0) + 1);
  }

  async unpin(handle: FileHandle): Promise<void> {
    let id: ObjectId;
    try {
      id = parseStoreHandle(this.meta.identity.storeId, handle);
    } catch {
      // Not a handle of this store: nothing of ours is pinned by it.
      return;
    }
    const n = this.pins.get(id);
    if (n === undefined) return;
    if (n > 1) {
      this.pins.set(id, n - 1);
      return;
    }
    this.pins.delete(id);
    // The last pin on an object whose names are all gone frees it (data included).
    try {
      // Mostly it still has a name (a CLOSE): a read says so without a write transaction.
      const o = await this.view((op) => op.tx.getObject(id));
      if (o === null || o.nlink > 0) return;
      await this.run(null, async (op) => {
        const current = await op.tx.getObject(id);
        // Pinned again meanwhile (an OPEN by handle): the new pin keeps it.
        if (current !== null && current.nlink === 0 && !this.pins.has(id)) await op.delete(id);
      });
    } catch {
      // Never fails (backend.ts); the object stays an orphan until the next open().
    }
  }

  // ---- internals ----

  /**
   * Runs `work` as one metadata transaction, then deletes the payloads it
   * freed, cuts the ones it shrank and reports its changes. Storage failures become NFS statuses.
   */
  private async run<T>(
    origin: ChangeOrigin | null,
    work: (op: StoreOp) => Promise<T>,
    options?: TransactOptions,
  ): Promise<T> {
    const held = this.held;
    // The transaction's op, until it has ended (closures defeat narrowing of a plain variable).
    const running: { op: StoreOp | null } = { op: null };
    try {
      const result = await this.meta.transact(async (tx) => {
        const op = new StoreOp(
          tx,
          this.meta.identity.storeId,
          this.options,
          this.feed.active,
          origin,
          held,
          true,
        );
        running.op = op;
        const r = await work(op);
        await op.flush();
        return { r, op };
      }, options);
      running.op = null;
      held?.ended(result.op.read, result.op.written, true);
      // Not awaited: the reply need not wait for the unlink (close() does).
      for (const p of result.op.payloadsToDelete) this.deletePayload(p);
      for (const id of result.op.payloadsToTrim) await this.trimPayload(id);
      for (const c of result.op.changes) this.feed.emit(c);
      return result.r;
    } catch (e) {
      // Rolled back: what it read stays held.
      if (running.op !== null) held?.ended(running.op.read, [], false);
      throw asStoreFailure(e);
    }
  }

  /** Runs `work`, which only reads, as one read-only metadata transaction. */
  private async view<T>(work: (op: StoreOp) => Promise<T>, options?: ViewOptions): Promise<T> {
    try {
      return await this.meta.view(
        (tx) =>
          work(new StoreOp(tx, this.meta.identity.storeId, this.options, false, null, this.held)),
        options,
      );
    } catch (e) {
      throw asStoreFailure(e);
    }
  }

  /** Payload I/O outside a transaction, with storage failures as NFS statuses. */
  private async io<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (e) {
      throw asStoreFailure(e);
    }
  }

  /**
   * Deletes the payload of a freed object in the background: no object names
   * it any more and payload ids are never reused, so nothing can be waiting
   * for it, and one left by a crash is reclaimed at the next open().
   */
  private deletePayload(id: string): void {
    this.tails.forget(id);
    const deleting = this.payloads
      .delete(id)
      .catch(() => {
        // The metadata no longer names it: a leftover file costs space, not correctness.
      })
      .finally(() => this.deletions.delete(deleting));
    this.deletions.add(deleting);
  }

  private async initialise(): Promise<void> {
    const o = this.options;
    await this.run(null, async (op) => {
      const rootId = this.meta.identity.rootId;
      if ((await op.tx.getObject(rootId)) === null) {
        const id = await op.tx.newObjectId();
        if (id !== rootId) throw new FsError(nfsstat4.NFS4ERR_SERVERFAULT, "root id taken");
        op.create(
          await this.newRecord(
            op,
            id,
            nfs_ftype4.NF4DIR,
            {
              mode: ROOT_MODE,
              uid: 0,
              gid: 0,
            },
            { nlink: 2 },
          ),
        );
        await op.flush();
        const root = await op.get(rootId);
        await this.addObject(
          op,
          root,
          o.exportName,
          nfs_ftype4.NF4DIR,
          { mode: o.exportMode, uid: o.exportUid, gid: o.exportGid },
          {},
        );
      }
      // Pins do not outlive the process: objects only they kept are freed now.
      for (const orphan of await op.tx.orphans()) await op.delete(orphan.id);
    });
  }

  /**
   * Deletes every payload no object names. run() deletes a freed file's
   * payload only once the transaction that freed it has committed (earlier, a
   * rollback would lose data), so a crash in between — or a power loss that
   * undoes the unlink of a payload file — leaves one behind; as would a
   * payload written for an object whose creating transaction never
   * committed. Runs at open, before any operation could be creating a payload.
   */
  private async reclaimPayloads(): Promise<void> {
    let batch: string[] = [];
    const sweep = async (): Promise<void> => {
      const ids = batch;
      batch = [];
      const unnamed = await this.meta.transact(async (tx) => {
        const out: string[] = [];
        for (const p of ids) {
          const id = objectOfPayload(p);
          if (id !== null && (await tx.getObject(id))?.payload !== p) out.push(p);
        }
        return out;
      });
      for (const p of unnamed) await this.payloads.delete(p);
    };
    for await (const p of this.payloads.ids()) {
      batch.push(p);
      if (batch.length >= RECLAIM_BATCH) await sweep();
    }
    await sweep();
  }

  private checkName(name: string): void {
    const status = nameError(name, this.options.maxNameBytes);
    if (status !== null) fail(status);
  }

  /** STALE for a removed directory kept by a pin: entries added to it could never be reached. */
  private checkLive(dir: ObjectRecord): void {
    if (dir.nlink === 0) fail(nfsstat4.NFS4ERR_STALE, "directory has been removed");
  }

  private located(op: StoreOp, o: ObjectRecord): Located {
    return { handle: op.handle(o.id), attrs: op.attrsOf(o) };
  }

  private async newRecord(
    op: StoreOp,
    id: ObjectId,
    type: nfs_ftype4,
    attrs: CreateAttributes,
    extra: Partial<ObjectRecord>,
  ): Promise<ObjectRecord> {
    const t = op.now();
    return {
      id,
      type,
      mode: attrs.mode,
      uid: attrs.uid,
      gid: attrs.gid,
      nlink: type === nfs_ftype4.NF4DIR ? 2 : 1,
      size: 0n,
      atime: t,
      mtime: t,
      ctime: t,
      birthtime: t,
      change: await op.tx.nextChange(),
      rdev: NO_DEVICE,
      target: null,
      createVerifier: null,
      parent: null,
      payload: type === nfs_ftype4.NF4REG ? this.newPayload(id) : null,
      ...extra,
    };
  }

  /** The payload id of a new regular file: empty, so clean (ids are never reused). */
  private newPayload(id: ObjectId): string {
    const payload = payloadIdOf(id);
    this.tails.add(payload);
    return payload;
  }

  /** Creates an object and enters it in `parent` as `name`; reports the new entry. */
  private async addObject(
    op: StoreOp,
    parent: ObjectRecord,
    name: string,
    type: nfs_ftype4,
    attrs: CreateAttributes,
    extra: Partial<ObjectRecord>,
  ): Promise<CreateResult> {
    this.checkLive(parent);
    if ((await op.tx.getEntry(parent.id, name)) !== null) fail(nfsstat4.NFS4ERR_EXIST);
    const isDir = type === nfs_ftype4.NF4DIR;
    if (isDir && parent.nlink >= this.options.maxLink) fail(nfsstat4.NFS4ERR_MLINK);
    if ((attrs.mode & ~MODE_MASK) !== 0) fail(nfsstat4.NFS4ERR_INVAL, "bad mode");
    if ((await op.tx.objectCount()) >= BigInt(this.options.maxFiles))
      fail(nfsstat4.NFS4ERR_NOSPC, "no free file slots");
    const parentBefore = await op.snapshot(parent.id);
    const id = await op.tx.newObjectId();
    op.create(
      await this.newRecord(op, id, type, attrs, isDir ? { parent: parent.id, ...extra } : extra),
    );
    const cookie = await op.tx.addEntry(parent.id, name, id);
    if (isDir) await op.update(parent.id, { nlink: parent.nlink + 1 });
    await op.modified(parent.id);
    const node = await op.get(id);
    if (type === nfs_ftype4.NF4REG) await this.applyAttrs(op, node, attrs);
    else if (attrs.atime !== undefined || attrs.mtime !== undefined)
      await this.applyAttrs(op, node, { atime: attrs.atime, mtime: attrs.mtime });
    await op.flush();
    await op.entryAdded(parent.id, parentBefore, name, cookie, id);
    return {
      ...this.located(op, await op.get(id)),
      created: true,
      dirChange: { atomic: true, before: parent.change, after: (await op.get(parent.id)).change },
    };
  }

  /** Removes entry `name` (naming `id`) from `parent`, freeing the object when no name or pin is left. */
  private async unlink(op: StoreOp, parent: ObjectId, name: string, id: ObjectId): Promise<void> {
    await op.tx.removeEntry(parent, name);
    const node = await op.get(id);
    if (node.type === nfs_ftype4.NF4DIR) {
      await op.update(parent, { nlink: (await op.get(parent)).nlink - 1 });
      await op.update(id, { nlink: 0 });
    } else {
      await op.update(id, { nlink: node.nlink - 1 });
    }
    await op.modified(parent);
    // The last name went: ctime moves as for any unlink; an unpinned object is freed.
    const after = await op.metaChanged(id);
    if (after.nlink === 0 && (this.pins.get(id) ?? 0) === 0) await op.delete(id);
  }

  /**
   * Sets a regular file's size. Bytes of a payload past its file's committed
   * size are never read (read() stops at the size; growing drops them first,
   * as does a WRITE past a payload not known clean: clean-tails.ts), so
   * growing extends the payload now, while shrinking only records the size:
   * the payload is cut after the commit (trimPayload). Cutting it before would
   * destroy data the file still holds if the transaction then failed or the
   * server died before the commit.
   */
  private async resize(op: StoreOp, o: ObjectRecord, size: bigint): Promise<void> {
    if (o.payload === null) notAFile(o);
    if (size > o.size) {
      // First drop anything stored past the old size, so the new bytes read as
      // zeros: nothing but zeros past either size then, committed or not.
      await this.payloads.truncate(o.payload, Number(o.size));
      await this.payloads.truncate(o.payload, Number(size));
      this.tails.add(o.payload);
    } else if (size < o.size) {
      this.tails.forget(o.payload);
      op.payloadsToTrim.push(o.id);
    }
    await op.update(o.id, { size });
  }

  /**
   * Cuts a file's payload to its committed size, in a transaction of its own
   * so that no write to the file runs meanwhile.
   */
  private async trimPayload(id: ObjectId): Promise<void> {
    try {
      await this.run(null, async (op) => {
        // Its size with held WRITEs, which the payload holds beyond the committed one.
        const o = await op.get(id);
        if (o.payload === null) return;
        await this.payloads.truncate(o.payload, Number(o.size));
        this.tails.add(o.payload);
      });
    } catch {
      // Space, not correctness: the bytes past the size are never read.
    }
  }

  /** Fails as applyAttrs would, without changing anything. */
  private checkAttrs(type: nfs_ftype4, attrs: SetAttributes): void {
    const { mode, size } = attrs;
    if (mode !== undefined && (mode & ~MODE_MASK) !== 0) fail(nfsstat4.NFS4ERR_INVAL, "bad mode");
    if (size === undefined) return;
    if (type === nfs_ftype4.NF4DIR) fail(nfsstat4.NFS4ERR_ISDIR);
    if (type !== nfs_ftype4.NF4REG) fail(nfsstat4.NFS4ERR_INVAL, "size of a non-file");
    if (size < 0n) fail(nfsstat4.NFS4ERR_INVAL);
    if (size > BigInt(this.options.maxFileSize)) fail(nfsstat4.NFS4ERR_FBIG);
  }

  private async applyAttrs(op: StoreOp, o: ObjectRecord, attrs: SetAttributes): Promise<void> {
    this.checkAttrs(o.type, attrs);
    const { mode, uid, gid, size, atime, mtime } = attrs;
    const t = op.now();
    if (size !== undefined && o.type === nfs_ftype4.NF4REG && size !== o.size) {
      await this.resize(op, o, size);
      await op.update(o.id, { mtime: t });
    }
    const cur = await op.get(o.id);
    await op.update(o.id, {
      mode: mode ?? cur.mode,
      uid: uid ?? cur.uid,
      gid: gid ?? cur.gid,
      atime: atime === undefined ? cur.atime : atime === "now" ? t : atime,
      mtime: mtime === undefined ? cur.mtime : mtime === "now" ? t : mtime,
      ctime: t,
      change: await op.tx.nextChange(),
    });
  }
}

/** `got` followed by zeros up to `length` bytes. */
function padded(got: Uint8Array, length: number): Uint8Array {
  const out = new Uint8Array(length);
  out.set(got);
  return out;
}

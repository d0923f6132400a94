// An in-memory FileSystem: a tree whose root directory holds the one export
// directory ("export"). Everything is lost when the process ends, and handles
// carry a random per-instance generation, so a handle from an earlier instance
// is NFS4ERR_STALE rather than silently naming some other object.
//
// Each method runs to completion without awaiting, so every operation is
// atomic with respect to the others (change_info4 is always atomic), and
// reports its changes to the observers before it returns (changes.ts).

import { randomBytes } from "node:crypto";
import { FH4_PERSISTENT, nfs_ftype4, nfsstat4, stable_how4 } from "../../generated/nfs4/index.js";
import {
  isStableCookieVerifier,
  stableCookieVerifier,
  type ChangeInfo,
  type ChangedEntry,
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
  type FsTime,
  type Located,
  type ReaddirLimits,
  type ReaddirResult,
  type ReadResult,
  type RenameResult,
  type SetAttributes,
  type SpecialType,
  type WriteResult,
  type XattrEntry,
  type XattrListResult,
  type XattrSetHow,
} from "./backend.js";
import { ChangeFeed, type ChangeListener, type ChangeOrigin, type FsChange } from "./changes.js";
import { DirListing } from "./memory-dir.js";
import {
  GENERATION_BYTES,
  NO_DEVICE,
  fail,
  makeHandle,
  notAFile,
  parseHandle,
  sameBytes,
  type Content,
  type MemNode,
} from "./memory-node.js";
import { MEMORY_FS_DEFAULTS, type MemoryFsOptions } from "./memory-options.js";
import { nameError } from "./names.js";
import { FileData } from "./memory-file-data.js";

export { MEMORY_FS_DEFAULTS, type MemoryFsOptions } from "./memory-options.js";

/** Bytes an extended attribute is charged: its key (UTF-8) and its value. */
function xattrSize(name: string, value: Uint8Array): number {
  return Buffer.byteLength(name, "utf8") + value.length;
}

const ROOT_MODE = 0o755;
const MODE_MASK = 0o7777;

export class MemoryFileSystem implements FileSystem {
  readonly capabilities: FsCapabilities;
  readonly storeKind = "memory";
  private readonly options: MemoryFsOptions;
  /** Random per instance: part of every handle, and the cookie and write verifier. */
  private readonly generation: Uint8Array;
  private readonly nodes = new Map<bigint, MemNode>();
  private readonly rootNode: MemNode;
  private nextFileid = 1n;
  private changeCounter = 0n;
  /** Bytes in use, by the blockSize accounting of spaceOf(). */
  private usedBytes = 0;
  private readonly maxFileSize: number;
  private readonly feed = new ChangeFeed();

  constructor(options: Partial<MemoryFsOptions> = {}) {
    this.options = { ...MEMORY_FS_DEFAULTS, ...options };
    this.generation = new Uint8Array(randomBytes(GENERATION_BYTES));
    this.maxFileSize = this.options.maxFileSize ?? this.options.capacityBytes;
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
      maxNameBytes: this.options.maxNameBytes,
      maxLink: this.options.maxLink,
      maxFileSize: BigInt(this.maxFileSize),
      maxSymlinkBytes: this.options.maxSymlinkBytes,
      // Timestamps come from a nanosecond clock.
      timeDelta: { seconds: 0n, nseconds: 1 },
      xattrs: {
        maxNameBytes: this.options.maxXattrNameBytes,
        maxValueBytes: this.options.maxXattrValueBytes,
        maxBytesPerObject: this.options.maxXattrBytesPerObject,
      },
    };
    const t = this.options.clock();
    this.rootNode = this.newNode(nfs_ftype4.NF4DIR, { mode: ROOT_MODE, uid: 0, gid: 0 }, t, {
      kind: "dir",
      entries: new DirListing<MemNode>(),
      parent: null,
    });
    const o = this.options;
    this.mkdirNode(this.rootNode, o.exportName, {
      mode: o.exportMode,
      uid: o.exportUid,
      gid: o.exportGid,
    });
  }

  // ---- handles and lookups ----

  async root(): Promise<FileHandle> {
    return this.rootNode.handle;
  }

  async getattr(handle: FileHandle): Promise<FileAttributes> {
    return this.attrsOf(this.resolve(handle));
  }

  async lookup(dir: FileHandle, name: string): Promise<Located> {
    const d = this.dirContent(this.resolve(dir));
    this.checkName(name);
    const node = d.entries.get(name) ?? fail(nfsstat4.NFS4ERR_NOENT);
    return this.located(node);
  }

  async lookupParent(dir: FileHandle): Promise<Located> {
    const d = this.dirContent(this.resolve(dir));
    return this.located(d.parent ?? fail(nfsstat4.NFS4ERR_NOENT, "the root has no parent"));
  }

  async readdir(
    dir: FileHandle,
    cookie: bigint,
    verifier: Uint8Array,
    limits: ReaddirLimits,
  ): Promise<ReaddirResult> {
    const d = this.dirContent(this.resolve(dir));
    if (cookie !== 0n) {
      // Cookies are never reused (memory-dir.ts): they never go stale (backend.ts).
      if (!isStableCookieVerifier(verifier)) fail(nfsstat4.NFS4ERR_NOT_SAME);
      if (!d.entries.issued(cookie)) fail(nfsstat4.NFS4ERR_BAD_COOKIE);
    }
    const entries: DirEntry[] = [];
    const max = Math.max(0, limits.maxEntries);
    let eof = true;
    for (const e of d.entries.after(cookie)) {
      if (entries.length >= max) {
        eof = false;
        break;
      }
      entries.push({
        name: e.name,
        cookie: e.cookie,
        ok: true,
        handle: e.value.handle,
        attrs: this.attrsOf(e.value),
      });
    }
    return { entries, eof, verifier: stableCookieVerifier() };
  }

  async statfs(handle: FileHandle): Promise<FsStats> {
    this.resolve(handle);
    const o = this.options;
    const free = BigInt(Math.max(0, o.capacityBytes - this.usedBytes));
    const filesFree = BigInt(Math.max(0, o.maxFiles - this.nodes.size));
    return {
      spaceTotal: BigInt(o.capacityBytes),
      spaceFree: free,
      spaceAvail: free,
      filesTotal: BigInt(o.maxFiles),
      filesFree,
      filesAvail: filesFree,
    };
  }

  // ---- data ----

  async read(handle: FileHandle, offset: bigint, count: number): Promise<ReadResult> {
    const node = this.resolve(handle);
    const c = node.content;
    if (c.kind !== "file") notAFile(node);
    if (offset >= BigInt(c.size)) return { data: new Uint8Array(0), eof: true };
    const start = Number(offset);
    const end = Math.min(c.size, start + Math.max(0, count));
    node.atime = this.options.clock();
    // Later writes never change what this returns (memory-file-data.ts).
    return { data: c.data.read(start, end), eof: end >= c.size };
  }

  async write(
    handle: FileHandle,
    offset: bigint,
    data: Uint8Array,
    _stable: stable_how4,
    origin: ChangeOrigin | null = null,
  ): Promise<WriteResult> {
    const node = this.resolve(handle);
    const c = node.content;
    if (c.kind !== "file") notAFile(node);
    const end = offset + BigInt(data.length);
    if (end > BigInt(this.maxFileSize)) fail(nfsstat4.NFS4ERR_FBIG);
    // A zero-length write succeeds without touching the file (RFC 8881 §18.32.3).
    if (data.length > 0) {
      const before = this.snapshot(node);
      this.resize(node, Math.max(c.size, Number(end)));
      c.data.write(Number(offset), data);
      this.modified(node);
      this.attributesChanged(node, before, origin);
    }
    // Memory is as durable as this backend gets; a restart also changes the verifier.
    return {
      count: data.length,
      committed: stable_how4.FILE_SYNC4,
      verifier: this.writeVerifier(),
    };
  }

  async commit(handle: FileHandle, _offset: bigint, _count: number): Promise<CommitResult> {
    const node = this.resolve(handle);
    if (node.content.kind !== "file") notAFile(node);
    return { verifier: this.writeVerifier() };
  }

  // ---- creation ----

  async create(
    dir: FileHandle,
    name: string,
    how: CreateHow,
    attrs: CreateAttributes,
    origin: ChangeOrigin | null = null,
  ): Promise<CreateResult> {
    const parent = this.resolve(dir);
    const d = this.dirContent(parent);
    this.checkName(name);
    const existing = d.entries.get(name);
    if (existing !== undefined) {
      if (how.kind === "guarded") fail(nfsstat4.NFS4ERR_EXIST);
      const c = existing.content;
      if (c.kind !== "file") notAFile(existing);
      const before = parent.change;
      if (how.kind === "exclusive") {
        if (c.createVerifier === null || !sameBytes(c.createVerifier, how.verifier)) {
          fail(nfsstat4.NFS4ERR_EXIST);
        }
      } else if (attrs.size === 0n && c.size !== 0) {
        const old = this.snapshot(existing);
        this.resize(existing, 0);
        this.modified(existing);
        this.attributesChanged(existing, old, origin);
      }
      return {
        ...this.located(existing),
        created: false,
        dirChange: { atomic: true, before, after: before },
      };
    }
    this.checkAttrs(nfs_ftype4.NF4REG, attrs, 0);
    const before = parent.change;
    const parentBefore = this.snapshot(parent);
    const node = this.addNode(parent, name, nfs_ftype4.NF4REG, attrs, {
      kind: "file",
      data: new FileData(),
      size: 0,
      createVerifier: how.kind === "exclusive" ? how.verifier.slice() : null,
    });
    this.applyAttrs(node, attrs);
    this.entryAdded(parent, parentBefore, name, node, origin);
    return { ...this.located(node), created: true, dirChange: this.dirChange(parent, before) };
  }

  async mkdir(
    dir: FileHandle,
    name: string,
    attrs: CreateAttributes,
    origin: ChangeOrigin | null = null,
  ): Promise<CreateResult> {
    const parent = this.resolve(dir);
    this.dirContent(parent);
    this.checkName(name);
    this.checkAttrs(nfs_ftype4.NF4DIR, attrs, 0);
    const before = parent.change;
    const parentBefore = this.snapshot(parent);
    const node = this.mkdirNode(parent, name, attrs);
    this.entryAdded(parent, parentBefore, name, node, origin);
    return { ...this.located(node), created: true, dirChange: this.dirChange(parent, before) };
  }

  async symlink(
    dir: FileHandle,
    name: string,
    target: Uint8Array,
    attrs: CreateAttributes,
    origin: ChangeOrigin | null = null,
  ): Promise<CreateResult> {
    const parent = this.resolve(dir);
    this.dirContent(parent);
    this.checkName(name);
    if (target.length === 0) fail(nfsstat4.NFS4ERR_INVAL, "empty symlink target");
    if (target.length > this.options.maxSymlinkBytes) fail(nfsstat4.NFS4ERR_NAMETOOLONG);
    this.checkAttrs(nfs_ftype4.NF4LNK, attrs, 0);
    const before = parent.change;
    const parentBefore = this.snapshot(parent);
    const node = this.addNode(parent, name, nfs_ftype4.NF4LNK, attrs, {
      kind: "symlink",
      target: target.slice(),
    });
    this.applyTimes(node, attrs);
    this.entryAdded(parent, parentBefore, name, node, origin);
    return { ...this.located(node), created: true, dirChange: this.dirChange(parent, before) };
  }

  async mknod(
    dir: FileHandle,
    name: string,
    type: SpecialType,
    rdev: DeviceNumber,
    attrs: CreateAttributes,
    origin: ChangeOrigin | null = null,
  ): Promise<CreateResult> {
    const parent = this.resolve(dir);
    this.dirContent(parent);
    this.checkName(name);
    const device = type === nfs_ftype4.NF4BLK || type === nfs_ftype4.NF4CHR;
    if (!device && type !== nfs_ftype4.NF4SOCK && type !== nfs_ftype4.NF4FIFO) {
      fail(nfsstat4.NFS4ERR_BADTYPE);
    }
    this.checkAttrs(type, attrs, 0);
    const before = parent.change;
    const parentBefore = this.snapshot(parent);
    const node = this.addNode(parent, name, type, attrs, {
      kind: "special",
      rdev: device ? { major: rdev.major, minor: rdev.minor } : NO_DEVICE,
    });
    this.applyTimes(node, attrs);
    this.entryAdded(parent, parentBefore, name, node, origin);
    return { ...this.located(node), created: true, dirChange: this.dirChange(parent, before) };
  }

  async readlink(handle: FileHandle): Promise<Uint8Array> {
    const node = this.resolve(handle);
    if (node.content.kind !== "symlink") fail(nfsstat4.NFS4ERR_INVAL, "not a symbolic link");
    return node.content.target.slice();
  }

  // ---- namespace changes ----

  async remove(
    dir: FileHandle,
    name: string,
    origin: ChangeOrigin | null = null,
  ): Promise<ChangeInfo> {
    const parent = this.resolve(dir);
    const d = this.dirContent(parent);
    this.checkName(name);
    const node = d.entries.get(name) ?? fail(nfsstat4.NFS4ERR_NOENT);
    if (node.content.kind === "dir" && node.content.entries.size > 0) {
      fail(nfsstat4.NFS4ERR_NOTEMPTY);
    }
    const before = parent.change;
    const parentBefore = this.snapshot(parent);
    const nodeBefore = this.snapshot(node);
    const cookie = d.entries.cookieOf(name) ?? 0n;
    this.unlink(parent, name, node);
    if (this.feed.active) {
      this.feed.emit({
        origin,
        kind: "removed",
        dir,
        entry: { name, cookie, handle: node.handle },
      });
      this.attributesChanged(parent, parentBefore, origin);
      this.attributesChanged(node, nodeBefore, origin);
    }
    return this.dirChange(parent, before);
  }

  async rename(
    fromDir: FileHandle,
    fromName: string,
    toDir: FileHandle,
    toName: string,
    origin: ChangeOrigin | null = null,
  ): Promise<RenameResult> {
    const src = this.resolve(fromDir);
    const dst = this.resolve(toDir);
    const sd = this.dirContent(src);
    const dd = this.dirContent(dst);
    this.checkName(fromName);
    this.checkName(toName);
    const node = sd.entries.get(fromName) ?? fail(nfsstat4.NFS4ERR_NOENT);
    this.checkLive(dst);
    const srcBefore = src.change;
    const dstBefore = dst.change;
    const target = dd.entries.get(toName);
    if (target === node) {
      // Same name, or two links to one object: RFC 8881 §18.26.3 says do nothing.
      const same = { atomic: true, before: srcBefore, after: srcBefore };
      return { source: same, target: { atomic: true, before: dstBefore, after: dstBefore } };
    }
    const nc = node.content;
    if (nc.kind === "dir") {
      // A directory cannot move below itself.
      for (let p: MemNode | null = dst; p !== null; p = this.parentOf(p)) {
        if (p === node) fail(nfsstat4.NFS4ERR_INVAL, "cannot move a directory into itself");
      }
    }
    if (target !== undefined) {
      const tc = target.content;
      if ((nc.kind === "dir") !== (tc.kind === "dir")) fail(nfsstat4.NFS4ERR_EXIST);
      if (tc.kind === "dir" && tc.entries.size > 0) fail(nfsstat4.NFS4ERR_EXIST);
    } else if (nc.kind === "dir" && src !== dst && dst.nlink >= this.options.maxLink) {
      fail(nfsstat4.NFS4ERR_MLINK);
    }
    const srcAttrs = this.snapshot(src);
    const dstAttrs = dst === src ? null : this.snapshot(dst);
    const nodeAttrs = this.snapshot(node);
    const targetAttrs = target === undefined ? null : this.snapshot(target);
    const fromCookie = sd.entries.cookieOf(fromName) ?? 0n;
    const targetCookie = dd.entries.cookieOf(toName) ?? 0n;
    if (target !== undefined) this.unlink(dst, toName, target);
    sd.entries.remove(fromName);
    const toCookie = dd.entries.add(toName, node);
    const link = node.links.find((l) => l.parent === src && l.name === fromName);
    if (link !== undefined) {
      link.parent = dst;
      link.name = toName;
    }
    if (nc.kind === "dir" && src !== dst) {
      nc.parent = dst;
      src.nlink--;
      dst.nlink++;
    }
    this.metaChanged(node);
    this.modified(src);
    if (dst !== src) this.modified(dst);
    if (this.feed.active) {
      this.feed.emit({
        origin,
        kind: "renamed",
        fromDir,
        from: { name: fromName, cookie: fromCookie, handle: node.handle },
        toDir,
        to: this.changedEntry(toName, toCookie, node),
        place: dd.entries.placeOf(toCookie),
        replaced:
          target === undefined
            ? null
            : { name: toName, cookie: targetCookie, handle: target.handle },
      });
      this.attributesChanged(src, srcAttrs, origin);
      if (dstAttrs !== null) this.attributesChanged(dst, dstAttrs, origin);
      this.attributesChanged(node, nodeAttrs, origin);
      if (target !== undefined) this.attributesChanged(target, targetAttrs, origin);
    }
    return {
      source: { atomic: true, before: srcBefore, after: src.change },
      target: { atomic: true, before: dstBefore, after: dst.change },
    };
  }

  async link(
    handle: FileHandle,
    dir: FileHandle,
    name: string,
    origin: ChangeOrigin | null = null,
  ): Promise<ChangeInfo> {
    const node = this.resolve(handle);
    const parent = this.resolve(dir);
    const d = this.dirContent(parent);
    this.checkName(name);
    if (node.content.kind === "dir") fail(nfsstat4.NFS4ERR_ISDIR);
    // An open file whose names are all gone cannot get a new one (as POSIX linkat()).
    if (node.nlink === 0) fail(nfsstat4.NFS4ERR_STALE, "object has no name left");
    this.checkLive(parent);
    if (d.entries.has(name)) fail(nfsstat4.NFS4ERR_EXIST);
    if (node.nlink >= this.options.maxLink) fail(nfsstat4.NFS4ERR_MLINK);
    const before = parent.change;
    const parentBefore = this.snapshot(parent);
    const nodeBefore = this.snapshot(node);
    d.entries.add(name, node);
    node.links.push({ parent, name });
    node.nlink++;
    this.metaChanged(node);
    // A new entry is a change of the directory's contents (mtime, ctime, change).
    this.modified(parent);
    this.entryAdded(parent, parentBefore, name, node, origin);
    this.attributesChanged(node, nodeBefore, origin);
    return this.dirChange(parent, before);
  }

  async setattr(
    handle: FileHandle,
    attrs: SetAttributes,
    origin: ChangeOrigin | null = null,
  ): Promise<FileAttributes> {
    const node = this.resolve(handle);
    const before = this.snapshot(node);
    this.applyAttrs(node, attrs);
    this.attributesChanged(node, before, origin);
    return this.attrsOf(node);
  }

  // ---- extended attributes (RFC 8276) ----

  async getxattr(handle: FileHandle, name: string): Promise<Uint8Array> {
    const node = this.resolve(handle);
    this.checkXattrName(name);
    const x = node.xattrs.get(name) ?? fail(nfsstat4.NFS4ERR_NOXATTR);
    // A copy: the caller may hold it while a later SETXATTR replaces the value.
    return x.value.slice();
  }

  async setxattr(
    handle: FileHandle,
    name: string,
    value: Uint8Array,
    how: XattrSetHow,
    origin: ChangeOrigin | null = null,
  ): Promise<ChangeInfo> {
    const node = this.resolve(handle);
    this.checkXattrName(name);
    const o = this.options;
    if (value.length > o.maxXattrValueBytes) fail(nfsstat4.NFS4ERR_XATTR2BIG);
    const existing = node.xattrs.get(name);
    if (existing !== undefined && how === "create") fail(nfsstat4.NFS4ERR_EXIST);
    if (existing === undefined && how === "replace") fail(nfsstat4.NFS4ERR_NOXATTR);
    const oldBytes = existing === undefined ? 0 : xattrSize(name, existing.value);
    const grow = xattrSize(name, value) - oldBytes;
    if (node.xattrBytes + grow > o.maxXattrBytesPerObject)
      fail(nfsstat4.NFS4ERR_NOSPC, "the object's extended attributes are full");
    if (this.usedBytes + grow > o.capacityBytes) fail(nfsstat4.NFS4ERR_NOSPC);
    const before = node.change;
    const snapshot = this.snapshot(node);
    // Stored as a copy: `value` may be a view into a receive buffer.
    if (existing !== undefined) existing.value = value.slice();
    else node.xattrs.set(name, { value: value.slice(), cookie: ++node.xattrCookie });
    node.xattrBytes += grow;
    this.usedBytes += grow;
    this.metaChanged(node);
    this.attributesChanged(node, snapshot, origin);
    return { atomic: true, before, after: node.change };
  }

  async listxattrs(
    handle: FileHandle,
    cookie: bigint,
    maxEntries: number,
  ): Promise<XattrListResult> {
    const node = this.resolve(handle);
    if (cookie < 0n || cookie > node.xattrCookie) fail(nfsstat4.NFS4ERR_BAD_COOKIE);
    const entries: XattrEntry[] = [];
    const max = Math.max(0, maxEntries);
    let eof = true;
    // Map order is insertion order, and cookies grow with insertion: cookie order.
    for (const [name, x] of node.xattrs) {
      if (x.cookie <= cookie) continue;
      if (entries.length >= max) {
        eof = false;
        break;
      }
      entries.push({ name, cookie: x.cookie });
    }
    return { entries, eof };
  }

  async removexattr(
    handle: FileHandle,
    name: string,
    origin: ChangeOrigin | null = null,
  ): Promise<ChangeInfo> {
    const node = this.resolve(handle);
    this.checkXattrName(name);
    const x = node.xattrs.get(name) ?? fail(nfsstat4.NFS4ERR_NOXATTR);
    const before = node.change;
    const snapshot = this.snapshot(node);
    const size = xattrSize(name, x.value);
    node.xattrs.delete(name);
    node.xattrBytes -= size;
    this.usedBytes -= size;
    this.metaChanged(node);
    this.attributesChanged(node, snapshot, origin);
    return { atomic: true, before, after: node.change };
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

  /** The node's attributes before a change, when someone listens for changes (else null). */
  private snapshot(node: MemNode): FileAttributes | null {
    return this.feed.active ? this.attrsOf(node) : null;
  }

  /** Reports that `node`'s attributes changed from `before` (a snapshot), if anyone listens. */
  private attributesChanged(
    node: MemNode,
    before: FileAttributes | null,
    origin: ChangeOrigin | null,
  ): void {
    if (before === null || !this.feed.active) return;
    // A node freed by the change has no attributes left to report.
    if (!this.nodes.has(node.fileid)) return;
    const names = node.links.map((l) => ({
      dir: l.parent.handle,
      name: l.name,
      cookie: this.dirContent(l.parent).entries.cookieOf(l.name) ?? 0n,
    }));
    this.feed.emit({
      origin,
      kind: "attributes",
      handle: node.handle,
      before,
      after: this.attrsOf(node),
      names,
    });
  }

  /** Reports the new entry `name` of `parent` (and the change of the parent's attributes). */
  private entryAdded(
    parent: MemNode,
    parentBefore: FileAttributes | null,
    name: string,
    node: MemNode,
    origin: ChangeOrigin | null,
  ): void {
    if (!this.feed.active) return;
    const entries = this.dirContent(parent).entries;
    const cookie = entries.cookieOf(name) ?? 0n;
    const change: FsChange = {
      origin,
      kind: "added",
      dir: parent.handle,
      entry: this.changedEntry(name, cookie, node),
      place: entries.placeOf(cookie),
    };
    this.feed.emit(change);
    this.attributesChanged(parent, parentBefore, origin);
  }

  private changedEntry(name: string, cookie: bigint, node: MemNode): ChangedEntry {
    return { name, cookie, handle: node.handle, attrs: this.attrsOf(node) };
  }

  // ---- pins (open files) ----

  async pin(handle: FileHandle): Promise<void> {
    this.resolve(handle).pins++;
  }

  async unpin(handle: FileHandle): Promise<void> {
    let node: MemNode | undefined;
    try {
      node = this.nodes.get(parseHandle(handle, this.generation));
    } catch {
      // Not a handle of this instance: nothing of ours is pinned by it.
      return;
    }
    if (node === undefined || node.pins === 0) return;
    node.pins--;
    // The last pin on an object whose names are all gone frees it (data included).
    if (node.pins === 0 && node.nlink === 0) this.free(node);
  }

  // ---- internals ----

  /** The node a handle names; BADHANDLE for bytes not shaped like ours, STALE for unknown objects. */
  private resolve(handle: FileHandle): MemNode {
    return this.nodes.get(parseHandle(handle, this.generation)) ?? fail(nfsstat4.NFS4ERR_STALE);
  }

  private dirContent(node: MemNode): Extract<Content, { kind: "dir" }> {
    const c = node.content;
    if (c.kind !== "dir") fail(nfsstat4.NFS4ERR_NOTDIR);
    return c;
  }

  private parentOf(node: MemNode): MemNode | null {
    return node.content.kind === "dir" ? node.content.parent : null;
  }

  private checkName(name: string): void {
    const status = nameError(name, this.options.maxNameBytes);
    if (status !== null) fail(status);
  }

  private located(node: MemNode): Located {
    return { handle: node.handle, attrs: this.attrsOf(node) };
  }

  private attrsOf(node: MemNode): FileAttributes {
    const c = node.content;
    const size =
      c.kind === "file"
        ? c.size
        : c.kind === "symlink"
          ? c.target.length
          : c.kind === "dir"
            ? this.options.blockSize
            : 0;
    return {
      type: node.type,
      mode: node.mode,
      nlink: node.nlink,
      uid: node.uid,
      gid: node.gid,
      size: BigInt(size),
      spaceUsed: BigInt(this.spaceOf(node)),
      fileid: node.fileid,
      atime: node.atime,
      mtime: node.mtime,
      ctime: node.ctime,
      birthtime: node.birthtime,
      change: node.change,
      rdev: c.kind === "special" ? c.rdev : NO_DEVICE,
      fsid: this.options.fsid,
    };
  }

  /** Bytes charged against capacity: whole blocks for file data, one block per directory. */
  private spaceOf(node: MemNode): number {
    const c = node.content;
    if (c.kind === "file") return this.blocks(c.size);
    if (c.kind === "dir") return this.options.blockSize;
    return 0;
  }

  /** `bytes` rounded up to whole blocks. */
  private blocks(bytes: number): number {
    const bs = this.options.blockSize;
    return Math.ceil(bytes / bs) * bs;
  }

  private writeVerifier(): Uint8Array {
    return this.generation.slice();
  }

  private nextChange(): bigint {
    return ++this.changeCounter;
  }

  /** Contents changed: mtime, ctime and change move. */
  private modified(node: MemNode): void {
    const t = this.options.clock();
    node.mtime = t;
    node.ctime = t;
    node.change = this.nextChange();
  }

  /** Only metadata changed: ctime and change move. */
  private metaChanged(node: MemNode): void {
    node.ctime = this.options.clock();
    node.change = this.nextChange();
  }

  private dirChange(dir: MemNode, before: bigint): ChangeInfo {
    return { atomic: true, before, after: dir.change };
  }

  private newNode(type: nfs_ftype4, attrs: CreateAttributes, t: FsTime, content: Content): MemNode {
    if (this.nodes.size >= this.options.maxFiles)
      fail(nfsstat4.NFS4ERR_NOSPC, "no free file slots");
    if ((attrs.mode & ~MODE_MASK) !== 0) fail(nfsstat4.NFS4ERR_INVAL, "bad mode");
    const fileid = this.nextFileid++;
    const handle = makeHandle(fileid, this.generation);
    const node: MemNode = {
      fileid,
      type,
      handle,
      mode: attrs.mode,
      uid: attrs.uid,
      gid: attrs.gid,
      nlink: content.kind === "dir" ? 2 : 1,
      links: [],
      pins: 0,
      atime: t,
      mtime: t,
      ctime: t,
      birthtime: t,
      change: this.nextChange(),
      content,
      xattrs: new Map(),
      xattrCookie: 0n,
      xattrBytes: 0,
    };
    const space = this.spaceOf(node);
    if (this.usedBytes + space > this.options.capacityBytes) fail(nfsstat4.NFS4ERR_NOSPC);
    this.usedBytes += space;
    this.nodes.set(fileid, node);
    return node;
  }

  /** Creates a node and enters it in `parent` as `name` (EXIST if taken). */
  private addNode(
    parent: MemNode,
    name: string,
    type: nfs_ftype4,
    attrs: CreateAttributes,
    content: Content,
  ): MemNode {
    const d = this.dirContent(parent);
    this.checkLive(parent);
    if (d.entries.has(name)) fail(nfsstat4.NFS4ERR_EXIST);
    if (content.kind === "dir" && parent.nlink >= this.options.maxLink)
      fail(nfsstat4.NFS4ERR_MLINK);
    const t = this.options.clock();
    const node = this.newNode(type, attrs, t, content);
    d.entries.add(name, node);
    node.links.push({ parent, name });
    if (content.kind === "dir") parent.nlink++;
    this.modified(parent);
    return node;
  }

  private mkdirNode(parent: MemNode, name: string, attrs: CreateAttributes): MemNode {
    const node = this.addNode(parent, name, nfs_ftype4.NF4DIR, attrs, {
      kind: "dir",
      entries: new DirListing<MemNode>(),
      parent,
    });
    this.applyTimes(node, attrs);
    return node;
  }

  /** Removes entry `name` (naming `node`) from `parent`, freeing the node when no name is left. */
  private unlink(parent: MemNode, name: string, node: MemNode): void {
    this.dirContent(parent).entries.remove(name);
    const at = node.links.findIndex((l) => l.parent === parent && l.name === name);
    if (at >= 0) node.links.splice(at, 1);
    if (node.content.kind === "dir") {
      parent.nlink--;
      node.nlink = 0;
    } else {
      node.nlink--;
    }
    this.modified(parent);
    // The last name went: ctime moves as for any unlink; an unpinned node is freed.
    this.metaChanged(node);
    if (node.nlink === 0 && node.pins === 0) this.free(node);
  }

  /** Forgets a node that has neither names nor pins, refunding its space. */
  private free(node: MemNode): void {
    this.usedBytes -= this.spaceOf(node) + node.xattrBytes;
    this.nodes.delete(node.fileid);
  }

  /**
   * STALE for a directory that has been removed but is still pinned: entries
   * added to it could never be reached again (POSIX refuses them with ENOENT).
   */
  private checkLive(dir: MemNode): void {
    if (dir.nlink === 0) fail(nfsstat4.NFS4ERR_STALE, "directory has been removed");
  }

  /** Sets the size of a file, charging or refunding whole blocks. */
  private resize(node: MemNode, size: number): void {
    const c = node.content;
    if (c.kind !== "file") notAFile(node);
    const oldSpace = this.spaceOf(node);
    const newSpace = this.blocks(size);
    if (this.usedBytes - oldSpace + newSpace > this.options.capacityBytes) {
      fail(nfsstat4.NFS4ERR_NOSPC);
    }
    // Space is charged for the size, not the memory held: growing leaves a
    // hole that costs nothing; a cut gives the memory past it back, or
    // create/grow/truncate repeated would hold memory that capacityBytes
    // never sees (found by the fuzzer), and zeroes the rest of its chunk so a
    // later extension reads zeros, not old data.
    if (size < c.size) c.data.truncate(size);
    c.size = size;
    this.usedBytes += newSpace - oldSpace;
  }

  /**
   * Fails as applyAttrs would, without changing anything: lets create check
   * the attributes before it adds the file, so a failure leaves no trace.
   */
  private checkAttrs(type: nfs_ftype4, attrs: SetAttributes, oldSize: number): void {
    const { mode, size } = attrs;
    if (mode !== undefined && (mode & ~MODE_MASK) !== 0) fail(nfsstat4.NFS4ERR_INVAL, "bad mode");
    if (size === undefined) return;
    if (type === nfs_ftype4.NF4DIR) fail(nfsstat4.NFS4ERR_ISDIR);
    if (type !== nfs_ftype4.NF4REG) fail(nfsstat4.NFS4ERR_INVAL, "size of a non-file");
    if (size < 0n) fail(nfsstat4.NFS4ERR_INVAL);
    if (size > BigInt(this.maxFileSize)) fail(nfsstat4.NFS4ERR_FBIG);
    const grow = this.blocks(Number(size)) - this.blocks(oldSize);
    if (this.usedBytes + grow > this.options.capacityBytes) fail(nfsstat4.NFS4ERR_NOSPC);
  }

  private applyAttrs(node: MemNode, attrs: SetAttributes): void {
    const c = node.content;
    this.checkAttrs(node.type, attrs, c.kind === "file" ? c.size : 0);
    const { mode, uid, gid, size, atime, mtime } = attrs;
    const t = this.options.clock();
    if (size !== undefined && c.kind === "file" && Number(size) !== c.size) {
      this.resize(node, Number(size));
      node.mtime = t;
    }
    if (mode !== undefined) node.mode = mode;
    if (uid !== undefined) node.uid = uid;
    if (gid !== undefined) node.gid = gid;
    if (atime !== undefined) node.atime = atime === "now" ? t : atime;
    if (mtime !== undefined) node.mtime = mtime === "now" ? t : mtime;
    node.ctime = t;
    node.change = this.nextChange();
  }

  /** A new object's requested atime/mtime (its mode and owner were set by newNode). */
  private applyTimes(node: MemNode, attrs: SetAttributes): void {
    if (attrs.atime === undefined && attrs.mtime === undefined) return;
    this.applyAttrs(node, { atime: attrs.atime, mtime: attrs.mtime });
  }
}

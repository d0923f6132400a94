// A FileSystem that passes every call to another and times it, into a
// latency histogram per operation (src/stats/latency-histogram.ts): the store
// latency of the metrics endpoint. Installed only while metrics are on
// (Namespace.wrapBackends), so a server without them makes no extra call.
// A call costs two performance.now() and the promise then() chains on.

import type { ChangeListener, ChangeOrigin } from "./changes.js";
import type {
  ChangeInfo,
  CommitResult,
  CreateAttributes,
  CreateHow,
  CreateResult,
  DeviceNumber,
  FileAttributes,
  FileHandle,
  FileSystem,
  FsCapabilities,
  FsStats,
  Located,
  ReadResult,
  ReaddirLimits,
  ReaddirResult,
  RenameResult,
  SetAttributes,
  SpecialType,
  WriteResult,
  XattrListResult,
  XattrSetHow,
} from "./backend.js";
import type { stable_how4 } from "../../generated/nfs4/index.js";
import { LatencyHistograms, timeSettled } from "../stats/latency-histogram.js";

/** The FileSystem calls timed, in row order (observe() is not a store call and is not timed). */
export const FS_OPERATIONS = [
  "root",
  "getattr",
  "lookup",
  "lookupParent",
  "readdir",
  "statfs",
  "read",
  "write",
  "commit",
  "create",
  "mkdir",
  "symlink",
  "mknod",
  "readlink",
  "remove",
  "rename",
  "link",
  "setattr",
  "getxattr",
  "setxattr",
  "listxattrs",
  "removexattr",
  "pin",
  "unpin",
] as const;
export type FsOperation = (typeof FS_OPERATIONS)[number];
const ROW = Object.fromEntries(FS_OPERATIONS.map((op, i) => [op, i])) as Readonly<
  Record<FsOperation, number>
>;

/** One store kind's histograms: a row per operation name. */
export interface StoreHistograms {
  readonly operations: readonly string[];
  readonly histograms: LatencyHistograms;
}

/**
 * The latency of store calls, by store kind and operation: FileSystem calls
 * under "memory", "sqlite+local", …; payload store calls under "local", "s3".
 */
export class StoreLatency {
  private readonly byStore = new Map<string, StoreHistograms>();

  /** The histograms of `store`, one row per entry of `operations`, created on first use. */
  histograms(store: string, operations: readonly string[] = FS_OPERATIONS): LatencyHistograms {
    let h = this.byStore.get(store);
    if (h === undefined) {
      h = { operations, histograms: new LatencyHistograms(operations.length) };
      this.byStore.set(store, h);
    } else if (h.operations !== operations) {
      throw new Error(`store kind ${store} is timed with two lists of operations`);
    }
    return h.histograms;
  }

  /** The store kinds timed so far. */
  stores(): IterableIterator<[string, StoreHistograms]> {
    return this.byStore.entries();
  }
}

export class TimedFileSystem implements FileSystem {
  private readonly latency: LatencyHistograms;

  constructor(
    private readonly fs: FileSystem,
    /** The store kind the histograms are kept under ("memory", "sqlite+local", …). */
    readonly storeKind: string,
    latency: StoreLatency,
  ) {
    this.latency = latency.histograms(storeKind);
    // The payload store beneath, if the backend has one, is timed too.
    fs.timePayloads?.(latency);
  }

  get capabilities(): FsCapabilities {
    return this.fs.capabilities;
  }

  private timed<T>(op: number, started: number, p: Promise<T>): Promise<T> {
    return timeSettled(this.latency, op, started, p);
  }

  root(): Promise<FileHandle> {
    return this.timed(ROW.root, performance.now(), this.fs.root());
  }

  getattr(handle: FileHandle): Promise<FileAttributes> {
    return this.timed(ROW.getattr, performance.now(), this.fs.getattr(handle));
  }

  lookup(dir: FileHandle, name: string): Promise<Located> {
    return this.timed(ROW.lookup, performance.now(), this.fs.lookup(dir, name));
  }

  lookupParent(dir: FileHandle): Promise<Located> {
    return this.timed(ROW.lookupParent, performance.now(), this.fs.lookupParent(dir));
  }

  readdir(
    dir: FileHandle,
    cookie: bigint,
    verifier: Uint8Array,
    limits: ReaddirLimits,
  ): Promise<ReaddirResult> {
    return this.timed(
      ROW.readdir,
      performance.now(),
      this.fs.readdir(dir, cookie, verifier, limits),
    );
  }

  statfs(handle: FileHandle): Promise<FsStats> {
    return this.timed(ROW.statfs, performance.now(), this.fs.statfs(handle));
  }

  read(handle: FileHandle, offset: bigint, count: number): Promise<ReadResult> {
    return this.timed(ROW.read, performance.now(), this.fs.read(handle, offset, count));
  }

  write(
    handle: FileHandle,
    offset: bigint,
    data: Uint8Array,
    stable: stable_how4,
    origin?: ChangeOrigin | null,
  ): Promise<WriteResult> {
    return this.timed(
      ROW.write,
      performance.now(),
      this.fs.write(handle, offset, data, stable, origin),
    );
  }

  commit(handle: FileHandle, offset: bigint, count: number): Promise<CommitResult> {
    return this.timed(ROW.commit, performance.now(), this.fs.commit(handle, offset, count));
  }

  create(
    dir: FileHandle,
    name: string,
    how: CreateHow,
    attrs: CreateAttributes,
    origin?: ChangeOrigin | null,
  ): Promise<CreateResult> {
    return this.timed(ROW.create, performance.now(), this.fs.create(dir, name, how, attrs, origin));
  }

  mkdir(
    dir: FileHandle,
    name: string,
    attrs: CreateAttributes,
    origin?: ChangeOrigin | null,
  ): Promise<CreateResult> {
    return this.timed(ROW.mkdir, performance.now(), this.fs.mkdir(dir, name, attrs, origin));
  }

  symlink(
    dir: FileHandle,
    name: string,
    target: Uint8Array,
    attrs: CreateAttributes,
    origin?: ChangeOrigin | null,
  ): Promise<CreateResult> {
    return this.timed(
      ROW.symlink,
      performance.now(),
      this.fs.symlink(dir, name, target, attrs, origin),
    );
  }

  mknod(
    dir: FileHandle,
    name: string,
    type: SpecialType,
    rdev: DeviceNumber,
    attrs: CreateAttributes,
    origin?: ChangeOrigin | null,
  ): Promise<CreateResult> {
    return this.timed(
      ROW.mknod,
      performance.now(),
      this.fs.mknod(dir, name, type, rdev, attrs, origin),
    );
  }

  readlink(handle: FileHandle): Promise<Uint8Array> {
    return this.timed(ROW.readlink, performance.now(), this.fs.readlink(handle));
  }

  remove(dir: FileHandle, name: string, origin?: ChangeOrigin | null): Promise<ChangeInfo> {
    return this.timed(ROW.remove, performance.now(), this.fs.remove(dir, name, origin));
  }

  rename(
    fromDir: FileHandle,
    fromName: string,
    toDir: FileHandle,
    toName: string,
    origin?: ChangeOrigin | null,
  ): Promise<RenameResult> {
    return this.timed(
      ROW.rename,
      performance.now(),
      this.fs.rename(fromDir, fromName, toDir, toName, origin),
    );
  }

  link(
    handle: FileHandle,
    dir: FileHandle,
    name: string,
    origin?: ChangeOrigin | null,
  ): Promise<ChangeInfo> {
    return this.timed(ROW.link, performance.now(), this.fs.link(handle, dir, name, origin));
  }

  setattr(
    handle: FileHandle,
    attrs: SetAttributes,
    origin?: ChangeOrigin | null,
  ): Promise<FileAttributes> {
    return this.timed(ROW.setattr, performance.now(), this.fs.setattr(handle, attrs, origin));
  }

  getxattr(handle: FileHandle, name: string): Promise<Uint8Array> {
    return this.timed(ROW.getxattr, performance.now(), this.fs.getxattr(handle, name));
  }

  setxattr(
    handle: FileHandle,
    name: string,
    value: Uint8Array,
    how: XattrSetHow,
    origin?: ChangeOrigin | null,
  ): Promise<ChangeInfo> {
    return this.timed(
      ROW.setxattr,
      performance.now(),
      this.fs.setxattr(handle, name, value, how, origin),
    );
  }

  listxattrs(handle: FileHandle, cookie: bigint, maxEntries: number): Promise<XattrListResult> {
    return this.timed(
      ROW.listxattrs,
      performance.now(),
      this.fs.listxattrs(handle, cookie, maxEntries),
    );
  }

  removexattr(handle: FileHandle, name: string, origin?: ChangeOrigin | null): Promise<ChangeInfo> {
    return this.timed(
      ROW.removexattr,
      performance.now(),
      this.fs.removexattr(handle, name, origin),
    );
  }

  observe(listener: ChangeListener): () => void {
    return this.fs.observe(listener);
  }

  pin(handle: FileHandle): Promise<void> {
    return this.timed(ROW.pin, performance.now(), this.fs.pin(handle));
  }

  unpin(handle: FileHandle): Promise<void> {
    return this.timed(ROW.unpin, performance.now(), this.fs.unpin(handle));
  }
}

// A PayloadStore of sparse files: one file per payload id under a directory.
// Writes past the end leave holes the filesystem does not allocate; truncate
// is ftruncate; commit is fdatasync. Recently used files stay open (up to
// `maxOpenFiles`) so a stream of WRITEs costs no open() each. Reads and
// commits never create a file: a payload that is not there reads as nothing.
//
// Small work runs on the event loop's thread. A hand-off to libuv's thread
// pool and back costs ~35 µs of CPU per call on this kind of machine (the
// queue's lock, a wake-up of a pool thread, a wake-up of the loop, a promise):
// a small file's open + 4 KiB write + close + unlink cost ~150 µs that way
// against ~20 µs done in place, where a write to the page cache takes a few
// µs. So reads and writes of at most `inlineIoMaxBytes`, opens, closes of
// files still named, and unlinks of files of at most that size run in place;
// bigger transfers, fdatasync and ftruncate (which may free a large file's
// blocks) keep the pool, so the loop never waits on the disk for long. The
// metadata store (SQLite) already works on this thread, on the same disk.
// `inlineIoMaxBytes` 0 sends everything to the pool.

import {
  close,
  closeSync,
  constants,
  fdatasync,
  ftruncate,
  lstatSync,
  mkdirSync,
  open,
  openSync,
  read,
  readSync,
  unlinkSync,
  write,
  writeSync,
} from "node:fs";
import { open as openPromise, opendir, statfs, unlink } from "node:fs/promises";
import { join } from "node:path";
import { ioBuffers } from "../xdr/io-buffers.js";
import type { PayloadSpace, PayloadStore } from "./payload.js";
import { DEFAULT_STORE_SETTINGS } from "./settings.js";

/** Payload ids are chosen by StoreFileSystem; only these characters can reach a file name. */
const SAFE_ID = /^[A-Za-z0-9_-]{1,64}$/;

const READ_WRITE = constants.O_RDWR;
const CREATE_NEW = constants.O_RDWR | constants.O_CREAT | constants.O_EXCL;

/** An open payload file and the operations using it right now. */
interface OpenFile {
  /** Settles with the descriptor; null: opened without create, and there was no file. */
  readonly opened: Promise<number | null>;
  /** The descriptor once `opened` settled with one. */
  fd: number | null;
  users: number;
  /** Dropped from the cache: closed once its last user is done. */
  evicted: boolean;
}

export class LocalPayloadStore implements PayloadStore {
  readonly kind = "local";
  /**
   * Open files, least recently used first (Map keeps insertion order). A file
   * evicted while an operation still uses it (reads run beside writes) is
   * closed when that operation is done.
   */
  private readonly openFiles = new Map<string, OpenFile>();
  /** Payloads created by this process whose directory entry has not been synced yet. */
  private readonly unsyncedNames = new Set<string>();

  constructor(
    private readonly dir: string,
    private readonly maxOpenFiles: number,
    private readonly inlineIoMaxBytes: number = DEFAULT_STORE_SETTINGS.inlineIoMaxBytes,
  ) {
    mkdirSync(dir, { recursive: true });
  }

  async read(id: string, offset: number, count: number): Promise<Uint8Array> {
    // A payload that is not there (never written, or deleted meanwhile) reads as nothing:
    // the caller pads with zeros up to the size it knows. Reading never creates one.
    const got = await this.using(id, false, async (fd) => {
      // From the pool of buffers the connection gives back once the reply
      // is written (xdr/io-buffers.ts); unzeroed: only the bytes read are
      // handed out.
      const buf = ioBuffers.take(count);
      const inPlace = this.inPlace(count);
      let n = 0;
      while (n < count) {
        const got = inPlace
          ? readSync(fd, buf, n, count - n, offset + n)
          : await pooled<number>((done) => read(fd, buf, n, count - n, offset + n, done));
        if (got === 0) break;
        n += got;
      }
      return new Uint8Array(buf.buffer, buf.byteOffset, n);
    });
    return got ?? new Uint8Array(0);
  }

  async write(id: string, offset: number, data: Uint8Array): Promise<void> {
    await this.using(id, true, async (fd) => {
      const inPlace = this.inPlace(data.length);
      let done = 0;
      while (done < data.length) {
        done += inPlace
          ? writeSync(fd, data, done, data.length - done, offset + done)
          : await pooled<number>((cb) =>
              write(fd, data, done, data.length - done, offset + done, cb),
            );
      }
    });
  }

  async truncate(id: string, size: number): Promise<void> {
    await this.using(id, true, (fd) => pooled<void>((done) => ftruncate(fd, size, done)));
  }

  async commit(id: string): Promise<void> {
    // Nothing stored (never written, or deleted meanwhile): nothing to make durable.
    await this.using(id, false, (fd) => pooled<void>((done) => fdatasync(fd, done)));
    // A new file's name is durable only once its directory is synced too.
    if (this.unsyncedNames.delete(id)) {
      const d = await openPromise(this.dir, constants.O_RDONLY);
      try {
        await d.sync();
      } finally {
        await d.close();
      }
    }
  }

  async delete(id: string): Promise<void> {
    const path = this.path(id);
    this.unsyncedNames.delete(id);
    this.evict(id);
    if (this.smallWorkInPlace) {
      // Unlinking frees the file's blocks: in place only for a small file.
      const stat = lstatSync(path, { throwIfNoEntry: false });
      if (stat === undefined) return;
      if (this.inPlace(stat.blocks * 512)) {
        ignoreMissing(() => unlinkSync(path));
        return;
      }
    }
    // One unlink (fs.rm would lstat first); a payload never written has no file.
    try {
      await unlink(path);
    } catch (e) {
      if (!isMissing(e)) throw e;
    }
  }

  async *ids(): AsyncIterable<string> {
    // readdir(3) lists every entry neither added nor removed meanwhile exactly once.
    for await (const entry of await opendir(this.dir))
      if (entry.isFile() && SAFE_ID.test(entry.name)) yield entry.name;
  }

  async space(): Promise<PayloadSpace> {
    const s = await statfs(this.dir, { bigint: true });
    return {
      totalBytes: s.blocks * s.bsize,
      freeBytes: s.bfree * s.bsize,
      availBytes: s.bavail * s.bsize,
    };
  }

  async close(): Promise<void> {
    const all = [...this.openFiles.values()];
    this.openFiles.clear();
    await Promise.all(all.map((f) => closePooled(f)));
  }

  /** Whether a transfer of `bytes` runs on the event loop's thread. */
  private inPlace(bytes: number): boolean {
    return bytes <= this.inlineIoMaxBytes;
  }

  /** Whether opens, closes of named files and small unlinks run on the event loop's thread (0: none do). */
  private get smallWorkInPlace(): boolean {
    return this.inlineIoMaxBytes > 0;
  }

  private path(id: string): string {
    if (!SAFE_ID.test(id)) throw new Error(`bad payload id ${JSON.stringify(id)}`);
    return join(this.dir, id);
  }

  /**
   * Runs `work` on payload `id`'s open file (created if absent when `create`;
   * otherwise a missing file gives null without running `work`).
   */
  private async using<T>(
    id: string,
    create: boolean,
    work: (fd: number) => Promise<T>,
  ): Promise<T | null> {
    const entry = this.openFiles.get(id) ?? this.opening(id, create);
    // Most recently used goes last.
    this.openFiles.delete(id);
    this.openFiles.set(id, entry);
    entry.users++;
    try {
      const fd = entry.fd ?? (await entry.opened);
      if (fd === null) {
        // Opened without create and not there: create now if asked to (a write after a read).
        if (!create) return null;
        return await this.using(id, create, work);
      }
      return await work(fd);
    } finally {
      entry.users--;
      // Its name may be gone (deleted meanwhile): the close may free its blocks.
      if (entry.evicted && entry.users === 0) void closePooled(entry);
    }
  }

  /** A new cache entry for `id`, opening its file; evicts the least recently used beyond the limit. */
  private opening(id: string, create: boolean): OpenFile {
    const entry: OpenFile = {
      opened: this.openFile(id, this.path(id), create),
      fd: null,
      users: 0,
      evicted: false,
    };
    entry.opened.then(
      (fd) => {
        entry.fd = fd;
        if (fd === null) this.drop(id, entry);
      },
      () => this.drop(id, entry),
    );
    this.openFiles.set(id, entry);
    while (this.openFiles.size > this.maxOpenFiles) {
      const oldest = this.openFiles.keys().next().value;
      if (oldest === undefined || oldest === id) break;
      this.evict(oldest);
    }
    return entry;
  }

  /**
   * Opens the payload's file read-write, in place or on the pool (creating it
   * when `create`, and noting that its name is not yet durable); null when it
   * is not there and not to be created.
   */
  private async openFile(id: string, path: string, create: boolean): Promise<number | null> {
    const openAs = (flags: number): number | Promise<number> =>
      this.smallWorkInPlace
        ? openSync(path, flags, 0o600)
        : pooled<number>((done) => open(path, flags, 0o600, done));
    if (!create) {
      try {
        return await openAs(READ_WRITE);
      } catch (e) {
        if (isMissing(e)) return null;
        throw e;
      }
    }
    try {
      const fd = await openAs(CREATE_NEW);
      this.unsyncedNames.add(id);
      return fd;
    } catch (e) {
      if (!isCode(e, "EEXIST")) throw e;
      return openAs(READ_WRITE);
    }
  }

  /** Forgets a cache entry whose open failed or found nothing (only if it is still the cached one). */
  private drop(id: string, entry: OpenFile): void {
    if (this.openFiles.get(id) === entry) this.openFiles.delete(id);
    entry.evicted = true;
  }

  /** Drops `id` from the cache; its file is closed now, or when its last user is done. */
  private evict(id: string): void {
    const entry = this.openFiles.get(id);
    if (entry === undefined) return;
    this.openFiles.delete(id);
    entry.evicted = true;
    if (entry.users > 0) return;
    // Still named (delete() evicts before it unlinks): closing frees nothing.
    if (this.smallWorkInPlace && entry.fd !== null) {
      const fd = entry.fd;
      entry.fd = null;
      ignoreErrors(() => closeSync(fd));
    } else void closePooled(entry);
  }
}

/** A callback-style fs call on the thread pool, as a promise. */
function pooled<T>(
  call: (done: (e: NodeJS.ErrnoException | null, value: T) => void) => void,
): Promise<T> {
  return new Promise<T>((resolve, reject) =>
    call((e, value) => (e === null ? resolve(value) : reject(e))),
  );
}

/** Closes an entry's descriptor on the thread pool, once it is open; a failed open has nothing to close. */
async function closePooled(entry: OpenFile): Promise<void> {
  try {
    const fd = entry.fd ?? (await entry.opened);
    entry.fd = null;
    if (fd !== null) await pooled<void>((done) => close(fd, done));
  } catch {
    // Nothing to close, or closed already.
  }
}

function isCode(e: unknown, code: string): boolean {
  return e instanceof Error && "code" in e && e.code === code;
}

function isMissing(e: unknown): boolean {
  return isCode(e, "ENOENT");
}

function ignoreMissing(call: () => void): void {
  try {
    call();
  } catch (e) {
    if (!isMissing(e)) throw e;
  }
}

function ignoreErrors(call: () => void): void {
  try {
    call();
  } catch {
    // A descriptor that cannot be closed is gone already.
  }
}

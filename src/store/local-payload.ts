// A PayloadStore of sparse files: one file per payload id under a directory.
// Writes past the end leave holes the filesystem does not allocate; truncate
// is ftruncate; commit is fdatasync. Recently used files stay open (up to
// `maxOpenFiles`) so a stream of WRITEs costs no open() each. Reads and
// commits never create a file: a payload that is not there reads as nothing.

import { constants, mkdirSync } from "node:fs";
import { open, opendir, statfs, unlink, type FileHandle } from "node:fs/promises";
import { join } from "node:path";
import { ioBuffers } from "../xdr/io-buffers.js";
import type { PayloadSpace, PayloadStore } from "./payload.js";

/** Payload ids are chosen by StoreFileSystem; only these characters can reach a file name. */
const SAFE_ID = /^[A-Za-z0-9_-]{1,64}$/;

/** An open payload file and the operations using it right now. */
interface OpenFile {
  /** Null: opened without create, and there was no file. */
  readonly handle: Promise<FileHandle | null>;
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
  ) {
    mkdirSync(dir, { recursive: true });
  }

  async read(id: string, offset: number, count: number): Promise<Uint8Array> {
    // A payload that is not there (never written, or deleted meanwhile) reads as nothing:
    // the caller pads with zeros up to the size it knows. Reading never creates one.
    const got = await this.using(id, false, async (f) => {
      // From the pool of buffers the connection gives back once the reply
      // is written (xdr/io-buffers.ts); unzeroed: only the bytes read are
      // handed out.
      const buf = ioBuffers.take(count);
      let n = 0;
      while (n < count) {
        const { bytesRead } = await f.read(buf, n, count - n, offset + n);
        if (bytesRead === 0) break;
        n += bytesRead;
      }
      return new Uint8Array(buf.buffer, buf.byteOffset, n);
    });
    return got ?? new Uint8Array(0);
  }

  async write(id: string, offset: number, data: Uint8Array): Promise<void> {
    await this.using(id, true, async (f) => {
      let done = 0;
      while (done < data.length) {
        const { bytesWritten } = await f.write(data, done, data.length - done, offset + done);
        done += bytesWritten;
      }
    });
  }

  async truncate(id: string, size: number): Promise<void> {
    await this.using(id, true, (f) => f.truncate(size));
  }

  async commit(id: string): Promise<void> {
    // Nothing stored (never written, or deleted meanwhile): nothing to make durable.
    await this.using(id, false, (f) => f.datasync());
    // A new file's name is durable only once its directory is synced too.
    if (this.unsyncedNames.delete(id)) {
      const d = await open(this.dir, constants.O_RDONLY);
      try {
        await d.sync();
      } finally {
        await d.close();
      }
    }
  }

  async delete(id: string): Promise<void> {
    this.unsyncedNames.delete(id);
    this.evict(id);
    // One unlink (fs.rm would lstat first); a payload never written has no file.
    try {
      await unlink(this.path(id));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
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
    await Promise.all(all.map((f) => closeFile(f.handle)));
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
    work: (f: FileHandle) => Promise<T>,
  ): Promise<T | null> {
    const entry = this.openFiles.get(id) ?? this.opening(id, create);
    // Most recently used goes last.
    this.openFiles.delete(id);
    this.openFiles.set(id, entry);
    entry.users++;
    try {
      const f = await entry.handle;
      if (f === null) {
        // Opened without create and not there: create now if asked to (a write after a read).
        if (!create) return null;
        return await this.using(id, create, work);
      }
      return await work(f);
    } finally {
      entry.users--;
      if (entry.evicted && entry.users === 0) void closeFile(entry.handle);
    }
  }

  /** A new cache entry for `id`, opening its file; evicts the least recently used beyond the limit. */
  private opening(id: string, create: boolean): OpenFile {
    const path = this.path(id);
    const handle = create ? this.openOrCreate(id, path) : openExisting(path);
    const entry: OpenFile = { handle, users: 0, evicted: false };
    handle.then(
      (f) => {
        if (f === null) this.drop(id, entry);
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

  /** Opens the payload's file read-write, creating it (and noting that its name is not yet durable). */
  private async openOrCreate(id: string, path: string): Promise<FileHandle> {
    try {
      const f = await open(path, constants.O_RDWR | constants.O_CREAT | constants.O_EXCL, 0o600);
      this.unsyncedNames.add(id);
      return f;
    } catch (e) {
      if (!(e instanceof Error) || !("code" in e) || e.code !== "EEXIST") throw e;
      return open(path, constants.O_RDWR);
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
    if (entry.users === 0) void closeFile(entry.handle);
  }
}

/** Opens an existing payload file read-write; null when it does not exist. */
async function openExisting(path: string): Promise<FileHandle | null> {
  try {
    return await open(path, constants.O_RDWR);
  } catch (e) {
    if (e instanceof Error && "code" in e && e.code === "ENOENT") return null;
    throw e;
  }
}

async function closeFile(handle: Promise<FileHandle | null>): Promise<void> {
  try {
    await (await handle)?.close();
  } catch {
    // A failed open has nothing to close.
  }
}

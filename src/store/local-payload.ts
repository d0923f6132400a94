// A PayloadStore of sparse files: one file per payload id under a directory.
// Writes past the end leave holes the filesystem does not allocate; truncate
// is ftruncate; commit is fdatasync. Recently used files stay open (up to
// `maxOpenFiles`) so a stream of WRITEs costs no open() each.

import { constants, mkdirSync } from "node:fs";
import { open, opendir, rm, statfs, type FileHandle } from "node:fs/promises";
import { join } from "node:path";
import type { PayloadSpace, PayloadStore } from "./payload.js";

/** Payload ids are chosen by StoreFileSystem; only these characters can reach a file name. */
const SAFE_ID = /^[A-Za-z0-9_-]{1,64}$/;

export class LocalPayloadStore implements PayloadStore {
  /**
   * Open files, least recently used first (Map keeps insertion order). Closing
   * the oldest is safe because StoreFileSystem runs one operation at a time.
   */
  private readonly openFiles = new Map<string, Promise<FileHandle>>();
  /** Payloads created by this process whose directory entry has not been synced yet. */
  private readonly unsyncedNames = new Set<string>();

  constructor(
    private readonly dir: string,
    private readonly maxOpenFiles: number,
  ) {
    mkdirSync(dir, { recursive: true });
  }

  async read(id: string, offset: number, count: number): Promise<Uint8Array> {
    const f = await this.file(id);
    const buf = Buffer.alloc(count);
    let got = 0;
    while (got < count) {
      const { bytesRead } = await f.read(buf, got, count - got, offset + got);
      if (bytesRead === 0) break;
      got += bytesRead;
    }
    return new Uint8Array(buf.buffer, buf.byteOffset, got);
  }

  async write(id: string, offset: number, data: Uint8Array): Promise<void> {
    const f = await this.file(id);
    let done = 0;
    while (done < data.length) {
      const { bytesWritten } = await f.write(data, done, data.length - done, offset + done);
      done += bytesWritten;
    }
  }

  async truncate(id: string, size: number): Promise<void> {
    await (await this.file(id)).truncate(size);
  }

  async commit(id: string): Promise<void> {
    await (await this.file(id)).datasync();
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
    await this.forget(id);
    await rm(this.path(id), { force: true });
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
    const all = [...this.openFiles.keys()];
    await Promise.all(all.map((id) => this.forget(id)));
  }

  private path(id: string): string {
    if (!SAFE_ID.test(id)) throw new Error(`bad payload id ${JSON.stringify(id)}`);
    return join(this.dir, id);
  }

  /** The open file of payload `id`, created if absent. */
  private file(id: string): Promise<FileHandle> {
    const cached = this.openFiles.get(id);
    if (cached !== undefined) {
      // Most recently used goes last.
      this.openFiles.delete(id);
      this.openFiles.set(id, cached);
      return cached;
    }
    const opening = this.openOrCreate(id).catch((e: unknown) => {
      this.openFiles.delete(id);
      throw e;
    });
    this.openFiles.set(id, opening);
    while (this.openFiles.size > this.maxOpenFiles) {
      const oldest = this.openFiles.keys().next().value;
      if (oldest === undefined) break;
      void this.forget(oldest);
    }
    return opening;
  }

  /** Opens the payload's file read-write, creating it (and noting that its name is not yet durable). */
  private async openOrCreate(id: string): Promise<FileHandle> {
    const path = this.path(id);
    try {
      const f = await open(path, constants.O_RDWR | constants.O_CREAT | constants.O_EXCL, 0o600);
      this.unsyncedNames.add(id);
      return f;
    } catch (e) {
      if (!(e instanceof Error) || !("code" in e) || e.code !== "EEXIST") throw e;
      return open(path, constants.O_RDWR);
    }
  }

  private async forget(id: string): Promise<void> {
    const f = this.openFiles.get(id);
    if (f === undefined) return;
    this.openFiles.delete(id);
    try {
      await (await f).close();
    } catch {
      // A failed open has nothing to close.
    }
  }
}

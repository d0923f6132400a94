// A PayloadStore over an S3-compatible object store (issue 11), with a local
// write-back tier on disk.
//
// - A payload is cut into blocks of `blockSize` bytes; block k of payload p is
//   the object `<prefix>p/<k as 8 hex digits>` (at most blockSize bytes; a
//   missing object, or bytes past a short one, read as zeros).
// - Writes land in the local tier first: a block being changed is a file of
//   a LocalPayloadStore (`<p>-<k>`) holding the whole block — made from the
//   object's contents with the first change applied, under a temporary name,
//   synced and renamed into place, so no crash can leave an empty or partial
//   block file for recovery to upload over a good object. A block file is uploaded
//   in the background (after `uploadDelayMs` without writes, or at once when
//   a COMMIT waits for it or the tier is full) and deleted once the object
//   holds what it held.
// - `durability`: "local" — COMMIT (and FILE_SYNC writes) return once the
//   block files are synced: acknowledged data survives kill -9 and power loss
//   on this machine, and reaches the object store soon after; "remote" — they
//   return once the object store has the blocks.
// - At start every block file left by an earlier run is uploaded again: the
//   tier is the journal a crash leaves behind.
// - Deleting a payload deletes its objects; StoreFileSystem.reclaimPayloads()
//   deletes at open the payloads no file names (a crash between a removal's
//   commit and the deletion leaves some), so objects never leak for good.
//
// Operations on one block are serialized (BlockLocks), its upload included.

import {
  DeleteObjectsCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from "@aws-sdk/client-s3";
import { constants } from "node:fs";
import { open, rename } from "node:fs/promises";
import { join } from "node:path";
import { nfsstat4 } from "../../generated/nfs4/index.js";
import { FsError } from "../fs/backend.js";
import { ioBuffers } from "../xdr/io-buffers.js";
import { LocalPayloadStore } from "./local-payload.js";
import type { PayloadSpace, PayloadStore } from "./payload.js";
import { DEFAULT_STORE_SETTINGS } from "./settings.js";

export interface S3PayloadOptions {
  /** e.g. "http://127.0.0.1:7480"; path-style requests (bucket in the path). */
  readonly endpoint: string;
  readonly region: string;
  readonly bucket: string;
  /** Both empty: the AWS SDK's own sources (environment, ~/.aws). */
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  /** Prepended to every object key (e.g. "dfs/"): several stores may share a bucket. */
  readonly prefix: string;
  /** Bytes per object. */
  readonly blockSize: number;
  /** When COMMIT and FILE_SYNC writes return: block files synced ("local") or uploaded ("remote"). */
  readonly durability: "local" | "remote";
  /** The local tier: a directory of its own. */
  readonly stagingDir: string;
  /** Block files kept open at once (LocalPayloadStore). */
  readonly maxOpenFiles: number;
  /** Block file transfers this small run on the event loop's thread (LocalPayloadStore). */
  readonly inlineIoMaxBytes: number;
  /** Milliseconds without a write before a changed block is uploaded. */
  readonly uploadDelayMs: number;
  /** Uploads in progress at once. */
  readonly uploadConcurrency: number;
  /** Blocks waiting for upload at most; a write that would dirty another waits for uploads. */
  readonly maxDirtyBlocks: number;
  /** Space reported to clients (statfs): an object store has no fixed size. */
  /** What space() reports as size and free space (an object store has no size). */
  readonly capacityBytes: number;
}

export const S3_PAYLOAD_DEFAULTS = {
  region: DEFAULT_STORE_SETTINGS.s3Region,
  prefix: DEFAULT_STORE_SETTINGS.s3Prefix,
  accessKeyId: DEFAULT_STORE_SETTINGS.s3AccessKeyId,
  secretAccessKey: DEFAULT_STORE_SETTINGS.s3SecretAccessKey,
  blockSize: DEFAULT_STORE_SETTINGS.s3BlockSize,
  durability: DEFAULT_STORE_SETTINGS.s3Durability,
  maxOpenFiles: DEFAULT_STORE_SETTINGS.maxOpenPayloads,
  inlineIoMaxBytes: DEFAULT_STORE_SETTINGS.inlineIoMaxBytes,
  uploadDelayMs: DEFAULT_STORE_SETTINGS.s3UploadDelayMs,
  uploadConcurrency: DEFAULT_STORE_SETTINGS.s3UploadConcurrency,
  maxDirtyBlocks: DEFAULT_STORE_SETTINGS.s3MaxDirtyBlocks,
  capacityBytes: DEFAULT_STORE_SETTINGS.s3CapacityBytes,
} as const;

/** Block files being written start with this (never a payload id's first character). */
const TEMPORARY = "_";

/** Longest wait between attempts to upload a block whose upload failed. */
const MAX_RETRY_DELAY_MS = 30_000;

/** One block being changed or uploaded. */
interface DirtyBlock {
  readonly payload: string;
  readonly index: number;
  timer: NodeJS.Timeout | null;
  queued: boolean;
  /** An upload of it is in progress (one at a time per block, so PUTs never land out of order). */
  inFlight: boolean;
  /** Cut or deleted: never uploaded again. */
  dropped: boolean;
  /** Settles when the block file has been uploaded and deleted (remote durability, delete()). */
  readonly waiters: Array<{ resolve: () => void; reject: (e: unknown) => void }>;
  failures: number;
}

export class S3PayloadStore implements PayloadStore {
  readonly kind = "s3";
  private readonly s3: S3Client;
  private readonly local: LocalPayloadStore;
  private readonly o: S3PayloadOptions;
  /** Blocks with a file in the local tier, by blockKey. */
  private readonly dirty = new Map<string, DirtyBlock>();
  private readonly locks = new BlockLocks();
  private readonly queue: DirtyBlock[] = [];
  private uploading = 0;
  /** Writes waiting for the tier to drain below maxDirtyBlocks. */
  private readonly roomWaiters: Array<() => void> = [];
  private closed = false;

  private constructor(options: S3PayloadOptions) {
    this.o = options;
    // The SDK is pinned (package.json) at a version that supports Node 20; its
    // notice that later versions will not is for this project, not for
    // whoever runs the server, at every start.
    process.env["AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED"] ??= "true";
    this.s3 = new S3Client({
      endpoint: options.endpoint,
      region: options.region,
      forcePathStyle: true,
      ...(options.accessKeyId === "" && options.secretAccessKey === ""
        ? {}
        : {
            credentials: {
              accessKeyId: options.accessKeyId,
              secretAccessKey: options.secretAccessKey,
            },
          }),
    });
    this.local = new LocalPayloadStore(
      options.stagingDir,
      options.maxOpenFiles,
      options.inlineIoMaxBytes,
    );
  }

  /**
   * The store over `options.bucket`, after checking that the bucket can be
   * listed with these credentials (a wrong endpoint, key or bucket is an
   * error now, not at the first write); block files of an earlier run are
   * queued for upload.
   */
  static async open(
    options: Partial<S3PayloadOptions> &
      Pick<
        S3PayloadOptions,
        "endpoint" | "bucket" | "accessKeyId" | "secretAccessKey" | "stagingDir"
      >,
  ): Promise<S3PayloadStore> {
    const store = new S3PayloadStore({ ...S3_PAYLOAD_DEFAULTS, ...options });
    try {
      await store.s3.send(
        new ListObjectsV2Command({ Bucket: store.o.bucket, Prefix: store.o.prefix, MaxKeys: 1 }),
      );
      for await (const name of store.local.ids()) {
        const b = parseBlockFile(name);
        if (b !== null) store.markDirty(b.payload, b.index, true);
        else if (name.startsWith(TEMPORARY)) await store.local.delete(name);
      }
    } catch (e) {
      store.s3.destroy();
      throw new Error(`S3 bucket ${options.bucket} at ${options.endpoint}: ${describe(e)}`);
    }
    return store;
  }

  // ---- PayloadStore ----

  async read(id: string, offset: number, count: number): Promise<Uint8Array> {
    const B = this.o.blockSize;
    const out = ioBuffers.take(count);
    let done = 0;
    while (done < count) {
      const at = offset + done;
      const index = Math.floor(at / B);
      const within = at - index * B;
      const n = Math.min(count - done, B - within);
      const got = await this.readBlock(id, index, within, n);
      out.set(got, done);
      // Holes, and bytes past a short block, are zeros.
      out.fill(0, done + got.length, done + n);
      done += n;
    }
    return new Uint8Array(out.buffer, out.byteOffset, count);
  }

  async write(id: string, offset: number, data: Uint8Array): Promise<void> {
    const B = this.o.blockSize;
    let done = 0;
    while (done < data.length) {
      const at = offset + done;
      const index = Math.floor(at / B);
      const within = at - index * B;
      const n = Math.min(data.length - done, B - within);
      const part = data.subarray(done, done + n);
      await this.locks.run(blockKey(id, index), async () => {
        const installed = await this.materialize(id, index, (current) =>
          n === B ? part : patched(current, within, part),
        );
        if (!installed) await this.local.write(blockFile(id, index), within, part);
        this.markDirty(id, index, false);
      });
      done += n;
    }
  }

  async truncate(id: string, size: number): Promise<void> {
    const B = this.o.blockSize;
    const keep = Math.ceil(size / B);
    // Blocks wholly past the end go, here and in the object store.
    for (const b of [...this.dirty.values()])
      if (b.payload === id && b.index >= keep) await this.dropBlock(id, b.index);
    const stale = (await this.remoteBlocks(id)).filter((k) => k.index >= keep);
    await this.deleteObjects(stale.map((k) => k.key));
    // The last block is cut to the new end.
    const tail = size - (keep - 1) * B;
    if (keep > 0 && tail < B)
      await this.locks.run(blockKey(id, keep - 1), async () => {
        const installed = await this.materialize(id, keep - 1, (current) =>
          current.subarray(0, tail),
        );
        if (!installed) await this.local.truncate(blockFile(id, keep - 1), tail);
        this.markDirty(id, keep - 1, false);
      });
  }

  async commit(id: string): Promise<void> {
    const blocks = [...this.dirty.values()].filter((b) => b.payload === id);
    if (this.o.durability === "local") {
      for (const b of blocks)
        await this.locks.run(blockKey(id, b.index), () =>
          this.local.commit(blockFile(id, b.index)),
        );
      return;
    }
    await Promise.all(blocks.map((b) => this.uploaded(b)));
  }

  async delete(id: string): Promise<void> {
    for (const b of [...this.dirty.values()])
      if (b.payload === id) await this.dropBlock(id, b.index);
    await this.deleteObjects((await this.remoteBlocks(id)).map((k) => k.key));
  }

  async *ids(): AsyncIterable<string> {
    const seen = new Set<string>();
    for (const b of this.dirty.values())
      if (!seen.has(b.payload)) {
        seen.add(b.payload);
        yield b.payload;
      }
    let token: string | undefined;
    do {
      const page = await this.s3.send(
        new ListObjectsV2Command({
          Bucket: this.o.bucket,
          Prefix: this.o.prefix,
          Delimiter: "/",
          ContinuationToken: token,
        }),
      );
      for (const p of page.CommonPrefixes ?? []) {
        const id = p.Prefix?.slice(this.o.prefix.length, -1);
        if (id !== undefined && id !== "" && !seen.has(id)) {
          seen.add(id);
          yield id;
        }
      }
      token = page.IsTruncated === true ? page.NextContinuationToken : undefined;
    } while (token !== undefined);
  }

  async space(): Promise<PayloadSpace> {
    const c = BigInt(this.o.capacityBytes);
    return { totalBytes: c, freeBytes: c, availBytes: c };
  }

  /** Uploads what the tier holds, then closes. */
  async close(): Promise<void> {
    if (this.closed) return;
    await this.flush();
    this.closed = true;
    await this.local.close();
    this.s3.destroy();
  }

  /** Uploads every block file now and waits for all (tests; close()). */
  async flush(): Promise<void> {
    await Promise.all([...this.dirty.values()].map((b) => this.uploaded(b)));
  }

  /** Blocks in the local tier (for tests and the control API). */
  get dirtyBlocks(): number {
    return this.dirty.size;
  }

  // ---- blocks ----

  /** Bytes [within, within + n) of a block: from its file in the tier, else from the object store. */
  private readBlock(id: string, index: number, within: number, n: number): Promise<Uint8Array> {
    return this.locks.run(blockKey(id, index), async () => {
      if (this.dirty.has(blockKey(id, index))) {
        const got = await this.local.read(blockFile(id, index), within, n);
        // The tier's buffer goes back to the pool unused otherwise: copy, the caller assembles.
        return new Uint8Array(got);
      }
      return this.getRange(this.key(id, index), within, n);
    });
  }

  /**
   * Gives block `index` a file in the tier, unless it has one: `change`
   * applied to the block's contents in the object store. Returns whether it
   * made one (the change is in it then). Waits for room while the tier is full.
   *
   * The file is written under a temporary name, synced and renamed: after a
   * crash at any point (kill -9 or power loss) there is either no block file
   * — the object stands — or a whole one, never an empty or partial file
   * that recovery would upload over the object.
   */
  private async materialize(
    id: string,
    index: number,
    change: (current: Uint8Array) => Uint8Array,
  ): Promise<boolean> {
    if (this.dirty.has(blockKey(id, index))) return false;
    while (this.dirty.size >= this.o.maxDirtyBlocks) {
      // The tier is full: what waits for its delay goes now.
      for (const d of this.dirty.values())
        if (d.timer !== null) {
          clearTimeout(d.timer);
          d.timer = null;
          this.enqueue(d);
        }
      await new Promise<void>((resolve) => this.roomWaiters.push(resolve));
    }
    if (this.dirty.has(blockKey(id, index))) return false;
    const file = blockFile(id, index);
    const temporary = `${TEMPORARY}${file}`;
    const current = await this.getRange(this.key(id, index), 0, this.o.blockSize);
    await this.local.delete(temporary);
    await this.local.write(temporary, 0, change(current));
    await this.local.commit(temporary);
    await rename(join(this.o.stagingDir, temporary), join(this.o.stagingDir, file));
    // The store's cached handle of the temporary name goes (its file is gone: nothing to unlink).
    await this.local.delete(temporary);
    await syncDirectory(this.o.stagingDir);
    return true;
  }

  /** Notes a change to a block with a file in the tier, and schedules its upload. */
  private markDirty(id: string, index: number, recovered: boolean): void {
    const key = blockKey(id, index);
    let b = this.dirty.get(key);
    if (b === undefined) {
      b = {
        payload: id,
        index,
        timer: null,
        queued: false,
        inFlight: false,
        dropped: false,
        waiters: [],
        failures: 0,
      };
      this.dirty.set(key, b);
    }
    if (recovered) {
      this.enqueue(b);
      return;
    }
    if (b.timer !== null) clearTimeout(b.timer);
    const block = b;
    b.timer = setTimeout(() => {
      block.timer = null;
      this.enqueue(block);
    }, this.o.uploadDelayMs);
    b.timer.unref();
  }

  /** Resolves once `b`'s file has been uploaded and deleted; starts the upload now. */
  private uploaded(b: DirtyBlock): Promise<void> {
    if (this.dirty.get(blockKey(b.payload, b.index)) !== b) return Promise.resolve();
    const done = new Promise<void>((resolve, reject) => b.waiters.push({ resolve, reject }));
    if (b.timer !== null) {
      clearTimeout(b.timer);
      b.timer = null;
    }
    this.enqueue(b);
    return done;
  }

  private enqueue(b: DirtyBlock): void {
    // An upload in progress holds the block's lock, so no write lands meanwhile:
    // it settles the waiters itself, or fails and schedules the next attempt.
    if (b.dropped || b.inFlight || b.queued) return;
    b.queued = true;
    this.queue.push(b);
    this.pump();
  }

  private pump(): void {
    while (this.uploading < this.o.uploadConcurrency && this.queue.length > 0) {
      const b = this.queue.shift();
      if (b === undefined) break;
      b.queued = false;
      if (b.dropped || b.inFlight) continue;
      this.uploading++;
      b.inFlight = true;
      void this.upload(b).finally(() => {
        b.inFlight = false;
        this.uploading--;
        this.pump();
      });
    }
  }

  /**
   * PUTs the block file and deletes it, holding the block's lock throughout:
   * a write to the block waits for the PUT (a block being uploaded is mostly
   * full and done with), and a cut or deletion comes after it, so no PUT can
   * land after the caller deleted the block's object.
   */
  private async upload(b: DirtyBlock): Promise<void> {
    const key = blockKey(b.payload, b.index);
    const file = blockFile(b.payload, b.index);
    await this.locks.run(key, async () => {
      if (b.dropped || this.dirty.get(key) !== b) return;
      const body = new Uint8Array(await this.local.read(file, 0, this.o.blockSize));
      try {
        await this.s3.send(
          new PutObjectCommand({
            Bucket: this.o.bucket,
            Key: this.key(b.payload, b.index),
            Body: body,
          }),
        );
      } catch (e) {
        b.failures++;
        for (const w of b.waiters.splice(0)) w.reject(s3Failure(e));
        // Kept in the tier: tried again, ever more slowly, until it goes through.
        const delay = Math.min(MAX_RETRY_DELAY_MS, 100 * 2 ** Math.min(b.failures, 16));
        if (!this.closed) setTimeout(() => this.enqueue(b), delay).unref();
        return;
      }
      b.failures = 0;
      await this.local.delete(file);
      this.forget(b);
      for (const w of b.waiters.splice(0)) w.resolve();
    });
  }

  /** Drops a block's file and pending upload (its payload was cut or deleted). */
  private async dropBlock(id: string, index: number): Promise<void> {
    const key = blockKey(id, index);
    await this.locks.run(key, async () => {
      const b = this.dirty.get(key);
      if (b === undefined) return;
      b.dropped = true;
      await this.local.delete(blockFile(id, index));
      this.forget(b);
      for (const w of b.waiters.splice(0)) w.resolve();
    });
  }

  private forget(b: DirtyBlock): void {
    if (b.timer !== null) clearTimeout(b.timer);
    b.timer = null;
    this.dirty.delete(blockKey(b.payload, b.index));
    this.roomWaiters.shift()?.();
  }

  // ---- the object store ----

  private key(id: string, index: number): string {
    return `${this.o.prefix}${id}/${index.toString(16).padStart(8, "0")}`;
  }

  /** Bytes [start, start + n) of an object; fewer (or none) past its end or when it is missing. */
  private async getRange(key: string, start: number, n: number): Promise<Uint8Array> {
    try {
      const r = await this.s3.send(
        new GetObjectCommand({
          Bucket: this.o.bucket,
          Key: key,
          Range: `bytes=${start}-${start + n - 1}`,
        }),
      );
      return r.Body === undefined ? new Uint8Array(0) : await r.Body.transformToByteArray();
    } catch (e) {
      if (e instanceof S3ServiceException && (e.name === "NoSuchKey" || e.name === "InvalidRange"))
        return new Uint8Array(0);
      if (e instanceof S3ServiceException && e.$metadata.httpStatusCode === 416)
        return new Uint8Array(0);
      throw s3Failure(e);
    }
  }

  /** The objects of payload `id`, with their block numbers. */
  private async remoteBlocks(id: string): Promise<Array<{ key: string; index: number }>> {
    const out: Array<{ key: string; index: number }> = [];
    const prefix = `${this.o.prefix}${id}/`;
    let token: string | undefined;
    try {
      do {
        const page = await this.s3.send(
          new ListObjectsV2Command({
            Bucket: this.o.bucket,
            Prefix: prefix,
            ContinuationToken: token,
          }),
        );
        for (const o of page.Contents ?? []) {
          const index = o.Key === undefined ? NaN : parseInt(o.Key.slice(prefix.length), 16);
          if (o.Key !== undefined && Number.isSafeInteger(index)) out.push({ key: o.Key, index });
        }
        token = page.IsTruncated === true ? page.NextContinuationToken : undefined;
      } while (token !== undefined);
    } catch (e) {
      throw s3Failure(e);
    }
    return out;
  }

  private async deleteObjects(keys: readonly string[]): Promise<void> {
    // DeleteObjects takes at most 1000 keys.
    for (let i = 0; i < keys.length; i += 1000) {
      try {
        await this.s3.send(
          new DeleteObjectsCommand({
            Bucket: this.o.bucket,
            Delete: { Objects: keys.slice(i, i + 1000).map((Key) => ({ Key })), Quiet: true },
          }),
        );
      } catch (e) {
        throw s3Failure(e);
      }
    }
  }
}

/** Serializes the operations on one block; the map holds only blocks in use. */
class BlockLocks {
  private readonly tails = new Map<string, Promise<unknown>>();

  run<T>(key: string, work: () => Promise<T>): Promise<T> {
    const before = this.tails.get(key) ?? Promise.resolve();
    const result = before.then(work, work);
    const tail = result.catch(() => undefined);
    this.tails.set(key, tail);
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return result;
  }
}

/** `current` with `part` written at `within` (extended as needed). */
function patched(current: Uint8Array, within: number, part: Uint8Array): Uint8Array {
  const out = new Uint8Array(Math.max(current.length, within + part.length));
  out.set(current);
  out.set(part, within);
  return out;
}

/** Makes a rename in `dir` durable. */
async function syncDirectory(dir: string): Promise<void> {
  const d = await open(dir, constants.O_RDONLY);
  try {
    await d.sync();
  } finally {
    await d.close();
  }
}

function blockKey(id: string, index: number): string {
  return `${id}/${index}`;
}

/** The tier's file of a block: `<payload>-<index in hex>` (LocalPayloadStore's id rules). */
function blockFile(id: string, index: number): string {
  return `${id}-${index.toString(16)}`;
}

function parseBlockFile(name: string): { payload: string; index: number } | null {
  // A temporary file a crash left: its block was never installed.
  if (name.startsWith(TEMPORARY)) return null;
  const m = /^(.+)-([0-9a-f]+)$/.exec(name);
  return m === null || m[1] === undefined || m[2] === undefined
    ? null
    : { payload: m[1], index: parseInt(m[2], 16) };
}

/** An object store failure as the NFS status the operation answers (RFC 8881 §15.1). */
function s3Failure(e: unknown): FsError {
  const status =
    e instanceof S3ServiceException && e.$metadata.httpStatusCode !== undefined
      ? e.$metadata.httpStatusCode >= 500 || e.$metadata.httpStatusCode === 429
        ? nfsstat4.NFS4ERR_DELAY
        : nfsstat4.NFS4ERR_IO
      : // No answer at all (connection refused, reset, timed out): the store may come back.
        nfsstat4.NFS4ERR_DELAY;
  return new FsError(status, `S3: ${describe(e)}`);
}

function describe(e: unknown): string {
  if (e instanceof S3ServiceException)
    return `${e.name} (HTTP ${e.$metadata.httpStatusCode ?? "?"}): ${e.message}`;
  return e instanceof Error ? e.message : String(e);
}

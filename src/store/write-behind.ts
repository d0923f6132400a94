// Write-behind for small writes: a PayloadStore in front of another that
// keeps a payload's recent small writes in memory and hands them on later —
// at the payload's commit (COMMIT, or a FILE_SYNC4 WRITE), before any other
// use of it, when the bytes held reach their limit, or once the oldest has
// waited `maxAgeMs`. A payload deleted before then costs its store only the
// delete (a lookup of a name that is not there).
//
// Why: a small file created, written UNSTABLE4 and removed before any COMMIT
// (a temporary file, the load generator's churn) otherwise costs the local
// store a file of its own (open with O_CREAT|O_EXCL, write, close, unlink):
// about a quarter of such a step's server CPU on the SQLite store
// (BENCHMARKS.md, twelfth pass).
//
// Why it loses nothing a client was promised: PayloadStore.write() promises
// nothing durable, only commit() does (RFC 8881 §18.32: UNSTABLE4 data may be
// lost until a COMMIT answers), and commit() hands the payload's writes on
// before it commits. A crash loses what is held here, as a crash of the host
// loses its page cache: the write verifier is new after a restart
// (store-fs.ts), so clients send every uncommitted write again.
//
// Order: a payload's held bytes form one extent, every byte of it written by
// a client; a write that does not extend it without a gap goes on after the
// extent is handed on, and a payload's hand-ons run one at a time, oldest
// first, so the inner store sees the writes in the order they were made.
//
// A failed hand-on (ENOSPC, EIO) loses those bytes like a failed writeback
// of the page cache: the payload's next commit() fails with that error (once,
// as fsync reports a writeback error once), and so its COMMIT.

import type { PayloadSpace, PayloadStore } from "./payload.js";

export interface WriteBehindLimits {
  /** Bytes held for one payload at most; a bigger write goes straight on. */
  readonly fileMaxBytes: number;
  /** Bytes held for all payloads at most (each payload counts at least `MIN_HELD_BYTES`). */
  readonly maxBytes: number;
  /** A payload's writes are handed on at the latest this long after the first of them (ms). */
  readonly maxAgeMs: number;
}

/** What one payload's held extent counts at least: bounds the number of payloads held. */
const MIN_HELD_BYTES = 4096;

/** A payload's held writes: the bytes of [start, end), every one written. */
interface Held {
  readonly start: number;
  end: number;
  /** Its capacity is what the payload counts against `maxBytes`. */
  bytes: Buffer;
  /** When the first of them was written (performance.now()). */
  readonly since: number;
}

export class WriteBehindPayloadStore implements PayloadStore {
  get kind(): string | undefined {
    return this.inner.kind;
  }

  /** Held writes by payload id, oldest first (Map keeps insertion order). */
  private readonly held = new Map<string, Held>();
  /** Bytes counted against `maxBytes`. */
  private heldBytes = 0;
  /** Each payload's hand-on in progress (the latest: each waits for the one before). */
  private readonly handing = new Map<string, Promise<void>>();
  /**
   * Payloads whose held writes were lost: their next commit() fails with
   * this. An entry lives until that commit or the payload's delete: only
   * while the store behind fails writes does it grow, by one small entry per file.
   */
  private readonly failures = new Map<string, Error>();
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly inner: PayloadStore,
    private readonly limits: WriteBehindLimits,
  ) {}

  async write(id: string, offset: number, data: Uint8Array): Promise<void> {
    if (data.length > this.limits.fileMaxBytes) {
      await this.handOn(id);
      return this.inner.write(id, offset, data);
    }
    for (;;) {
      const h = this.held.get(id);
      if (h === undefined) {
        this.hold(id, offset, data);
        break;
      }
      const end = Math.max(h.end, offset + data.length);
      if (offset >= h.start && offset <= h.end && end - h.start <= this.limits.fileMaxBytes) {
        this.extend(h, offset, data, end);
        break;
      }
      await this.handOn(id);
    }
    while (this.heldBytes > this.limits.maxBytes) {
      const oldest = this.held.keys().next().value;
      if (oldest === undefined) break;
      await this.handOn(oldest);
    }
  }

  async read(id: string, offset: number, count: number): Promise<Uint8Array> {
    await this.handOn(id);
    return this.inner.read(id, offset, count);
  }

  async truncate(id: string, size: number): Promise<void> {
    await this.handOn(id);
    return this.inner.truncate(id, size);
  }

  async commit(id: string): Promise<void> {
    await this.handOn(id);
    const failure = this.failures.get(id);
    if (failure !== undefined) {
      this.failures.delete(id);
      throw failure;
    }
    return this.inner.commit(id);
  }

  async delete(id: string): Promise<void> {
    this.release(id);
    // A hand-on already started must not recreate the payload after its deletion.
    await this.handing.get(id);
    this.failures.delete(id);
    return this.inner.delete(id);
  }

  async *ids(): AsyncIterable<string> {
    const held = new Set(this.held.keys());
    yield* held;
    for await (const id of this.inner.ids()) if (!held.has(id)) yield id;
  }

  space(): Promise<PayloadSpace> {
    return this.inner.space();
  }

  async close(): Promise<void> {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    for (const id of [...this.held.keys()]) void this.handOn(id);
    // Those the timer or a full store started too: none may outlive the inner store.
    await Promise.all(this.handing.values());
    return this.inner.close();
  }

  /** Bytes counted against `maxBytes` now (for tests). */
  get bytesHeld(): number {
    return this.heldBytes;
  }

  /** Starts holding `data` (copied: it may be a view into a receive buffer). */
  private hold(id: string, offset: number, data: Uint8Array): void {
    const bytes = Buffer.allocUnsafe(Math.max(data.length, MIN_HELD_BYTES));
    bytes.set(data);
    this.held.set(id, {
      start: offset,
      end: offset + data.length,
      bytes,
      since: performance.now(),
    });
    this.heldBytes += bytes.length;
    this.timer ??= this.armTimer(this.limits.maxAgeMs);
  }

  /** Adds `data` at `offset` to `h`, growing its buffer up to `fileMaxBytes` when it must. */
  private extend(h: Held, offset: number, data: Uint8Array, end: number): void {
    const length = end - h.start;
    if (length > h.bytes.length) {
      const grown = Buffer.allocUnsafe(
        Math.min(this.limits.fileMaxBytes, Math.max(length, 2 * h.bytes.length)),
      );
      h.bytes.copy(grown, 0, 0, h.end - h.start);
      this.heldBytes += grown.length - h.bytes.length;
      h.bytes = grown;
    }
    h.bytes.set(data, offset - h.start);
    h.end = end;
  }

  /** Stops holding `id`'s writes and returns them (undefined: none held). */
  private release(id: string): Held | undefined {
    const h = this.held.get(id);
    if (h === undefined) return undefined;
    this.held.delete(id);
    this.heldBytes -= h.bytes.length;
    return h;
  }

  /**
   * Hands `id`'s held writes on to the inner store, after any hand-on of it
   * still in progress; resolves once the inner store has them (or lost them:
   * a failure is kept for commit()). Never rejects.
   */
  private handOn(id: string): Promise<void> {
    const before = this.handing.get(id);
    const h = this.release(id);
    if (h === undefined) return before ?? Promise.resolve();
    const handing = (async () => {
      await before;
      try {
        await this.inner.write(id, h.start, h.bytes.subarray(0, h.end - h.start));
      } catch (e) {
        this.failures.set(id, e instanceof Error ? e : new Error(String(e)));
      }
    })().finally(() => {
      if (this.handing.get(id) === handing) this.handing.delete(id);
    });
    this.handing.set(id, handing);
    return handing;
  }

  /** Hands on, in `ms`, whatever has been held `maxAgeMs` by then; re-arms while anything is held. */
  private armTimer(ms: number): NodeJS.Timeout {
    const timer = setTimeout(() => {
      this.timer = null;
      const now = performance.now();
      for (const [id, h] of this.held) {
        const due = h.since + this.limits.maxAgeMs;
        if (due > now) {
          this.timer = this.armTimer(due - now);
          return;
        }
        void this.handOn(id);
      }
    }, ms);
    // Held writes never keep the process alive: close() hands them on.
    timer.unref();
    return timer;
  }
}

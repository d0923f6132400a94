// RFC 5531 §11 record marking: on a byte stream each RPC message is a record made
// of fragments, each preceded by a 4-byte mark (high bit: last fragment; low 31
// bits: fragment length). The assembler turns socket chunks back into records.
//
// Memory and CPU rules, because the peer is untrusted:
// - the size limit is checked against each fragment mark as soon as it is read,
//   before any of the fragment's data is buffered (a mark announcing 2 GiB costs
//   nothing), and so is the limit on fragments per record;
// - a record is held only as its bytes actually arrive, as a list of pieces: large
//   pieces are views into the socket chunks, small pieces are copied into a staging
//   buffer (a small view would pin a whole chunk: an 8-byte fragment in a 64 KiB
//   chunk). So the memory held for a record in progress is at most twice the bytes
//   received plus one staging buffer, and an announced-but-unsent record costs
//   nothing;
// - the pieces are joined once, into one exact-size buffer, when the record ends:
//   every byte is copied at most twice (staging, then join), whatever the
//   fragmentation, so reassembly costs O(bytes), not O(bytes × fragments);
// - a record that lies in one chunk as one fragment (the usual case: the Linux
//   client sends one fragment per record) is returned as a view into that chunk,
//   without copying;
// - a large record (a WRITE) is joined into a buffer lent by the server's
//   request pool when one is given: the connection gives it back once the call
//   is answered, so a stream of 1 MiB WRITEs does not make V8 collect garbage
//   for every few dozen of them (external memory pressure).
// - with `copyChunks` (the caller reads the socket into one reused buffer,
//   rpc/read-buffer.ts) nothing may refer to a chunk once push() returns: every
//   byte is copied, a record in one chunk into a buffer of its own, and a large
//   single-fragment record straight into a buffer of the request pool (what
//   was staged before it had one moves there). Announcing a record costs at
//   most a buffer the pool keeps anyway: a new one only while the pool holds
//   fewer than its size, else once half of the record has arrived. Once it
//   has that buffer, the socket may read the rest of the record straight into
//   it (nextReadPlace): the kernel's copy is then the only one.

import type { IoBufferPool } from "../xdr/io-buffers.js";
import { MAX_FRAGMENT_LENGTH } from "./settings.js";

/** The last-fragment bit of a record mark. */
export const LAST_FRAGMENT = 0x80000000;

/**
 * Size of the staging buffers small pieces are copied into. A record in progress
 * holds at most one partly filled staging buffer, so this is also the most memory
 * a record can hold beyond twice its received bytes.
 */
export const STAGING_SIZE = 16 * 1024;

/**
 * A piece at least this long, covering at least half of its chunk's memory, is
 * kept as a view instead of being copied: one view object per 4 KiB or more.
 */
const MIN_VIEW = 4 * 1024;

/**
 * The least of a record still to come that a socket read goes straight into
 * (nextReadPlace): below it, one read into the shared buffer can also bring
 * the next records, and copying a few KiB costs less than a read of its own.
 */
export const MIN_PLACED_READ = 64 * 1024;

/** Staged pieces up to this long are copied byte by byte. */
const SMALL_COPY = 32;

const EMPTY = new Uint8Array(0);

/**
 * The peer broke a record-marking limit; the connection must close. `kind` says
 * which: "size" (the fragments add up to more than the maximum record size) or
 * "fragments" (more fragments in one record than allowed).
 */
export class RecordError extends Error {
  readonly kind: "size" | "fragments";
  /** The record size the marks announced so far, including the offending fragment. */
  readonly announced: number;
  /** The fragments of the record so far, including the offending one. */
  readonly fragments: number;
  /** The limit that was crossed (bytes for "size", fragments for "fragments"). */
  readonly limit: number;

  constructor(kind: "size" | "fragments", announced: number, fragments: number, limit: number) {
    super(
      kind === "size"
        ? `record of at least ${announced} bytes exceeds the maximum record size ${limit}`
        : `record of at least ${fragments} fragments exceeds the maximum of ${limit} fragments`,
    );
    this.name = "RecordError";
    this.kind = kind;
    this.announced = announced;
    this.fragments = fragments;
    this.limit = limit;
  }
}

/** The record mark for a single-fragment record of `length` bytes. */
export function recordMark(length: number): number {
  if (!Number.isInteger(length) || length < 0 || length > MAX_FRAGMENT_LENGTH) {
    throw new RangeError(`record of ${length} bytes cannot be sent as one fragment`);
  }
  // `+`, not `|`: bitwise operators would make the result a negative int32.
  return LAST_FRAGMENT + length;
}

/**
 * Prefix `parts` (the bytes of one record, in order) with a record mark, as one
 * fragment. The parts are not copied; write the result in order, uninterleaved.
 */
export function frameRecord(parts: Uint8Array | readonly Uint8Array[]): Uint8Array[] {
  const list: readonly Uint8Array[] = parts instanceof Uint8Array ? [parts] : parts;
  let total = 0;
  for (const p of list) total += p.length;
  const mark = Buffer.allocUnsafe(4);
  mark.writeUInt32BE(recordMark(total), 0);
  return [mark, ...list];
}

/**
 * Reassembles records from a stream of chunks. `push` every chunk as it arrives,
 * then call `next` until it returns undefined. Records handed out are never
 * reused by the assembler (callers may keep them).
 */
export class RecordAssembler {
  private readonly max: number;
  private readonly maxFragments: number;
  // Record mark being read (its bytes may straddle chunks).
  private mark = 0;
  private markBytes = 0;
  // Fragment being read: its data bytes still to come, and whether it ends the record.
  private inFragment = false;
  private fragmentLeft = 0;
  private fragmentLast = false;
  // Record being read: the sum of the fragment lengths announced so far, the
  // fragments seen so far...
  private announced = 0;
  private fragments = 0;
  // ...and the bytes received, when it cannot be a view into one chunk: pieces in
  // order (views into chunks, or filled parts of staging buffers) and their total.
  private pieces: Uint8Array[] = [];
  private received = 0;
  // The staging buffer small pieces are copied into, and how much of it is used.
  private staging: Buffer | null = null;
  private stagingUsed = 0;
  // Where the record's current run of staged bytes starts in the staging buffer.
  private runStart = 0;
  private copied = 0;
  // Complete records not yet taken by next(); `head` avoids O(n) shifts.
  private ready: Uint8Array[] = [];
  private head = 0;
  private failure: RecordError | null = null;
  // copyChunks: the pool buffer the record in progress is copied straight into.
  private direct: Buffer | null = null;
  private readonly copyChunks: boolean;

  /**
   * `maxRecordSize`: the largest record (sum of its fragments); `maxFragmentsPerRecord`:
   * the most fragments one record may have (default: no limit but the size's).
   */
  constructor(
    maxRecordSize: number,
    maxFragmentsPerRecord = Number.MAX_SAFE_INTEGER,
    /** Lends the buffers large records are joined into (see release()); none: a new one each. */
    private readonly pool: IoBufferPool | null = null,
    options: {
      /** The caller reuses a chunk's memory once push() returns: copy every byte out of it. */
      readonly copyChunks?: boolean;
    } = {},
  ) {
    this.copyChunks = options.copyChunks === true;
    if (!Number.isInteger(maxRecordSize) || maxRecordSize < 0) {
      throw new RangeError(`RecordAssembler: bad maximum record size ${maxRecordSize}`);
    }
    if (!Number.isInteger(maxFragmentsPerRecord) || maxFragmentsPerRecord < 1) {
      throw new RangeError(`RecordAssembler: bad maximum fragments ${maxFragmentsPerRecord}`);
    }
    this.max = Math.min(maxRecordSize, MAX_FRAGMENT_LENGTH);
    this.maxFragments = maxFragmentsPerRecord;
  }

  /** Complete records waiting to be taken with next(). */
  get pending(): number {
    return this.ready.length - this.head;
  }

  /** Bytes received for the record in progress (not counting complete records). */
  get buffered(): number {
    return this.received;
  }

  /**
   * Memory held for the record in progress: the size of every distinct buffer its
   * pieces and the staging buffer keep alive. At most 2 × buffered + 2 ×
   * STAGING_SIZE (views pin at most twice their bytes; the first staging buffer
   * may hold the end of the previous record, the last is partly filled). O(pieces):
   * for tests and diagnostics, not for the hot path.
   */
  get retained(): number {
    const held = new Set<ArrayBufferLike>();
    for (const p of this.pieces) held.add(p.buffer);
    if (this.staging !== null) held.add(this.staging.buffer);
    if (this.direct !== null) held.add(this.direct.buffer);
    let total = 0;
    for (const b of held) total += b.byteLength;
    return total;
  }

  /**
   * Bytes copied so far, over the assembler's life (into staging buffers and into
   * joined records): an instrumentation counter showing reassembly is O(bytes).
   */
  get bytesCopied(): number {
    return this.copied;
  }

  /**
   * Feed the next chunk of the stream. Throws RecordError if a fragment mark
   * crosses a limit; the stream is then unusable (every later push throws the
   * same error) and the connection must be closed.
   */
  push(chunk: Uint8Array): void {
    if (this.failure !== null) throw this.failure;
    const n = chunk.length;
    let pos = 0;
    for (;;) {
      if (!this.inFragment) {
        if (this.markBytes === 0 && n - pos >= 4) {
          // Whole mark in this chunk: the common case.
          this.startFragment(
            ((chunk[pos]! << 24) |
              (chunk[pos + 1]! << 16) |
              (chunk[pos + 2]! << 8) |
              chunk[pos + 3]!) >>>
              0,
          );
          pos += 4;
          continue;
        }
        if (pos === n) return;
        this.mark = ((this.mark << 8) | chunk[pos++]!) >>> 0;
        if (++this.markBytes === 4) {
          const mark = this.mark;
          this.mark = 0;
          this.markBytes = 0;
          this.startFragment(mark);
        }
        continue;
      }
      if (pos === n) return;
      const left = this.fragmentLeft;
      if (this.fragmentLast && left === this.announced && n - pos >= left) {
        // The whole record is this one fragment and it is all in this chunk.
        this.inFragment = false;
        this.announced = 0;
        this.fragments = 0;
        this.ready.push(
          this.copyChunks ? this.copyOut(chunk, pos, left) : chunk.subarray(pos, pos + left),
        );
        pos += left;
        continue;
      }
      const take = Math.min(left, n - pos);
      this.append(chunk, pos, take);
      pos += take;
      this.fragmentLeft = left - take;
      if (this.fragmentLeft === 0) this.endFragment();
    }
  }

  /**
   * copyChunks: where the next read of the socket may land so that it needs
   * no copy — the rest of the record in progress in its pool buffer, when at
   * least MIN_PLACED_READ of it is still to come; null otherwise (read into
   * the shared buffer). Exactly the rest of the record: a read into it never
   * takes bytes of the next record. push() then recognises the chunk as
   * already in place.
   */
  nextReadPlace(): Uint8Array | null {
    // A record has a pool buffer only while its one, last fragment arrives.
    const direct = this.direct;
    if (direct === null || this.fragmentLeft < MIN_PLACED_READ) return null;
    return direct.subarray(this.received, this.received + this.fragmentLeft);
  }

  /**
   * The connection is closed: the record in progress and those never taken give
   * their pool buffers back (so the pool can lend them again).
   */
  abandon(): void {
    if (this.direct !== null) this.pool?.release(this.direct);
    this.direct = null;
    for (let r = this.next(); r !== undefined; r = this.next()) this.pool?.release(r);
  }

  /**
   * `record` (from next()) has been dealt with and nothing refers to its bytes
   * any more: its buffer goes back to the pool if the pool lent it.
   */
  release(record: Uint8Array): void {
    this.pool?.release(record);
  }

  /** The next complete record, or undefined until more bytes arrive. */
  next(): Uint8Array | undefined {
    if (this.head === this.ready.length) return undefined;
    const record = this.ready[this.head]!;
    // Drop our reference so a consumed record can be collected.
    this.ready[this.head++] = EMPTY;
    if (this.head === this.ready.length) {
      this.ready.length = 0;
      this.head = 0;
    }
    return record;
  }

  private startFragment(mark: number): void {
    const length = mark & MAX_FRAGMENT_LENGTH;
    // Subtraction, so the check cannot be fooled by a sum beyond 2^53 (it cannot
    // get there anyway: `announced` never exceeds `max`).
    if (length > this.max - this.announced) {
      this.fail(new RecordError("size", this.announced + length, this.fragments + 1, this.max));
    }
    // Counted even when empty: zero-length fragments cost no memory, but an
    // endless run of them would keep us busy for nothing.
    if (this.fragments >= this.maxFragments) {
      this.fail(
        new RecordError(
          "fragments",
          this.announced + length,
          this.fragments + 1,
          this.maxFragments,
        ),
      );
    }
    this.fragments++;
    this.announced += length;
    this.inFragment = true;
    this.fragmentLeft = length;
    this.fragmentLast = mark >= LAST_FRAGMENT;
    // A zero-length fragment is legal and complete at once.
    if (length === 0) this.endFragment();
  }

  private fail(err: RecordError): never {
    this.failure = err;
    this.pieces = [];
    this.received = 0;
    this.staging = null;
    this.stagingUsed = 0;
    this.runStart = 0;
    throw err;
  }

  private endFragment(): void {
    this.inFragment = false;
    if (!this.fragmentLast) return;
    // received === announced here.
    this.ready.push(this.join());
    this.pieces = [];
    this.received = 0;
    this.announced = 0;
    this.fragments = 0;
  }

  /** The record's pieces as one exact-size, unpooled buffer (or the only view). */
  private join(): Uint8Array {
    const direct = this.direct;
    if (direct !== null) {
      this.direct = null;
      return direct;
    }
    this.closeRun();
    const pieces = this.pieces;
    if (pieces.length === 0) return EMPTY;
    const first = pieces[0]!;
    if (pieces.length === 1 && first.buffer !== this.staging?.buffer) {
      // One view into one chunk: as cheap as the one-fragment fast path.
      return first;
    }
    // Unpooled (or lent whole): a record handed to a program must not share
    // memory with unrelated small Buffers.
    const out =
      this.pool?.lends(this.received) === true
        ? this.pool.take(this.received)
        : Buffer.allocUnsafeSlow(this.received);
    this.copyPieces(out);
    // The staging buffer stays for the next record, which fills it from where
    // this one stopped (never below: those bytes are only ever read by this join).
    return out;
  }

  /** copyChunks: a whole record, `take` bytes of `chunk` at `pos`, in a buffer of its own. */
  private copyOut(chunk: Uint8Array, pos: number, take: number): Buffer {
    const out = this.pool?.lends(take) === true ? this.pool.take(take) : Buffer.allocUnsafe(take);
    out.set(chunk.subarray(pos, pos + take));
    this.copied += take;
    return out;
  }

  private append(chunk: Uint8Array, pos: number, take: number): void {
    // Usually the buffer of the request before this one comes back while this
    // one arrives: what was staged meanwhile moves into it, the rest goes there.
    if (this.direct === null && this.mayGoDirect()) this.takeDirect();
    const direct = this.direct;
    if (direct !== null) {
      // Read straight into place (nextReadPlace): nothing to copy.
      const inPlace =
        chunk.buffer === direct.buffer &&
        chunk.byteOffset + pos === direct.byteOffset + this.received;
      if (!inPlace) {
        direct.set(chunk.subarray(pos, pos + take), this.received);
        this.copied += take;
      }
      this.received += take;
      return;
    }
    this.received += take;
    if (!this.copyChunks && take >= MIN_VIEW && take * 2 >= chunk.buffer.byteLength) {
      // Large enough to be worth a view, and it pins at most twice its size.
      this.closeRun();
      this.pieces.push(chunk.subarray(pos, pos + take));
      return;
    }
    let from = pos;
    let left = take;
    while (left > 0) {
      let staging = this.staging;
      let used = this.stagingUsed;
      if (staging === null || used === staging.length) {
        this.closeRun();
        staging = this.staging = Buffer.allocUnsafeSlow(STAGING_SIZE);
        used = this.runStart = 0;
      }
      const n = Math.min(left, staging.length - used);
      if (n <= SMALL_COPY) {
        // A byte loop beats creating a subarray for the few bytes of a tiny fragment.
        for (let i = 0; i < n; i++) staging[used + i] = chunk[from + i]!;
      } else {
        staging.set(chunk.subarray(from, from + n), used);
      }
      this.stagingUsed = used + n;
      this.copied += n;
      from += n;
      left -= n;
    }
  }

  /**
   * Moves the record in progress into a pool buffer: one the pool keeps anyway
   * (free, or new while it keeps fewer than its size), else, once half of the
   * record has arrived, a new one (what it holds stays within twice what arrived).
   */
  private takeDirect(): void {
    const pool = this.pool;
    if (pool === null) return;
    const size = this.announced;
    const direct = pool.takeKept(size) ?? (this.received * 2 >= size ? pool.take(size) : null);
    if (direct === null) return;
    this.closeRun();
    this.copyPieces(direct);
    this.pieces = [];
    this.direct = direct;
  }

  /** copyChunks: the record in progress is one fragment a pool buffer can hold whole. */
  private mayGoDirect(): boolean {
    return (
      this.copyChunks &&
      this.fragments === 1 &&
      this.fragmentLast &&
      this.pool?.lends(this.announced) === true
    );
  }

  /** Copies the record's pieces, in order, to the start of `out`. */
  private copyPieces(out: Uint8Array): void {
    let at = 0;
    for (const p of this.pieces) {
      out.set(p, at);
      at += p.length;
    }
    this.copied += at;
  }

  /**
   * Ends the run of staged bytes (a view piece follows, the staging buffer is
   * full, or the record ends): one piece per run, not one per fragment.
   */
  private closeRun(): void {
    if (this.staging === null || this.runStart === this.stagingUsed) return;
    this.pieces.push(this.staging.subarray(this.runStart, this.stagingUsed));
    this.runStart = this.stagingUsed;
  }
}

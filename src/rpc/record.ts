// RFC 5531 §11 record marking: on a byte stream each RPC message is a record made
// of fragments, each preceded by a 4-byte mark (high bit: last fragment; low 31
// bits: fragment length). The assembler turns socket chunks back into records.
//
// Memory rules, because the peer is untrusted:
// - the limit is checked against each fragment mark as soon as it is read, before
//   any of the fragment's data is buffered (a mark announcing 2 GiB costs nothing);
// - a record is buffered only as its bytes actually arrive (the buffer is at most
//   twice what was received, or 64 KiB, and never more than the announced size),
//   so an announced-but-unsent record costs nothing either;
// - a record that lies in one chunk as one fragment (the usual case) is returned
//   as a view into that chunk, without copying.

import { MAX_FRAGMENT_LENGTH } from "./settings.js";

/** The last-fragment bit of a record mark. */
export const LAST_FRAGMENT = 0x80000000;

/** First allocation for a record that spans chunks; later ones double. */
const MIN_ACCUMULATOR = 64 * 1024;

const EMPTY = new Uint8Array(0);

/** The peer broke record marking (a record over the limit); the connection must close. */
export class RecordError extends Error {
  /** The record size the marks announced so far, including the offending fragment. */
  readonly announced: number;
  readonly limit: number;

  constructor(announced: number, limit: number) {
    super(`record of at least ${announced} bytes exceeds the maximum record size ${limit}`);
    this.name = "RecordError";
    this.announced = announced;
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
  // Record mark being read (its bytes may straddle chunks).
  private mark = 0;
  private markBytes = 0;
  // Fragment being read: its data bytes still to come, and whether it ends the record.
  private inFragment = false;
  private fragmentLeft = 0;
  private fragmentLast = false;
  // Record being read: the sum of the fragment lengths announced so far...
  private announced = 0;
  // ...and the bytes received, when it cannot be a view into one chunk.
  private acc: Buffer | null = null;
  private accLength = 0;
  // Complete records not yet taken by next(); `head` avoids O(n) shifts.
  private ready: Uint8Array[] = [];
  private head = 0;
  private failure: RecordError | null = null;

  constructor(maxRecordSize: number) {
    if (!Number.isInteger(maxRecordSize) || maxRecordSize < 0) {
      throw new RangeError(`RecordAssembler: bad maximum record size ${maxRecordSize}`);
    }
    this.max = Math.min(maxRecordSize, MAX_FRAGMENT_LENGTH);
  }

  /** Complete records waiting to be taken with next(). */
  get pending(): number {
    return this.ready.length - this.head;
  }

  /** Bytes held for the record in progress (not counting complete records). */
  get buffered(): number {
    return this.accLength;
  }

  /**
   * Feed the next chunk of the stream. Throws RecordError if a fragment mark makes
   * the record exceed the limit; the stream is then unusable (every later push
   * throws the same error) and the connection must be closed.
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
        this.ready.push(chunk.subarray(pos, pos + left));
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
      this.failure = new RecordError(this.announced + length, this.max);
      this.acc = null;
      this.accLength = 0;
      throw this.failure;
    }
    this.announced += length;
    this.inFragment = true;
    this.fragmentLeft = length;
    this.fragmentLast = mark >= LAST_FRAGMENT;
    // A zero-length fragment is legal and complete at once.
    if (length === 0) this.endFragment();
  }

  private endFragment(): void {
    this.inFragment = false;
    if (!this.fragmentLast) return;
    // accLength === announced here, and the buffer is exactly that long (see append).
    this.ready.push(this.acc === null ? EMPTY : this.acc.subarray(0, this.accLength));
    this.acc = null;
    this.accLength = 0;
    this.announced = 0;
  }

  private append(chunk: Uint8Array, pos: number, take: number): void {
    const need = this.accLength + take;
    let acc = this.acc;
    if (acc === null || need > acc.length) {
      const cap = acc === null ? 0 : acc.length;
      // Never more than announced so far, so the final buffer is exactly the
      // record's size and no uninitialised byte is ever exposed.
      const size = Math.min(this.announced, Math.max(need, cap * 2, MIN_ACCUMULATOR));
      // Unpooled: a record handed to a program must not share memory with
      // unrelated small Buffers.
      const grown = Buffer.allocUnsafeSlow(size);
      if (acc !== null) acc.copy(grown, 0, 0, this.accLength);
      this.acc = acc = grown;
    }
    acc.set(chunk.subarray(pos, pos + take), this.accLength);
    this.accLength = need;
  }
}

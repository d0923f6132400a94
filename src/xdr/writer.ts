// XDR (RFC 4506) encoding primitives. One growable buffer per writer: a write
// only allocates when the buffer doubles, and a writer can be reset and reused
// for the next message. Methods are small and monomorphic so V8 inlines them
// into generated encoders; failure paths live in out-of-line helpers.

// Imported: in Node the global `Buffer` is an accessor, a getter call on every use.
import { Buffer } from "node:buffer";
import { XdrError } from "./error.js";
import { encodeUtf8 } from "./utf8.js";

/** Strings longer than this are measured exactly instead of reserving 3 bytes per code unit. */
const MEASURE_OVER = 256;

/** Bytes of zero padding that follow `n` bytes of opaque data. `& 3` is exact for any n < 2^53. */
function padOf(n: number): number {
  return (4 - (n & 3)) & 3;
}

function describe(v: unknown): string {
  return typeof v === "bigint" ? `${v}n` : typeof v === "number" ? `${v}` : `a ${typeof v}`;
}

function outOfRange(offset: number, type: string, v: unknown): XdrError {
  return new XdrError("range", `${describe(v)} is not a valid ${type}`, offset);
}

function overLimit(offset: number, what: string, n: number, max: number): XdrError {
  return new XdrError("limit", `${what} ${n} exceeds maximum ${max}`, offset);
}

export interface XdrWriterOptions {
  /**
   * Opaque data of at least this many bytes is not copied into the buffer but
   * referenced, and handed out by finishGather() as a piece of its own: a
   * READ reply's 1 MiB of data then goes from the backend to socket.writev
   * without a copy in between. The referenced data must not change until the
   * message has been written. Default Infinity (always copy).
   */
  readonly gatherFrom?: number;
  /**
   * Write into this buffer (its whole length is the first capacity) instead
   * of allocating one: a buffer lent by an IoBufferPool, so that a large
   * reply reuses memory. Outgrown, it is left behind like any buffer grow()
   * replaces. Unzeroed bytes are never exposed (see the constructor).
   */
  readonly buffer?: Buffer;
}

/** Data written by reference (see XdrWriterOptions.gatherFrom): it goes at inline offset `at`. */
interface Gathered {
  readonly at: number;
  readonly data: Uint8Array;
}

export class XdrWriter {
  // `declare`d and assigned only in the constructor/grow: plain ES2022 field
  // declarations would first define them as undefined and make V8 generalise the
  // field representations, costing a DataView check on every write.

  // A Buffer (not a plain Uint8Array) so long/non-ASCII strings can be encoded in
  // place by Node's native UTF-8 writer without an intermediate allocation.
  declare private buf: Buffer;
  // The same bytes as a plain Uint8Array, for byte stores and set(): on a Buffer
  // V8 looks `set` up through Buffer.prototype with a generic (uncached) load.
  declare private bytes: Uint8Array;
  declare private view: DataView;
  // `buf.buffer` and `buf.byteOffset`, for finish(): reading them costs more
  // (~30 ns, `buffer` is a call into C++) than making the view itself.
  declare private ab: ArrayBufferLike;
  declare private base: number;
  declare private len: number;
  declare private cap: number;

  declare private readonly gatherFrom: number;
  /** Referenced pieces in order, and their total size (0 when none). */
  declare private gathered: Gathered[];
  declare private external: number;

  constructor(initialCapacity = 1024, options: XdrWriterOptions = {}) {
    if (!Number.isInteger(initialCapacity) || initialCapacity < 0) {
      throw new RangeError(`XdrWriter: bad initial capacity ${initialCapacity}`);
    }
    const given = options.buffer;
    // Never zero: doubling a zero capacity would not grow.
    this.cap =
      given !== undefined && given.length >= 16 ? given.length : Math.max(initialCapacity, 16);
    // Unzeroed: every byte below `len` is written before anyone reads it
    // (padding and reserve() zero explicitly, as they must after reset()). A
    // small one is a slice of Node's shared pool, not an ArrayBuffer of its
    // own: a COMPOUND makes a writer per result, and each fresh ArrayBuffer
    // cost a malloc and the GC's ArrayBuffer sweeping.
    this.buf =
      given !== undefined && given.length === this.cap ? given : Buffer.allocUnsafe(this.cap);
    this.ab = this.buf.buffer;
    this.base = this.buf.byteOffset;
    this.bytes = new Uint8Array(this.ab, this.base, this.cap);
    this.view = new DataView(this.ab, this.base, this.cap);
    this.len = 0;
    this.gatherFrom = options.gatherFrom ?? Infinity;
    this.gathered = [];
    this.external = 0;
  }

  /** Bytes written so far, referenced pieces included. */
  get length(): number {
    return this.len + this.external;
  }

  writeInt(v: number): void {
    if (typeof v !== "number" || (v | 0) !== v) throw outOfRange(this.len, "int", v);
    const o = this.len;
    if (o + 4 > this.cap) this.grow(4);
    this.view.setInt32(o, v);
    this.len = o + 4;
  }

  writeUint(v: number): void {
    if (typeof v !== "number" || v >>> 0 !== v) throw outOfRange(this.len, "unsigned int", v);
    const o = this.len;
    if (o + 4 > this.cap) this.grow(4);
    this.view.setUint32(o, v);
    this.len = o + 4;
  }

  writeHyper(v: bigint): void {
    // asIntN/asUintN round-trip is the cheapest in-range test V8 offers (faster
    // than two comparisons against BigInt constants).
    if (typeof v !== "bigint" || BigInt.asIntN(64, v) !== v) {
      throw outOfRange(this.len, "hyper", v);
    }
    const o = this.len;
    if (o + 8 > this.cap) this.grow(8);
    this.view.setBigInt64(o, v);
    this.len = o + 8;
  }

  writeUhyper(v: bigint): void {
    if (typeof v !== "bigint" || BigInt.asUintN(64, v) !== v) {
      throw outOfRange(this.len, "unsigned hyper", v);
    }
    const o = this.len;
    if (o + 8 > this.cap) this.grow(8);
    this.view.setBigUint64(o, v);
    this.len = o + 8;
  }

  /** Any number (values beyond float range round to ±Infinity, as C would). */
  writeFloat(v: number): void {
    if (typeof v !== "number") throw outOfRange(this.len, "float", v);
    const o = this.len;
    if (o + 4 > this.cap) this.grow(4);
    this.view.setFloat32(o, v);
    this.len = o + 4;
  }

  writeDouble(v: number): void {
    if (typeof v !== "number") throw outOfRange(this.len, "double", v);
    const o = this.len;
    if (o + 8 > this.cap) this.grow(8);
    this.view.setFloat64(o, v);
    this.len = o + 8;
  }

  /** The 16 raw bytes of a binary128 (JS has no such number type). */
  writeQuadruple(v: Uint8Array): void {
    if (v.length !== 16) throw overLimit(this.len, "quadruple length", v.length, 16);
    this.putBytes(v);
  }

  writeBool(v: boolean): void {
    const o = this.len;
    if (o + 4 > this.cap) this.grow(4);
    this.view.setInt32(o, v ? 1 : 0);
    this.len = o + 4;
  }

  /**
   * `v` must be a key of `names` (the generated value→name table). Generated
   * encoders test membership with the emitted `is<Enum>` instead, then
   * writeInt, throwing enumError() (the same error) for a non-member.
   */
  writeEnum(v: number, names: Readonly<Record<number, string>>, typeName: string): void {
    const o = this.len;
    if (names[v] === undefined) throw this.enumError(v, typeName);
    if (o + 4 > this.cap) this.grow(4);
    // Every key of `names` is an int32 (the generator emits them that way).
    this.view.setInt32(o, v);
    this.len = o + 4;
  }

  /**
   * The error for a value that is no member of enum `typeName`, at the current
   * position (generated encoders test membership themselves, then writeInt).
   */
  enumError(v: unknown, typeName: string): XdrError {
    return new XdrError(
      "enum",
      `${describe(v)} is not a member of enum ${typeName}`,
      this.len,
      typeof v === "number" ? v : undefined,
    );
  }

  /** Exactly `n` bytes plus zero padding; a length mismatch is code "limit". */
  writeOpaqueFixed(v: Uint8Array, n: number): void {
    if (v.length !== n) {
      throw new XdrError("limit", `fixed opaque has ${v.length} bytes, expected ${n}`, this.len);
    }
    this.putBytes(v);
  }

  writeOpaqueVar(v: Uint8Array, max: number): void {
    const n = v.length;
    if (n > max) throw overLimit(this.len, "length", n, max);
    const o = this.len;
    if (o + 4 > this.cap) this.grow(4);
    this.view.setUint32(o, n);
    this.len = o + 4;
    this.putBytes(v);
  }

  /**
   * UTF-8 bytes with a length word. Short strings are encoded straight into the
   * buffer (reserving the 3-bytes-per-code-unit worst case) and the length word
   * is filled in afterwards, so the string is scanned once; long ones are
   * measured first so a huge string does not reserve 3× its size.
   */
  writeString(v: string, max: number): void {
    const o = this.len;
    // A UTF-16 code unit never encodes to fewer than one byte, so this is a
    // cheap lower bound that rejects oversized strings before any work.
    if (v.length > max) throw overLimit(o, "string length", Buffer.byteLength(v, "utf8"), max);
    const room = v.length > MEASURE_OVER ? Buffer.byteLength(v, "utf8") : v.length * 3;
    if (o + 4 + room + 3 > this.cap) this.grow(4 + room + 3);
    const n = encodeUtf8(this.buf, o + 4, v);
    if (n > max) throw overLimit(o, "string length", n, max);
    this.view.setUint32(o, n);
    let end = o + 4 + n;
    for (let pad = padOf(n); pad > 0; pad--) this.bytes[end++] = 0;
    this.len = end;
  }

  /** Element count of a variable-length array; over `max` is code "limit". */
  writeArrayLength(count: number, max: number): void {
    if (typeof count !== "number" || count >>> 0 !== count) {
      throw outOfRange(this.len, "array length", count);
    }
    if (count > max) throw overLimit(this.len, "array length", count, max);
    const o = this.len;
    if (o + 4 > this.cap) this.grow(4);
    this.view.setUint32(o, count);
    this.len = o + 4;
  }

  /**
   * Append `bytes` zero bytes and return their offset, to be filled in later
   * with patchUint (record marks, fattr4 attr_vals lengths). Callers keep the
   * stream 4-byte aligned by reserving multiples of 4.
   */
  reserve(bytes: number): number {
    if (!Number.isInteger(bytes) || bytes < 0) {
      throw new RangeError(`XdrWriter.reserve: bad byte count ${bytes}`);
    }
    const o = this.len;
    if (o + bytes > this.cap) this.grow(bytes);
    // Zeroed explicitly: after reset() the buffer still holds the last message.
    this.bytes.fill(0, o, o + bytes);
    this.len = o + bytes;
    return o + this.external;
  }

  /**
   * Forget what was written after `length` (an earlier value of `length`):
   * READDIR writes an entry, then takes it back when it does not fit. Only for
   * a writer that has written nothing by reference (gatherFrom).
   */
  truncate(length: number): void {
    if (this.gathered.length > 0) {
      throw new RangeError("XdrWriter.truncate: the writer holds data written by reference");
    }
    if (!Number.isInteger(length) || length < 0 || length > this.len) {
      throw new RangeError(`XdrWriter.truncate: length ${length} outside [0, ${this.len}]`);
    }
    this.len = length;
  }

  /** Overwrite 4 already-written bytes at `offset` with `v` (big-endian uint32). */
  patchUint(offset: number, v: number): void {
    const inline = Number.isInteger(offset) && offset >= 0 ? this.inlineOffset(offset) : -1;
    if (inline < 0 || inline + 4 > this.len) {
      throw new RangeError(`XdrWriter.patchUint: offset ${offset} outside [0, ${this.length - 4}]`);
    }
    if (typeof v !== "number" || v >>> 0 !== v) {
      throw outOfRange(this.len, `unsigned int (patch at byte ${offset})`, v);
    }
    this.view.setUint32(inline, v);
  }

  /** The buffer offset of message offset `offset`, or -1 inside a referenced piece. */
  private inlineOffset(offset: number): number {
    let before = 0;
    for (const g of this.gathered) {
      if (offset < g.at + before) break;
      if (offset < g.at + before + g.data.length) return -1;
      before += g.data.length;
    }
    return offset - before;
  }

  /**
   * The message as pieces to write in order (for socket.writev / cork):
   * buffer views and, between them, the referenced data (see gatherFrom).
   * Valid until the next write or reset.
   */
  finishGather(): Uint8Array[] {
    if (this.gathered.length === 0) return [this.finish()];
    const out: Uint8Array[] = [];
    let from = 0;
    for (const g of this.gathered) {
      if (g.at > from) out.push(Buffer.from(this.ab, this.base + from, g.at - from));
      out.push(g.data);
      from = g.at;
    }
    if (this.len > from) out.push(Buffer.from(this.ab, this.base + from, this.len - from));
    return out;
  }

  /**
   * A view of the bytes written so far (valid until the next write or reset),
   * as a Buffer.
   */
  finish(): Uint8Array {
    // With referenced pieces the message is not contiguous: join it (a copy).
    if (this.gathered.length > 0) return Buffer.concat(this.finishGather());
    return Buffer.from(this.ab, this.base, this.len);
  }

  /**
   * A copy of the bytes written so far (safe to keep). It is a Buffer from
   * Node's allocator: small copies come from its shared pool (several times
   * faster than a fresh Uint8Array) and the copy overwrites every byte, so the
   * unzeroed allocation never exposes stale memory.
   */
  toBytes(): Uint8Array {
    if (this.gathered.length > 0) return Buffer.concat(this.finishGather());
    const out = Buffer.allocUnsafe(this.len);
    this.buf.copy(out, 0, 0, this.len);
    return out;
  }

  /** Forget the contents but keep the buffer, so the next message reuses it. */
  reset(): void {
    this.len = 0;
    if (this.gathered.length > 0) this.gathered = [];
    this.external = 0;
  }

  /** Raw bytes plus zero padding to a multiple of 4. */
  private putBytes(v: Uint8Array): void {
    const n = v.length;
    const pad = padOf(n);
    const o = this.len;
    if (n >= this.gatherFrom) {
      // Referenced, not copied; only the padding goes into the buffer.
      this.gathered.push({ at: o, data: v });
      this.external += n;
      if (o + pad > this.cap) this.grow(pad);
      for (let p = 0; p < pad; p++) this.bytes[o + p] = 0;
      this.len = o + pad;
      return;
    }
    if (o + n + pad > this.cap) this.grow(n + pad);
    const buf = this.bytes;
    // set() costs ~16 ns whatever the size; a byte loop ~2 ns a byte, so only
    // the tiniest opaques are copied by hand.
    if (n < 8) {
      for (let i = 0; i < n; i++) buf[o + i] = v[i]!;
    } else {
      buf.set(v, o);
    }
    let end = o + n;
    for (let p = pad; p > 0; p--) buf[end++] = 0;
    this.len = end;
  }

  /** Make room for `need` more bytes, at least doubling so appends stay amortised O(1). */
  private grow(need: number): void {
    const cap = Math.max(this.cap * 2, this.len + need);
    const buf = Buffer.allocUnsafe(cap);
    buf.set(this.bytes.subarray(0, this.len));
    this.buf = buf;
    this.ab = buf.buffer;
    this.base = buf.byteOffset;
    this.bytes = new Uint8Array(this.ab, this.base, cap);
    this.view = new DataView(this.ab, this.base, cap);
    this.cap = cap;
  }
}

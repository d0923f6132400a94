// XDR (RFC 4506) decoding primitives. Generated decoders call these in sequence;
// they are kept small and monomorphic so V8 inlines them into the generated code.
// Every read bounds-checks against `end` (not the buffer's length), and opaque
// data is returned as a view into the input, never copied (an empty opaque is
// one shared, frozen, empty array: there are no bytes to share).
//
// Words are assembled from the input's bytes rather than read through a
// DataView: creating a DataView per reader (~50 ns) cost more than decoding a
// small message's whole header.

// Imported: in Node the global `Buffer` is an accessor, a getter call on every use.
import { Buffer } from "node:buffer";
import { XdrError } from "./error.js";
import { decodeShortAscii } from "./utf8.js";

/** Bytes of zero padding that follow `n` bytes of opaque data. `& 3` is exact for any n < 2^53. */
function padOf(n: number): number {
  return (4 - (n & 3)) & 3;
}

// Error constructors live outside the class so the hot methods stay tiny; they
// only run on the failure path.

function truncated(offset: number, need: number, remain: number): XdrError {
  return new XdrError("truncated", `need ${need} bytes, ${remain} remain`, offset);
}

function overLimit(offset: number, what: string, n: number, max: number): XdrError {
  return new XdrError("limit", `${what} ${n} exceeds maximum ${max}`, offset);
}

function badPadding(offset: number, at: number): XdrError {
  return new XdrError("padding", `non-zero padding byte at ${at}`, offset);
}

/** Big-endian uint32 at `o` of `b` (the caller has bounds-checked). */
function u32(b: Uint8Array, o: number): number {
  return ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
}

/** Big-endian int32 at `o` of `b` (the caller has bounds-checked). */
function i32(b: Uint8Array, o: number): number {
  return (b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!;
}

// hyper, float and double go through this scratch word: two uint32s read from
// the input are stored big-endian and read back as the wider or floating-point
// type.
const scratch = new DataView(new ArrayBuffer(8));

function scratch64(b: Uint8Array, o: number): DataView {
  scratch.setUint32(0, u32(b, o));
  scratch.setUint32(4, u32(b, o + 4));
  return scratch;
}

// Every empty opaque decodes to this one array: a typed array costs ~20 ns to
// make, and empty opaques are common (the COMPOUND tags Linux sends, RPC
// verifier bodies). Frozen, so no caller can attach state to the shared object.
const EMPTY = Object.freeze(new Uint8Array(0)) as Uint8Array;

export class XdrReader {
  // Fields are `declare`d and assigned only in the constructor: with ES2022 class
  // fields a plain declaration first defines each field as undefined, which makes
  // V8 generalise the field representations and re-check them on every read
  // (measured with the DataView this reader used to hold: ~2× slower readUint).

  /** The buffer passed to the constructor (reads cover only [start, end) of it). */
  declare readonly buffer: Uint8Array;
  /** Current absolute position in `buffer`. Public so tools can seek. */
  declare offset: number;
  /** Absolute position in `buffer` one past the last readable byte. */
  declare readonly end: number;
  // `buffer.buffer` and `buffer.byteOffset`: returned views are made with
  // `new Uint8Array(ab, base + start, n)`, about twice as fast as subarray().
  // (Reading `.buffer` is a call into C++, ~18 ns: the one fixed cost left.)
  declare private readonly ab: ArrayBufferLike;
  declare private readonly base: number;
  // Buffer over the same bytes for native UTF-8 decoding, made on the first long
  // or non-ASCII string (most messages never need it).
  declare private text: Buffer | undefined;

  constructor(buf: Uint8Array, start = 0, end = buf.length) {
    const len = buf.length;
    if (
      !Number.isInteger(start) ||
      !Number.isInteger(end) ||
      start < 0 ||
      start > end ||
      end > len
    ) {
      throw new RangeError(`XdrReader: bad range [${start}, ${end}) of ${len} bytes`);
    }
    const ab = buf.buffer;
    const base = buf.byteOffset;
    this.buffer = buf;
    this.offset = start;
    this.end = end;
    this.ab = ab;
    this.base = base;
    this.text = undefined;
  }

  get remaining(): number {
    return this.end - this.offset;
  }

  readInt(): number {
    const o = this.offset;
    if (o + 4 > this.end) throw truncated(o, 4, this.end - o);
    this.offset = o + 4;
    return i32(this.buffer, o);
  }

  readUint(): number {
    const o = this.offset;
    if (o + 4 > this.end) throw truncated(o, 4, this.end - o);
    this.offset = o + 4;
    return u32(this.buffer, o);
  }

  readHyper(): bigint {
    const o = this.offset;
    if (o + 8 > this.end) throw truncated(o, 8, this.end - o);
    this.offset = o + 8;
    const b = this.buffer;
    // Most values on the wire fit in 32 bits (offsets, sizes): one BigInt from
    // a number is cheaper than the round trip through the scratch word.
    if (u32(b, o) === 0) return BigInt(u32(b, o + 4));
    return scratch64(b, o).getBigInt64(0);
  }

  readUhyper(): bigint {
    const o = this.offset;
    if (o + 8 > this.end) throw truncated(o, 8, this.end - o);
    this.offset = o + 8;
    const b = this.buffer;
    if (u32(b, o) === 0) return BigInt(u32(b, o + 4));
    return scratch64(b, o).getBigUint64(0);
  }

  readFloat(): number {
    const o = this.offset;
    if (o + 4 > this.end) throw truncated(o, 4, this.end - o);
    this.offset = o + 4;
    scratch.setUint32(0, u32(this.buffer, o));
    return scratch.getFloat32(0);
  }

  readDouble(): number {
    const o = this.offset;
    if (o + 8 > this.end) throw truncated(o, 8, this.end - o);
    this.offset = o + 8;
    return scratch64(this.buffer, o).getFloat64(0);
  }

  /** 16 raw bytes (a view): JS has no binary128, so callers get the bits. */
  readQuadruple(): Uint8Array {
    const o = this.offset;
    if (o + 16 > this.end) throw truncated(o, 16, this.end - o);
    this.offset = o + 16;
    return new Uint8Array(this.ab, this.base + o, 16);
  }

  /** Only 0 and 1 are booleans; anything else is code "bool" carrying the value. */
  readBool(): boolean {
    const o = this.offset;
    if (o + 4 > this.end) throw truncated(o, 4, this.end - o);
    const v = i32(this.buffer, o);
    if (v !== 0 && v !== 1) throw new XdrError("bool", `bool value ${v} is not 0 or 1`, o, v);
    this.offset = o + 4;
    return v === 1;
  }

  /**
   * An int32 that must be a key of `names` (the generated value→name table).
   * Generated decoders do not use this (a sparse table is a hash lookup in V8):
   * they read with readInt, test membership with the emitted `is<Enum>`, and
   * on failure throw enumError(), which gives the same error.
   */
  readEnum(names: Readonly<Record<number, string>>, typeName: string): number {
    const o = this.offset;
    if (o + 4 > this.end) throw truncated(o, 4, this.end - o);
    const v = i32(this.buffer, o);
    if (names[v] === undefined) {
      throw new XdrError("enum", `${v} is not a member of enum ${typeName}`, o, v);
    }
    this.offset = o + 4;
    return v;
  }

  /**
   * The error for `v`, an int32 just read with readInt that is no member of enum
   * `typeName` (generated decoders test membership themselves, see readEnum).
   * Steps the reader back to `v`, so the error's offset and the reader's
   * position are where readEnum would have left them.
   */
  enumError(v: number, typeName: string): XdrError {
    this.offset -= 4;
    return new XdrError("enum", `${v} is not a member of enum ${typeName}`, this.offset, v);
  }

  /** `n` bytes plus zero padding to a multiple of 4; returns a zero-copy view. */
  readOpaqueFixed(n: number): Uint8Array {
    const o = this.offset;
    const padded = n + padOf(n);
    if (padded > this.end - o) throw truncated(o, padded, this.end - o);
    this.checkPadding(o, o + n, o + padded);
    this.offset = o + padded;
    return new Uint8Array(this.ab, this.base + o, n);
  }

  /**
   * Length word, then data and padding; returns a zero-copy view. The limit is
   * checked before anything else, and the length against the bytes actually
   * present, so a hostile length of 2^32-1 costs nothing.
   */
  readOpaqueVar(max: number): Uint8Array {
    const n = this.readVarLength(max);
    const start = this.offset + 4;
    this.offset = start + n + padOf(n);
    if (n === 0) return EMPTY;
    return new Uint8Array(this.ab, this.base + start, n);
  }

  /**
   * As readOpaqueVar, decoded as UTF-8. Malformed sequences become U+FFFD rather
   * than failing: XDR `string` is nominally ASCII, and what counts as a valid
   * name is for the protocol layer to decide, not the codec.
   */
  readString(max: number): string {
    const n = this.readVarLength(max);
    const start = this.offset + 4;
    this.offset = start + n + padOf(n);
    return (
      decodeShortAscii(this.buffer, start, start + n) ??
      this.textBuffer().toString("utf8", start, start + n)
    );
  }

  /**
   * Element count of a variable-length array. Besides the declared `max`, the
   * count is checked against the bytes left assuming each element takes at
   * least `minElemBytes`, so a huge count fails before the caller allocates.
   */
  readArrayLength(max: number, minElemBytes: number): number {
    const o = this.offset;
    if (o + 4 > this.end) throw truncated(o, 4, this.end - o);
    const count = u32(this.buffer, o);
    if (count > max) throw overLimit(o, "array length", count, max);
    const remain = this.end - o - 4;
    if (count * minElemBytes > remain) {
      throw new XdrError(
        "truncated",
        `array of ${count} elements needs at least ${count * minElemBytes} bytes, ${remain} remain`,
        o,
      );
    }
    this.offset = o + 4;
    return count;
  }

  /** Throw "truncated" unless `bytes` remain. */
  ensure(bytes: number): void {
    const o = this.offset;
    if (bytes > this.end - o) throw truncated(o, bytes, this.end - o);
  }

  skip(bytes: number): void {
    const o = this.offset;
    if (bytes < 0) throw new RangeError(`XdrReader.skip: negative count ${bytes}`);
    if (bytes > this.end - o) throw truncated(o, bytes, this.end - o);
    this.offset = o + bytes;
  }

  /** Throw "trailing" unless every byte up to `end` has been consumed. */
  assertDone(): void {
    const o = this.offset;
    if (o !== this.end) {
      throw new XdrError("trailing", `${this.end - o} bytes left over`, o);
    }
  }

  /**
   * Shared prologue of readOpaqueVar/readString: validates the length word at
   * the current offset against `max` and the remaining bytes, and the padding.
   * Returns the length and leaves `this.offset` untouched, so on failure the
   * reader still points at the failing item.
   */
  private readVarLength(max: number): number {
    const o = this.offset;
    if (o + 4 > this.end) throw truncated(o, 4, this.end - o);
    const n = u32(this.buffer, o);
    if (n > max) throw overLimit(o, "length", n, max);
    const start = o + 4;
    const padded = n + padOf(n);
    if (padded > this.end - start) throw truncated(o, padded, this.end - start);
    this.checkPadding(o, start + n, start + padded);
    return n;
  }

  private textBuffer(): Buffer {
    return (this.text ??= Buffer.from(this.ab, this.base, this.buffer.length));
  }

  private checkPadding(item: number, from: number, to: number): void {
    const b = this.buffer;
    for (let i = from; i < to; i++) {
      if (b[i] !== 0) throw badPadding(item, i);
    }
  }
}

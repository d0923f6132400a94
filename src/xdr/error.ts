// The single error type of the XDR runtime. Generated decoders/encoders add the
// field path on the way out (XdrError.within), so the reader/writer only need to
// know the byte offset of the item that failed.

export type XdrErrorCode =
  | "truncated" // fewer bytes than needed
  | "limit" // a declared variable-length limit or fixed length exceeded/mismatched
  | "padding" // non-zero padding bytes
  | "enum" // value not a member of the enum (decode or encode)
  | "discriminant" // union discriminant with no matching arm and no default
  | "bool" // bool not 0 or 1
  | "range" // encode: number out of range for int/unsigned/hyper, non-integer
  | "trailing"; // bytes left over where the caller required an exact fit

export class XdrError extends Error {
  readonly code: XdrErrorCode;
  /** Byte offset in the buffer where the failing item starts (writer: its length so far). */
  readonly offset: number;
  /** Outermost first, e.g. ["argarray", "[1]", "opwrite", "data"]. */
  readonly path: string[];
  /** The bad enum/discriminant/bool value, when there is one. */
  readonly value?: number;
  /** The code-specific part of the message, kept so `message` can be rebuilt as the path grows. */
  readonly detail: string;

  constructor(code: XdrErrorCode, detail: string, offset: number, value?: number) {
    super();
    this.name = "XdrError";
    this.code = code;
    this.detail = detail;
    this.offset = offset;
    this.path = [];
    // Always assigned (possibly undefined) so every XdrError has the same shape.
    this.value = value;
    this.message = this.format();
  }

  /**
   * Used by generated code: `catch (e) { throw XdrError.within(e, "fieldname") }`.
   * If `e` is an XdrError, prepend `segment` to its path, refresh its message and
   * return it; otherwise return `e` unchanged. Mutating instead of wrapping keeps
   * unwinding through deep types cheap (one array unshift per level). V8 formats
   * `stack` lazily, so the refreshed message also shows up in the stack trace as
   * long as nobody has read `stack` yet.
   */
  static within(e: unknown, segment: string): unknown {
    if (e instanceof XdrError) {
      e.path.unshift(segment);
      e.message = e.format();
    }
    return e;
  }

  /** "argarray[1].opwrite.data" — segments starting with "[" are joined without a dot. */
  get pathString(): string {
    let s = "";
    for (const seg of this.path) {
      s += s === "" || seg.startsWith("[") ? seg : "." + seg;
    }
    return s;
  }

  private format(): string {
    const where =
      this.path.length === 0 ? `byte ${this.offset}` : `${this.pathString} (byte ${this.offset})`;
    return `XDR error at ${where}: ${this.code}: ${this.detail}`;
  }
}

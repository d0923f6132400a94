// Minimal typings for @stellar/js-xdr 3.x, which ships none: only the parts the
// codec benchmark uses (the config DSL, struct/union/enum classes, and the
// package's own reader/writer). The package is CommonJS (a webpack UMD bundle
// whose exports object is marked __esModule): Node's ESM loader gives it as the
// default export, CommonJS interop as the namespace itself.

declare module "@stellar/js-xdr" {
  /** A type reference inside the config DSL (resolved when config() returns). */
  export interface XdrRef {
    readonly __xdrRef?: never;
  }

  /** Any js-xdr type: reads and writes one value with js-xdr's own reader/writer. */
  export interface XdrCodec {
    read(reader: XdrReader): unknown;
    write(value: unknown, writer: XdrWriter): void;
    toXDR(value: unknown): Buffer;
    fromXDR(input: Buffer): unknown;
  }

  export interface XdrStructValue {
    readonly _attributes: Record<string, unknown>;
    toXDR(): Buffer;
  }

  export interface XdrStructClass extends XdrCodec {
    new (attributes: Record<string, unknown>): XdrStructValue;
    read(reader: XdrReader): XdrStructValue;
    fromXDR(input: Buffer): XdrStructValue;
  }

  export interface XdrEnumValue {
    readonly name: string;
    readonly value: number;
  }

  export interface XdrEnumClass extends XdrCodec {
    fromName(name: string): XdrEnumValue;
    fromValue(value: number): XdrEnumValue;
  }

  export interface XdrUnionValue {
    switch(): XdrEnumValue | number | boolean;
    arm(): unknown;
    value(): unknown;
    toXDR(): Buffer;
  }

  export interface XdrUnionClass extends XdrCodec {
    new (aSwitch: string | number | XdrEnumValue, value?: unknown): XdrUnionValue;
    read(reader: XdrReader): XdrUnionValue;
    fromXDR(input: Buffer): XdrUnionValue;
  }

  export interface UnionConfig {
    switchOn: XdrRef | XdrCodec;
    switches: [string | number, string | XdrCodec][];
    arms?: Record<string, XdrRef | XdrCodec>;
    defaultArm?: XdrRef | XdrCodec;
  }

  export interface TypeBuilder {
    enum(name: string, members: Record<string, number>): void;
    struct(name: string, fields: [string, XdrRef | XdrCodec][]): void;
    union(name: string, cfg: UnionConfig): void;
    typedef(name: string, type: XdrRef | XdrCodec): void;
    const(name: string, value: number): void;
    lookup(name: string): XdrRef;
    void(): XdrCodec;
    bool(): XdrCodec;
    int(): XdrCodec;
    uint(): XdrCodec;
    hyper(): XdrCodec;
    uhyper(): XdrCodec;
    opaque(length: number): XdrRef;
    varOpaque(maxLength?: number): XdrRef;
    string(maxLength?: number): XdrRef;
    array(child: XdrRef | XdrCodec, length: number): XdrRef;
    varArray(child: XdrRef | XdrCodec, maxLength?: number): XdrRef;
    option(child: XdrRef | XdrCodec): XdrRef;
  }

  export class XdrWriter {
    /** A Buffer to write into (grown by reallocation when too small), or an initial size. */
    constructor(buffer?: Buffer | number);
    finalize(): Buffer;
  }

  export class XdrReader {
    constructor(source: Buffer);
    ensureInputConsumed(): void;
  }

  export function config(fn: (xdr: TypeBuilder) => void): Record<string, unknown>;

  export interface JsXdr {
    config: typeof config;
    XdrWriter: typeof XdrWriter;
    XdrReader: typeof XdrReader;
  }

  const jsXdr: JsXdr;
  export default jsXdr;
}

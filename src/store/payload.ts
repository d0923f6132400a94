// The payload store: regular files' contents, by payload id. It knows no
// names, attributes or sizes (the metadata store keeps the size, and reads
// never go past it); it stores bytes at offsets. An S3-backed store (issue 11)
// fits the same interface: everything is asynchronous, and a payload id is an
// opaque string the metadata store records.

export interface PayloadStore {
  /** What keeps it ("local", "s3"): the metrics endpoint's store label. */
  readonly kind?: string;
  /**
   * Up to `count` bytes at `offset` (fewer only at the payload's physical end:
   * the caller pads with zeros up to the file size it knows). Holes read as zeros.
   */
  read(id: string, offset: number, count: number): Promise<Uint8Array>;
  /** Writes `data` at `offset`, extending the payload (with a hole) as needed. */
  write(id: string, offset: number, data: Uint8Array): Promise<void>;
  /** Cuts or extends (with zeros) the payload to `size` bytes. */
  truncate(id: string, size: number): Promise<void>;
  /** Makes everything written to the payload durable (fsync). */
  commit(id: string): Promise<void>;
  /** Forgets the payload; deleting one that does not exist does nothing. */
  delete(id: string): Promise<void>;
  /**
   * Every payload id stored, in no particular order (a payload deleted while
   * the listing runs may or may not be listed; the others are listed once).
   */
  ids(): AsyncIterable<string>;
  /** Space figures of the storage behind the payloads. */
  space(): Promise<PayloadSpace>;
  close(): Promise<void>;
}

/** Space figures of a payload store (statfs). */
export interface PayloadSpace {
  readonly totalBytes: bigint;
  readonly freeBytes: bigint;
  /** Free to an unprivileged user. */
  readonly availBytes: bigint;
}

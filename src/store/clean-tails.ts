// Which payloads are known to hold nothing but zeros past their file's size.
//
// Why it matters: a WRITE that extends a file without a hole (offset within
// the size, end past it) does not cut the payload first: its data covers
// every new byte. But the new size can outlive that data in a crash — an
// UNSTABLE4 WRITE's size is committed (SQLite's WAL, a PostgreSQL commit)
// while write-behind still holds its data in memory, and a kill -9 of the
// server keeps the first and loses the second. The file then reads, past
// its old size, whatever the payload held there — and a payload can hold
// bytes past the size: a shrink cuts it only after its commit (store-fs.ts
// trimPayload), so a crash in between leaves the cut bytes, as does a
// transaction that wrote data and then failed. Those bytes must never come
// back (RFC 8881 §18.32.3: an UNSTABLE4 WRITE lost in a crash is sent again;
// what the file held before a truncation is not the file's any more).
//
// So a WRITE that extends a file cuts its payload to the size first unless
// the payload is known clean: made by this run, or cut or extended by a
// transaction of this run that committed. A crash forgets everything (every
// payload is unknown after a restart: each file's first extending WRITE cuts
// it once). At most `max` are remembered, the oldest forgotten first; a
// forgotten one costs one cut more, never correctness.

export class CleanTails {
  /** Payload ids, in the order they were (last) found clean. */
  private readonly known = new Set<string>();

  constructor(private readonly max: number) {}

  /** Whether every byte `payload` holds past its file's size is known to read as zero. */
  has(payload: string): boolean {
    return this.known.has(payload);
  }

  /** `payload` holds nothing past its file's size now. */
  add(payload: string): void {
    if (this.max <= 0) return;
    this.known.delete(payload);
    this.known.add(payload);
    if (this.known.size > this.max) {
      const oldest = this.known.values().next().value;
      if (oldest !== undefined) this.known.delete(oldest);
    }
  }

  /** `payload` may hold bytes past its file's size (a shrink not yet cut, a write under way, a deletion). */
  forget(payload: string): void {
    this.known.delete(payload);
  }

  /** Payloads remembered (for tests). */
  get size(): number {
    return this.known.size;
  }
}

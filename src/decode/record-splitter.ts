// RPC record marking (RFC 5531 §11) read off a reassembled TCP direction that
// may have holes: each record is a run of fragments, each behind a 4-byte mark
// (high bit: last fragment; low 31 bits: its length). A gap inside a fragment
// leaves the record incomplete but the marks in step; a gap across a mark, a
// mark announcing more than the limit, or a capture that joined the stream late
// loses the boundaries, and the splitter then searches the bytes for the next
// plausible record start (a mark followed by an RPC header, RFC 5531 §9).

import type { StreamSink } from "./tcp-stream.js";

export type SplitEvent =
  /** A whole record, every byte captured. */
  | { readonly kind: "record"; readonly bytes: Uint8Array }
  /** A record some of whose bytes the capture missed (`missing` of `length`, or the end unknown). */
  | { readonly kind: "incomplete"; readonly length: number; readonly missing: number }
  /** Bytes passed over while looking for a record boundary. */
  | { readonly kind: "skipped"; readonly bytes: number; readonly reason: string };

const LAST_FRAGMENT = 0x80000000;
const LENGTH_MASK = 0x7fffffff;
/** Mark + xid + msg_type + the next word: what a plausible record start is judged on. */
const PROBE_BYTES = 16;
/** The smallest RPC message: a REPLY with a null verifier (xid, type, stat, flavor, length, accept stat). */
const MIN_RECORD = 24;
const RPC_VERSION = 2;

type State = "mark" | "fragment" | "hunt";

export class RecordSplitter implements StreamSink {
  // Bytes received and not yet consumed, in order.
  private chunks: Uint8Array[] = [];
  private buffered = 0;
  private state: State = "mark";
  // The record in progress: its fragments' data so far, and what is missing.
  private pieces: Uint8Array[] = [];
  private recordBytes = 0;
  private recordMissing = 0;
  private fragmentLeft = 0;
  private fragmentLast = false;
  // Bytes passed over in the current search for a boundary, and why it began.
  private skipped = 0;
  private huntReason = "";

  constructor(
    private readonly emit: (e: SplitEvent) => void,
    private readonly maxRecordBytes: number,
    private readonly maxResyncBytes: number,
  ) {}

  /** Bytes held now (buffered input and the record in progress). */
  get held(): number {
    return this.buffered + this.recordBytes;
  }

  data(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    this.chunks.push(bytes);
    this.buffered += bytes.length;
    this.run();
  }

  gap(bytes: number): void {
    if (bytes <= 0) return;
    if (this.state === "hunt") {
      this.skipped += this.buffered + bytes;
      this.dropBuffered();
      return;
    }
    if (this.state === "fragment") {
      // Everything buffered was consumed by run(): the gap starts inside the fragment.
      const inFragment = Math.min(bytes, this.fragmentLeft);
      this.fragmentLeft -= inFragment;
      this.recordMissing += inFragment;
      bytes -= inFragment;
      if (this.fragmentLeft === 0) this.endFragment();
      if (bytes === 0) return;
    }
    // The gap covers a mark (or part of one): the boundaries are lost.
    this.loseRecord();
    this.startHunt("bytes missing from the capture");
    this.skipped += this.buffered + bytes;
    this.dropBuffered();
  }

  desync(): void {
    this.loseRecord();
    this.startHunt("capture joined the connection after it started");
  }

  /** End of stream: report what is left over. */
  finish(): void {
    this.loseRecord();
    if (this.state === "hunt") this.skipped += this.buffered;
    else if (this.buffered > 0) {
      this.skipped += this.buffered;
      this.huntReason = "stream ends inside a record mark";
    }
    this.dropBuffered();
    this.flushSkipped();
    this.state = "mark";
  }

  private run(): void {
    for (;;) {
      if (this.state === "mark") {
        if (this.buffered < 4) return;
        const mark = this.peekUint(0);
        const length = mark & LENGTH_MASK;
        if (length > this.maxRecordBytes - this.recordBytes - this.recordMissing) {
          this.loseRecord();
          this.startHunt(`a record mark announces ${length} bytes, over the limit`);
          this.consume(1);
          this.skipped += 1;
          continue;
        }
        this.consume(4);
        this.fragmentLeft = length;
        this.fragmentLast = (mark & LAST_FRAGMENT) !== 0;
        this.state = "fragment";
        if (length === 0) this.endFragment();
        continue;
      }
      if (this.state === "fragment") {
        if (this.buffered === 0) return;
        const take = Math.min(this.fragmentLeft, this.buffered);
        const piece = this.consume(take);
        this.pieces.push(piece);
        this.recordBytes += take;
        this.fragmentLeft -= take;
        if (this.fragmentLeft === 0) this.endFragment();
        continue;
      }
      // Hunting.
      const found = this.findStart();
      if (found < 0) {
        // Keep the last few bytes: a record start may straddle the next chunk.
        const drop = Math.max(0, this.buffered - (PROBE_BYTES - 1));
        this.consume(drop);
        this.skipped += drop;
        return;
      }
      this.consume(found);
      this.skipped += found;
      this.flushSkipped();
      this.state = "mark";
    }
  }

  private endFragment(): void {
    if (!this.fragmentLast) {
      this.state = "mark";
      return;
    }
    if (this.recordMissing > 0) {
      this.emit({
        kind: "incomplete",
        length: this.recordBytes + this.recordMissing,
        missing: this.recordMissing,
      });
    } else {
      this.emit({ kind: "record", bytes: join(this.pieces, this.recordBytes) });
    }
    this.resetRecord();
    this.state = "mark";
  }

  /** The record in progress cannot be finished: report it as incomplete. */
  private loseRecord(): void {
    if (this.state === "fragment" || this.pieces.length > 0 || this.recordMissing > 0) {
      this.emit({
        kind: "incomplete",
        length: this.recordBytes + this.recordMissing + this.fragmentLeft,
        missing: this.recordMissing + this.fragmentLeft,
      });
    }
    this.resetRecord();
  }

  private resetRecord(): void {
    this.pieces = [];
    this.recordBytes = 0;
    this.recordMissing = 0;
    this.fragmentLeft = 0;
    this.fragmentLast = false;
  }

  private startHunt(reason: string): void {
    if (this.state !== "hunt") {
      this.state = "hunt";
      this.huntReason = reason;
    }
  }

  private flushSkipped(): void {
    if (this.skipped > 0)
      this.emit({ kind: "skipped", bytes: this.skipped, reason: this.huntReason });
    this.skipped = 0;
  }

  /**
   * The offset in the buffered bytes of the first plausible record start, or -1.
   * Searches at most maxResyncBytes; older bytes are dropped first.
   */
  private findStart(): number {
    if (this.buffered > this.maxResyncBytes) {
      const drop = this.buffered - this.maxResyncBytes;
      this.consume(drop);
      this.skipped += drop;
    }
    const b = this.flatten();
    const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
    for (let p = 0; p + PROBE_BYTES <= b.length; p++) {
      const mark = dv.getUint32(p);
      const length = mark & LENGTH_MASK;
      // A single-fragment record: what every client and server we know sends.
      if ((mark & LAST_FRAGMENT) === 0 || length < MIN_RECORD || length > this.maxRecordBytes)
        continue;
      const type = dv.getUint32(p + 8);
      const next = dv.getUint32(p + 12);
      if ((type === 0 && next === RPC_VERSION) || (type === 1 && next <= 1)) return p;
    }
    return -1;
  }

  private dropBuffered(): void {
    this.chunks = [];
    this.buffered = 0;
  }

  /** The buffered bytes as one array (joining the chunks if there are several). */
  private flatten(): Uint8Array {
    if (this.chunks.length !== 1) this.chunks = [join(this.chunks, this.buffered)];
    return this.chunks[0] ?? new Uint8Array(0);
  }

  private peekUint(at: number): number {
    let first = this.chunks[0]!;
    if (first.length < at + 4) first = this.flatten();
    return (
      ((first[at]! << 24) | (first[at + 1]! << 16) | (first[at + 2]! << 8) | first[at + 3]!) >>> 0
    );
  }

  /** Takes the next `n` buffered bytes (n ≤ buffered). */
  private consume(n: number): Uint8Array {
    if (n === 0) return new Uint8Array(0);
    const first = this.chunks[0]!;
    let out: Uint8Array;
    if (first.length >= n) {
      out = first.subarray(0, n);
      if (first.length === n) this.chunks.shift();
      else this.chunks[0] = first.subarray(n);
    } else {
      const parts: Uint8Array[] = [];
      let need = n;
      while (need > 0) {
        const c = this.chunks[0]!;
        if (c.length <= need) {
          parts.push(c);
          this.chunks.shift();
          need -= c.length;
        } else {
          parts.push(c.subarray(0, need));
          this.chunks[0] = c.subarray(need);
          need = 0;
        }
      }
      out = join(parts, n);
    }
    this.buffered -= n;
    return out;
  }
}

function join(parts: readonly Uint8Array[], total: number): Uint8Array {
  if (parts.length === 1) return parts[0]!;
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

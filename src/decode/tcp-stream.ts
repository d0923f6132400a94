// One direction of a TCP connection put back in order (RFC 9293 §3.4: sequence
// numbers count bytes, modulo 2^32). Retransmitted and duplicate bytes are
// dropped, segments that arrive early wait (within a bound) for the ones
// before them, and bytes the capture never saw are reported as a gap of known
// length, so the layer above can stay in step with the record marks.

/** Where the bytes of one direction go, in order. */
export interface StreamSink {
  /** The next bytes of the stream. */
  data(bytes: Uint8Array): void;
  /** `bytes` bytes of the stream were not captured; the stream continues after them. */
  gap(bytes: number): void;
  /** The capture joined the stream after its start: where its records begin is unknown. */
  desync(): void;
}

interface Waiting {
  readonly seq: number;
  readonly data: Uint8Array;
  readonly missing: number;
}

/** The signed distance from `b` to `a` in sequence space. */
function seqDiff(a: number, b: number): number {
  return (a - b) | 0;
}

export class TcpDirection {
  /** The next sequence number expected; null before the first segment. */
  private next: number | null = null;
  /** The initial sequence number, when the SYN was captured. */
  private isn: number | null = null;
  private waiting: Waiting[] = [];
  private waitingBytes = 0;
  /** Bytes reported as gaps, over the direction's life. */
  lost = 0;

  constructor(
    private readonly sink: StreamSink,
    private readonly maxWaitingBytes: number,
    private readonly maxWaitingSegments: number,
  ) {}

  /** Out-of-order bytes held now. */
  get held(): number {
    return this.waitingBytes;
  }

  /** A SYN: the stream's first byte is `seq + 1`. */
  syn(seq: number): void {
    if (this.next !== null) return;
    this.isn = seq;
    this.next = (seq + 1) >>> 0;
  }

  /**
   * Whether a SYN at `seq` must start a new connection: this direction has
   * begun with another initial sequence number (or without its SYN).
   */
  startedOtherThan(seq: number): boolean {
    return this.next !== null && this.isn !== seq;
  }

  /** A segment carrying `data` at `seq`, followed by `missing` bytes the capture cut off. */
  segment(seq: number, data: Uint8Array, missing: number): void {
    if (data.length + missing === 0) return;
    if (this.next === null) {
      this.next = seq;
      this.sink.desync();
    }
    if (seqDiff(seq, this.next) > 0) {
      this.wait({ seq, data, missing });
      return;
    }
    this.deliver(seq, data, missing);
    this.drain();
  }

  /** The end of the capture or of the connection: whatever still waits follows a gap. */
  finish(): void {
    while (this.waiting.length > 0) this.skipToEarliest();
  }

  private wait(w: Waiting): void {
    this.waiting.push(w);
    this.waitingBytes += w.data.length;
    while (
      this.waiting.length > 0 &&
      (this.waitingBytes > this.maxWaitingBytes || this.waiting.length > this.maxWaitingSegments)
    ) {
      this.skipToEarliest();
    }
  }

  /** Declares the bytes before the earliest waiting segment lost and goes on from there. */
  private skipToEarliest(): void {
    const next = this.next!;
    let earliest = 0;
    for (let i = 1; i < this.waiting.length; i++) {
      if (seqDiff(this.waiting[i]!.seq, this.waiting[earliest]!.seq) < 0) earliest = i;
    }
    const gap = seqDiff(this.waiting[earliest]!.seq, next);
    if (gap > 0) {
      this.lost += gap;
      this.sink.gap(gap);
      this.next = (next + gap) >>> 0;
    }
    this.drain();
  }

  /** Delivers every waiting segment that now starts at or before `next`. */
  private drain(): void {
    for (let i = 0; i < this.waiting.length;) {
      const w = this.waiting[i]!;
      if (seqDiff(w.seq, this.next!) > 0) {
        i++;
        continue;
      }
      this.waiting.splice(i, 1);
      this.waitingBytes -= w.data.length;
      this.deliver(w.seq, w.data, w.missing);
      i = 0; // `next` moved: earlier entries may fit now
    }
  }

  /** Delivers the part of a segment at `seq` (at or before `next`) not delivered yet. */
  private deliver(seq: number, data: Uint8Array, missing: number): void {
    const next = this.next!;
    let old = -seqDiff(seq, next);
    const length = data.length + missing;
    if (old >= length) return; // a retransmission of bytes already delivered
    let bytes = data;
    let cut = missing;
    if (old > 0) {
      const fromData = Math.min(old, bytes.length);
      bytes = bytes.subarray(fromData);
      old -= fromData;
      cut -= old;
    }
    if (bytes.length > 0) this.sink.data(bytes);
    if (cut > 0) {
      this.lost += cut;
      this.sink.gap(cut);
    }
    this.next = (next + bytes.length + cut) >>> 0;
  }
}

// The one writer of a connection. Every outgoing record — replies to the peer's
// calls and our own backchannel calls — goes through send(), which writes all of
// a record's chunks in one synchronous run, so records can never interleave on
// the wire. Records produced in the same tick share one cork, so pipelined
// replies leave in a single writev.
//
// The socket's own buffer is the queue. Its size is the backpressure signal: over
// the threshold the writer reports congestion, and the connection stops reading
// (and so stops producing replies) until Node's 'drain' says the buffer emptied.

import type { Socket } from "node:net";

export class RecordWriter {
  private readonly socket: Socket;
  private readonly threshold: number;
  private readonly onCongestion: (congested: boolean) => void;
  private corked = false;
  private congestedNow = false;

  /**
   * `onCongestion(true)` is called when the unsent output first exceeds
   * `maxOutputBuffer`, `onCongestion(false)` when it has drained.
   */
  constructor(socket: Socket, maxOutputBuffer: number, onCongestion: (congested: boolean) => void) {
    this.socket = socket;
    // 'drain' is only emitted after a write() that returned false, i.e. once the
    // buffer reached writableHighWaterMark: a lower threshold could stay congested forever.
    this.threshold = Math.max(maxOutputBuffer, socket.writableHighWaterMark);
    this.onCongestion = onCongestion;
    socket.on("drain", () => {
      if (this.congestedNow && socket.writableLength <= this.threshold) {
        this.congestedNow = false;
        this.onCongestion(false);
      }
    });
  }

  /** True while the unsent output is over the threshold. */
  get congested(): boolean {
    return this.congestedNow;
  }

  /** Bytes accepted but not yet handed to the kernel. */
  get buffered(): number {
    return this.socket.writableLength;
  }

  /**
   * Queues one record (its chunks, record mark first). The chunks are not
   * copied: they must not change afterwards. False if the socket can no longer
   * be written (closed or ending): the record is dropped.
   */
  send(chunks: readonly Uint8Array[]): boolean {
    const s = this.socket;
    if (s.destroyed || !s.writable) return false;
    if (!this.corked) {
      this.corked = true;
      s.cork();
      process.nextTick(this.uncork);
    }
    for (const c of chunks) s.write(c);
    if (!this.congestedNow && s.writableLength > this.threshold) {
      this.congestedNow = true;
      this.onCongestion(true);
    }
    return true;
  }

  private readonly uncork = (): void => {
    this.corked = false;
    this.socket.uncork();
  };
}

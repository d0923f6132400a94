// The one writer of a connection. Every outgoing record — replies to the peer's
// calls and our own backchannel calls — goes through send(), which writes all of
// a record's chunks in one synchronous run, so records can never interleave on
// the wire. Records produced in the same tick share one cork, so pipelined
// replies leave in a single writev.
//
// The socket's own buffer is the queue. The writer reports each reply's bytes
// when it is queued and again when the kernel has taken all of it (the write
// callback of its last chunk: a stream's writes complete in order), so the
// connection can count its buffered replies exactly (output.ts) and see whether
// the peer is still reading. Our own calls (the backchannel) are not counted:
// their number is bounded by their sender (slots, timeouts), and holding back
// reads because of them would stop us reading the very replies that complete them.

import { Buffer } from "node:buffer";
import type { Socket } from "node:net";
import { ioBuffers } from "../xdr/io-buffers.js";

/**
 * Chunks shorter than this are copied together into one buffer before they go
 * to the socket; longer ones (READ data, a READDIR page) are written as they
 * are. A reply is a handful of small pieces (record mark and RPC header,
 * COMPOUND header, one per result), and each chunk handed to the stream costs
 * more than copying a few hundred bytes: a buffered write entry and its
 * callback, then a writev of many pieces where one buffer takes the stream's
 * single-buffer path.
 */
export const COALESCE_BELOW = 4096;

export interface WriterHooks {
  /** A record of `bytes` was handed to the socket. */
  queued(bytes: number): void;
  /** The kernel took a whole record of `bytes`. */
  flushed(bytes: number): void;
}

export class RecordWriter {
  private readonly socket: Socket;
  private readonly hooks: WriterHooks;
  private corked = false;

  constructor(socket: Socket, hooks: WriterHooks) {
    this.socket = socket;
    this.hooks = hooks;
  }

  /**
   * Queues one record (its chunks, record mark first). The chunks are not
   * copied: they must not change afterwards. False if the socket can no longer
   * be written (closed or ending): the record is dropped. `counted`: report
   * its bytes to the hooks (replies); false for our own calls.
   */
  send(chunks: readonly Uint8Array[], counted = true): boolean {
    const s = this.socket;
    if (s.destroyed || !s.writable || chunks.length === 0) return false;
    if (!this.corked) {
      this.corked = true;
      s.cork();
      process.nextTick(this.uncork);
    }
    const pieces = coalesce(chunks);
    const last = pieces.length - 1;
    if (!counted) {
      for (const c of pieces) s.write(c);
      return true;
    }
    let bytes = 0;
    for (const c of pieces) bytes += c.length;
    this.hooks.queued(bytes);
    for (let i = 0; i < last; i++) s.write(pieces[i]!);
    // An error means the socket is being destroyed: its bytes are released
    // when it closes, not here (the record was not sent), and its large
    // chunks are left to the garbage collector.
    s.write(pieces[last]!, (err) => {
      if (err !== null && err !== undefined) return;
      this.hooks.flushed(bytes);
      // Written: a READ's data buffer can serve the next READ.
      for (const p of pieces) if (p.length >= COALESCE_BELOW) ioBuffers.release(p);
    });
    return true;
  }

  private readonly uncork = (): void => {
    this.corked = false;
    this.socket.uncork();
  };
}

/**
 * `chunks` with each run of consecutive chunks shorter than COALESCE_BELOW
 * copied into one buffer (a slice of Node's pool when small). Longer chunks
 * are kept as they are, not copied.
 */
export function coalesce(chunks: readonly Uint8Array[]): readonly Uint8Array[] {
  let small = 0;
  for (const c of chunks) if (c.length < COALESCE_BELOW) small++;
  if (small < 2) return chunks;
  const out: Uint8Array[] = [];
  for (let i = 0; i < chunks.length;) {
    if (chunks[i]!.length >= COALESCE_BELOW) {
      out.push(chunks[i++]!);
      continue;
    }
    let end = i;
    let size = 0;
    while (end < chunks.length && chunks[end]!.length < COALESCE_BELOW)
      size += chunks[end++]!.length;
    if (end - i === 1) {
      out.push(chunks[i]!);
    } else {
      // Unzeroed: the copies below write every byte of it.
      const joined = Buffer.allocUnsafe(size);
      let at = 0;
      for (; i < end; i++) {
        joined.set(chunks[i]!, at);
        at += chunks[i]!.length;
      }
      out.push(joined);
    }
    i = end;
  }
  return out;
}

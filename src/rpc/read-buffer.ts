// Reading accepted sockets into one reused buffer.
//
// For every read of a socket Node.js allocates a new buffer (64 KiB, then cut to
// what was read). Those are ArrayBuffers outside V8's heap, and V8 counts such
// external memory against the old generation's limit: under a stream of 1 MiB
// WRITEs a process could fall into a state where the socket's buffers alone
// started a full mark-compact every ~40 ms, and a WRITE + COMMIT on SQLite cost
// 4-6.5 ms of CPU instead of 1 ms, run to run with the same code (measured
// 2026-12-04; BENCHMARKS.md, "Seventh pass").
//
// Node's `onread` socket option reads into a caller's buffer instead, allocating
// nothing, but only a socket Node constructs from options has it, not one a
// net.Server accepts. So the accepted socket's handle is moved into a new Socket
// made with `onread`: the `handle` option and the `_handle` property are Node.js
// internals (present since Node 12, and in Node 20, which this project runs on;
// test/rpc/read-buffer.test.ts fails if they change). If the accepted socket
// does not have the handle expected, it is left as it is and read the usual way.
//
// One buffer serves every connection of a server (or of a client process): a
// read's callback runs to the end before the event loop reads another socket,
// and the connection copies what it needs out of the buffer before returning
// (RecordAssembler with copyChunks). The exception: while a large record
// arrives into a buffer of its own, the connection names the rest of that
// buffer as the place of the socket's next read (ChunkSink.attach), so the
// kernel copies straight into it (measured 2026-12-04: three quarters of a
// 1 MiB WRITE's bytes). The client's own sockets get `onread` from
// readIntoBuffer() when they connect, which is public API.

import { Socket } from "node:net";
import type { ConnectOpts, OnReadOpts, SocketConstructorOpts } from "node:net";

/**
 * Where a socket's reads go. The connection attaches to it; what arrives before
 * (a client's socket connects before its connection exists) is copied and
 * handed over on attach.
 */
export class ChunkSink {
  private target: ((chunk: Uint8Array) => void) | null = null;
  private early: Uint8Array[] = [];
  private place: (() => Uint8Array | null) | null = null;

  /**
   * `chunk` is a view into the shared buffer, valid only during the call, or
   * into the place the connection named for it (see attach()).
   */
  deliver(chunk: Uint8Array): void {
    if (this.target !== null) this.target(chunk);
    else this.early.push(Uint8Array.from(chunk));
  }

  /**
   * From now on every read goes to `onChunk`, starting with those that came
   * before. `place`, asked after each read, may name where the next read
   * should land instead of the shared buffer: the rest of a large record's own
   * buffer, so the kernel's copy is the only one (null: the shared buffer).
   */
  attach(onChunk: (chunk: Uint8Array) => void, place?: () => Uint8Array | null): void {
    this.target = onChunk;
    this.place = place ?? null;
    for (const chunk of this.early.splice(0)) onChunk(chunk);
  }

  /** Where the next read goes: the connection's place for it, else `shared`. */
  nextRead(shared: Uint8Array): Uint8Array {
    return this.place?.() ?? shared;
  }
}

/**
 * The `onread` option of a socket whose reads go into `buffer` (or where the
 * sink's connection names, ChunkSink.attach) and then to the sink.
 */
export function readIntoBuffer(buffer: Uint8Array): { onread: OnReadOpts; sink: ChunkSink } {
  const sink = new ChunkSink();
  return {
    sink,
    onread: {
      // A function: Node.js asks it for the buffer of the next read after each
      // callback (and once when the socket starts reading).
      buffer: () => sink.nextRead(buffer),
      callback: (bytes: number, buf: Uint8Array): boolean => {
        sink.deliver(buf.subarray(0, bytes));
        return true;
      },
    },
  };
}

/** A stream handle as Node's TCP wrap has it (only what adoption relies on). */
function streamHandleOf(socket: Socket): object | null {
  const handle: unknown = Reflect.get(socket, "_handle");
  if (typeof handle !== "object" || handle === null) return null;
  return typeof Reflect.get(handle, "readStart") === "function" &&
    typeof Reflect.get(handle, "useUserBuffer") === "function"
    ? handle
    : null;
}

/**
 * A socket on `accepted`'s connection that reads into `buffer`, and the sink its
 * bytes go to; null (and `accepted` untouched) when the handle cannot be moved.
 * `accepted` must not have started reading (net.Server's pauseOnConnect); it is
 * destroyed without closing the connection, so its server counts it as closed.
 */
export function adoptWithReadBuffer(
  accepted: Socket,
  buffer: Uint8Array,
  allowHalfOpen: boolean,
): { socket: Socket; sink: ChunkSink } | null {
  const handle = streamHandleOf(accepted);
  if (handle === null) return null;
  Reflect.set(accepted, "_handle", null);
  accepted.destroy();
  const { onread, sink } = readIntoBuffer(buffer);
  const options: SocketConstructorOpts & ConnectOpts & { handle: object } = {
    handle,
    allowHalfOpen,
    onread,
  };
  return { socket: new Socket(options), sink };
}

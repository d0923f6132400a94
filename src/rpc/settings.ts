// Every limit of the RPC transport, in one place, with the reason for its default.
// Their ranges for the config file and descriptions for users are in
// src/config/declarations.ts (test/config/declarations.test.ts checks that
// its ranges are the ones resolveRpcSettings enforces).
// The server resolves a partial override against DEFAULT_RPC_SETTINGS and
// validates the result once, so the rest of src/rpc can trust the numbers.

/** The largest fragment a record mark can announce (31 bits, RFC 5531 §11). */
export const MAX_FRAGMENT_LENGTH = 0x7fffffff;

export interface RpcSettings {
  /**
   * The largest record accepted from a peer, in bytes (the sum of its fragments'
   * lengths). Default 1 MiB + 64 KiB: a 1 MiB WRITE plus the COMPOUND around it.
   * A record mark announcing more closes the connection before any of the data
   * is buffered. At most MAX_FRAGMENT_LENGTH.
   */
  readonly maxRecordSize: number;
  /**
   * Buffers of maxRecordSize bytes kept for the next large requests: a record
   * of more than half of maxRecordSize (a large WRITE) is read into one of
   * them, which goes back once its call has been answered. Also the most such
   * buffers requests still arriving take before half of them has arrived, so
   * announced records hold at most this many. Default 16 (17 MiB at the default
   * maxRecordSize). 0: a new buffer for every large record.
   */
  readonly requestBuffersKept: number;
  /**
   * The buffer every connection's socket reads into, shared by all of them
   * (rpc/read-buffer.ts): requests are copied out of it, so no read allocates
   * memory. Default 256 KiB: a 1 MiB WRITE in four reads. 0: Node's own buffer
   * for each read (a new one per read, which V8 counts as external memory).
   */
  readonly readBufferBytes: number;
  /**
   * Connections open at once, over all listening addresses. Default 4096; a
   * connection beyond it is closed as soon as it is accepted (and logged).
   */
  readonly maxConnections: number;
  /**
   * A connection on which no complete record arrives for this long, and which has
   * no call in progress, is closed. Default 6 minutes, like Linux nfsd's
   * temporary sockets. 0 disables the timer.
   */
  readonly idleTimeoutMs: number;
  /**
   * Fragments allowed in one record (RFC 5531 §11 lets a record have any number).
   * Default 1024: the Linux client sends every record as one fragment, and 1024
   * lets a full-size record come in 1 KiB fragments. A record with more closes
   * the connection, like an oversized one — even empty fragments count, since an
   * endless run of them costs CPU for nothing.
   */
  readonly maxFragmentsPerRecord: number;
  /**
   * Output bytes one connection may hold: the reply bytes reserved by its calls
   * in progress (RpcCall.reserveReplyBytes) plus its replies written but not yet
   * taken by the kernel. At the bound the connection stops reading and further
   * reservations wait, so a peer that does not read cannot grow our memory.
   * Default 16 MiB: sixteen 1 MiB READ replies, about 13 ms of a 10 Gb/s link,
   * enough to keep one connection's link busy. A call may always reserve on a
   * connection holding nothing, so one reply larger than this still goes
   * through. (This replaces the former maxOutputBuffer, which bounded only the
   * replies already written.)
   */
  readonly maxConnectionOutputBytes: number;
  /**
   * The same bytes summed over all connections. At the bound every connection
   * stops reading and reservations wait until output drains. Default 512 MiB:
   * 4096 connections × 16 MiB would be 64 GiB; this keeps the server's output
   * memory at a size a modest machine has, while 32 connections can each use
   * their whole bound. At least maxConnectionOutputBytes.
   */
  readonly maxTotalOutputBytes: number;
  /**
   * A connection with unsent output on which the kernel accepts nothing more for
   * this long is closed, releasing its bytes: a peer that stops reading cannot
   * hold the output budget forever. Default 2 minutes, twice the Linux client's
   * 60 s TCP retransmission timeout (a live client has retried or reconnected
   * by then). 0 disables the timer.
   */
  readonly sendStallTimeoutMs: number;
  /**
   * Calls processed at once on one connection; at the limit the connection
   * stops reading until one completes. Default 128 (the NFS client pipelines;
   * Linux clients use up to 64 session slots by default).
   */
  readonly maxInFlightPerConnection: number;
  /**
   * How long close() waits for calls in progress to be answered and their
   * replies to be written before it closes the sockets anyway. Default 10 s.
   */
  readonly drainTimeoutMs: number;
}

export const DEFAULT_RPC_SETTINGS: RpcSettings = Object.freeze({
  maxRecordSize: 1024 * 1024 + 64 * 1024,
  requestBuffersKept: 16,
  readBufferBytes: 256 * 1024,
  maxConnections: 4096,
  idleTimeoutMs: 6 * 60 * 1000,
  maxFragmentsPerRecord: 1024,
  maxConnectionOutputBytes: 16 * 1024 * 1024,
  maxTotalOutputBytes: 512 * 1024 * 1024,
  sendStallTimeoutMs: 2 * 60 * 1000,
  maxInFlightPerConnection: 128,
  drainTimeoutMs: 10_000,
});

/** Smallest useful record: an RPC CALL header with empty credentials is 40 bytes. */
export const MIN_RECORD_SIZE = 64;

/** The most calls one connection may have in progress that a setting may ask for. */
export const MAX_IN_FLIGHT_PER_CONNECTION = 1 << 20;

/** The largest read buffer a setting may ask for (a read is at most this long). */
export const MAX_READ_BUFFER_BYTES = 64 * 1024 * 1024;

/** Most request buffers kept: 1024 default-size records are about 1 GiB. */
export const MAX_REQUEST_BUFFERS_KEPT = 1024;

function requireInteger(name: keyof RpcSettings, v: number, min: number, max: number): void {
  if (!Number.isSafeInteger(v) || v < min || v > max) {
    throw new RangeError(`RpcSettings.${name} must be an integer in [${min}, ${max}], got ${v}`);
  }
}

/** Fills in the defaults and checks every value; throws RangeError naming the bad one. */
export function resolveRpcSettings(overrides: Partial<RpcSettings> = {}): RpcSettings {
  const s: RpcSettings = { ...DEFAULT_RPC_SETTINGS, ...overrides };
  requireInteger("maxRecordSize", s.maxRecordSize, MIN_RECORD_SIZE, MAX_FRAGMENT_LENGTH);
  requireInteger("requestBuffersKept", s.requestBuffersKept, 0, MAX_REQUEST_BUFFERS_KEPT);
  requireInteger("readBufferBytes", s.readBufferBytes, 0, MAX_READ_BUFFER_BYTES);
  requireInteger("maxConnections", s.maxConnections, 1, Number.MAX_SAFE_INTEGER);
  // setTimeout's limit: larger delays fire at once.
  requireInteger("idleTimeoutMs", s.idleTimeoutMs, 0, 0x7fffffff);
  requireInteger("maxFragmentsPerRecord", s.maxFragmentsPerRecord, 1, MAX_FRAGMENT_LENGTH);
  requireInteger(
    "maxConnectionOutputBytes",
    s.maxConnectionOutputBytes,
    1,
    Number.MAX_SAFE_INTEGER,
  );
  requireInteger(
    "maxTotalOutputBytes",
    s.maxTotalOutputBytes,
    s.maxConnectionOutputBytes,
    Number.MAX_SAFE_INTEGER,
  );
  requireInteger("sendStallTimeoutMs", s.sendStallTimeoutMs, 0, 0x7fffffff);
  requireInteger(
    "maxInFlightPerConnection",
    s.maxInFlightPerConnection,
    1,
    MAX_IN_FLIGHT_PER_CONNECTION,
  );
  requireInteger("drainTimeoutMs", s.drainTimeoutMs, 0, 0x7fffffff);
  return Object.freeze(s);
}

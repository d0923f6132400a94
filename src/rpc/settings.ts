// Every limit of the RPC transport, in one place, with the reason for its default.
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
   * Backpressure threshold in bytes: when a connection's unsent output exceeds
   * it, the connection stops reading until the socket drains, so a peer that
   * does not read cannot grow our memory. Default 4 MiB (a few 1 MiB READ
   * replies). The effective threshold is at least the socket's own
   * writableHighWaterMark, so that Node's 'drain' event is guaranteed to fire.
   */
  readonly maxOutputBuffer: number;
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
  maxConnections: 4096,
  idleTimeoutMs: 6 * 60 * 1000,
  maxOutputBuffer: 4 * 1024 * 1024,
  maxInFlightPerConnection: 128,
  drainTimeoutMs: 10_000,
});

/** Smallest useful record: an RPC CALL header with empty credentials is 40 bytes. */
const MIN_RECORD_SIZE = 64;

function requireInteger(name: keyof RpcSettings, v: number, min: number, max: number): void {
  if (!Number.isSafeInteger(v) || v < min || v > max) {
    throw new RangeError(`RpcSettings.${name} must be an integer in [${min}, ${max}], got ${v}`);
  }
}

/** Fills in the defaults and checks every value; throws RangeError naming the bad one. */
export function resolveRpcSettings(overrides: Partial<RpcSettings> = {}): RpcSettings {
  const s: RpcSettings = { ...DEFAULT_RPC_SETTINGS, ...overrides };
  requireInteger("maxRecordSize", s.maxRecordSize, MIN_RECORD_SIZE, MAX_FRAGMENT_LENGTH);
  requireInteger("maxConnections", s.maxConnections, 1, Number.MAX_SAFE_INTEGER);
  // setTimeout's limit: larger delays fire at once.
  requireInteger("idleTimeoutMs", s.idleTimeoutMs, 0, 0x7fffffff);
  requireInteger("maxOutputBuffer", s.maxOutputBuffer, 1, Number.MAX_SAFE_INTEGER);
  requireInteger("maxInFlightPerConnection", s.maxInFlightPerConnection, 1, 1 << 20);
  requireInteger("drainTimeoutMs", s.drainTimeoutMs, 0, 0x7fffffff);
  return Object.freeze(s);
}

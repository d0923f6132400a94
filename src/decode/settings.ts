// Every limit of `dfsctl decode`, in one place, with the reason for its default.
// A capture is untrusted input (it may be truncated, corrupted or hand-made):
// these bound the memory the decoder holds beyond the capture file itself.

export interface DecodeSettings {
  /** The server's TCP port: segments to or from it are decoded. Default 2049. */
  readonly port: number;
  /**
   * The largest RPC record reassembled, in bytes (the sum of its fragments).
   * Default 4 MiB: well above any NFS server's record limit (ours is 1 MiB +
   * 64 KiB, Linux nfsd's 1 MiB + a page). A mark announcing more is garbage:
   * the stream is resynchronised on the next plausible record.
   */
  readonly maxRecordBytes: number;
  /**
   * Out-of-order TCP bytes held per direction while waiting for a missing
   * segment. Default 4 MiB: more than a loopback window in flight. Beyond it
   * the missing bytes are declared lost (a gap) and decoding moves on.
   */
  readonly maxOutOfOrderBytes: number;
  /** Out-of-order segments held per direction, the same way. Default 1024. */
  readonly maxOutOfOrderSegments: number;
  /**
   * Bytes searched for the start of a record after a gap, per direction, before
   * the oldest are dropped. Default 64 KiB.
   */
  readonly maxResyncBytes: number;
  /**
   * Calls awaiting their reply, per connection and direction. Default 4096
   * (the Linux client has at most a few hundred slots); beyond it the oldest is
   * forgotten and its reply, if any, is decoded unmatched.
   */
  readonly maxPendingCalls: number;
  /**
   * TCP connections tracked at once. Default 4096; beyond it the connection idle
   * longest is closed (its partial records reported as incomplete).
   */
  readonly maxConnections: number;
  /**
   * Session → client id associations remembered (learned from CREATE_SESSION),
   * for `--client`. Default 65536; beyond it the oldest is forgotten.
   */
  readonly maxSessions: number;
  /**
   * Opaque data longer than this is shown as its first bytes and its length
   * (WRITE and READ data). Default 64 bytes: a whole NFSv4 filehandle (at most
   * 128 hex digits) still prints in full.
   */
  readonly maxOpaqueShown: number;
}

export const DEFAULT_DECODE_SETTINGS: DecodeSettings = Object.freeze({
  port: 2049,
  maxRecordBytes: 4 * 1024 * 1024,
  maxOutOfOrderBytes: 4 * 1024 * 1024,
  maxOutOfOrderSegments: 1024,
  maxResyncBytes: 64 * 1024,
  maxPendingCalls: 4096,
  maxConnections: 4096,
  maxSessions: 65536,
  maxOpaqueShown: 64,
});

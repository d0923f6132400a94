// The settings the callback channel uses (see NfsSettings and the README for
// their meaning and defaults); NfsSettings satisfies this interface, so the
// callback layer imports nothing from nfs/.

export interface CallbackSettings {
  /** How long one CB_NULL or CB_COMPOUND waits for the client's reply, ms. */
  readonly callbackTimeoutMs: number;
  /** The pause before resending after NFS4ERR_DELAY or an RPC-level refusal, ms. */
  readonly callbackRetryDelayMs: number;
  /**
   * Callbacks one client may have unfinished at once (waiting for a back
   * channel, waiting to retry, or sent); one more is "unreachable" at once.
   */
  readonly maxCallbacksPerClient: number;
}

// The callback API's values (what CallbackService.send() takes and answers,
// its statistics) and one callback in progress: its RPC outstanding, or the
// slot it holds between sends, and its timers.

import type { nfs_cb_argop4, nfs_cb_resop4, nfsstat4 } from "../../generated/nfs4/index.js";
import type { RpcConnection } from "../rpc/types.js";
import type { ClientRecord } from "../state/client.js";
import type { CbSlot } from "./cb-slot-table.js";
import type { BackChannel } from "./channel.js";

export type CallbackResult =
  /**
   * The client answered the CB_COMPOUND; `results` are the results of `ops`
   * (after CB_SEQUENCE), status is the compound status (NFS4_OK or the first
   * failing op's status). When CB_SEQUENCE itself failed with a status none of
   * service.ts's retry rules covers, `status` is that status and `results` is
   * empty.
   */
  | {
      readonly kind: "answered";
      readonly status: nfsstat4;
      readonly results: readonly nfs_cb_resop4[];
    }
  /** No answer before the deadline (no usable back channel, no reply, transport failures). */
  | { readonly kind: "unreachable" }
  /** The client went away (clientRemoved), the service closed, or the caller's AbortSignal fired. */
  | { readonly kind: "cancelled" };

export interface CallbackRequest {
  /** The operations after CB_SEQUENCE (e.g. one CB_RECALL). */
  readonly ops: readonly nfs_cb_argop4[];
  /** Give up with "unreachable" after this many ms from send(). */
  readonly deadlineMs: number;
  /**
   * The fore-channel request that caused this callback, for
   * csa_referring_call_lists (§2.10.6.3): sent only if that session belongs to
   * the same client.
   */
  readonly referring?: {
    readonly sessionId: Uint8Array;
    readonly slotid: number;
    readonly sequenceid: number;
  };
  readonly signal?: AbortSignal;
}

export interface CallbackStats {
  /** CB_COMPOUND RPCs sent (first sends and resends). */
  readonly sent: number;
  /** Calls the client answered. */
  readonly answered: number;
  /** RPCs that got no reply within callbackTimeoutMs. */
  readonly timedOut: number;
  /** Resends (after no reply, DELAY, BADSLOT, …, or a move to another session). */
  readonly retried: number;
  /** Calls finished "unreachable" (deadline, queue full, not sendable). */
  readonly unreachable: number;
  /** Calls finished "cancelled". */
  readonly cancelled: number;
  /** CB_NULL probes sent. */
  readonly probes: number;
  /** Unfinished calls with an RPC outstanding, and without one (waiting for a channel, slot or retry). */
  readonly inFlight: number;
  readonly waiting: number;
}

/** One CB_COMPOUND RPC outstanding for a call, on `slot` of `channel`. */
export interface Flight {
  readonly call: PendingCall;
  readonly channel: BackChannel;
  readonly slot: CbSlot;
  readonly conn: RpcConnection;
}

export class PendingCall {
  done = false;
  /** The RPC outstanding for this call, if any. */
  flight: Flight | null = null;
  /**
   * The slot this call holds after a send that got no reply: its next send
   * uses the same channel, slot and sequence ID.
   */
  held: { readonly channel: BackChannel; readonly slot: CbSlot } | null = null;
  /** Connections that got the held send without a reply: the resend prefers others. */
  readonly tried = new Set<number>();
  /**
   * The client re-offered the held send's back channel (BIND_CONN_TO_SESSION,
   * BACKCHANNEL_CTL): a tried connection may carry the resend if no other can.
   */
  reuseTried = false;
  retryTimer: NodeJS.Timeout | null = null;
  deadlineTimer: NodeJS.Timeout | null = null;
  sends = 0;
  removeAbortListener: (() => void) | null = null;

  constructor(
    readonly client: ClientRecord,
    readonly ops: readonly nfs_cb_argop4[],
    readonly referring: CallbackRequest["referring"],
    readonly resolve: (r: CallbackResult) => void,
  ) {}

  /** Waiting to be sent: no RPC outstanding, no retry timer. */
  get ready(): boolean {
    return !this.done && this.flight === null && this.retryTimer === null;
  }
}

// A session's back-channel slot table, where the server is the requester
// (RFC 8881 §2.10.6.1 applied to the back channel, §20.9 CB_SEQUENCE). Its
// size is the negotiated csr_back_chan_attrs.ca_maxrequests (already capped by
// maxBackchannelSlots); one call per slot at a time; each slot's sequence IDs
// start at 1 and advance only when the client answered CB_SEQUENCE with
// NFS4_OK (§20.9.3: on a CB_SEQUENCE error the client's slot is unchanged).
//
// How a finished call leaves its slot (the rules of Linux nfsd's
// nfsd4_cb_sequence_done(), 2025 rework):
// - "advance": CB_SEQUENCE succeeded, or the client said it already holds this
//   sequence ID (NFS4ERR_RETRY_UNCACHED_REP / SEQ_FALSE_RETRY after a resend).
// - "keep": no reply (timeout, connection lost), NFS4ERR_DELAY, an RPC-level
//   refusal: the next request on the slot carries the same sequence ID. After
//   no reply the client may or may not have seen it; either way the same ID is
//   right (a retry if it did, the expected next request if it did not).
// - "retire": NFS4ERR_BADSLOT, or SEQ_MISORDERED again after a resync: the
//   client does not accept the slot; it is never used again (the usable table
//   shrinks).
// - "resync": NFS4ERR_SEQ_MISORDERED: the slot starts again at sequence ID 1,
//   the client's idea of a fresh slot (as nfsd did before it chose to retire).
// The client steers how many slots we use: no slot above
// min(csr_highest_slotid, csr_target_highest_slotid) of its last reply.

export type CbSlotOutcome = "advance" | "keep" | "retire" | "resync";

/** A slot taken for one CB_COMPOUND: csa_slotid and csa_sequenceid. */
export interface CbSlot {
  readonly slotid: number;
  readonly seqid: number;
}

export class CbSlotTable {
  /** The sequence ID the next request on each slot carries. */
  private readonly seqids: number[];
  private readonly busy: boolean[];
  private readonly retired: boolean[];
  /** The highest slot ID the client accepts now. */
  private limit: number;

  constructor(readonly size: number) {
    if (!Number.isInteger(size) || size < 1) throw new RangeError(`bad slot table size ${size}`);
    this.seqids = new Array<number>(size).fill(1);
    this.busy = new Array<boolean>(size).fill(false);
    this.retired = new Array<boolean>(size).fill(false);
    this.limit = size - 1;
  }

  /** csa_highest_slotid: the highest slot ID we may use now. */
  get highestSlotId(): number {
    for (let i = this.limit; i > 0; i--) if (!this.retired[i]) return i;
    return 0;
  }

  /** False once every slot we may use has been retired: the table cannot carry a call. */
  get usable(): boolean {
    for (let i = 0; i <= this.limit; i++) if (!this.retired[i]) return true;
    return false;
  }

  /** Slots holding a call. */
  get busyCount(): number {
    return this.busy.filter((b) => b).length;
  }

  /** The lowest free slot we may use, now held by the caller; null if none. */
  acquire(): CbSlot | null {
    for (let i = 0; i <= this.limit; i++) {
      if (this.busy[i] || this.retired[i]) continue;
      this.busy[i] = true;
      return { slotid: i, seqid: this.seqids[i]! };
    }
    return null;
  }

  /** Frees a held slot, leaving it as `outcome` says. */
  release(slotid: number, outcome: CbSlotOutcome): void {
    if (!this.busy[slotid]) throw new Error(`back-channel slot ${slotid} is not held`);
    this.busy[slotid] = false;
    switch (outcome) {
      case "advance":
        this.seqids[slotid] = (this.seqids[slotid]! + 1) >>> 0;
        break;
      case "keep":
        break;
      case "retire":
        this.retired[slotid] = true;
        break;
      case "resync":
        this.seqids[slotid] = 1;
        break;
    }
  }

  /** The sequence ID the next request on `slotid` carries (for tests and resync decisions). */
  seqidOf(slotid: number): number {
    return this.seqids[slotid]!;
  }

  isRetired(slotid: number): boolean {
    return this.retired[slotid] ?? true;
  }

  /**
   * The client's csr_highest_slotid and csr_target_highest_slotid: we use no
   * slot above either (nor above our own table), and may use more again when
   * the client raises them.
   */
  applyClientLimits(highest: number, target: number): void {
    this.limit = Math.max(0, Math.min(this.size - 1, highest, target));
  }
}

// The replay-cache budget (RFC 8881 §2.10.6.1, §18.36.3): the bytes all slots
// of all sessions may keep for retries. Memory is reserved, not taken first
// come first served: a session reserves (slots × ca_maxresponsesize_cached) at
// CREATE_SESSION and when its table grows, and gets it back when slots are
// freed or the session goes. A slot can therefore always cache the reply it
// promised to cache, whatever other clients do.

import type { Logger } from "pino";

/** Pressure is logged at most once per this many milliseconds, with a count. */
export const PRESSURE_LOG_INTERVAL_MS = 60_000;

export class ReplayBudget {
  private reservedBytes = 0;
  private pressureEvents = 0;
  private lastPressureLog = Number.NEGATIVE_INFINITY;

  constructor(
    readonly total: number,
    private readonly log: Logger,
    private readonly now: () => number,
  ) {}

  get reserved(): number {
    return this.reservedBytes;
  }

  get available(): number {
    return Math.max(0, this.total - this.reservedBytes);
  }

  /** How many of `wanted` slots of `perSlot` bytes each the budget can reserve now. */
  affordable(wanted: number, perSlot: number): number {
    if (perSlot <= 0) return wanted;
    return Math.min(wanted, Math.floor(this.available / perSlot));
  }

  /** Reserves `slots` × `perSlot` bytes; the caller checked `affordable` first. */
  reserve(slots: number, perSlot: number): void {
    const bytes = slots * perSlot;
    if (bytes > this.available) throw new RangeError(`cannot reserve ${bytes} bytes`);
    this.reservedBytes += bytes;
  }

  release(slots: number, perSlot: number): void {
    this.reservedBytes = Math.max(0, this.reservedBytes - slots * perSlot);
  }

  /**
   * Records that a request for slots could not be met in full; logs once per
   * interval (with how many times it happened since), never once per request.
   */
  notePressure(reason: string): void {
    this.pressureEvents++;
    const t = this.now();
    if (t - this.lastPressureLog < PRESSURE_LOG_INTERVAL_MS) return;
    this.log.warn(
      {
        reason,
        events: this.pressureEvents,
        reserved: this.reservedBytes,
        budget: this.total,
      },
      "replay cache budget under pressure; shrinking slot tables",
    );
    this.lastPressureLog = t;
    this.pressureEvents = 0;
  }
}

// Output bytes: what the replies of a connection may hold in memory, per connection
// (maxConnectionOutputBytes) and over all connections (maxTotalOutputBytes).
//
// A connection's bytes are of two kinds:
// - reserved: announced by a call in progress before it builds a large reply
//   (RpcCall.reserveReplyBytes), released when its reply is handed to the writer
//   or the call ends with no reply;
// - buffered: replies handed to the writer and not yet taken by the kernel; they
//   count until their write completes. (Our own backchannel calls do not count:
//   see writer.ts.)
// Without reservations, the calls already dispatched (up to
// maxInFlightPerConnection) could each build a 1 MiB READ reply before the
// writer's backlog said "stop": 128 MiB per connection. With them, a call waits
// before building, and the connection stops reading while it is at its bound.
//
// Reservations wait in FIFO order per connection, and connections wait in FIFO
// order for room in the global budget. Progress rules (so waiting always ends):
// - a connection holding nothing (nothing reserved, nothing buffered) may take one
//   reservation larger than its own bound;
// - when every byte held is held by calls that are themselves waiting for more
//   (a hold-and-wait cycle, e.g. a COMPOUND with several READs that each reserve),
//   the first waiter is granted regardless of the bound — per connection and
//   globally. Nothing else could ever release those bytes.
// Bytes held by a peer that never reads are released when the connection closes
// (the send-stall timeout in connection.ts), which fails its waiting
// reservations.

/** One call's reservations. */
export interface ReplyLedger {
  /** Bytes reserved by the call and not yet released. */
  held: number;
  /** Reservations of the call waiting for room (normally 0 or 1). */
  waits: number;
}

interface Waiter {
  readonly ledger: ReplyLedger;
  readonly bytes: number;
  readonly resolve: (granted: boolean) => void;
}

/** A connection's output figures, for tests and dfsctl. */
export interface OutputStats {
  /** Bytes reserved by calls in progress. */
  readonly reserved: number;
  /** Bytes handed to the writer and not yet taken by the kernel. */
  readonly buffered: number;
  /** Reservations waiting for room, and the bytes they ask for. */
  readonly waiting: number;
  readonly waitingBytes: number;
}

/** The global figures. */
export interface BudgetStats {
  /** Reserved + buffered bytes over all connections. */
  readonly used: number;
  readonly limit: number;
  /** Connections whose next reservation waits for room in the global budget. */
  readonly waitingConnections: number;
  /** Connections not reading because the global budget is full. */
  readonly pausedConnections: number;
}

/** The output bytes of all connections together. */
export class OutputBudget {
  readonly limit: number;
  private usedBytes = 0;
  /** Bytes held by calls that are waiting for more (see the progress rules). */
  private heldByWaiters = 0;
  /** Connections whose first waiting reservation needs global room, in arrival order. */
  private readonly waiting = new Set<ConnectionOutput>();
  /** Connections that stopped reading because the budget is full. */
  private readonly paused = new Set<ConnectionOutput>();
  private waking = false;
  private wakeAgain = false;

  constructor(limit: number) {
    if (!Number.isSafeInteger(limit) || limit < 1) {
      throw new RangeError(`OutputBudget: bad limit ${limit}`);
    }
    this.limit = limit;
  }

  get used(): number {
    return this.usedBytes;
  }

  /** True while connections must not read: the budget is at its bound or has waiters. */
  get full(): boolean {
    return this.usedBytes >= this.limit || this.waiting.size > 0;
  }

  stats(): BudgetStats {
    return {
      used: this.usedBytes,
      limit: this.limit,
      waitingConnections: this.waiting.size,
      pausedConnections: this.paused.size,
    };
  }

  /** Whether `account`'s first waiting reservation of `bytes` may be granted now. */
  admits(account: ConnectionOutput, bytes: number): boolean {
    // FIFO over connections: only the first waiter may take room.
    const first = this.waiting.values().next();
    if (!first.done && first.value !== account) return false;
    return this.usedBytes + bytes <= this.limit || this.usedBytes === this.heldByWaiters;
  }

  take(bytes: number): void {
    this.usedBytes += bytes;
  }

  give(bytes: number): void {
    this.usedBytes -= bytes;
    if (bytes > 0) this.wake();
  }

  /** give() without waking anyone: the caller calls wake() once its move is complete. */
  giveQuietly(bytes: number): void {
    this.usedBytes -= bytes;
  }

  adjustHeldByWaiters(delta: number): void {
    this.heldByWaiters += delta;
    // Every byte held may now be held by waiters: the first one may proceed.
    if (delta > 0 && this.usedBytes === this.heldByWaiters) this.wake();
  }

  wait(account: ConnectionOutput): void {
    this.waiting.add(account);
  }

  unwait(account: ConnectionOutput): void {
    if (this.waiting.delete(account)) this.wake();
  }

  /** `account` stopped reading because the budget is full; it is resumed when it is not. */
  pause(account: ConnectionOutput): void {
    this.paused.add(account);
  }

  forget(account: ConnectionOutput): void {
    this.paused.delete(account);
    this.unwait(account);
  }

  /** Grants waiting reservations in order, then resumes paused connections if there is room. */
  wake(): void {
    // Granting and resuming can release bytes and wake again (re-entering here):
    // one pass at a time, repeated while a nested wake was asked for.
    if (this.waking) {
      this.wakeAgain = true;
      return;
    }
    this.waking = true;
    try {
      do {
        this.wakeAgain = false;
        for (const account of this.waiting) {
          account.grant();
          if (this.waiting.has(account)) break;
        }
        if (!this.full && this.paused.size > 0) {
          const paused = [...this.paused];
          this.paused.clear();
          for (const account of paused) account.roomAvailable();
        }
      } while (this.wakeAgain);
    } finally {
      this.waking = false;
    }
  }
}

/** One connection's output bytes. */
export class ConnectionOutput {
  readonly limit: number;
  private readonly budget: OutputBudget;
  private readonly onRoom: () => void;
  private reservedBytes = 0;
  private bufferedBytes = 0;
  private heldByWaiters = 0;
  // At most maxInFlightPerConnection entries: shift() is cheap enough.
  private queue: Waiter[] = [];
  private waitingBytes = 0;
  private closed = false;

  /**
   * `onRoom` is called when bytes were released or drained, or the global budget
   * has room again: the connection re-checks whether it may read.
   */
  constructor(limit: number, budget: OutputBudget, onRoom: () => void) {
    this.limit = limit;
    this.budget = budget;
    this.onRoom = onRoom;
  }

  get reserved(): number {
    return this.reservedBytes;
  }

  get buffered(): number {
    return this.bufferedBytes;
  }

  /** Reservations waiting for room. */
  get waiting(): number {
    return this.queue.length;
  }

  /** True while the connection must not read: at its bound, waiters, or the global budget full. */
  get mustPause(): boolean {
    return (
      this.reservedBytes + this.bufferedBytes >= this.limit || this.waiting > 0 || this.budget.full
    );
  }

  /** Whether the global budget is what stops this connection (so it asks to be resumed). */
  get pausedByBudget(): boolean {
    return this.budget.full;
  }

  stats(): OutputStats {
    return {
      reserved: this.reservedBytes,
      buffered: this.bufferedBytes,
      waiting: this.waiting,
      waitingBytes: this.waitingBytes,
    };
  }

  /** A ledger for a new call. */
  static ledger(): ReplyLedger {
    return { held: 0, waits: 0 };
  }

  /**
   * Reserves `bytes` for the call of `ledger`: resolves true once they are
   * reserved, false if the connection closed first. Waits in FIFO order.
   */
  reserve(ledger: ReplyLedger, bytes: number): Promise<boolean> {
    if (!Number.isSafeInteger(bytes) || bytes < 0) {
      return Promise.reject(new RangeError(`reserveReplyBytes: bad byte count ${bytes}`));
    }
    if (this.closed) return Promise.resolve(false);
    if (bytes === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      this.queue.push({ ledger, bytes, resolve });
      this.waitingBytes += bytes;
      if (ledger.waits++ === 0) this.addHeldByWaiters(ledger.held);
      this.grant();
    });
  }

  /**
   * Releases the call's reservations (its reply was handed to the writer, or it
   * ended without one). Wakes no one: call settled() after queuing the reply, so
   * the bytes move from reserved to buffered with no grant in between.
   */
  release(ledger: ReplyLedger): void {
    const held = ledger.held;
    ledger.held = 0;
    if (this.closed || held === 0) return;
    this.reservedBytes -= held;
    this.budget.giveQuietly(held);
  }

  /** After release() and the reply queued: grant what now fits, here and elsewhere. */
  settled(): void {
    if (this.closed) return;
    this.budget.wake();
    this.grant();
  }

  /** Bytes handed to the writer. */
  queued(bytes: number): void {
    if (this.closed) return;
    this.bufferedBytes += bytes;
    this.budget.take(bytes);
  }

  /** Bytes the kernel took. */
  flushed(bytes: number): void {
    if (this.closed) return;
    this.bufferedBytes -= bytes;
    this.budget.give(bytes);
    this.grant();
  }

  /** Grants the waiting reservations that fit, in order; then tells the connection. */
  grant(): void {
    if (this.closed) return;
    for (let w = this.queue[0]; w !== undefined; w = this.queue[0]) {
      const own = this.reservedBytes + this.bufferedBytes;
      // See the progress rules at the top of this file.
      if (own + w.bytes > this.limit && own !== this.heldByWaiters) {
        this.budget.unwait(this);
        break;
      }
      if (!this.budget.admits(this, w.bytes)) {
        this.budget.wait(this);
        break;
      }
      this.queue.shift();
      this.waitingBytes -= w.bytes;
      if (--w.ledger.waits === 0) this.addHeldByWaiters(-w.ledger.held);
      w.ledger.held += w.bytes;
      this.reservedBytes += w.bytes;
      this.budget.take(w.bytes);
      w.resolve(true);
    }
    if (this.queue.length === 0) this.budget.unwait(this);
    this.onRoom();
  }

  /** The connection stopped reading because the global budget is full: resume it later. */
  pauseForBudget(): void {
    if (!this.closed) this.budget.pause(this);
  }

  /** The global budget has room again. */
  roomAvailable(): void {
    if (!this.closed) this.onRoom();
  }

  /** The connection closed: everything is released, waiting reservations fail. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    const waiters = this.queue;
    this.queue = [];
    this.waitingBytes = 0;
    const held = this.reservedBytes + this.bufferedBytes;
    this.reservedBytes = 0;
    this.bufferedBytes = 0;
    this.budget.adjustHeldByWaiters(-this.heldByWaiters);
    this.heldByWaiters = 0;
    this.budget.forget(this);
    this.budget.give(held);
    for (const w of waiters) w.resolve(false);
  }

  private addHeldByWaiters(delta: number): void {
    this.heldByWaiters += delta;
    this.budget.adjustHeldByWaiters(delta);
  }
}

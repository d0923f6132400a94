// Checkpoints of the SQLite store's write-ahead log, on a worker thread.
//
// A checkpoint copies the WAL's pages back into the database file so the log
// can start over. SQLite runs one inside the COMMIT that takes the log past
// wal_autocheckpoint pages, on the committing connection — here the event
// loop's only thread — and under synchronous=NORMAL it fsyncs the log before
// and the database after. Measured with the store's statements for a create
// (scratch benchmark, 2026-12-02): 106 µs per COMMIT with automatic
// checkpoints, 44 µs without; each checkpoint stalled every request for
// milliseconds.
//
// So the store's connection turns automatic checkpoints off and this worker,
// with its own connection to the same file, runs PASSIVE checkpoints: they
// never block the writer or readers. The store asks for one every
// CHECKPOINT_EVERY_COMMITS commits and once it is idle.
//
// The log starts over only when a write begins after a checkpoint has copied
// all of it — which a checkpoint running beside a busy writer never does: the
// writer appends while it copies. So once the log is RESTART_FRAMES frames
// long, the store finishes the job itself, between two write transactions
// (finishOnWriter): a PASSIVE checkpoint on its own connection copies the few
// frames written since the worker's, and the next write restarts the log. That
// costs the writer the checkpoint's two fsyncs once per RESTART_FRAMES frames
// instead of the whole copy every 1000 pages. If the worker cannot start or
// fails, the store goes back to automatic checkpoints: the log stays bounded.
//
// What the worker found and whether it is copying are shared memory
// (SharedArrayBuffer), not only messages: the writer reads them before each
// transaction even when it never yields to the event loop between commits
// (back-to-back commits whose syncs run in place, wal-sync.ts), which would
// leave the worker's replies unread and the log growing.
//
// The worker is inline JavaScript (eval) so that it runs the same from the
// TypeScript sources (tests, tsx), from dist/ and from a bundle.

import { createRequire } from "node:module";
import { Worker } from "node:worker_threads";

/** Commits between two checkpoint requests (about wal_autocheckpoint's 1000 pages at ~8 pages each). */
export const CHECKPOINT_EVERY_COMMITS = 100;
/** A checkpoint is also asked for once no commit came for this long, ms. */
export const CHECKPOINT_IDLE_MS = 1000;
/** Log length (frames, a page each) from which the writer finishes a checkpoint itself: 8 MiB of 4 KiB pages. */
export const RESTART_FRAMES = 2048;

/** Indexes into the shared state: the log's length in frames after the last checkpoint; 1 while one runs. */
const LOG_FRAMES = 0;
const RUNNING = 1;

const WORKER_SOURCE = `
const { parentPort, workerData } = require("node:worker_threads");
const Database = require(workerData.driver);
const db = new Database(workerData.file);
const shared = new Int32Array(workerData.shared);
db.pragma("busy_timeout = 1000");
parentPort.on("message", (msg) => {
  if (msg === "close") { db.close(); parentPort.close(); return; }
  try {
    const [r] = db.pragma("wal_checkpoint(PASSIVE)");
    Atomics.store(shared, ${LOG_FRAMES}, Number(r.log));
    Atomics.store(shared, ${RUNNING}, 0);
    parentPort.postMessage({});
  } catch (e) {
    parentPort.postMessage({ failure: String(e && e.message ? e.message : e) });
  }
});
`;

export class WalCheckpointer {
  private worker: Worker | null;
  private commitsSinceRequest = 0;
  /** LOG_FRAMES and RUNNING, written by the worker (and RUNNING by request()). */
  private readonly shared = new Int32Array(new SharedArrayBuffer(2 * Int32Array.BYTES_PER_ELEMENT));
  /** Another request came while one ran: run once more after it. */
  private again = false;
  private idleTimer: NodeJS.Timeout | null = null;

  /**
   * `file`: the database; `fallBack`: turns the writer's automatic
   * checkpoints back on, called once if the worker fails.
   */
  constructor(
    file: string,
    private readonly fallBack: (reason: string) => void,
  ) {
    let worker: Worker | null = null;
    try {
      worker = new Worker(WORKER_SOURCE, {
        eval: true,
        // Not the process's flags: --input-type=module, say, would make this CommonJS source ESM.
        execArgv: [],
        workerData: {
          file,
          driver: createRequire(import.meta.url).resolve("better-sqlite3"),
          shared: this.shared.buffer,
        },
      });
    } catch (e) {
      fallBack(`cannot start the checkpoint worker: ${String(e)}`);
    }
    this.worker = worker;
    if (worker === null) return;
    // Never keeps the process alive; the store's close() ends it.
    worker.unref();
    worker.on("message", (reply: { readonly failure?: string }) => {
      if (reply.failure !== undefined) return this.fail(`checkpoint failed: ${reply.failure}`);
      if (this.again) {
        this.again = false;
        this.request();
      }
    });
    worker.on("error", (e) => this.fail(`checkpoint worker: ${e.message}`));
    worker.on("exit", () => this.fail("checkpoint worker exited"));
  }

  /** A write transaction committed. */
  committed(): void {
    if (this.worker === null) return;
    if (++this.commitsSinceRequest >= CHECKPOINT_EVERY_COMMITS) this.request();
    if (this.idleTimer !== null) this.idleTimer.refresh();
    else {
      this.idleTimer = setTimeout(() => {
        this.idleTimer = null;
        this.request();
      }, CHECKPOINT_IDLE_MS);
      this.idleTimer.unref();
    }
  }

  /**
   * Called by the store before each write transaction, on the writer's
   * connection: runs `checkpoint` (a PASSIVE checkpoint there) when the log
   * has grown long and the worker is not copying, so the write restarts it.
   */
  finishOnWriter(checkpoint: () => void): void {
    if (this.worker === null || Atomics.load(this.shared, RUNNING) === 1) return;
    if (Atomics.load(this.shared, LOG_FRAMES) < RESTART_FRAMES) return;
    Atomics.store(this.shared, LOG_FRAMES, 0);
    try {
      checkpoint();
    } catch {
      // Not the write's business: the log just stays long until the next checkpoint.
    }
  }

  /** Stops the worker (the store's connection checkpoints at close itself). */
  async close(): Promise<void> {
    if (this.idleTimer !== null) clearTimeout(this.idleTimer);
    this.idleTimer = null;
    const worker = this.worker;
    this.worker = null;
    if (worker === null) return;
    worker.removeAllListeners();
    const exited = new Promise<void>((resolve) => worker.once("exit", () => resolve()));
    // Referenced again, so the process waits for it (an unreferenced worker lets it exit mid-close).
    worker.ref();
    worker.postMessage("close");
    await exited;
  }

  private request(): void {
    if (this.worker === null) return;
    this.commitsSinceRequest = 0;
    if (Atomics.load(this.shared, RUNNING) === 1) {
      this.again = true;
      return;
    }
    Atomics.store(this.shared, RUNNING, 1);
    this.worker.postMessage("checkpoint");
  }

  private fail(reason: string): void {
    const worker = this.worker;
    if (worker === null) return;
    this.worker = null;
    if (this.idleTimer !== null) clearTimeout(this.idleTimer);
    this.idleTimer = null;
    worker.removeAllListeners();
    void worker.terminate();
    this.fallBack(reason);
  }
}

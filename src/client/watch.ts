// A directory watch: typed events for the changes another client (or this
// one) makes in a directory, built on a directory delegation with
// notifications (RFC 8881 §10.9, GET_DIR_DELEGATION §18.39, CB_NOTIFY §20.4).
//
//   const { session, router } = await openWatchSession({ host, port });
//   const w = await watch(session, router, "/export/dir", { types: ["add", "remove"] });
//   for await (const ev of w) console.log(ev);   // break, w.close() or an AbortSignal stop it
//
// How it works:
// - Arming: GET_DIR_DELEGATION, then READDIR of the whole directory: the
//   snapshot (name → cookie, fileid) that notifications are applied to.
//   Notifications for changes between the grant and the READDIR describe what
//   the listing may already show; they are deduplicated by (name, cookie): an
//   add of a name known with the same cookie, or a remove of a name not known,
//   is not reported again.
// - Each CB_NOTIFY's changes become events, in the order the server listed
//   them (§20.4.1).
// - A CB_RECALL (the server could not notify a change: a type not granted, its
//   queue overflowed — §10.9.4), a revocation, or a notification that does not
//   decode: report `recalled`, DELEGRETURN, wait rearmDelayMs, arm again, and
//   report what changed in between as added/removed events from diffing the
//   old snapshot against the new listing by name and fileid.
// - Everything runs through one chain of work, so changes are applied in the
//   order they arrived and never during a re-arm.
// - Events wait for a slow consumer in a queue bounded by maxQueuedEvents;
//   when it is full the watch ends (reason "overflow") rather than grow.
// - The lease is renewed while the watch runs (SEQUENCE every third of it).

import type { CB_RECALL4args, nfstime4, stateid4 } from "../../generated/nfs4/index.js";
import type { AttributeName } from "./attrs.js";
import { attributeBit, bitmapOf } from "./attrs.js";
import type { DelegationListener, Notification } from "./callback-router.js";
import { CallbackRouter } from "./callback-router.js";
import type { NfsClientOptions } from "./client.js";
import { NfsClient } from "./client.js";
import type { DelayRetry } from "./files.js";
import * as ops from "./ops.js";
import type { ClientSession } from "./session.js";
import { failureOf } from "./session.js";
import type { EndReason, WatchEvent, WatchType } from "./watch-events.js";
import {
  DirectoryNotificationsUnavailableError,
  NONE_GRANTED,
  WATCH_TYPE_BITS,
} from "./watch-events.js";
import type { Armed, DirectoryEntry, DirectoryServer } from "./watch-server.js";
import { SessionDirectoryServer } from "./watch-server.js";
import { DirectorySnapshot } from "./watch-snapshot.js";

export interface WatchOptions {
  /** Notification types to ask for. Default add, remove, rename. */
  readonly types?: readonly WatchType[];
  /**
   * Attributes of children to be notified of (gdda_child_attributes). Default
   * DEFAULT_WATCH_ATTRIBUTES when `types` asks for attribute changes, else none.
   */
  readonly attributes?: readonly AttributeName[];
  /** Attributes of the directory (gdda_dir_attributes). Default: `attributes`. */
  readonly directoryAttributes?: readonly AttributeName[];
  /** How long the server may hold attribute notifications to batch them, ms. Default 0. */
  readonly delay?: number;
  /** Ends the watch ("aborted"; the event's detail is the abort reason when it is a string). */
  readonly signal?: AbortSignal;
  /**
   * Events that may wait for the consumer, and callbacks that may wait to be
   * applied (during a re-arm), before the watch ends with "overflow". Default 1024.
   */
  readonly maxQueuedEvents?: number;
  /**
   * How long to wait after giving a recalled delegation back before asking for
   * a new one, ms. Default DEFAULT_REARM_DELAY_MS.
   */
  readonly rearmDelayMs?: number;
  /** How re-arming after a recall retries a temporary refusal. Default DEFAULT_REARM_RETRY. */
  readonly rearmRetry?: DelayRetry;
  /** Lease renewal period, ms. Default a third of the server's lease_time (30 s if unknown). */
  readonly renewMs?: number;
}

export const DEFAULT_WATCH_TYPES: readonly WatchType[] = ["add", "remove", "rename"];
export const DEFAULT_MAX_QUEUED_EVENTS = 1024;
/** The attributes asked for when attribute changes are watched and none are named. */
export const DEFAULT_WATCH_ATTRIBUTES: readonly AttributeName[] = [
  "change",
  "size",
  "mode",
  "timeModify",
];
/**
 * The wait before re-arming, ms. A recall means another client's change was
 * answered NFS4ERR_DELAY until the delegation came back; asking again at once
 * could take a new delegation before that client retries, recalled again by
 * its retry, and so on for ever. One second is longer than the first retry of
 * the Linux client (100 ms) and of this library (retryOnDelay, 20 ms).
 */
export const DEFAULT_REARM_DELAY_MS = 1000;
/**
 * Re-arming retries for five minutes, waiting at most 5 s between tries: longer
 * than the usual recall cooldowns (this server's nfs.recallCooldownSec is 30 s by
 * default; Linux nfsd blocks a recalled file for 30 to 60 s).
 */
export const DEFAULT_REARM_RETRY: DelayRetry = { initialMs: 100, maxMs: 5_000, totalMs: 300_000 };
/** Refusals of GET_DIR_DELEGATION that may pass (§18.39.3: the server "may" grant later). */
const TEMPORARY_REFUSALS: ReadonlySet<string> = new Set([
  "GDD4_UNAVAIL",
  "NFS4ERR_DIRDELEG_UNAVAIL",
]);
/** The lease assumed when the server does not report lease_time, seconds (RFC 8881's usual 90). */
const DEFAULT_LEASE_SECONDS = 90;
/** The shortest renewal period, ms: a guard against a zero or tiny lease_time. */
const MIN_RENEW_MS = 100;

function toNfstime(ms: number): nfstime4 {
  const whole = Math.max(0, Math.floor(ms));
  return { seconds: BigInt(Math.floor(whole / 1000)), nseconds: (whole % 1000) * 1_000_000 };
}

type WorkItem =
  | { readonly kind: "notify"; readonly n: Notification }
  | { readonly kind: "recall"; readonly stateid: stateid4 }
  | { readonly kind: "renew" };

const sameStateid = (a: stateid4, b: stateid4): boolean =>
  Buffer.from(a.other).equals(Buffer.from(b.other));

export class DirectoryWatch implements AsyncIterable<WatchEvent> {
  readonly path: string;
  /** The types asked for. */
  readonly types: readonly WatchType[];
  /** The types asked for that the server granted at the last arming, in the order asked. */
  granted: readonly WatchType[] = [];
  /** Asked for but not granted: changes of these kinds reach the watch through recalls and re-reads. */
  missingTypes: readonly WatchType[] = [];
  /** True once the `ended` event is queued. */
  ended = false;

  private readonly server: DirectoryServer;
  private readonly router: CallbackRouter;
  private readonly fh: Uint8Array;
  private readonly request: {
    types: number[];
    childAttributes: number[];
    dirAttributes: number[];
    delay: nfstime4;
  };
  private readonly maxQueued: number;
  private snapshot = new DirectorySnapshot([]);
  private stateid: stateid4 | null = null;
  private unlisten: (() => void) | null = null;
  private readonly queue: WatchEvent[] = [];
  private wake: (() => void) | null = null;
  private work: Promise<void> = Promise.resolve();
  private renewTimer: NodeJS.Timeout | null = null;
  private givenBack: Promise<void> = Promise.resolve();
  private readonly signal: AbortSignal | undefined;
  private readonly rearmRetry: DelayRetry;
  private readonly rearmDelayMs: number;
  private cancelPause: (() => void) | null = null;
  /** Work items chained but not yet started. */
  private waiting = 0;
  private readonly onAbort = (): void => {
    const reason: unknown = this.signal?.reason;
    this.end("aborted", typeof reason === "string" ? reason : "the AbortSignal fired");
  };

  private constructor(
    server: DirectoryServer,
    router: CallbackRouter,
    path: string,
    fh: Uint8Array,
    options: WatchOptions,
  ) {
    this.server = server;
    this.router = router;
    this.path = path;
    this.fh = fh;
    this.types = [...new Set(options.types ?? DEFAULT_WATCH_TYPES)];
    // Attribute notifications with an empty mask would say nothing.
    const asksAttributes = this.types.some(
      (t) => t === "child-attributes" || t === "directory-attributes",
    );
    const attributes = options.attributes ?? (asksAttributes ? DEFAULT_WATCH_ATTRIBUTES : []);
    const child = attributes.map(attributeBit);
    const dir = (options.directoryAttributes ?? attributes).map(attributeBit);
    this.request = {
      types: this.types.map((t) => WATCH_TYPE_BITS[t]),
      childAttributes: child,
      dirAttributes: dir,
      delay: toNfstime(options.delay ?? 0),
    };
    this.maxQueued = options.maxQueuedEvents ?? DEFAULT_MAX_QUEUED_EVENTS;
    this.signal = options.signal;
    this.rearmRetry = options.rearmRetry ?? DEFAULT_REARM_RETRY;
    this.rearmDelayMs = options.rearmDelayMs ?? DEFAULT_REARM_DELAY_MS;
  }

  /**
   * Starts a watch of `path` through `server`, its callbacks arriving through
   * `router`. Throws DirectoryNotificationsUnavailableError when the server
   * grants no delegation or none of the types asked for; NfsError when the
   * path cannot be read.
   */
  static async start(
    server: DirectoryServer,
    router: CallbackRouter,
    path: string,
    options: WatchOptions = {},
  ): Promise<DirectoryWatch> {
    options.signal?.throwIfAborted();
    const dir = await server.resolve(path);
    const w = new DirectoryWatch(server, router, path, dir.fh, options);
    // Callbacks that arrive while arming wait in the chain behind it.
    const arming = w.arm();
    w.work = arming.then(
      () => {},
      () => {},
    );
    const refused = await arming;
    if (refused !== null) throw new DirectoryNotificationsUnavailableError(path, refused);
    if (w.granted.length === 0) {
      await w.returnDelegation();
      throw new DirectoryNotificationsUnavailableError(path, NONE_GRANTED);
    }
    if (w.ended) return w; // it overflowed while arming: its consumer sees why
    const leaseMs = (dir.leaseSeconds ?? DEFAULT_LEASE_SECONDS) * 1000;
    const renewMs = Math.max(options.renewMs ?? leaseMs / 3, MIN_RENEW_MS);
    w.renewTimer = setInterval(() => w.enqueue({ kind: "renew" }), renewMs);
    w.renewTimer.unref();
    w.signal?.addEventListener("abort", w.onAbort, { once: true });
    if (w.signal?.aborted) w.onAbort();
    return w;
  }

  /** The entries the watch believes the directory holds (a copy). */
  entries(): DirectoryEntry[] {
    return this.snapshot.entries();
  }

  /** Ends the watch ("stopped") and resolves once the delegation is given back. */
  async close(): Promise<void> {
    this.end("stopped", "closed by the watcher");
    await this.givenBack;
  }

  [Symbol.asyncIterator](): AsyncIterator<WatchEvent> {
    return {
      next: async (): Promise<IteratorResult<WatchEvent>> => {
        for (;;) {
          const ev = this.queue.shift();
          if (ev !== undefined) return { done: false, value: ev };
          if (this.ended) return { done: true, value: undefined };
          await new Promise<void>((resolve) => (this.wake = resolve));
        }
      },
      return: async (): Promise<IteratorResult<WatchEvent>> => {
        await this.close();
        this.queue.length = 0;
        return { done: true, value: undefined };
      },
    };
  }

  // --- arming ------------------------------------------------------------------------

  /**
   * GET_DIR_DELEGATION and the listing; null, or why it was not granted. Callbacks that
   * arrive before the stateid is known are routed here by filehandle and
   * applied right after the snapshot, before anything queued later.
   */
  private async arm(): Promise<string | null> {
    const early: WorkItem[] = [];
    let earlyOverflow = false;
    const keep = (item: WorkItem): void => {
      if (early.length < this.maxQueued) early.push(item);
      else earlyOverflow = true;
    };
    const buffer: DelegationListener = {
      onNotify: (n) => keep({ kind: "notify", n }),
      onRecall: (r) => keep({ kind: "recall", stateid: r.stateid }),
    };
    const stopExpecting = this.router.expect(this.fh, buffer);
    let armed: Armed;
    try {
      const result = await this.server.arm(this.fh, {
        types: this.request.types,
        childAttributes: bitmapOf(this.request.childAttributes),
        dirAttributes: bitmapOf(this.request.dirAttributes),
        delay: this.request.delay,
      });
      if (!result.granted) return result.why;
      armed = result.armed;
      this.stateid = armed.stateid;
      this.unlisten = this.router.listen(armed.stateid, {
        onNotify: (n) => this.enqueue({ kind: "notify", n }),
        onRecall: (r: CB_RECALL4args) => this.enqueue({ kind: "recall", stateid: r.stateid }),
      });
    } finally {
      stopExpecting();
    }
    const grantedBits = new Set(armed.types);
    this.granted = this.types.filter((t) => grantedBits.has(WATCH_TYPE_BITS[t]));
    this.missingTypes = this.types.filter((t) => !this.granted.includes(t));
    this.snapshot = new DirectorySnapshot(armed.entries);
    if (earlyOverflow)
      this.end("overflow", `${this.maxQueued} callbacks arrived while arming (maxQueuedEvents)`);
    else for (const item of early) await this.handle(item);
    return null;
  }

  /** DELEGRETURN of the current delegation, once; later callbacks for it are NFS4ERR_BAD_STATEID. */
  private async returnDelegation(): Promise<void> {
    const stateid = this.stateid;
    const unlisten = this.unlisten;
    this.stateid = null;
    this.unlisten = null;
    try {
      // Until the server has it back, its CB_NOTIFYs are still answered NFS4_OK
      // (and ignored: the next listing shows what they describe).
      if (stateid !== null) await this.server.giveBack(this.fh, stateid);
    } finally {
      unlisten?.();
    }
  }

  /**
   * After a recall or revocation: give back, arm again, report the difference.
   * A server may decline a directory it recalled lately for a while (against
   * recall storms; this project's server does for caching-only delegations),
   * answering GDD4_UNAVAIL or NFS4ERR_DIRDELEG_UNAVAIL: those are retried with a
   * doubling wait bounded by rearmRetry; changes made meanwhile show in the diff.
   */
  private async rearm(cause: "recall" | "revoked" | "undecodable"): Promise<void> {
    this.emit({ type: "recalled", cause });
    if (this.ended) return;
    await this.returnDelegation();
    // The change that caused the recall was answered NFS4ERR_DELAY: let its
    // client retry it before asking again, or each retry meets a new delegation.
    await this.pause(this.rearmDelayMs);
    if (this.ended) return;
    const before = this.snapshot;
    let waited = 0;
    let next = this.rearmRetry.initialMs;
    for (;;) {
      const refused = await this.arm();
      if (refused === null) break;
      if (!TEMPORARY_REFUSALS.has(refused) || waited >= this.rearmRetry.totalMs) {
        this.end("rearm-failed", `the server would not grant the delegation again (${refused})`);
        return;
      }
      const ms = Math.min(next, this.rearmRetry.maxMs, this.rearmRetry.totalMs - waited);
      await this.pause(ms);
      if (this.ended) return;
      waited += ms;
      next = Math.min(next * 2, this.rearmRetry.maxMs);
    }
    // Whatever arm() applied from early notifications is already reported; the
    // rest of the difference is what happened while no delegation was held.
    for (const ev of this.snapshot.changesSince(before)) this.emit(ev);
  }

  /** Waits `ms`, or less if the watch ends meanwhile. */
  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      if (this.ended) return resolve();
      const timer = setTimeout(() => {
        this.cancelPause = null;
        resolve();
      }, ms);
      this.cancelPause = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  // --- the work chain ----------------------------------------------------------------

  /** Chains `item` after the work before it; callbacks waiting there count against maxQueuedEvents. */
  private enqueue(item: WorkItem): void {
    if (this.ended) return;
    if (this.waiting >= this.maxQueued) {
      this.end("overflow", `${this.maxQueued} callbacks waited to be applied (maxQueuedEvents)`);
      return;
    }
    this.waiting++;
    this.work = this.work
      .then(() => {
        this.waiting--;
        return this.ended ? undefined : this.handle(item);
      })
      .catch((e: unknown) => this.end("error", e instanceof Error ? e.message : String(e)));
  }

  private async handle(item: WorkItem): Promise<void> {
    switch (item.kind) {
      case "notify":
        // A notification of a delegation already given back describes changes
        // that the re-read has shown; the diff reported them.
        if (this.stateid === null || !sameStateid(item.n.stateid, this.stateid)) return;
        if (!item.n.ok) return this.rearm("undecodable");
        for (const c of item.n.changes) {
          const ev = this.snapshot.apply(c);
          if (ev !== null) this.emit(ev);
        }
        return;
      case "recall":
        if (this.stateid === null || !sameStateid(item.stateid, this.stateid)) return;
        return this.rearm("recall");
      case "renew": {
        const { recallableStateRevoked } = await this.server.renew();
        if (recallableStateRevoked && this.stateid !== null) {
          const stateid = this.stateid;
          if (await this.server.isRevoked(stateid)) {
            this.stateid = null; // freed: nothing to give back
            this.unlisten?.();
            this.unlisten = null;
            return this.rearm("revoked");
          }
        }
        return;
      }
    }
  }

  // --- events --------------------------------------------------------------------------

  private emit(ev: WatchEvent): void {
    if (this.ended) return;
    if (this.queue.length >= this.maxQueued) {
      this.end("overflow", `${this.maxQueued} events waited for the consumer (maxQueuedEvents)`);
      return;
    }
    this.push(ev);
  }

  private push(ev: WatchEvent): void {
    this.queue.push(ev);
    const wake = this.wake;
    this.wake = null;
    wake?.();
  }

  /** Queues `ended` (beyond the bound: it is the last) and gives the delegation back. */
  private end(reason: EndReason, detail: string): void {
    if (this.ended) return;
    this.ended = true;
    if (this.renewTimer !== null) clearInterval(this.renewTimer);
    this.signal?.removeEventListener("abort", this.onAbort);
    this.cancelPause?.();
    this.push({ type: "ended", reason, detail });
    // After the work in progress, so a re-arm under way does not leave a delegation behind.
    this.givenBack = this.work.then(() => this.returnDelegation()).catch(() => {});
  }
}

/**
 * Watches the directory at `path` through a session whose client passes
 * `router.handler` as its onCallback. See DirectoryWatch.start.
 */
export function watch(
  session: ClientSession,
  router: CallbackRouter,
  path: string,
  options: WatchOptions = {},
): Promise<DirectoryWatch> {
  return DirectoryWatch.start(new SessionDirectoryServer(session), router, path, options);
}

/** A client, its session and the router that brings the session's callbacks to watches. */
export interface WatchSession {
  readonly client: NfsClient;
  readonly session: ClientSession;
  readonly router: CallbackRouter;
}

/**
 * Connects a client whose callbacks go through a new CallbackRouter, with a
 * client ID (owner `owner`, default a fresh one) and a session with a back
 * channel.
 */
export async function openWatchSession(
  options: Omit<NfsClientOptions, "onCallback"> & { readonly owner?: string },
): Promise<WatchSession> {
  const router = new CallbackRouter();
  const client = await NfsClient.connect({ ...options, onCallback: router.handler });
  try {
    await client.exchangeId(options.owner ?? `dittofs-watch-${process.pid}-${Date.now()}`);
    const session = await client.createSession();
    // This client reclaims nothing (RFC 8881 §18.51): lets the session open files too.
    const done = await session.compound([ops.reclaimComplete()]);
    const err = failureOf(done.res);
    if (err !== null) throw err;
    return { client, session, router };
  } catch (e) {
    client.destroy();
    throw e;
  }
}

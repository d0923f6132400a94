// Directory notifications (RFC 8881 §10.9.4, §20.4): what the holder of a
// directory delegation is told, with CB_NOTIFY, of the changes to the
// directory it was granted notifications for. The changes come from the
// backend (FileSystem.observe), which reports every one of them whoever made
// it; each becomes one notify4 (one bit in its mask, so the array keeps the
// order the changes happened in) queued for the delegation, and the queue is
// sent in as few CB_NOTIFYs as the back channel's size allows, one call in
// flight per delegation. A change no granted type can express, a queue that
// would overflow, or a refused CB_NOTIFY recalls the delegation instead;
// a holder that cannot be reached within a lease loses it (§10.2.1).

import type {
  bitmap4,
  fattr4,
  notify4,
  notify_add4,
  notify_remove4,
} from "../../generated/nfs4/index.js";
import {
  encodenotify_add4,
  encodenotify_attr4,
  encodenotify_remove4,
  encodenotify_rename4,
  encodenotify_verifier4,
  FATTR4_RDATTR_ERROR,
  nfs_cb_opnum4,
  nfsstat4,
  notify_type4,
} from "../../generated/nfs4/index.js";
import type { Logger } from "pino";
import type {
  ChangedEntry,
  EntryPlace,
  FileAttributes,
  FileHandle,
  FileSystem,
  FsChange,
} from "../fs/backend.js";
import type { DelegationState, NotificationTerms } from "../state/delegation-state.js";
import { keyOf } from "../state/keys.js";
import type { StateManager } from "../state/manager.js";
import { stateidOf } from "../state/stateid.js";
import { XdrWriter } from "../xdr/index.js";
import {
  ATTR_BY_BIT,
  STATS_ATTRS,
  SUPPORTED_ATTRS,
  WRITE_ONLY_ATTRS,
  bitmapOf,
  bitsOf,
  difference,
  encodeAttrs,
  intersect,
  type AttrSource,
} from "./attrs/index.js";
import type { CallbackSender } from "./delegations.js";
import type { NfsSettings } from "./settings.js";

/** The notification types this server delivers: all of notify_type4. */
const DELIVERED_TYPES =
  bit(notify_type4.NOTIFY4_CHANGE_CHILD_ATTRS) |
  bit(notify_type4.NOTIFY4_CHANGE_DIR_ATTRS) |
  bit(notify_type4.NOTIFY4_REMOVE_ENTRY) |
  bit(notify_type4.NOTIFY4_ADD_ENTRY) |
  bit(notify_type4.NOTIFY4_RENAME_ENTRY) |
  bit(notify_type4.NOTIFY4_CHANGE_COOKIE_VERIFIER);

/** The types whose notifications carry child attributes: attribute changes, and new entries. */
const CHILD_ATTRS_TYPES =
  bit(notify_type4.NOTIFY4_CHANGE_CHILD_ATTRS) |
  bit(notify_type4.NOTIFY4_ADD_ENTRY) |
  bit(notify_type4.NOTIFY4_RENAME_ENTRY);

/**
 * The attributes a notification can carry: those GETATTR answers per object
 * (not the filesystem-wide statfs figures, nor write-only or rdattr_error).
 */
const NOTIFIABLE_ATTRS: bitmap4 = difference(
  difference(difference(SUPPORTED_ATTRS, STATS_ATTRS), WRITE_ONLY_ATTRS),
  bitmapOf([FATTR4_RDATTR_ERROR]),
);

const NO_ATTRS: fattr4 = { attrmask: [], attr_vals: new Uint8Array(0) };

/** What GET_DIR_DELEGATION asks for (§18.39.3), delays in ms. */
export interface NotificationRequest {
  readonly types: bitmap4;
  readonly childAttributes: bitmap4;
  readonly dirAttributes: bitmap4;
  readonly childDelayMs: number;
  readonly dirDelayMs: number;
}

/** Counters, for tests, benchmarks and the control API. */
export interface NotifyStats {
  /** Changes queued for delivery (one notify4 each). */
  queued: number;
  /** Changes the holder acknowledged (in answered CB_NOTIFYs). */
  delivered: number;
  /** CB_NOTIFY calls sent. */
  calls: number;
  /** Delegations recalled because a change could not be notified (type not granted, overflow, refusal). */
  recalls: number;
}

/** What the notifier needs of Delegations: taking a delegation back. */
export interface DelegationRecaller {
  recall(d: DelegationState): void;
  revoke(d: DelegationState, reason: string): void;
}

/** One delegation's changes waiting to be sent. */
interface Queue {
  readonly d: DelegationState;
  items: { readonly change: notify4; readonly bytes: number }[];
  /** When the earliest queued change must be on its way (ms, the state's clock). */
  dueAt: number;
  timer: NodeJS.Timeout | null;
  /** The CB_NOTIFY in flight, and what cancels it. */
  inFlight: AbortController | null;
}

export class DirectoryNotifications {
  readonly stats: NotifyStats = { queued: 0, delivered: 0, calls: 0, recalls: 0 };
  private readonly queues = new Map<DelegationState, Queue>();
  /** Delegations with notifications in force: the backend is observed while there are any. */
  private readonly watching = new Set<DelegationState>();
  private unobserve: (() => void) | null = null;
  private readonly scratch = new XdrWriter(512);

  constructor(
    private readonly state: StateManager,
    private readonly fs: Pick<FileSystem, "observe" | "capabilities">,
    private readonly callbacks: CallbackSender,
    private readonly delegations: DelegationRecaller,
    private readonly settings: NfsSettings,
    private readonly log: Logger,
  ) {}

  /**
   * The terms to grant for GET_DIR_DELEGATION's request (§18.39.3): the
   * types asked for that this server delivers, the attributes asked for that
   * it can report (only with the type that reports them), and the delays
   * clamped to maxNotifyDelayMs.
   */
  negotiate(asked: NotificationRequest): NotificationTerms {
    const types = (asked.types[0] ?? 0) & DELIVERED_TYPES;
    const has = (t: notify_type4): boolean => (types & bit(t)) !== 0;
    const clamp = (ms: number): number => Math.min(Math.max(0, ms), this.settings.maxNotifyDelayMs);
    return {
      types,
      // The child attributes are those of changed entries and of new ones (notify_add4's ne_attrs).
      childAttributes:
        (types & CHILD_ATTRS_TYPES) !== 0 ? intersect(asked.childAttributes, NOTIFIABLE_ATTRS) : [],
      dirAttributes: has(notify_type4.NOTIFY4_CHANGE_DIR_ATTRS)
        ? intersect(asked.dirAttributes, NOTIFIABLE_ATTRS)
        : [],
      childDelayMs: clamp(asked.childDelayMs),
      dirDelayMs: clamp(asked.dirDelayMs),
    };
  }

  /** A directory delegation with notifications was granted: its changes are watched from now. */
  watch(d: DelegationState): void {
    if (d.notifications === null || d.notifications.types === 0) return;
    this.watching.add(d);
    this.unobserve ??= this.fs.observe((c) => this.changed(c));
  }

  /** The delegation is no longer in force (returned, revoked, recalled, its client gone). */
  forget(d: DelegationState): void {
    const q = this.queues.get(d);
    if (q !== undefined) {
      if (q.timer !== null) clearTimeout(q.timer);
      q.inFlight?.abort();
      this.queues.delete(d);
    }
    if (this.watching.delete(d) && this.watching.size === 0) {
      this.unobserve?.();
      this.unobserve = null;
    }
  }

  /** Changes waiting for delivery over all delegations (for tests and the control API). */
  get pending(): number {
    let n = 0;
    for (const q of this.queues.values()) n += q.items.length;
    return n;
  }

  /** Server shutdown: no timer is left. */
  close(): void {
    for (const d of [...this.watching]) this.forget(d);
  }

  // --- from changes to notifications -------------------------------------------

  private changed(c: FsChange): void {
    switch (c.kind) {
      case "added":
        for (const d of this.delegationsOn(c.dir))
          this.entryChange(d, c.origin, notify_type4.NOTIFY4_ADD_ENTRY, () =>
            this.encode((w) => encodenotify_add4(w, this.added(d, c.entry, c.place, null))),
          );
        return;
      case "removed":
        for (const d of this.delegationsOn(c.dir))
          this.entryChange(d, c.origin, notify_type4.NOTIFY4_REMOVE_ENTRY, () =>
            this.encode((w) => encodenotify_remove4(w, removedEntry(c.entry))),
          );
        return;
      case "renamed":
        this.renamed(c);
        return;
      case "attributes":
        this.attributesChanged(c);
        return;
      case "verifier":
        for (const d of this.delegationsOn(c.dir))
          this.entryChange(d, c.origin, notify_type4.NOTIFY4_CHANGE_COOKIE_VERIFIER, () =>
            this.encode((w) =>
              encodenotify_verifier4(w, {
                nv_old_cookieverf: new Uint8Array(c.before),
                nv_new_cookieverf: new Uint8Array(c.after),
              }),
            ),
          );
        return;
    }
  }

  /**
   * §20.4.3: a rename within the directory is one RENAME_ENTRY; a rename
   * between directories is a REMOVE_ENTRY in the one and an ADD_ENTRY in
   * the other, each sent to that directory's holders.
   */
  private renamed(c: Extract<FsChange, { kind: "renamed" }>): void {
    const replaced = c.replaced === null ? null : removedEntry(c.replaced);
    if (keyOf(c.fromDir) === keyOf(c.toDir)) {
      for (const d of this.delegationsOn(c.toDir))
        this.entryChange(d, c.origin, notify_type4.NOTIFY4_RENAME_ENTRY, () =>
          this.encode((w) =>
            encodenotify_rename4(w, {
              nrn_old_entry: removedEntry(c.from),
              nrn_new_entry: this.added(d, c.to, c.place, replaced),
            }),
          ),
        );
      return;
    }
    for (const d of this.delegationsOn(c.fromDir))
      this.entryChange(d, c.origin, notify_type4.NOTIFY4_REMOVE_ENTRY, () =>
        this.encode((w) => encodenotify_remove4(w, removedEntry(c.from))),
      );
    for (const d of this.delegationsOn(c.toDir))
      this.entryChange(d, c.origin, notify_type4.NOTIFY4_ADD_ENTRY, () =>
        this.encode((w) => encodenotify_add4(w, this.added(d, c.to, c.place, replaced))),
      );
  }

  /**
   * An object's attributes changed: CHANGE_DIR_ATTRS to the holders of a
   * delegation on it, CHANGE_CHILD_ATTRS to the holders of one on each
   * directory naming it — each with the attributes of its mask whose values
   * changed, if any did. The holder's own attribute changes are not sent
   * (§20.4.3 does not require it), and a holder not granted the type is not
   * recalled: the attributes are not what a directory delegation protects
   * (a SETATTR of the directory itself was recalled for before it ran).
   */
  private attributesChanged(c: Extract<FsChange, { kind: "attributes" }>): void {
    for (const d of this.delegationsOn(c.handle)) {
      const terms = d.notifications!;
      if (c.origin === d.client || !granted(terms, notify_type4.NOTIFY4_CHANGE_DIR_ATTRS)) continue;
      const attrs = this.changedAttributes(terms.dirAttributes, c.handle, c.before, c.after);
      if (attrs !== null)
        this.enqueue(
          d,
          notify_type4.NOTIFY4_CHANGE_DIR_ATTRS,
          this.encode((w) =>
            encodenotify_attr4(w, { na_changed_entry: { ne_file: EMPTY_NAME, ne_attrs: attrs } }),
          ),
          terms.dirDelayMs,
        );
    }
    for (const name of c.names)
      for (const d of this.delegationsOn(name.dir)) {
        const terms = d.notifications!;
        if (c.origin === d.client || !granted(terms, notify_type4.NOTIFY4_CHANGE_CHILD_ATTRS))
          continue;
        const attrs = this.changedAttributes(terms.childAttributes, c.handle, c.before, c.after);
        if (attrs !== null)
          this.enqueue(
            d,
            notify_type4.NOTIFY4_CHANGE_CHILD_ATTRS,
            this.encode((w) =>
              encodenotify_attr4(w, {
                na_changed_entry: { ne_file: utf8(name.name), ne_attrs: attrs },
              }),
            ),
            terms.childDelayMs,
          );
      }
  }

  /**
   * An entry change (add, remove, rename, new verifier) of a directory `d`
   * delegates: queued if `type` was granted; else, when another client (or
   * nobody in particular) made it, the delegation can no longer be honoured
   * and is recalled (§10.9.4). The holder's own changes never recall its
   * delegation (§10.9.2); they are notified when the type was granted
   * (§20.4.3: additions and removals it makes itself are sent to it too).
   */
  private entryChange(
    d: DelegationState,
    origin: FsChange["origin"],
    type: notify_type4,
    encode: () => Uint8Array,
  ): void {
    if (granted(d.notifications!, type)) {
      this.enqueue(d, type, encode(), this.settings.notifyBatchMs);
      return;
    }
    if (origin !== d.client) this.recallFor(d, `change of type ${type} not granted`);
  }

  /** The directory delegations with notifications in force on `dir`. */
  private delegationsOn(dir: FileHandle): DelegationState[] {
    const file = this.state.fileState(keyOf(dir));
    if (file === undefined || file.delegations.size === 0) return [];
    const out: DelegationState[] = [];
    for (const d of file.delegations)
      if (this.watching.has(d) && !d.revoked && d.recalledAt === null) out.push(d);
    return out;
  }

  /** notify_add4 for `entry`, with its cookie and attributes, the entry before it and whether it is last (§20.4.3). */
  private added(
    d: DelegationState,
    entry: ChangedEntry,
    place: EntryPlace,
    replaced: notify_remove4 | null,
  ): notify_add4 {
    const mask = d.notifications!.childAttributes;
    return {
      nad_old_entry: replaced === null ? [] : [replaced],
      nad_new_entry: {
        ne_file: utf8(entry.name),
        ne_attrs: this.attrsOf(mask, entry.handle, entry.attrs),
      },
      nad_new_entry_cookie: [entry.cookie],
      nad_prev_entry:
        place.previous === null
          ? []
          : [
              {
                // Its name and cookie place the new entry (§20.4.3); its attributes
                // are not what changed, and are left out.
                pe_prev_entry: { ne_file: utf8(place.previous.name), ne_attrs: NO_ATTRS },
                pe_prev_entry_cookie: place.previous.cookie,
              },
            ],
      nad_last_entry: place.last,
    };
  }

  private attrsOf(mask: readonly number[], handle: FileHandle, attrs: FileAttributes): fattr4 {
    if (mask.length === 0) return NO_ATTRS;
    return encodeAttrs([...mask], this.source(handle, attrs));
  }

  /** The attributes of `mask` whose values differ between `before` and `after` (their new values), or null. */
  private changedAttributes(
    mask: readonly number[],
    handle: FileHandle,
    before: FileAttributes,
    after: FileAttributes,
  ): fattr4 | null {
    const changed: number[] = [];
    for (const b of bitsOf([...mask])) {
      if (ATTR_BY_BIT[b]?.write == null) continue;
      const one = bitmapOf([b]);
      const was = encodeAttrs(one, this.source(handle, before)).attr_vals;
      const now = encodeAttrs(one, this.source(handle, after)).attr_vals;
      if (Buffer.compare(was, now) !== 0) changed.push(b);
    }
    return changed.length === 0 ? null : encodeAttrs(bitmapOf(changed), this.source(handle, after));
  }

  private source(handle: FileHandle, attrs: FileAttributes): AttrSource {
    return { handle, attrs, caps: this.fs.capabilities, settings: this.settings };
  }

  /** XDR bytes written by `write`, copied out of the scratch writer. */
  private encode(write: (w: XdrWriter) => void): Uint8Array {
    this.scratch.reset();
    write(this.scratch);
    return this.scratch.toBytes();
  }

  // --- queues and CB_NOTIFY --------------------------------------------------------

  private enqueue(d: DelegationState, type: notify_type4, vals: Uint8Array, delayMs: number): void {
    let q = this.queues.get(d);
    if (q === undefined) {
      q = { d, items: [], dueAt: Infinity, timer: null, inFlight: null };
      this.queues.set(d, q);
    }
    if (q.items.length >= this.settings.maxQueuedNotifications) {
      this.recallFor(d, "notification queue full");
      return;
    }
    const change: notify4 = { notify_mask: bitmapOf([type]), notify_vals: vals };
    // notify4 on the wire: the one-word mask (count + word) and the counted, padded values.
    q.items.push({ change, bytes: 8 + 4 + ((vals.length + 3) & ~3) });
    this.stats.queued++;
    q.dueAt = Math.min(q.dueAt, this.state.now() + delayMs);
    this.schedule(q);
  }

  /** Sets the queue's timer for its due time (unless a CB_NOTIFY is in flight: its end reschedules). */
  private schedule(q: Queue): void {
    if (q.inFlight !== null || q.items.length === 0) return;
    if (q.timer !== null) clearTimeout(q.timer);
    const wait = Math.max(0, q.dueAt - this.state.now());
    q.timer = setTimeout(() => this.flush(q), wait);
  }

  /** Sends the queued changes, in order, as many as fit one call; the rest follow it. */
  private flush(q: Queue): void {
    q.timer = null;
    if (this.queues.get(q.d) !== q || q.items.length === 0) return;
    const d = q.d;
    // The CB_NOTIFY header: stateid, filehandle and the array's count.
    const header = 4 + 16 + 4 + ((d.fh.length + 3) & ~3) + 4;
    const budget = this.callbacks.operationBudget(d.client) - header;
    let bytes = 0;
    let n = 0;
    while (n < q.items.length && bytes + q.items[n]!.bytes <= budget) bytes += q.items[n++]!.bytes;
    if (n === 0) {
      // Not even one change fits the client's back channel: it cannot be told (§10.9.4).
      this.recallFor(d, "notification larger than the back channel accepts");
      return;
    }
    const batch = q.items.slice(0, n).map((i) => i.change);
    const stop = new AbortController();
    q.inFlight = stop;
    this.stats.calls++;
    void this.callbacks
      .send(d.client, {
        ops: [
          {
            argop: nfs_cb_opnum4.OP_CB_NOTIFY,
            opcbnotify: { cna_stateid: stateidOf(d), cna_fh: d.fh, cna_changes: batch },
          },
        ],
        // Past a lease without an answer the holder is taken for gone (§10.2.1).
        deadlineMs: this.settings.leaseTimeSec * 1000,
        signal: stop.signal,
      })
      .then((result) => {
        if (this.queues.get(d) !== q || q.inFlight !== stop) return;
        q.inFlight = null;
        if (result.kind === "unreachable") {
          this.delegations.revoke(d, "client unreachable for CB_NOTIFY");
          return;
        }
        if (result.kind !== "answered") return;
        if (result.status !== nfsstat4.NFS4_OK) {
          // The holder could not apply them: its cached view of the directory is wrong.
          this.recallFor(d, `CB_NOTIFY answered ${result.status}`);
          return;
        }
        this.stats.delivered += n;
        q.items.splice(0, n);
        if (q.items.length === 0) {
          q.dueAt = Infinity;
          return;
        }
        // What came in meanwhile is due now: it has waited for this call.
        q.dueAt = Math.min(q.dueAt, this.state.now());
        this.schedule(q);
      });
  }

  /** Takes `d` back (the recall drops its queue: the holder rereads the directory). */
  private recallFor(d: DelegationState, reason: string): void {
    this.log.info(
      { clientid: d.client.clientid.toString(16), reason },
      "recalling directory delegation",
    );
    this.stats.recalls++;
    this.delegations.recall(d);
  }
}

const EMPTY_NAME = new Uint8Array(0);
const encoder = new TextEncoder();

function utf8(name: string): Uint8Array {
  return encoder.encode(name);
}

function bit(t: notify_type4): number {
  return 1 << t;
}

function granted(terms: NotificationTerms, t: notify_type4): boolean {
  return (terms.types & bit(t)) !== 0;
}

/** notify_remove4 for an entry: its name and cookie (no attributes: it is gone). */
function removedEntry(e: { readonly name: string; readonly cookie: bigint }): notify_remove4 {
  return {
    nrm_old_entry: { ne_file: utf8(e.name), ne_attrs: NO_ATTRS },
    nrm_old_entry_cookie: e.cookie,
  };
}

// File delegations, the NFS side (RFC 8881 §10.2, §10.4): when OPEN grants
// one, how another client's conflicting request recalls it (CB_RECALL, §20.2)
// and is answered NFS4ERR_DELAY until it is returned, when an unreturned one
// is revoked (§10.2.1), CB_GETATTR for a write delegation (§10.4.3), and
// CB_RECALL_ANY when there are too many (§20.6). The delegation objects
// themselves live in the state (state/delegation-state.ts); the calls to the
// client go through the callback service.

import type {
  bitmap4,
  fattr4,
  nfsace4,
  open_delegation4,
  open_none_delegation4,
} from "../../generated/nfs4/index.js";
import {
  ACE4_ACCESS_ALLOWED_ACE_TYPE,
  FATTR4_CHANGE,
  FATTR4_SIZE,
  OPEN4_SHARE_ACCESS_WANT_ANY_DELEG,
  OPEN4_SHARE_ACCESS_WANT_CANCEL,
  OPEN4_SHARE_ACCESS_WANT_DELEG_MASK,
  OPEN4_SHARE_ACCESS_WANT_NO_DELEG,
  OPEN4_SHARE_ACCESS_WANT_NO_PREFERENCE,
  OPEN4_SHARE_ACCESS_WANT_READ_DELEG,
  OPEN4_SHARE_ACCESS_WANT_WRITE_DELEG,
  RCA4_TYPE_MASK_RDATA_DLG,
  RCA4_TYPE_MASK_WDATA_DLG,
  RCA4_TYPE_MASK_DIR_DLG,
  limit_by4,
  nfs_cb_opnum4,
  nfsstat4,
  open_delegation_type4,
  why_no_delegation4,
  type notify_type4,
} from "../../generated/nfs4/index.js";
import type { Logger } from "pino";
import type { CallbackService } from "../callback/service.js";
import type { FileAttributes, FileSystem } from "../fs/backend.js";
import type { ClientRecord } from "../state/client.js";
import type {
  DelegationEnd,
  DelegationState,
  DelegationType,
  GrantingCall,
} from "../state/delegation-state.js";
import { keyOf } from "../state/keys.js";
import type { StateManager } from "../state/manager.js";
import { ACCESS_WRITE } from "../state/open-state.js";
import type { NfsError } from "../state/slot-table.js";
import { stateidOf } from "../state/stateid.js";
import { XdrError, XdrReader } from "../xdr/index.js";
import { bitmapOf, bitsOf, hasBit } from "../protocol/bitmap.js";
import { DirectoryNotifications, type NotificationRequest } from "./dir-notifications.js";
import type { NfsSettings } from "./settings.js";

/** The part of the callback service delegations use (tests give their own). */
export type CallbackSender = Pick<CallbackService, "send" | "canCallBack" | "operationBudget">;

/** Which delegations OPEN may grant: none, read only, or read and write. */
export type DelegationPolicy = "none" | "read" | "read-write";

/** Which directory delegations GET_DIR_DELEGATION grants: none, caching ones (no notifications), or with notifications. */
export type DirectoryDelegationPolicy = "none" | "caching" | "notifications";

/** What a delegation conflicts with: another client reading the file, or changing it (or its name). */
export type Conflict = "read" | "write";

/** Counters, for tests and the control API. */
export interface DelegationStats {
  granted: number;
  /** CB_RECALLs sent (one per delegation recalled). */
  recalled: number;
  /** Recalled delegations the client gave back (DELEGRETURN). */
  returned: number;
  /** Delegations revoked (not returned within a lease, or the holder unreachable or refusing). */
  revoked: number;
  recallAnySent: number;
  cbGetattrSent: number;
}

/** Of DelegationStats' granted, recalled, returned and revoked: the directory delegations (RFC 8881 §10.9). */
export interface DirectoryDelegationStats {
  granted: number;
  recalled: number;
  returned: number;
  revoked: number;
}

/** Most files remembered as recently recalled (oldest forgotten first). */
const MAX_RECENT_RECALLS = 10_000;
/** CB_RECALL_ANY once the delegations in force pass this share of maxDelegations. */
const RECALL_ANY_HIGH_WATER = 0.9;

/** The permissions of a delegation: the Linux server's empty ACE (the client checks ACCESS itself). */
const NO_PERMISSIONS: nfsace4 = {
  type: ACE4_ACCESS_ALLOWED_ACE_TYPE,
  flag: 0,
  access_mask: 0,
  who: new Uint8Array(0),
};

export class Delegations {
  readonly stats: DelegationStats = {
    granted: 0,
    recalled: 0,
    returned: 0,
    revoked: 0,
    recallAnySent: 0,
    cbGetattrSent: 0,
  };
  /** The directory delegations among stats' (the rest are file delegations). */
  readonly directoryStats: DirectoryDelegationStats = {
    granted: 0,
    recalled: 0,
    returned: 0,
    revoked: 0,
  };
  /**
   * Delegations recalled and not yet returned or revoked, each with what
   * stops its CB_RECALL once the delegation is gone (nothing left to recall).
   */
  private readonly recalling = new Map<DelegationState, AbortController>();
  /** Files whose delegation was recalled lately (file key → when), not delegated again for a while. */
  private readonly recentRecalls = new Map<string, number>();
  private lastRecallAny = -Infinity;
  /**
   * Directories whose delegation a change was recalled for, answered
   * NFS4ERR_DELAY and not yet retried successfully (directory key → when):
   * no directory delegation is granted for them meanwhile, or a holder
   * re-arming at once would have the change recalled for again and again.
   */
  private readonly awaitingChange = new Map<string, number>();
  /** Directory delegations in force per client (bounded by maxDirDelegationsPerClient). */
  private readonly directoryCounts = new Map<ClientRecord, number>();
  /** CB_NOTIFY for the directory delegations granted with notifications. */
  readonly notifications: DirectoryNotifications;

  constructor(
    private readonly state: StateManager,
    private readonly callbacks: CallbackSender,
    private readonly settings: NfsSettings,
    private readonly log: Logger,
    fs: Pick<FileSystem, "observe" | "capabilities">,
  ) {
    this.notifications = new DirectoryNotifications(
      state,
      fs,
      callbacks,
      this,
      settings,
      log.child({ module: "dir-notifications" }),
    );
  }

  /** The state manager calls this when a delegation stops being in force, whatever the reason. */
  removed(d: DelegationState, end: DelegationEnd): void {
    if (d.type === "directory") {
      this.notifications.forget(d);
      const n = (this.directoryCounts.get(d.client) ?? 1) - 1;
      if (n > 0) this.directoryCounts.set(d.client, n);
      else this.directoryCounts.delete(d.client);
    }
    // Only a recalled delegation the client gave back counts as returned: one
    // that went with its client (e.g. a courtesy client evicted by the very
    // conflict that recalled it) was neither returned nor revoked.
    const recall = this.recalling.get(d);
    if (recall === undefined) return;
    this.recalling.delete(d);
    recall.abort();
    if (end === "returned") {
      this.stats.returned++;
      if (d.type === "directory") this.directoryStats.returned++;
    }
  }

  /** Delegations being recalled (for tests and the control API). */
  get recallsInProgress(): number {
    return this.recalling.size;
  }

  // --- granting ----------------------------------------------------------------

  /**
   * The delegation answer to an OPEN (or WANT_DELEGATION) by `client` of the
   * file, with share access `access` and the wants of `shareAccess`
   * (§18.16.3, §10.4): a new delegation if the policy allows one, else none,
   * with the reason when the client asked for one.
   */
  offer(
    client: ClientRecord,
    fh: Uint8Array,
    access: number,
    shareAccess: number,
    grantedBy: GrantingCall | null,
  ): open_delegation4 {
    const want = shareAccess & OPEN4_SHARE_ACCESS_WANT_DELEG_MASK;
    if (want === OPEN4_SHARE_ACCESS_WANT_CANCEL)
      return none({ ond_why: why_no_delegation4.WND4_CANCELLED });
    if (want === OPEN4_SHARE_ACCESS_WANT_NO_DELEG)
      return none({ ond_why: why_no_delegation4.WND4_NOT_WANTED });
    const asked = want !== OPEN4_SHARE_ACCESS_WANT_NO_PREFERENCE;
    const decided = this.decide(client, fh, access, want);
    if (typeof decided !== "string") {
      if (!asked) return { delegation_type: open_delegation_type4.OPEN_DELEGATE_NONE };
      return none(decided);
    }
    const d = this.grant(client, fh, decided, grantedBy);
    if (d === null)
      return asked
        ? none(resource())
        : { delegation_type: open_delegation_type4.OPEN_DELEGATE_NONE };
    return granted(d, false);
  }

  /**
   * The delegation a client reclaims with OPEN CLAIM_PREVIOUS after a server
   * restart (§10.2.1, §18.16.3): it held it before, so it gets it again
   * whatever the policy and other clients' state (all of which is being
   * reclaimed too, and was compatible with it). A client whose back channel
   * is not usable, or a policy that no longer grants delegations, gets it
   * with `recall` set: it returns it at once, sending the locks it cached
   * under it first. Doing without it altogether would be worse: the Linux
   * client does not send the server a lock it took under a delegation that
   * was not reclaimed. None only when the client is at its stateid limit.
   */
  reclaim(
    client: ClientRecord,
    fh: Uint8Array,
    type: DelegationType,
    grantedBy: GrantingCall | null,
  ): open_delegation4 {
    const d = this.grant(client, fh, type, grantedBy);
    if (d === null) return { delegation_type: open_delegation_type4.OPEN_DELEGATE_NONE };
    const recall = this.settings.delegationPolicy === "none" || !this.callbacks.canCallBack(client);
    return granted(d, recall);
  }

  /** The delegation type to grant, or why none (§10.4's conditions and the policy). */
  private decide(
    client: ClientRecord,
    fh: Uint8Array,
    access: number,
    want: number,
  ): DelegationType | open_none_delegation4 {
    const policy = this.settings.delegationPolicy;
    if (policy === "none") return { ond_why: why_no_delegation4.WND4_NOT_SUPP_FTYPE };
    const fileKey = keyOf(fh);
    const declined = this.declined(client, fileKey);
    if (declined !== null) return declined;
    const file = this.state.fileState(fileKey);
    let othersOpen = false;
    let othersWrite = false;
    let othersDelegate = false;
    if (file) {
      for (const d of file.delegations) {
        // One delegation per client and file: a second OPEN keeps the first.
        if (d.client === client) return contention();
        othersDelegate = true;
        if (d.type === "write" || this.recalling.has(d)) return contention();
      }
      for (const o of file.opens) {
        if (o.client === client) continue;
        othersOpen = true;
        if ((o.access & ACCESS_WRITE) !== 0) othersWrite = true;
      }
    }
    // Someone else writes the file: no delegation can promise it is unchanged.
    if (othersWrite) return contention();
    // Any opener for writing may get a write delegation, a write-only one too
    // (Linux nfsd: read-write opens only). Through the Linux client, files
    // written with `echo > f` and read back were 1.6× faster to write and ~15×
    // to read with it (BENCHMARKS.md, eleventh pass): close() need not wait for
    // the WRITE, and the reads need no OPEN.
    const writeOk =
      policy === "read-write" && (access & ACCESS_WRITE) !== 0 && !othersOpen && !othersDelegate;
    switch (want) {
      case OPEN4_SHARE_ACCESS_WANT_WRITE_DELEG:
        return writeOk ? "write" : contention();
      case OPEN4_SHARE_ACCESS_WANT_READ_DELEG:
        return "read";
      case OPEN4_SHARE_ACCESS_WANT_ANY_DELEG:
      default:
        // A writer gets a write delegation or none, as from Linux nfsd: a read
        // delegation would not let it cache its writes.
        if (writeOk) return "write";
        return (access & ACCESS_WRITE) !== 0 ? contention() : "read";
    }
  }

  /**
   * A directory delegation for GET_DIR_DELEGATION (§18.39), or null when the
   * server declines (GDD4_UNAVAIL): the policy, no back channel, the limits,
   * a recent recall of the directory, or the client already holding one of
   * it. Under the "notifications" policy it carries the `asked` terms as
   * negotiated (DirectoryNotifications.negotiate); under "caching", none: any
   * change another client makes to the directory recalls it (§10.9.2).
   */
  offerDirectory(
    client: ClientRecord,
    fh: Uint8Array,
    grantedBy: GrantingCall | null,
    asked: NotificationRequest,
  ): DelegationState | null {
    const policy = this.settings.directoryDelegations;
    if (policy === "none") return null;
    const fileKey = keyOf(fh);
    const terms = policy === "notifications" ? this.notifications.negotiate(asked) : null;
    // A delegation told of changes is not recalled by the ones it is told of,
    // so it skips the recall cooldown (a watching client re-arms at once) —
    // but not while a change it was recalled for still waits for its retry.
    const notified = terms !== null && terms.types !== 0;
    if (this.declined(client, fileKey, !notified) !== null) return null;
    if (this.awaitingChange.has(fileKey)) return null;
    const held = this.directoryCounts.get(client) ?? 0;
    if (held >= this.settings.maxDirDelegationsPerClient) return null;
    for (const d of this.state.fileState(fileKey)?.delegations ?? [])
      if (d.client === client || this.recalling.has(d)) return null;
    const d = this.grant(client, fh, "directory", grantedBy);
    if (d === null) return null;
    this.directoryCounts.set(client, held + 1);
    d.notifications = terms;
    this.notifications.watch(d);
    return d;
  }

  /**
   * Why no delegation of any kind may go to the client for the object now,
   * or null: recalls must be able to reach it (§10.2: a callback path is a
   * precondition), the total is bounded, and (with `cooldown`) an object
   * recalled lately is shared (nfs.recallCooldownSec).
   */
  private declined(
    client: ClientRecord,
    fileKey: string,
    cooldown = true,
  ): open_none_delegation4 | null {
    if (!this.callbacks.canCallBack(client)) return resource();
    if (this.state.delegationCount >= this.settings.maxDelegations) return resource();
    if (!cooldown) return null;
    const recalledAt = this.recentRecalls.get(fileKey);
    if (recalledAt === undefined) return null;
    if (this.state.now() - recalledAt < this.settings.recallCooldownSec * 1000) return contention();
    this.recentRecalls.delete(fileKey);
    return null;
  }

  /** A new delegation, counted, or null when the client is at its stateid limit. */
  private grant(
    client: ClientRecord,
    fh: Uint8Array,
    type: DelegationType,
    grantedBy: GrantingCall | null,
  ): DelegationState | null {
    const d = this.state.newDelegation(client, fh, type, grantedBy);
    if (d === null) return null;
    this.stats.granted++;
    if (type === "directory") this.directoryStats.granted++;
    this.maybeRecallAny();
    return d;
  }

  // --- conflicts and recalls ------------------------------------------------

  /**
   * Before an operation by `requester` that reads (`"read"`) or changes
   * (`"write"`) the file: recalls the other clients' delegations it conflicts
   * with (a read conflicts with write delegations only). Returns
   * NFS4ERR_DELAY while any is outstanding (§10.4.6: the operation is retried
   * once they are returned or revoked), else null. A courtesy client's
   * delegation (its lease expired) is not waited for: the client's state goes.
   * `notified` names the notification that describes a change of a
   * directory: a directory delegation granted it is not recalled.
   */
  conflicts(
    fh: Uint8Array,
    requester: ClientRecord | null,
    what: Conflict,
    notified?: notify_type4,
  ): NfsError | null {
    const key = keyOf(fh);
    const file = this.state.fileState(key);
    if (file === undefined || file.delegations.size === 0) return this.goesAhead(key, what);
    let outstanding = false;
    for (const d of [...file.delegations]) {
      if (d.client === requester) continue;
      // Reading conflicts with a write delegation only (a directory is read by LOOKUP/READDIR, not recalled).
      if (what === "read" && d.type !== "write") continue;
      // A directory change its holder is notified of leaves the delegation in force (§10.9.4).
      if (notified !== undefined && ((d.notifications?.types ?? 0) & (1 << notified)) !== 0)
        continue;
      if (this.state.evictIfCourtesy(d.client)) continue;
      this.recall(d);
      if (d.type === "directory") remember(this.awaitingChange, d.fileKey, this.state.now());
      outstanding = true;
    }
    return outstanding ? nfsstat4.NFS4ERR_DELAY : this.goesAhead(key, what);
  }

  /** True when some client holds a delegation of the object (a quick test before costlier checks). */
  delegated(fh: Uint8Array): boolean {
    return (this.state.fileState(keyOf(fh))?.delegations.size ?? 0) > 0;
  }

  /** No conflict: a change of the object goes ahead, so a directory may be delegated again. */
  private goesAhead(key: string, what: Conflict): null {
    if (what === "write" && this.awaitingChange.size > 0) this.awaitingChange.delete(key);
    return null;
  }

  /** Sends CB_RECALL for `d` (once); revokes it if the client cannot be reached or refuses. */
  recall(d: DelegationState): void {
    if (d.recalledAt !== null || d.revoked) return;
    // A recalled directory delegation is told of no more changes: its holder rereads the directory.
    if (d.type === "directory") this.notifications.forget(d);
    const now = this.state.now();
    d.recalledAt = now;
    const stop = new AbortController();
    this.recalling.set(d, stop);
    this.rememberRecall(d.fileKey, now);
    this.stats.recalled++;
    if (d.type === "directory") this.directoryStats.recalled++;
    const request = {
      ops: [
        {
          argop: nfs_cb_opnum4.OP_CB_RECALL,
          opcbrecall: { stateid: stateidOf(d), truncate: false, fh: d.fh },
        },
      ],
      // Past a lease without an answer the delegation is revoked anyway (sweep).
      deadlineMs: this.settings.leaseTimeSec * 1000,
      ...(d.grantedBy ? { referring: d.grantedBy } : {}),
      signal: stop.signal,
    } as const;
    void this.callbacks.send(d.client, request).then((result) => {
      if (!this.recalling.has(d)) return;
      if (result.kind === "unreachable") {
        this.revoke(d, "client unreachable for CB_RECALL");
      } else if (result.kind === "answered" && result.status !== nfsstat4.NFS4_OK) {
        // The client says it cannot return it (e.g. it does not know the
        // stateid): nothing will come back, so waiting a lease would only
        // hold the conflicting client up.
        this.revoke(d, `CB_RECALL answered ${result.status}`);
      }
    });
  }

  private rememberRecall(fileKey: string, now: number): void {
    remember(this.recentRecalls, fileKey, now);
  }

  /** Takes `d` away at once (§10.2.1): its stateid answers NFS4ERR_DELEG_REVOKED from now. */
  revoke(d: DelegationState, reason: string): void {
    if (d.revoked) return;
    this.log.info({ clientid: d.client.clientid.toString(16), reason }, "revoking delegation");
    this.recalling.get(d)?.abort();
    this.recalling.delete(d);
    this.stats.revoked++;
    if (d.type === "directory") this.directoryStats.revoked++;
    this.state.revokeDelegation(d);
  }

  /** Revokes the recalled delegations not returned within a lease (§10.2.1); run periodically. */
  sweep(): void {
    const deadline = this.state.now() - this.settings.leaseTimeSec * 1000;
    for (const d of [...this.recalling.keys()])
      if (d.recalledAt !== null && d.recalledAt <= deadline)
        this.revoke(d, "not returned within a lease");
    const cooldown = this.state.now() - this.settings.recallCooldownSec * 1000;
    for (const [key, at] of this.recentRecalls) {
      if (at > cooldown) break;
      this.recentRecalls.delete(key);
    }
    // A change not retried within a lease was given up on.
    for (const [key, at] of this.awaitingChange) {
      if (at > deadline) break;
      this.awaitingChange.delete(key);
    }
  }

  /**
   * Near maxDelegations, asks every client holding delegations to give back
   * all but half of them (CB_RECALL_ANY, §20.6), at most once per lease.
   */
  private maybeRecallAny(): void {
    const limit = this.settings.maxDelegations;
    if (this.state.delegationCount < limit * RECALL_ANY_HIGH_WATER) return;
    const now = this.state.now();
    if (now - this.lastRecallAny < this.settings.leaseTimeSec * 1000) return;
    this.lastRecallAny = now;
    for (const client of this.state.clientsWithDelegations()) {
      const held = this.state.delegationsOf(client).size;
      this.stats.recallAnySent++;
      void this.callbacks.send(client, {
        ops: [
          {
            argop: nfs_cb_opnum4.OP_CB_RECALL_ANY,
            opcbrecall_any: {
              craa_objects_to_keep: Math.floor(held / 2),
              craa_type_mask: bitmapOf([
                RCA4_TYPE_MASK_RDATA_DLG,
                RCA4_TYPE_MASK_WDATA_DLG,
                RCA4_TYPE_MASK_DIR_DLG,
              ]),
            },
          },
        ],
        deadlineMs: this.settings.callbackTimeoutMs,
      });
    }
  }

  // --- CB_GETATTR ----------------------------------------------------------------

  /**
   * The size and change a client other than the holder of a write delegation
   * must see (§10.4.3): the holder may have written data the server has not
   * seen, so it is asked (CB_GETATTR). If its change differs from the
   * server's, the file was modified: the holder's size, and a change
   * attribute greater than the server's. Without an answer in time, the
   * server's own attributes.
   */
  async attributesFor(
    fh: Uint8Array,
    requester: ClientRecord | null,
    attrs: FileAttributes,
    requested: bitmap4,
  ): Promise<FileAttributes> {
    if (!hasBit(requested, FATTR4_SIZE) && !hasBit(requested, FATTR4_CHANGE)) return attrs;
    const file = this.state.fileState(keyOf(fh));
    if (!file) return attrs;
    let holder: DelegationState | undefined;
    for (const d of file.delegations) if (d.type === "write" && d.client !== requester) holder = d;
    if (!holder) return attrs;
    this.stats.cbGetattrSent++;
    const result = await this.callbacks.send(holder.client, {
      ops: [
        {
          argop: nfs_cb_opnum4.OP_CB_GETATTR,
          opcbgetattr: { fh: holder.fh, attr_request: bitmapOf([FATTR4_SIZE, FATTR4_CHANGE]) },
        },
      ],
      deadlineMs: this.settings.callbackTimeoutMs,
    });
    if (result.kind !== "answered" || result.status !== nfsstat4.NFS4_OK) return attrs;
    const res = result.results[0];
    if (res?.resop !== nfs_cb_opnum4.OP_CB_GETATTR || res.opcbgetattr.status !== nfsstat4.NFS4_OK)
      return attrs;
    const reported = sizeAndChange(res.opcbgetattr.resok4.obj_attributes);
    if (reported === null || reported.change === undefined || reported.change === attrs.change)
      return attrs;
    // Modified at the holder. Each change value it reports that differs from
    // the last one is a further modification, and the change the others see
    // must move on each time (§10.4.3: sc is replaced by nsc >= sc + 1), or a
    // second modification would look like none to a client that saw the first.
    if (reported.change !== holder.holderChange) {
      holder.holderChange = reported.change;
      holder.modificationsSeen++;
    }
    return {
      ...attrs,
      size: reported.size ?? attrs.size,
      change: attrs.change + BigInt(holder.modificationsSeen),
    };
  }
}

/** Notes `key` at `now` in a map kept in time order and bounded to MAX_RECENT_RECALLS (oldest dropped). */
function remember(recent: Map<string, number>, key: string, now: number): void {
  recent.delete(key);
  recent.set(key, now);
  if (recent.size > MAX_RECENT_RECALLS) {
    const oldest = recent.keys().next();
    if (!oldest.done) recent.delete(oldest.value);
  }
}

function none(why: open_none_delegation4): open_delegation4 {
  return { delegation_type: open_delegation_type4.OPEN_DELEGATE_NONE_EXT, od_whynone: why };
}

function resource(): open_none_delegation4 {
  return { ond_why: why_no_delegation4.WND4_RESOURCE, ond_server_will_signal_avail: false };
}

function contention(): open_none_delegation4 {
  return { ond_why: why_no_delegation4.WND4_CONTENTION, ond_server_will_push_deleg: false };
}

/**
 * The size and change in a CB_GETATTR answer (both uint64; attributes come
 * in bit order, so whatever follows them — e.g. RFC 9754's delegated times
 * — is not read), or null if it holds an attribute before them or does not
 * parse.
 */
function sizeAndChange(f: fattr4): { change?: bigint; size?: bigint } | null {
  const out: { change?: bigint; size?: bigint } = {};
  try {
    const r = new XdrReader(f.attr_vals);
    for (const bit of bitsOf(f.attrmask)) {
      if (bit === FATTR4_CHANGE) out.change = r.readUhyper();
      else if (bit === FATTR4_SIZE) out.size = r.readUhyper();
      else if (bit < FATTR4_SIZE) return null;
      else break;
    }
  } catch (e) {
    if (e instanceof XdrError) return null;
    throw e;
  }
  return out;
}

/** The open_delegation4 of a delegation just granted (`recall`: the client must return it at once). */
function granted(d: DelegationState, recall: boolean): open_delegation4 {
  const stateid = stateidOf(d);
  if (d.type === "read")
    return {
      delegation_type: open_delegation_type4.OPEN_DELEGATE_READ,
      read: { stateid, recall, permissions: NO_PERMISSIONS },
    };
  return {
    delegation_type: open_delegation_type4.OPEN_DELEGATE_WRITE,
    write: {
      stateid,
      recall,
      // No space limit: the client may extend the file as far as it likes (§10.4.1).
      space_limit: {
        limitby: limit_by4.NFS_LIMIT_SIZE,
        filesize: 0xffffffffffffffffn,
      },
      permissions: NO_PERMISSIONS,
    },
  };
}

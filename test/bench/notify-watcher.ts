// The watcher of the directory-notification benchmark (notify.ts): a client
// library client holding a directory delegation with NOTIFY4_ADD_ENTRY
// (RFC 8881 §10.9, §18.39) whose callback handler answers every CB_NOTIFY
// NFS4_OK and checks what it carries (§20.4): only notify_add4 entries, each
// expected name exactly once, in the server's cookie order (each entry's
// cookie above the one before, its nad_prev_entry the entry heard just
// before), at the directory's end, with the child attributes granted.
// Anything else is an error the run reports and fails on.

import type {
  CB_COMPOUND4args,
  CB_COMPOUND4res,
  CB_NOTIFY4args,
  nfs_cb_resop4,
  stateid4,
} from "../../generated/nfs4/index.js";
import {
  decodenotify_add4,
  gddrnf4_status,
  nfs_cb_opnum4,
  nfs_opnum4,
  nfsstat4,
  notify_type4,
} from "../../generated/nfs4/index.js";
import type { CallbackHandler, ClientSession } from "../../src/client/index.js";
import { ops, resultOf } from "../../src/client/index.js";
import { bitmapOf, bitsOf } from "../../src/nfs/attrs/index.js";
import { cbStatusResult } from "../../src/protocol/results.js";
import { XdrReader } from "../../src/xdr/index.js";

const text = new TextDecoder();

/** What one round's watcher heard. */
export interface Heard {
  /** CB_NOTIFY operations received (each answered NFS4_OK). */
  readonly calls: number;
  /** notify_add4 entries received. */
  readonly changes: number;
  /** performance.now() when the last expected entry arrived, or null. */
  readonly lastAt: number | null;
  /** CB_RECALLs received for the delegation. */
  readonly recalls: number;
  /** What was wrong (missing, duplicated, out of order, unexpected); empty when all is well. */
  readonly errors: readonly string[];
}

/** The delegation a round watches, and what it expects to hear. */
interface Round {
  readonly stateid: stateid4;
  readonly dir: Uint8Array;
  /** The child attributes granted: every added entry must carry exactly these. */
  readonly childAttributes: readonly number[];
  /** The names the changer creates; each must be heard once. */
  readonly expected: ReadonlySet<string>;
  readonly seen: Set<string>;
  calls: number;
  changes: number;
  lastCookie: bigint | null;
  lastName: string | null;
  lastAt: number | null;
  recalls: number;
  readonly errors: string[];
  /** Resolved once every expected name was heard, or the delegation was recalled. */
  readonly finished: Promise<void>;
  finish: () => void;
}

/** Only the first few errors are kept: one wrong batch could otherwise produce thousands. */
const MAX_ERRORS = 20;

export class NotifyWatcher {
  private round: Round | null = null;
  private session: ClientSession | null = null;

  /** The client's CB_COMPOUND handler (NfsClientOptions.onCallback). */
  readonly handler: CallbackHandler = (args) => this.answer(args);

  /** The watcher's session, used for GET_DIR_DELEGATION and DELEGRETURN. */
  attach(session: ClientSession): void {
    this.session = session;
  }

  /**
   * GET_DIR_DELEGATION on `dir` for NOTIFY4_ADD_ENTRY with `childAttributes`
   * (no delay asked: entries are sent as they come); then listens for the
   * `expected` names. Throws unless the delegation is granted with ADD_ENTRY.
   */
  async watch(
    dir: Uint8Array,
    childAttributes: readonly number[],
    expected: ReadonlySet<string>,
  ): Promise<void> {
    const session = this.sessionOrThrow();
    const r = await session.compound([
      ops.putfh(dir),
      {
        argop: nfs_opnum4.OP_GET_DIR_DELEGATION,
        opget_dir_delegation: {
          gdda_signal_deleg_avail: false,
          gdda_notification_types: bitmapOf([notify_type4.NOTIFY4_ADD_ENTRY]),
          gdda_child_attr_delay: { seconds: 0n, nseconds: 0 },
          gdda_dir_attr_delay: { seconds: 0n, nseconds: 0 },
          gdda_child_attributes: bitmapOf([...childAttributes]),
          gdda_dir_attributes: [],
        },
      },
    ]);
    const g = resultOf(r.resarray[1], nfs_opnum4.OP_GET_DIR_DELEGATION);
    if (g?.gddr_status !== nfsstat4.NFS4_OK) throw new Error(`GET_DIR_DELEGATION: ${r.status}`);
    const nf = g.gddr_res_non_fatal4;
    if (nf.gddrnf_status !== gddrnf4_status.GDD4_OK)
      throw new Error("GET_DIR_DELEGATION: GDD4_UNAVAIL (is nfs.directoryDelegations off?)");
    const ok = nf.gddrnf_resok4;
    if (!bitsOf(ok.gddr_notification).includes(notify_type4.NOTIFY4_ADD_ENTRY))
      throw new Error("GET_DIR_DELEGATION did not grant NOTIFY4_ADD_ENTRY");
    let finish = (): void => {};
    const finished = new Promise<void>((resolve) => (finish = resolve));
    this.round = {
      stateid: { seqid: ok.gddr_stateid.seqid, other: new Uint8Array(ok.gddr_stateid.other) },
      dir,
      childAttributes: bitsOf(ok.gddr_child_attributes),
      expected,
      seen: new Set(),
      calls: 0,
      changes: 0,
      lastCookie: null,
      lastName: null,
      lastAt: null,
      recalls: 0,
      errors: [],
      finished,
      finish,
    };
  }

  /**
   * Waits until every expected name was heard (or the delegation recalled,
   * or `deadlineMs` passed: then the missing names are an error), calls
   * `onHeard` (before anything else is sent: the benchmark reads the
   * server's CPU time there), returns the delegation, and reports what was
   * heard.
   */
  async end(deadlineMs: number, onHeard: () => void = () => {}): Promise<Heard> {
    const round = this.round;
    if (round === null) throw new Error("end() without watch()");
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      round.finished,
      new Promise<void>((resolve) => (timer = setTimeout(resolve, deadlineMs))),
    ]);
    clearTimeout(timer);
    onHeard();
    this.round = null;
    const missing = round.expected.size - round.seen.size;
    if (missing > 0)
      round.errors.push(`${missing} of ${round.expected.size} entries never notified`);
    if (round.recalls > 0) round.errors.push(`the delegation was recalled (${round.recalls}×)`);
    // Given back whether recalled or not: the next round watches another directory.
    const r = await this.sessionOrThrow().compound([
      ops.putfh(round.dir),
      ops.delegreturn(round.stateid),
    ]);
    if (r.status !== nfsstat4.NFS4_OK && round.recalls === 0)
      round.errors.push(`DELEGRETURN answered ${r.status}`);
    return {
      calls: round.calls,
      changes: round.changes,
      lastAt: round.lastAt,
      recalls: round.recalls,
      errors: round.errors,
    };
  }

  private sessionOrThrow(): ClientSession {
    if (this.session === null) throw new Error("the watcher has no session yet");
    return this.session;
  }

  private answer(args: CB_COMPOUND4args): CB_COMPOUND4res {
    const resarray: nfs_cb_resop4[] = [];
    for (const op of args.argarray) {
      switch (op.argop) {
        case nfs_cb_opnum4.OP_CB_SEQUENCE: {
          const s = op.opcbsequence;
          resarray.push({
            resop: nfs_cb_opnum4.OP_CB_SEQUENCE,
            opcbsequence: {
              csr_status: nfsstat4.NFS4_OK,
              csr_resok4: {
                csr_sessionid: s.csa_sessionid,
                csr_sequenceid: s.csa_sequenceid,
                csr_slotid: s.csa_slotid,
                csr_highest_slotid: s.csa_highest_slotid,
                csr_target_highest_slotid: s.csa_highest_slotid,
              },
            },
          });
          break;
        }
        case nfs_cb_opnum4.OP_CB_NOTIFY:
          this.notified(op.opcbnotify);
          resarray.push(cbStatusResult(op.argop, nfsstat4.NFS4_OK));
          break;
        case nfs_cb_opnum4.OP_CB_RECALL:
          // Acknowledged; end() returns it. A recall fails the run.
          if (this.round !== null) {
            this.round.recalls++;
            this.round.finish();
          }
          resarray.push(cbStatusResult(op.argop, nfsstat4.NFS4_OK));
          break;
        default:
          resarray.push(cbStatusResult(op.argop, nfsstat4.NFS4ERR_NOTSUPP));
          return { status: nfsstat4.NFS4ERR_NOTSUPP, tag: args.tag, resarray };
      }
    }
    return { status: nfsstat4.NFS4_OK, tag: args.tag, resarray };
  }

  /** One CB_NOTIFY: checks and counts its entries (see the header comment). */
  private notified(n: CB_NOTIFY4args): void {
    const round = this.round;
    if (round === null) return; // a late call for a delegation already returned
    round.calls++;
    const error = (what: string): void => {
      if (round.errors.length < MAX_ERRORS) round.errors.push(what);
    };
    for (const change of n.cna_changes) {
      const types = bitsOf(change.notify_mask);
      if (types.length !== 1 || types[0] !== notify_type4.NOTIFY4_ADD_ENTRY) {
        error(`notification of types [${types.join(",")}], not ADD_ENTRY alone`);
        continue;
      }
      const r = new XdrReader(change.notify_vals);
      const add = decodenotify_add4(r);
      if (r.remaining !== 0) error("notify_add4 followed by extra bytes");
      round.changes++;
      const name = text.decode(add.nad_new_entry.ne_file);
      const cookie = add.nad_new_entry_cookie[0];
      const prev = add.nad_prev_entry[0];
      const prevName = prev === undefined ? null : text.decode(prev.pe_prev_entry.ne_file);
      if (!round.expected.has(name)) error(`${name}: not a name the changer created`);
      else if (round.seen.has(name)) error(`${name}: notified twice`);
      if (cookie === undefined) error(`${name}: no cookie`);
      else if (round.lastCookie !== null && cookie <= round.lastCookie)
        error(`${name}: cookie ${cookie} after ${round.lastCookie}`);
      if (prevName !== round.lastName)
        error(`${name}: previous entry ${prevName}, but ${round.lastName} was heard before it`);
      if (!add.nad_last_entry) error(`${name}: not the directory's last entry`);
      const attrs = bitsOf(add.nad_new_entry.ne_attrs.attrmask);
      if (attrs.join(",") !== round.childAttributes.join(","))
        error(`${name}: attributes [${attrs.join(",")}], granted [${round.childAttributes}]`);
      if (round.expected.has(name)) round.seen.add(name);
      round.lastCookie = cookie ?? round.lastCookie;
      round.lastName = name;
    }
    if (round.seen.size === round.expected.size) {
      round.lastAt ??= performance.now();
      round.finish();
    }
  }
}

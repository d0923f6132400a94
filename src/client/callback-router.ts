// A callback handler that hands each delegation's callbacks to whoever holds
// it. An NfsClient's handler is fixed at connect time (NfsClientOptions
// .onCallback); pass `router.handler` there, and each directory watch (or any
// other delegation holder) registers its stateid with listen(). CB_SEQUENCE is
// answered as defaultCallbackHandler does; CB_NOTIFY (RFC 8881 §20.4) and
// CB_RECALL (§20.2) go to the listener of their stateid and are answered
// NFS4_OK, or NFS4ERR_BAD_STATEID when nobody holds it (§20.4.3 and §20.2.3
// list it). A CB_RECALL of a stateid nobody registered may instead go to
// `onOtherRecall` (file delegations held the recallingCallbackHandler way).
//
// Between sending GET_DIR_DELEGATION and reading its reply the holder does not
// know its stateid yet, but the server may already notify or recall: expect()
// routes callbacks for a directory filehandle to a listener until then.
//
// Listeners run synchronously while the reply is built and must only record
// what they are told (a DELEGRETURN they start must not wait on the callback).

import type {
  CB_COMPOUND4args,
  CB_COMPOUND4res,
  CB_NOTIFY4args,
  CB_RECALL4args,
  nfs_cb_argop4,
  nfs_cb_resop4,
  stateid4,
} from "../../generated/nfs4/index.js";
import { nfs_cb_opnum4, nfsstat4 } from "../../generated/nfs4/index.js";
import { cbStatusResult } from "../protocol/results.js";
import { XdrError } from "../xdr/index.js";
import type { CallbackHandler, RecallListener } from "./callback.js";
import { answerEach, cbSequenceResult } from "./callback.js";
import type { DirectoryChange } from "./notify.js";
import { decodeChanges } from "./notify.js";

/** The changes of one CB_NOTIFY, or why they could not be decoded. */
export type Notification =
  | { readonly ok: true; readonly stateid: stateid4; readonly changes: DirectoryChange[] }
  | { readonly ok: false; readonly stateid: stateid4; readonly error: XdrError };

/** What a delegation holder hears. */
export interface DelegationListener {
  onNotify(n: Notification): void;
  /** The recall, copied out of the request. */
  onRecall(recall: CB_RECALL4args): void;
}

export interface CallbackRouterOptions {
  /** CB_RECALLs of stateids no listener holds; without it they are NFS4ERR_BAD_STATEID. */
  readonly onOtherRecall?: RecallListener;
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");

function copyStateid(s: stateid4): stateid4 {
  return { seqid: s.seqid, other: new Uint8Array(s.other) };
}

export class CallbackRouter {
  /** Pass this as NfsClientOptions.onCallback. */
  readonly handler: CallbackHandler;
  private readonly byStateid = new Map<string, DelegationListener>();
  private readonly byFh = new Map<string, DelegationListener>();
  private readonly onOtherRecall: RecallListener | undefined;

  constructor(options: CallbackRouterOptions = {}) {
    this.onOtherRecall = options.onOtherRecall;
    this.handler = (args) => this.answer(args);
  }

  /** Routes the callbacks of `stateid` (matched by its `other` field) to `listener`; returns the undo. */
  listen(stateid: stateid4, listener: DelegationListener): () => void {
    return this.add(this.byStateid, hex(stateid.other), listener);
  }

  /** Routes callbacks for directory `fh` whose stateid nobody holds yet to `listener`; returns the undo. */
  expect(fh: Uint8Array, listener: DelegationListener): () => void {
    return this.add(this.byFh, hex(fh), listener);
  }

  private add(
    map: Map<string, DelegationListener>,
    key: string,
    listener: DelegationListener,
  ): () => void {
    if (map.has(key)) throw new Error(`CallbackRouter: ${key} already has a listener`);
    map.set(key, listener);
    return () => {
      if (map.get(key) === listener) map.delete(key);
    };
  }

  private listenerOf(stateid: stateid4, fh: Uint8Array): DelegationListener | undefined {
    return this.byStateid.get(hex(stateid.other)) ?? this.byFh.get(hex(fh));
  }

  private answer(args: CB_COMPOUND4args): CB_COMPOUND4res {
    return answerEach(args, (op) => this.answerOne(op));
  }

  private answerOne(op: nfs_cb_argop4): nfs_cb_resop4 {
    switch (op.argop) {
      case nfs_cb_opnum4.OP_CB_SEQUENCE:
        return cbSequenceResult(op.opcbsequence);
      case nfs_cb_opnum4.OP_CB_NOTIFY:
        return {
          resop: nfs_cb_opnum4.OP_CB_NOTIFY,
          opcbnotify: { cnr_status: this.notify(op.opcbnotify) },
        };
      case nfs_cb_opnum4.OP_CB_RECALL:
        return {
          resop: nfs_cb_opnum4.OP_CB_RECALL,
          opcbrecall: { status: this.recall(op.opcbrecall) },
        };
      default:
        return cbStatusResult(op.argop, nfsstat4.NFS4ERR_NOTSUPP);
    }
  }

  private notify(args: CB_NOTIFY4args): nfsstat4 {
    const listener = this.listenerOf(args.cna_stateid, args.cna_fh);
    if (listener === undefined) return nfsstat4.NFS4ERR_BAD_STATEID;
    const stateid = copyStateid(args.cna_stateid);
    let changes: DirectoryChange[];
    try {
      changes = decodeChanges(args.cna_changes);
    } catch (e) {
      if (!(e instanceof XdrError)) throw e;
      // The holder can no longer trust its copy of the directory; it re-reads it.
      listener.onNotify({ ok: false, stateid, error: e });
      return nfsstat4.NFS4ERR_BADXDR;
    }
    listener.onNotify({ ok: true, stateid, changes });
    return nfsstat4.NFS4_OK;
  }

  private recall(args: CB_RECALL4args): nfsstat4 {
    const recall: CB_RECALL4args = {
      stateid: copyStateid(args.stateid),
      truncate: args.truncate,
      fh: new Uint8Array(args.fh),
    };
    const listener = this.listenerOf(args.stateid, args.fh);
    if (listener !== undefined) listener.onRecall(recall);
    else if (this.onOtherRecall !== undefined) {
      const other = this.onOtherRecall;
      setImmediate(() => other(recall));
    } else return nfsstat4.NFS4ERR_BAD_STATEID;
    return nfsstat4.NFS4_OK;
  }
}

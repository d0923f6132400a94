// The client's side of the NFSv4.1 backchannel: a tiny NFS4_CALLBACK program
// (RFC 8881 §20) served on the client's own connections. CB_NULL is answered
// by the RPC Dispatcher itself; CB_COMPOUND goes to a handler — by default one
// that accepts CB_SEQUENCE and answers every other callback NFS4ERR_NOTSUPP,
// which is enough for a server to find its back channel alive; or one that
// also accepts CB_RECALL, for clients that may hold delegations.

import type {
  CB_COMPOUND4args,
  CB_COMPOUND4res,
  CB_RECALL4args,
  CB_SEQUENCE4args,
  nfs_cb_argop4,
  nfs_cb_resop4,
} from "../../generated/nfs4/index.js";
import {
  CB_COMPOUND,
  CB_NULL,
  NFS_CB,
  decodeCB_COMPOUND4args,
  encodeCB_COMPOUND4res,
  nfs_cb_opnum4,
  nfsstat4,
} from "../../generated/nfs4/index.js";
import type { Credential, NullCall, RpcCall, RpcOutcome, RpcProgram } from "../rpc/types.js";
import { XdrError, XdrWriter } from "../xdr/index.js";
import { cbStatusOf, cbStatusResult } from "../protocol/results.js";

/** Who sent a callback and how: the RPC header of the CB_COMPOUND or CB_NULL. */
export interface CallbackCallInfo {
  readonly prog: number;
  readonly vers: number;
  readonly proc: number;
  /** The server's credential (AUTH_NONE or AUTH_SYS, as chosen from csa_sec_parms). */
  readonly cred: Credential;
}

/**
 * Answers a CB_COMPOUND; null sends no reply at all (a client that never
 * answers, for tests of the server's retry rules).
 */
export type CallbackHandler = (
  args: CB_COMPOUND4args,
  info: CallbackCallInfo,
) => CB_COMPOUND4res | null | Promise<CB_COMPOUND4res | null>;

/** CB_SEQUENCE answered as a fresh request on its slot (the client keeps no callback replay cache). */
export function cbSequenceResult(args: CB_SEQUENCE4args): nfs_cb_resop4 {
  return {
    resop: nfs_cb_opnum4.OP_CB_SEQUENCE,
    opcbsequence: {
      csr_status: nfsstat4.NFS4_OK,
      csr_resok4: {
        csr_sessionid: args.csa_sessionid,
        csr_sequenceid: args.csa_sequenceid,
        csr_slotid: args.csa_slotid,
        csr_highest_slotid: args.csa_highest_slotid,
        csr_target_highest_slotid: args.csa_highest_slotid,
      },
    },
  };
}

/** Answers each operation in turn with `answer`, stopping at the first that fails (RFC 8881 §20). */
export function answerEach(
  args: CB_COMPOUND4args,
  answer: (op: nfs_cb_argop4) => nfs_cb_resop4,
): CB_COMPOUND4res {
  const resarray: CB_COMPOUND4res["resarray"] = [];
  let status: nfsstat4 = nfsstat4.NFS4_OK;
  for (const op of args.argarray) {
    const res = answer(op);
    resarray.push(res);
    status = cbStatusOf(res);
    if (status !== nfsstat4.NFS4_OK) break;
  }
  return { status, tag: args.tag, resarray };
}

/** Answers CB_SEQUENCE as a fresh request on its slot and refuses everything else. */
export const defaultCallbackHandler: CallbackHandler = (args) =>
  answerEach(args, (op) =>
    op.argop === nfs_cb_opnum4.OP_CB_SEQUENCE
      ? cbSequenceResult(op.opcbsequence)
      : cbStatusResult(op.argop, nfsstat4.NFS4ERR_NOTSUPP),
  );

/** Told of each CB_RECALL: the delegation the server wants back (copied out of the request). */
export type RecallListener = (recall: CB_RECALL4args) => void;

/**
 * Like defaultCallbackHandler, but accepts CB_RECALL: answers NFS4_OK and
 * tells `onRecall`, which should send DELEGRETURN (RFC 8881 §20.2.3: the
 * client acknowledges the recall at once and returns the delegation after
 * flushing what it must). The listener runs after the reply is built, so a
 * DELEGRETURN it starts does not wait on the callback.
 */
export function recallingCallbackHandler(onRecall: RecallListener): CallbackHandler {
  return (args) =>
    answerEach(args, (op) => {
      switch (op.argop) {
        case nfs_cb_opnum4.OP_CB_SEQUENCE:
          return cbSequenceResult(op.opcbsequence);
        case nfs_cb_opnum4.OP_CB_RECALL: {
          const r = op.opcbrecall;
          // Copies: the request's opaque fields are views into the receive buffer.
          const recall: CB_RECALL4args = {
            stateid: { seqid: r.stateid.seqid, other: new Uint8Array(r.stateid.other) },
            truncate: r.truncate,
            fh: new Uint8Array(r.fh),
          };
          setImmediate(() => onRecall(recall));
          return {
            resop: nfs_cb_opnum4.OP_CB_RECALL,
            opcbrecall: { status: nfsstat4.NFS4_OK },
          };
        }
        default:
          return cbStatusResult(op.argop, nfsstat4.NFS4ERR_NOTSUPP);
      }
    });
}

/**
 * The callback program for the client's Dispatcher. `onNull` hears of each
 * CB_NULL (answered by the Dispatcher itself).
 */
export function callbackProgram(
  prog: number,
  handler: CallbackHandler,
  onCallback: () => void,
  onNull?: (info: CallbackCallInfo) => void,
): RpcProgram {
  return {
    prog,
    lowVersion: NFS_CB,
    highVersion: NFS_CB,
    onNull(call: NullCall): void {
      onNull?.({ prog: call.prog, vers: call.vers, proc: CB_NULL, cred: call.cred });
    },
    async handle(call: RpcCall): Promise<RpcOutcome> {
      if (call.proc !== CB_COMPOUND) return { kind: "proc_unavail" };
      let args: CB_COMPOUND4args;
      try {
        args = decodeCB_COMPOUND4args(call.args);
        call.args.assertDone();
      } catch (e) {
        if (e instanceof XdrError) return { kind: "garbage_args" };
        throw e;
      }
      onCallback();
      const res = await handler(args, {
        prog: call.prog,
        vers: call.vers,
        proc: call.proc,
        cred: call.cred,
      });
      if (res === null) return { kind: "drop" };
      const w = new XdrWriter(256);
      encodeCB_COMPOUND4res(w, res);
      return { kind: "success", result: w.finish() };
    },
  };
}

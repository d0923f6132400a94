// The client's side of the NFSv4.1 backchannel: a tiny NFS4_CALLBACK program
// (RFC 8881 §20) served on the client's own connections. CB_NULL is answered
// by the RPC Dispatcher itself; CB_COMPOUND goes to a handler — by default one
// that accepts CB_SEQUENCE and answers every other callback NFS4ERR_NOTSUPP,
// which is enough for a server to find its back channel alive.

import type { CB_COMPOUND4args, CB_COMPOUND4res } from "../../generated/nfs4/index.js";
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

/** Answers CB_SEQUENCE as a fresh request on its slot and refuses everything else. */
export const defaultCallbackHandler: CallbackHandler = (args) => {
  const resarray: CB_COMPOUND4res["resarray"] = [];
  let status: nfsstat4 = nfsstat4.NFS4_OK;
  for (const op of args.argarray) {
    const res =
      op.argop === nfs_cb_opnum4.OP_CB_SEQUENCE
        ? {
            resop: op.argop,
            opcbsequence: {
              csr_status: nfsstat4.NFS4_OK,
              csr_resok4: {
                csr_sessionid: op.opcbsequence.csa_sessionid,
                csr_sequenceid: op.opcbsequence.csa_sequenceid,
                csr_slotid: op.opcbsequence.csa_slotid,
                csr_highest_slotid: op.opcbsequence.csa_highest_slotid,
                csr_target_highest_slotid: op.opcbsequence.csa_highest_slotid,
              },
            },
          }
        : cbStatusResult(op.argop, nfsstat4.NFS4ERR_NOTSUPP);
    resarray.push(res);
    status = cbStatusOf(res);
    if (status !== nfsstat4.NFS4_OK) break;
  }
  return { status, tag: args.tag, resarray };
};

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

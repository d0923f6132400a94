// CB_COMPOUND on the wire (RFC 8881 §20, §20.9): the arguments we send —
// CB_SEQUENCE first, then the caller's operations — and what we need from the
// client's reply: CB_SEQUENCE's result, the compound status and the results
// after CB_SEQUENCE.

import type {
  CB_SEQUENCE4resok,
  nfs_cb_argop4,
  nfs_cb_resop4,
  referring_call_list4,
} from "../../generated/nfs4/index.js";
import {
  decodeCB_COMPOUND4res,
  encodeCB_COMPOUND4args,
  nfs_cb_opnum4,
  nfsstat4,
} from "../../generated/nfs4/index.js";
import { XdrWriter } from "../xdr/index.js";
import type { XdrReader } from "../xdr/index.js";
import type { CbSlot } from "./cb-slot-table.js";

/** callback_ident: ignored in NFSv4.1 (§20.2: the session identifies the client). */
export const CB_IDENT = 0;

export interface CbCompoundArgs {
  readonly sessionId: Uint8Array;
  /** CB_COMPOUND4args.minorversion: the session's (§20.1). */
  readonly minorVersion: number;
  readonly slot: CbSlot;
  /** csa_highest_slotid. */
  readonly highestSlotId: number;
  /** csa_referring_call_lists (§2.10.6.3); empty when there is nothing to refer to. */
  readonly referring: readonly referring_call_list4[];
  /** The operations after CB_SEQUENCE. */
  readonly ops: readonly nfs_cb_argop4[];
}

/** The encoded CB_COMPOUND4args. Throws XdrError if an operation is not encodable. */
export function encodeCbCompound(a: CbCompoundArgs): Uint8Array {
  const sequence: nfs_cb_argop4 = {
    argop: nfs_cb_opnum4.OP_CB_SEQUENCE,
    opcbsequence: {
      csa_sessionid: a.sessionId,
      csa_sequenceid: a.slot.seqid,
      csa_slotid: a.slot.slotid,
      csa_highest_slotid: a.highestSlotId,
      // Callbacks are never cached by the client (ARCHITECTURE: settled decisions).
      csa_cachethis: false,
      csa_referring_call_lists: [...a.referring],
    },
  };
  const w = new XdrWriter(256);
  encodeCB_COMPOUND4args(w, {
    tag: new Uint8Array(0),
    minorversion: a.minorVersion,
    callback_ident: CB_IDENT,
    argarray: [sequence, ...a.ops],
  });
  return w.finish();
}

/** What a CB_COMPOUND reply says. */
export type CbCompoundReply =
  /** CB_SEQUENCE succeeded: the compound's status and the results after it. */
  | {
      readonly kind: "ok";
      readonly sequence: CB_SEQUENCE4resok;
      readonly status: nfsstat4;
      readonly results: readonly nfs_cb_resop4[];
    }
  /** CB_SEQUENCE failed with `status`: nothing after it ran. */
  | { readonly kind: "sequence_error"; readonly status: nfsstat4 }
  /** No CB_SEQUENCE result (the client failed the compound before it, e.g. MINOR_VERS_MISMATCH). */
  | { readonly kind: "no_sequence"; readonly status: nfsstat4 };

/** Decodes a CB_COMPOUND4res. Throws XdrError if it is malformed. */
export function decodeCbCompoundReply(r: XdrReader): CbCompoundReply {
  const res = decodeCB_COMPOUND4res(r);
  const first = res.resarray[0];
  if (first === undefined || first.resop !== nfs_cb_opnum4.OP_CB_SEQUENCE)
    return { kind: "no_sequence", status: res.status };
  const seq = first.opcbsequence;
  if (seq.csr_status !== nfsstat4.NFS4_OK)
    return { kind: "sequence_error", status: seq.csr_status };
  return {
    kind: "ok",
    sequence: seq.csr_resok4,
    status: res.status,
    results: res.resarray.slice(1),
  };
}

// fattr4_open_arguments (RFC 9754 §3): which OPEN arguments this server
// accepts, so that a client can tell before it asks. Each bitmap holds the bit
// numbers of RFC 9754 §3.1's enums. The attribute is per filesystem and
// read-only; one value serves every filesystem because OPEN (nfs/ops/open.ts)
// treats them all alike. It must follow open.ts: test/nfs/open-arguments.test.ts
// sends OPEN every advertised argument and every unadvertised claim.

import {
  open_args_createmode4,
  open_args_open_claim4,
  open_args_share_access4,
  open_args_share_access_want4,
  open_args_share_deny4,
  type open_arguments4,
} from "../../../generated/nfs4/index.js";
import { bitmapOf } from "../../protocol/bitmap.js";

/** The value of fattr4_open_arguments. */
export const OPEN_ARGUMENTS: open_arguments4 = {
  oa_share_access: bitmapOf([
    open_args_share_access4.OPEN_ARGS_SHARE_ACCESS_READ,
    open_args_share_access4.OPEN_ARGS_SHARE_ACCESS_WRITE,
    open_args_share_access4.OPEN_ARGS_SHARE_ACCESS_BOTH,
  ]),
  oa_share_deny: bitmapOf([
    open_args_share_deny4.OPEN_ARGS_SHARE_DENY_NONE,
    open_args_share_deny4.OPEN_ARGS_SHARE_DENY_READ,
    open_args_share_deny4.OPEN_ARGS_SHARE_DENY_WRITE,
    open_args_share_deny4.OPEN_ARGS_SHARE_DENY_BOTH,
  ]),
  // OPEN understands every delegation want of RFC 8881 §18.16.3 (and answers
  // each with no delegation and a reason), but RFC 9754 §3.1 numbers only
  // these three: NO_PREFERENCE, READ_DELEG and WRITE_DELEG have no bit to
  // advertise. SIGNAL_DELEG_WHEN_RESRC_AVAIL and PUSH_DELEG_WHEN_UNCONTENDED
  // are accepted but never acted on (as Linux nfsd, which does not list them
  // either). DELEG_TIMESTAMPS (RFC 9754 §5) is not advertised; OPEN accepts
  // it as the hint it is and grants, at most, a delegation without delegated
  // timestamps (pynfs's DELEG24/25 send it). OPEN_XOR_DELEGATION (§4) is not
  // implemented and OPEN refuses it with NFS4ERR_INVAL.
  oa_share_access_want: bitmapOf([
    open_args_share_access_want4.OPEN_ARGS_SHARE_ACCESS_WANT_ANY_DELEG,
    open_args_share_access_want4.OPEN_ARGS_SHARE_ACCESS_WANT_NO_DELEG,
    open_args_share_access_want4.OPEN_ARGS_SHARE_ACCESS_WANT_CANCEL,
  ]),
  // CLAIM_PREVIOUS and the CLAIM_DELEGATE_CUR pair are understood and answered
  // (the latter for the holder of a delegation being recalled, and CLAIM_PREVIOUS
  // with the errors of a server that kept no state across its restart); the reclaims of delegations held before a client
  // restarted (CLAIM_DELEGATE_PREV, CLAIM_DELEG_PREV_FH) are NFS4ERR_NOTSUPP.
  oa_open_claim: bitmapOf([
    open_args_open_claim4.OPEN_ARGS_OPEN_CLAIM_NULL,
    open_args_open_claim4.OPEN_ARGS_OPEN_CLAIM_PREVIOUS,
    open_args_open_claim4.OPEN_ARGS_OPEN_CLAIM_DELEGATE_CUR,
    open_args_open_claim4.OPEN_ARGS_OPEN_CLAIM_FH,
    open_args_open_claim4.OPEN_ARGS_OPEN_CLAIM_DELEG_CUR_FH,
  ]),
  oa_create_mode: bitmapOf([
    open_args_createmode4.OPEN_ARGS_CREATEMODE_UNCHECKED4,
    open_args_createmode4.OPEN_ARGS_CREATE_MODE_GUARDED,
    open_args_createmode4.OPEN_ARGS_CREATEMODE_EXCLUSIVE4,
    open_args_createmode4.OPEN_ARGS_CREATE_MODE_EXCLUSIVE4_1,
  ]),
};

// The RPC credential of a session's callbacks (RFC 8881 §18.36.3 csa_sec_parms,
// §18.33 bca_sec_parms): the first entry of the client's list that this server
// can use. AUTH_NONE and AUTH_SYS are usable; AUTH_SYS callbacks carry exactly
// the credential the client gave (stamp, machine name, uid, gid, gids), which
// is what it will check. RPCSEC_GSS is not: this server has no GSS, so a
// session offering only RPCSEC_GSS has no usable back channel (reported as
// SEQ4_STATUS_CB_PATH_DOWN_SESSION, never a silent failure).

import type { callback_sec_parms4 } from "../../generated/nfs4/index.js";
import { AUTH_NONE_OUTGOING, authSysCredential } from "../rpc/auth.js";
import { XdrError } from "../xdr/index.js";

/** An RPC credential as OutgoingCall.cred takes it. */
export interface CallbackCredential {
  readonly flavor: number;
  readonly body: Uint8Array;
}

/** The credential for `parms`, or null when no entry is usable. */
export function callbackCredential(
  parms: readonly callback_sec_parms4[],
): CallbackCredential | null {
  for (const p of parms) {
    switch (p.cb_secflavor) {
      case 0:
        return AUTH_NONE_OUTGOING;
      case 1:
        try {
          return authSysCredential(p.cbsp_sys_cred);
        } catch (e) {
          // Not encodable (the decoder bounds these fields, so only a value built in
          // process gets here): try the next entry.
          if (e instanceof XdrError) continue;
          throw e;
        }
      case 6:
        continue;
    }
  }
  return null;
}

/** True when some entry of `parms` is usable for callbacks. */
export function hasUsableFlavor(parms: readonly callback_sec_parms4[]): boolean {
  return callbackCredential(parms) !== null;
}

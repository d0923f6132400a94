// Owned copies of decoded protocol values the state keeps. Decoded opaque
// fields are views into the received record: keeping one would pin the whole
// record (up to ca_maxrequestsize) for as long as the state lives.
//
// Copies are also bounded: the fields without a limit in the XDR
// (eia_client_impl_id's strings, RPCSEC_GSS callback handles) are kept to at
// most NFS4_OPAQUE_LIMIT bytes, the spec's own bound for the client owner, so
// a client record costs the same whatever a client pads its requests with.

import type { callback_sec_parms4, nfs_impl_id4 } from "../../generated/nfs4/index.js";
import { NFS4_OPAQUE_LIMIT } from "../../generated/nfs4/index.js";

/** The most bytes of an unbounded opaque field the state keeps (RFC 8881 §2.4's co_ownerid bound). */
export const MAX_STORED_OPAQUE = NFS4_OPAQUE_LIMIT;

/** A copy of `bytes` that owns its own ArrayBuffer, exactly as long as the value. */
export function ownedBytes(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(bytes);
}

/**
 * eia_client_impl_id, each string cut to MAX_STORED_OPAQUE bytes: it is
 * informational only and the server must not act on it (RFC 8881 §18.35.3).
 */
export function copyImplIds(ids: readonly nfs_impl_id4[]): nfs_impl_id4[] {
  return ids.map((id) => ({
    nii_domain: ownedBytes(id.nii_domain.subarray(0, MAX_STORED_OPAQUE)),
    nii_name: ownedBytes(id.nii_name.subarray(0, MAX_STORED_OPAQUE)),
    nii_date: { seconds: id.nii_date.seconds, nseconds: id.nii_date.nseconds },
  }));
}

/**
 * csa_sec_parms. RPCSEC_GSS entries whose handles exceed MAX_STORED_OPAQUE are
 * dropped: this server has no RPCSEC_GSS, so it could never use them for a
 * callback anyway, and keeping them would let a client pin ca_maxrequestsize
 * bytes per session.
 */
export function copySecParms(parms: readonly callback_sec_parms4[]): callback_sec_parms4[] {
  const kept = parms.filter(
    (p) =>
      p.cb_secflavor !== 6 ||
      (p.cbsp_gss_handles.gcbp_handle_from_server.length <= MAX_STORED_OPAQUE &&
        p.cbsp_gss_handles.gcbp_handle_from_client.length <= MAX_STORED_OPAQUE),
  );
  return kept.map((p): callback_sec_parms4 => {
    switch (p.cb_secflavor) {
      case 0:
        return { cb_secflavor: 0 };
      case 1:
        return {
          cb_secflavor: 1,
          cbsp_sys_cred: { ...p.cbsp_sys_cred, gids: [...p.cbsp_sys_cred.gids] },
        };
      case 6:
        return {
          cb_secflavor: 6,
          cbsp_gss_handles: {
            gcbp_service: p.cbsp_gss_handles.gcbp_service,
            gcbp_handle_from_server: ownedBytes(p.cbsp_gss_handles.gcbp_handle_from_server),
            gcbp_handle_from_client: ownedBytes(p.cbsp_gss_handles.gcbp_handle_from_client),
          },
        };
    }
  });
}

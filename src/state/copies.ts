// Owned copies of decoded protocol values the state keeps. Decoded opaque
// fields are views into the received record: keeping one would pin the whole
// record (up to ca_maxrequestsize) for as long as the state lives.

import type { callback_sec_parms4, nfs_impl_id4 } from "../../generated/nfs4/index.js";

/** A copy of `bytes` that owns its own ArrayBuffer, exactly as long as the value. */
export function ownedBytes(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(bytes);
}

export function copyImplIds(ids: readonly nfs_impl_id4[]): nfs_impl_id4[] {
  return ids.map((id) => ({
    nii_domain: ownedBytes(id.nii_domain),
    nii_name: ownedBytes(id.nii_name),
    nii_date: { seconds: id.nii_date.seconds, nseconds: id.nii_date.nseconds },
  }));
}

export function copySecParms(parms: readonly callback_sec_parms4[]): callback_sec_parms4[] {
  return parms.map((p): callback_sec_parms4 => {
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

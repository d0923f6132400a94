// Who this server says it is in EXCHANGE_ID (RFC 8881 §18.35): the same on
// every address it listens on, so that clients recognise trunked connections.

import type { nfs_impl_id4 } from "../../generated/nfs4/index.js";

const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);

export const SERVER_IMPL_ID: nfs_impl_id4 = {
  nii_domain: utf8("dittofs.invalid"),
  nii_name: utf8("DittoFS-TS 0.1.0"),
  nii_date: { seconds: 1795478400n, nseconds: 0 }, // 2026-11-24, the release date of 0.1.0
};

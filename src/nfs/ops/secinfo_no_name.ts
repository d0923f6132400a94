// SECINFO_NO_NAME (RFC 8881 §18.45): the security flavors for the current
// object (SECINFO_STYLE4_CURRENT_FH) or its parent (SECINFO_STYLE4_PARENT; the
// root has none: NFS4ERR_NOENT). This server offers AUTH_SYS, then AUTH_NONE,
// everywhere. Like SECINFO it consumes the current filehandle (RFC 8881 §2.6.3.1.1.8):
// on success there is none, so a client must PUTFH again.

import { auth_flavor } from "../../../generated/rpc/index.js";
import {
  nfsstat4,
  secinfo_style4,
  type nfs_opnum4,
  type secinfo4,
} from "../../../generated/nfs4/index.js";
import { statusOfError } from "../../fs/backend.js";
import type { OpHandler } from "../op.js";
import { NO_FILEHANDLE } from "./common.js";

/** In order of preference. */
const FLAVORS: readonly secinfo4[] = [
  { flavor: auth_flavor.AUTH_SYS },
  { flavor: auth_flavor.AUTH_NONE },
];

export const secinfoNoName: OpHandler<typeof nfs_opnum4.OP_SECINFO_NO_NAME> = async (
  style,
  state,
) => {
  const fh = state.currentFh;
  if (fh === null) return NO_FILEHANDLE;
  if (style === secinfo_style4.SECINFO_STYLE4_PARENT) {
    try {
      await state.server.fs.lookupParent(fh);
    } catch (e) {
      return { status: statusOfError(e) };
    }
  }
  state.currentFh = null;
  return { status: nfsstat4.NFS4_OK, resok4: FLAVORS.slice() };
};

// WRITE (RFC 8881 §18.32): writes to the current file under a stateid that
// grants write access (NFS4ERR_OPENMODE otherwise), or the anonymous stateid
// with the caller's write permission.

import { nfs_ftype4, nfsstat4, type nfs_opnum4 } from "../../../generated/nfs4/index.js";
import { statusOfError } from "../../fs/backend.js";
import { MAY_WRITE, mayAccess } from "../../fs/permission.js";
import { MAX_OFFSET } from "../../state/lock-state.js";
import { ACCESS_WRITE } from "../../state/open-state.js";
import type { OpHandler } from "../op.js";
import { ioAuthority } from "../stateids.js";
import { ioTypeError } from "./io-common.js";

export const write: OpHandler<typeof nfs_opnum4.OP_WRITE> = async (args, state) => {
  const fh = state.currentFh;
  if (fh === null) return { status: nfsstat4.NFS4ERR_NOFILEHANDLE };
  const fs = state.server.fs;
  try {
    const attrs = await fs.getattr(fh);
    if (attrs.type !== nfs_ftype4.NF4REG) return { status: ioTypeError(attrs.type) };
    const auth = ioAuthority(state, args.stateid, ACCESS_WRITE);
    if ("error" in auth) return { status: auth.error };
    if (auth.ok.kind === "special" && !mayAccess(attrs, state.cred, MAY_WRITE))
      return { status: nfsstat4.NFS4ERR_ACCESS };
    if (args.offset + BigInt(args.data.length) > MAX_OFFSET)
      return { status: nfsstat4.NFS4ERR_INVAL };
    if (args.offset + BigInt(args.data.length) > fs.capabilities.maxFileSize)
      return { status: nfsstat4.NFS4ERR_FBIG };
    const res = await fs.write(fh, args.offset, args.data, args.stable);
    return {
      status: nfsstat4.NFS4_OK,
      resok4: { count: res.count, committed: res.committed, writeverf: res.verifier },
    };
  } catch (e) {
    return { status: statusOfError(e) };
  }
};

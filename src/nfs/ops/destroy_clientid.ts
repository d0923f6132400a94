// DESTROY_CLIENTID (RFC 8881 §18.50): forgets a client record that has no
// sessions and no state left.

import type { nfs_opnum4 } from "../../../generated/nfs4/index.js";
import { nfsstat4 } from "../../../generated/nfs4/index.js";
import type { OpHandler } from "../op.js";

export const destroyClientid: OpHandler<typeof nfs_opnum4.OP_DESTROY_CLIENTID> = (args, state) => {
  const manager = state.server.state;
  const record = manager.client(args.dca_clientid);
  if (!record) return { dcr_status: nfsstat4.NFS4ERR_STALE_CLIENTID };
  if (manager.hasState(record)) return { dcr_status: nfsstat4.NFS4ERR_CLIENTID_BUSY };
  manager.removeClient(record);
  return { dcr_status: nfsstat4.NFS4_OK };
};

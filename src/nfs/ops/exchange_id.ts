// EXCHANGE_ID (RFC 8881 §18.35): establishes or finds the client record for a
// client owner. The cases of §18.35.5 are numbered in the comments below.

import type { EXCHANGE_ID4res } from "../../../generated/nfs4/index.js";
import {
  encodenfs_impl_id4,
  nfs_opnum4,
  EXCHGID4_FLAG_BIND_PRINC_STATEID,
  EXCHGID4_FLAG_CONFIRMED_R,
  EXCHGID4_FLAG_MASK_PNFS,
  EXCHGID4_FLAG_SUPP_MOVED_MIGR,
  EXCHGID4_FLAG_SUPP_MOVED_REFER,
  EXCHGID4_FLAG_UPD_CONFIRMED_REC_A,
  EXCHGID4_FLAG_USE_NON_PNFS,
  nfsstat4,
  state_protect_how4,
} from "../../../generated/nfs4/index.js";
import { ClientRecord } from "../../state/client.js";
import { sameBytes } from "../../state/keys.js";
import type { NfsError } from "../../state/slot-table.js";
import type { CompoundState } from "../context.js";
import { XdrWriter } from "../../xdr/index.js";
import { defineOp, type OpHandler } from "../op.js";
import { SERVER_IMPL_ID } from "../server-identity.js";
import { RESOP_SIZE, opaqueSize } from "./reply-size.js";

/**
 * Flags a client may send in NFSv4.1 (RFC 8881 §18.35.3); anything else is
 * NFS4ERR_INVAL. SUPP_FENCE_OPS is an NFSv4.2 addition (RFC 7862 §15.1.1) and
 * is refused like any undefined bit while the server speaks only 4.1.
 */
const CLIENT_FLAGS =
  EXCHGID4_FLAG_SUPP_MOVED_REFER |
  EXCHGID4_FLAG_SUPP_MOVED_MIGR |
  EXCHGID4_FLAG_BIND_PRINC_STATEID |
  EXCHGID4_FLAG_MASK_PNFS |
  EXCHGID4_FLAG_UPD_CONFIRMED_REC_A;

function fail(status: NfsError): EXCHANGE_ID4res {
  return { eir_status: status };
}

export const exchangeId: OpHandler<typeof nfs_opnum4.OP_EXCHANGE_ID> = (args, state) => {
  if ((args.eia_flags & ~CLIENT_FLAGS) !== 0) return fail(nfsstat4.NFS4ERR_INVAL);
  switch (args.eia_state_protect.spa_how) {
    case state_protect_how4.SP4_NONE:
      break;
    case state_protect_how4.SP4_MACH_CRED:
      // Machine credentials only mean something with an integrity-protected
      // flavor (RPCSEC_GSS); over AUTH_SYS they would protect nothing.
      return fail(nfsstat4.NFS4ERR_INVAL);
    case state_protect_how4.SP4_SSV:
      return fail(nfsstat4.NFS4ERR_ENCR_ALG_UNSUPP);
  }
  const manager = state.server.state;
  const owner = args.eia_clientowner;
  const principal = state.cred.principal;
  const { confirmed, unconfirmed } = manager.byOwnerId(owner.co_ownerid);

  if ((args.eia_flags & EXCHGID4_FLAG_UPD_CONFIRMED_REC_A) !== 0) {
    if (!confirmed) return fail(nfsstat4.NFS4ERR_NOENT); // case 7
    if (!sameBytes(confirmed.verifier, owner.co_verifier)) return fail(nfsstat4.NFS4ERR_NOT_SAME); // case 8
    if (confirmed.principal !== principal) return fail(nfsstat4.NFS4ERR_PERM); // case 9
    return reply(state, confirmed); // case 6: nothing we keep can be updated
  }
  if (confirmed) {
    if (confirmed.principal !== principal) {
      // case 3, client collision: another principal owns this owner ID and
      // still holds state under a live lease.
      const leaseLive = confirmed.renewedAt >= manager.now() - manager.settings.leaseTimeSec * 1000;
      if (manager.hasState(confirmed) && leaseLive) return fail(nfsstat4.NFS4ERR_CLID_INUSE);
      // Nothing to protect: the old principal's record goes at once, so its
      // client ID is stale from now on.
      manager.removeClient(confirmed);
    } else if (sameBytes(confirmed.verifier, owner.co_verifier)) {
      return reply(state, confirmed); // case 2: the same incarnation asking again
    }
    // case 4, the client rebooted: a new unconfirmed record; the confirmed one
    // keeps working until CREATE_SESSION confirms the new one.
  }
  if (unconfirmed) manager.removeClient(unconfirmed); // case 5 (or 1 with stale leftovers)
  if (manager.clientCount >= manager.settings.maxClients && manager.expireLeases() === 0)
    return fail(nfsstat4.NFS4ERR_DELAY);
  const record = new ClientRecord(
    manager.newClientId(),
    owner.co_ownerid,
    owner.co_verifier,
    principal,
    args.eia_flags,
    args.eia_client_impl_id,
    manager.now(),
    1,
    { csr_status: nfsstat4.NFS4ERR_SEQ_MISORDERED },
  );
  manager.addClient(record);
  return reply(state, record); // case 1
};

function reply(state: CompoundState, record: ClientRecord): EXCHANGE_ID4res {
  const manager = state.server.state;
  const flags = EXCHGID4_FLAG_USE_NON_PNFS | (record.confirmed ? EXCHGID4_FLAG_CONFIRMED_R : 0);
  return {
    eir_status: nfsstat4.NFS4_OK,
    eir_resok4: {
      eir_clientid: record.clientid,
      eir_sequenceid: record.nextCreateSessionSeqid,
      eir_flags: flags >>> 0,
      eir_state_protect: { spr_how: state_protect_how4.SP4_NONE },
      eir_server_owner: { so_minor_id: 0n, so_major_id: manager.serverOwner },
      eir_server_scope: manager.serverScope,
      eir_server_impl_id: [SERVER_IMPL_ID],
    },
  };
}

/** Our nfs_impl_id4, encoded. */
const IMPL_ID_SIZE = ((): number => {
  const w = new XdrWriter(256);
  encodenfs_impl_id4(w, SERVER_IMPL_ID);
  return w.length;
})();

/**
 * The reply this server sends: status, clientid (8), sequenceid, flags,
 * SP4_NONE, server_owner (minor id 8 + major id), scope, one impl id.
 */
function exchangeIdBound(state: CompoundState): number {
  const { serverOwner, serverScope } = state.server.state;
  return (
    RESOP_SIZE +
    4 +
    8 +
    4 +
    4 +
    4 +
    8 +
    opaqueSize(serverOwner.length) +
    opaqueSize(serverScope.length) +
    4 +
    IMPL_ID_SIZE
  );
}

export const EXCHANGE_ID = defineOp({
  op: nfs_opnum4.OP_EXCHANGE_ID,
  handler: exchangeId,
  sessionless: true,
  needsCurrentFh: false,
  replyBound: (_args, state) => exchangeIdBound(state),
  nonIdempotent: true,
});

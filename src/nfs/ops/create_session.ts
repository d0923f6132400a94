// CREATE_SESSION (RFC 8881 §18.36): creates a session for a client record,
// confirming the record on first use. It has its own one-slot replay cache on
// the client record (§18.36.4), negotiates the channel attributes, and binds
// the connection it arrives on.

import type { channel_attrs4, CREATE_SESSION4res } from "../../../generated/nfs4/index.js";
import {
  CREATE_SESSION4res_MAXSIZE,
  nfs_opnum4,
  CREATE_SESSION4_FLAG_CONN_BACK_CHAN,
  CREATE_SESSION4_FLAG_CONN_RDMA,
  CREATE_SESSION4_FLAG_PERSIST,
  nfsstat4,
} from "../../../generated/nfs4/index.js";
import type { NfsError } from "../../state/slot-table.js";
import { seqidVerdict } from "../../state/slot-table.js";
import { defineOp, type OpHandler } from "../op.js";
import type { NfsSettings } from "../settings.js";
import { fixed } from "./reply-size.js";

/**
 * The smallest fore-channel request and reply we can work with: an RPC
 * header with an AUTH_SYS credential, a COMPOUND header, SEQUENCE and one
 * small operation.
 */
export const MIN_FORE_REQUEST_SIZE = 256;
export const MIN_FORE_RESPONSE_SIZE = 128;
/** Our largest CB_COMPOUND (CB_SEQUENCE + a recall with a full file handle) and its reply. */
export const MIN_BACK_REQUEST_SIZE = 512;
export const MIN_BACK_RESPONSE_SIZE = 128;

const KNOWN_FLAGS =
  CREATE_SESSION4_FLAG_PERSIST |
  CREATE_SESSION4_FLAG_CONN_BACK_CHAN |
  CREATE_SESSION4_FLAG_CONN_RDMA;

function fail(status: NfsError): CREATE_SESSION4res {
  return { csr_status: status };
}

/** The fore channel we grant: the client's request clamped to our limits, or null if too small. */
export function negotiateFore(ca: channel_attrs4, s: NfsSettings): channel_attrs4 | null {
  if (
    ca.ca_maxrequestsize < MIN_FORE_REQUEST_SIZE ||
    ca.ca_maxresponsesize < MIN_FORE_RESPONSE_SIZE
  )
    return null;
  // SEQUENCE plus at least one operation, on at least one slot.
  if (ca.ca_maxoperations < 2 || ca.ca_maxrequests < 1) return null;
  return {
    ca_headerpadsize: 0,
    ca_maxrequestsize: Math.min(ca.ca_maxrequestsize, s.maxRequestSize),
    ca_maxresponsesize: Math.min(ca.ca_maxresponsesize, s.maxResponseSize),
    ca_maxresponsesize_cached: Math.min(ca.ca_maxresponsesize_cached, s.maxResponseSizeCached),
    ca_maxoperations: Math.min(ca.ca_maxoperations, s.maxOperations),
    ca_maxrequests: Math.min(ca.ca_maxrequests, s.maxSlotsPerSession),
    ca_rdma_ird: [],
  };
}

/** The back channel we will use: within the client's limits, or null if ours cannot fit. */
export function negotiateBack(ca: channel_attrs4, s: NfsSettings): channel_attrs4 | null {
  if (
    ca.ca_maxrequestsize < MIN_BACK_REQUEST_SIZE ||
    ca.ca_maxresponsesize < MIN_BACK_RESPONSE_SIZE
  )
    return null;
  if (ca.ca_maxoperations < 2 || ca.ca_maxrequests < 1) return null;
  return {
    ca_headerpadsize: 0,
    ca_maxrequestsize: ca.ca_maxrequestsize,
    ca_maxresponsesize: ca.ca_maxresponsesize,
    // Callbacks are never sent with csa_cachethis (ARCHITECTURE: settled decisions).
    ca_maxresponsesize_cached: 0,
    ca_maxoperations: ca.ca_maxoperations,
    ca_maxrequests: Math.min(ca.ca_maxrequests, s.maxBackchannelSlots),
    ca_rdma_ird: [],
  };
}

export const createSession: OpHandler<typeof nfs_opnum4.OP_CREATE_SESSION> = (args, state) => {
  const manager = state.server.state;
  const record = manager.client(args.csa_clientid);
  if (!record) return fail(nfsstat4.NFS4ERR_STALE_CLIENTID);

  // The record's one-slot replay cache (§18.36.4), with the slots' seqid rule:
  // the same sequence ID is a retry, the next one (wrapping) a new request.
  switch (seqidVerdict(record.createSessionSeqid, true, args.csa_sequence)) {
    case "retry":
      return record.createSessionReply;
    case "misordered":
      return fail(nfsstat4.NFS4ERR_SEQ_MISORDERED);
    case "new":
      break;
  }
  // Only the principal that created the record may confirm it (§18.36.4).
  if (!record.confirmed && record.principal !== state.cred.principal)
    return fail(nfsstat4.NFS4ERR_CLID_INUSE);
  if ((args.csa_flags & ~KNOWN_FLAGS) !== 0) return fail(nfsstat4.NFS4ERR_INVAL);

  const settings = state.server.settings;
  const wanted = negotiateFore(args.csa_fore_chan_attrs, settings);
  const back = negotiateBack(args.csa_back_chan_attrs, settings);
  if (!wanted || !back) return fail(nfsstat4.NFS4ERR_TOOSMALL);
  // Out of sessions for this client: waiting would not help (NFS4ERR_DELAY
  // forever), so the answer is the RFC's lack of resources.
  if (manager.clientSessions(record).size >= settings.maxSessionsPerClient)
    return fail(nfsstat4.NFS4ERR_NOSPC);
  // Every slot reserves its replay cache (slots × ca_maxresponsesize_cached);
  // the budget may grant fewer slots than asked (§18.36.3), and when not even
  // one, the session cannot be created now.
  const slots = manager.grantableSlots(wanted.ca_maxrequests, wanted.ca_maxresponsesize_cached);
  if (slots < 1) return fail(nfsstat4.NFS4ERR_NOSPC);
  const fore: channel_attrs4 = { ...wanted, ca_maxrequests: slots };

  // Persistent reply caches and RDMA are not offered; only CONN_BACK_CHAN survives.
  const flags = args.csa_flags & CREATE_SESSION4_FLAG_CONN_BACK_CHAN;
  const session = manager.createSession(
    record,
    flags,
    fore,
    back,
    args.csa_cb_program,
    args.csa_sec_parms,
    wanted.ca_maxrequests,
  );
  session.minorVersion = state.minorversion;
  manager.bind(session, state.conn, true, flags !== 0);
  if (!record.confirmed) manager.confirm(record);
  manager.renew(record);
  // The connection carries the back channel: probe it (CB_NULL with
  // csa_cb_program and csa_sec_parms), once this reply is on its way.
  if (flags !== 0) state.server.callbacks.backChannelChanged(session, state.conn);

  const res: CREATE_SESSION4res = {
    csr_status: nfsstat4.NFS4_OK,
    csr_resok4: {
      csr_sessionid: session.id,
      csr_sequence: args.csa_sequence,
      csr_flags: flags,
      csr_fore_chan_attrs: fore,
      csr_back_chan_attrs: back,
    },
  };
  record.createSessionSeqid = args.csa_sequence;
  record.createSessionReply = res;
  return res;
};

export const CREATE_SESSION = defineOp({
  op: nfs_opnum4.OP_CREATE_SESSION,
  handler: createSession,
  sessionless: true,
  needsCurrentFh: false,
  replyBound: fixed(CREATE_SESSION4res_MAXSIZE),
  nonIdempotent: true,
});

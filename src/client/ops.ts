// Builders for the operations the client and its tests send most, so callers
// write `ops.putrootfh()` rather than the full discriminated-union literal.

import type {
  bitmap4,
  callback_sec_parms4,
  channel_attrs4,
  channel_dir_from_client4,
  nfs_argop4,
  nfs_fh4,
  SEQUENCE4args,
} from "../../generated/nfs4/index.js";
import { nfs_opnum4 } from "../../generated/nfs4/index.js";

const utf8 = new TextEncoder();

/** A name for the wire: strings are UTF-8 encoded. */
export function bytesOf(v: string | Uint8Array): Uint8Array {
  return typeof v === "string" ? utf8.encode(v) : v;
}

export function sequence(args: SEQUENCE4args): nfs_argop4 {
  return { argop: nfs_opnum4.OP_SEQUENCE, opsequence: args };
}

export function reclaimComplete(oneFs = false): nfs_argop4 {
  return { argop: nfs_opnum4.OP_RECLAIM_COMPLETE, opreclaim_complete: { rca_one_fs: oneFs } };
}

export function destroySession(sessionid: Uint8Array): nfs_argop4 {
  return { argop: nfs_opnum4.OP_DESTROY_SESSION, opdestroy_session: { dsa_sessionid: sessionid } };
}

export function destroyClientid(clientid: bigint): nfs_argop4 {
  return { argop: nfs_opnum4.OP_DESTROY_CLIENTID, opdestroy_clientid: { dca_clientid: clientid } };
}

export function bindConnToSession(
  sessionid: Uint8Array,
  dir: channel_dir_from_client4,
): nfs_argop4 {
  return {
    argop: nfs_opnum4.OP_BIND_CONN_TO_SESSION,
    opbind_conn_to_session: {
      bctsa_sessid: sessionid,
      bctsa_dir: dir,
      bctsa_use_conn_in_rdma_mode: false,
    },
  };
}

export function backchannelCtl(
  program: number,
  secParms: readonly callback_sec_parms4[],
): nfs_argop4 {
  return {
    argop: nfs_opnum4.OP_BACKCHANNEL_CTL,
    opbackchannel_ctl: { bca_cb_program: program, bca_sec_parms: [...secParms] },
  };
}

export function putrootfh(): nfs_argop4 {
  return { argop: nfs_opnum4.OP_PUTROOTFH };
}

export function putfh(fh: nfs_fh4): nfs_argop4 {
  return { argop: nfs_opnum4.OP_PUTFH, opputfh: { object: fh } };
}

export function getfh(): nfs_argop4 {
  return { argop: nfs_opnum4.OP_GETFH };
}

export function lookup(name: string | Uint8Array): nfs_argop4 {
  return { argop: nfs_opnum4.OP_LOOKUP, oplookup: { objname: bytesOf(name) } };
}

export function getattr(attrRequest: bitmap4): nfs_argop4 {
  return { argop: nfs_opnum4.OP_GETATTR, opgetattr: { attr_request: attrRequest } };
}

/**
 * Channel attributes a client asks for: the Linux client's usual fore channel
 * (1 MiB I/O plus headers, 64 slots, 16 operations), with overrides.
 */
export function channelAttrs(overrides: Partial<channel_attrs4> = {}): channel_attrs4 {
  return {
    ca_headerpadsize: 0,
    ca_maxrequestsize: 1049620,
    ca_maxresponsesize: 1049480,
    ca_maxresponsesize_cached: 64 * 1024,
    ca_maxoperations: 16,
    ca_maxrequests: 64,
    ca_rdma_ird: [],
    ...overrides,
  };
}

/** A back channel that fits the server's callbacks: a few slots, no caching. */
export function backChannelAttrs(overrides: Partial<channel_attrs4> = {}): channel_attrs4 {
  return channelAttrs({
    ca_maxrequestsize: 16 * 1024,
    ca_maxresponsesize: 16 * 1024,
    ca_maxresponsesize_cached: 0,
    ca_maxoperations: 8,
    ca_maxrequests: 4,
    ...overrides,
  });
}

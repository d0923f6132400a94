// Builders for the operations the client and its tests send most, so callers
// write `ops.putrootfh()` rather than the full discriminated-union literal.

import { XdrWriter } from "../xdr/index.js";
import type {
  bitmap4,
  callback_sec_parms4,
  channel_attrs4,
  channel_dir_from_client4,
  nfs_argop4,
  nfs_fh4,
  nfstime4,
  openflag4,
  SEQUENCE4args,
  stable_how4,
  stateid4,
} from "../../generated/nfs4/index.js";
import {
  FATTR4_SIZE,
  createmode4,
  nfs_ftype4,
  nfs_opnum4,
  open_claim_type4,
  opentype4,
} from "../../generated/nfs4/index.js";

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

export function savefh(): nfs_argop4 {
  return { argop: nfs_opnum4.OP_SAVEFH };
}

/** CREATE of directory `name` in the current filehandle, with no attributes. */
export function mkdir(name: string | Uint8Array): nfs_argop4 {
  return {
    argop: nfs_opnum4.OP_CREATE,
    opcreate: {
      objtype: { type: nfs_ftype4.NF4DIR },
      objname: bytesOf(name),
      createattrs: { attrmask: [], attr_vals: new Uint8Array(0) },
    },
  };
}

/** REMOVE of `name` from the current filehandle. */
export function remove(name: string | Uint8Array): nfs_argop4 {
  return { argop: nfs_opnum4.OP_REMOVE, opremove: { target: bytesOf(name) } };
}

/** RENAME of `oldName` in the saved filehandle to `newName` in the current one. */
export function rename(oldName: string | Uint8Array, newName: string | Uint8Array): nfs_argop4 {
  return {
    argop: nfs_opnum4.OP_RENAME,
    oprename: { oldname: bytesOf(oldName), newname: bytesOf(newName) },
  };
}

/** LINK: a new name `newName` in the current filehandle for the saved filehandle's object. */
export function link(newName: string | Uint8Array): nfs_argop4 {
  return { argop: nfs_opnum4.OP_LINK, oplink: { newname: bytesOf(newName) } };
}

/** COMMIT of `count` bytes at `offset` (0, 0: the whole file). */
export function commit(offset = 0n, count = 0): nfs_argop4 {
  return { argop: nfs_opnum4.OP_COMMIT, opcommit: { offset, count } };
}

export function getattr(attrRequest: bitmap4): nfs_argop4 {
  return { argop: nfs_opnum4.OP_GETATTR, opgetattr: { attr_request: attrRequest } };
}

/** OPEN's how: OPEN4_NOCREATE, or OPEN4_CREATE UNCHECKED4 with no attributes (§18.16.3). */
export function openHow(create: boolean): openflag4 {
  return create
    ? {
        opentype: opentype4.OPEN4_CREATE,
        how: {
          mode: createmode4.UNCHECKED4,
          createattrs: { attrmask: [], attr_vals: new Uint8Array(0) },
        },
      }
    : { opentype: opentype4.OPEN4_NOCREATE };
}

/**
 * OPEN of `name` in the current filehandle (CLAIM_NULL) by open-owner `owner`.
 * `shareAccess` carries the OPEN4_SHARE_ACCESS_WANT_* bits too; the seqid and
 * the owner's client ID are ignored in NFSv4.1 (§18.16.3), so they are zero.
 */
export function open(
  name: string | Uint8Array,
  owner: string | Uint8Array,
  shareAccess: number,
  shareDeny: number,
  how: openflag4,
): nfs_argop4 {
  return {
    argop: nfs_opnum4.OP_OPEN,
    opopen: {
      seqid: 0,
      share_access: shareAccess >>> 0,
      share_deny: shareDeny >>> 0,
      owner: { clientid: 0n, owner: bytesOf(owner) },
      openhow: how,
      claim: { claim: open_claim_type4.CLAIM_NULL, file: bytesOf(name) },
    },
  };
}

export function close(stateid: stateid4): nfs_argop4 {
  return { argop: nfs_opnum4.OP_CLOSE, opclose: { seqid: 0, open_stateid: stateid } };
}

export function read(stateid: stateid4, offset: bigint, count: number): nfs_argop4 {
  return { argop: nfs_opnum4.OP_READ, opread: { stateid, offset, count } };
}

export function write(
  stateid: stateid4,
  offset: bigint,
  data: Uint8Array,
  stable: stable_how4,
): nfs_argop4 {
  return { argop: nfs_opnum4.OP_WRITE, opwrite: { stateid, offset, stable, data } };
}

/** SETATTR of the size alone (a truncation or extension, §5.8.1.2), under `stateid`. */
export function setattrSize(stateid: stateid4, size: bigint): nfs_argop4 {
  const w = new XdrWriter(8);
  w.writeUhyper(size);
  return {
    argop: nfs_opnum4.OP_SETATTR,
    opsetattr: {
      stateid,
      obj_attributes: { attrmask: [1 << FATTR4_SIZE], attr_vals: w.finish() },
    },
  };
}

/** GET_DIR_DELEGATION of the current directory (RFC 8881 §18.39), never asking to be signalled. */
export function getDirDelegation(
  types: bitmap4,
  childAttributes: bitmap4,
  dirAttributes: bitmap4,
  delay: nfstime4,
): nfs_argop4 {
  return {
    argop: nfs_opnum4.OP_GET_DIR_DELEGATION,
    opget_dir_delegation: {
      gdda_signal_deleg_avail: false,
      gdda_notification_types: types,
      gdda_child_attr_delay: delay,
      gdda_dir_attr_delay: delay,
      gdda_child_attributes: childAttributes,
      gdda_dir_attributes: dirAttributes,
    },
  };
}

/** READDIR of the current directory from `cookie` (0 and a zero verifier: from the start). */
export function readdir(
  cookie: bigint,
  cookieverf: Uint8Array,
  attrRequest: bitmap4,
  maxcount: number,
): nfs_argop4 {
  return {
    argop: nfs_opnum4.OP_READDIR,
    opreaddir: { cookie, cookieverf, dircount: maxcount, maxcount, attr_request: attrRequest },
  };
}

export function testStateid(stateids: readonly stateid4[]): nfs_argop4 {
  return { argop: nfs_opnum4.OP_TEST_STATEID, optest_stateid: { ts_stateids: [...stateids] } };
}

export function freeStateid(stateid: stateid4): nfs_argop4 {
  return { argop: nfs_opnum4.OP_FREE_STATEID, opfree_stateid: { fsa_stateid: stateid } };
}

export function delegreturn(stateid: stateid4): nfs_argop4 {
  return { argop: nfs_opnum4.OP_DELEGRETURN, opdelegreturn: { deleg_stateid: stateid } };
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

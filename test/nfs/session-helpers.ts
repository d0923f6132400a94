// Builders for the session operations' arguments and shortcuts to establish a
// client and a session through the real COMPOUND path.

import { expect } from "vitest";
import type { channel_attrs4, nfs_argop4, nfs_resop4 } from "../../generated/nfs4/index.js";
import {
  CREATE_SESSION4_FLAG_CONN_BACK_CHAN,
  nfs_opnum4,
  nfsstat4,
  state_protect_how4,
} from "../../generated/nfs4/index.js";
import type { Credential, RpcConnection } from "../../src/rpc/types.js";
import type { Harness } from "./harness.js";
import { sysCred } from "./harness.js";

export const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);

export function exchangeIdOp(owner: string, verifier = "verifier", flags = 0): nfs_argop4 {
  const v = new Uint8Array(8);
  v.set(utf8(verifier).subarray(0, 8));
  return {
    argop: nfs_opnum4.OP_EXCHANGE_ID,
    opexchange_id: {
      eia_clientowner: { co_verifier: v, co_ownerid: utf8(owner) },
      eia_flags: flags >>> 0,
      eia_state_protect: { spa_how: state_protect_how4.SP4_NONE },
      eia_client_impl_id: [],
    },
  };
}

export function channel(overrides: Partial<channel_attrs4> = {}): channel_attrs4 {
  return {
    ca_headerpadsize: 0,
    ca_maxrequestsize: 1049620,
    ca_maxresponsesize: 1049480,
    ca_maxresponsesize_cached: 7584,
    ca_maxoperations: 16,
    ca_maxrequests: 64,
    ca_rdma_ird: [],
    ...overrides,
  };
}

export function createSessionOp(
  clientid: bigint,
  sequence: number,
  options: { flags?: number; fore?: Partial<channel_attrs4>; back?: Partial<channel_attrs4> } = {},
): nfs_argop4 {
  return {
    argop: nfs_opnum4.OP_CREATE_SESSION,
    opcreate_session: {
      csa_clientid: clientid,
      csa_sequence: sequence,
      csa_flags: options.flags ?? CREATE_SESSION4_FLAG_CONN_BACK_CHAN,
      csa_fore_chan_attrs: channel(options.fore),
      csa_back_chan_attrs: channel({
        ca_maxrequests: 1,
        ca_maxoperations: 2,
        ca_maxresponsesize_cached: 0,
        ...options.back,
      }),
      csa_cb_program: 0x40000000,
      csa_sec_parms: [{ cb_secflavor: 0 }],
    },
  };
}

export function sequenceOp(
  sessionid: Uint8Array,
  seqid: number,
  slot = 0,
  cachethis = true,
  highest = slot,
): nfs_argop4 {
  return {
    argop: nfs_opnum4.OP_SEQUENCE,
    opsequence: {
      sa_sessionid: sessionid,
      sa_sequenceid: seqid >>> 0,
      sa_slotid: slot,
      sa_highest_slotid: highest,
      sa_cachethis: cachethis,
    },
  };
}

export const reclaimCompleteOp: nfs_argop4 = {
  argop: nfs_opnum4.OP_RECLAIM_COMPLETE,
  opreclaim_complete: { rca_one_fs: false },
};

/** The arm value of a result, e.g. arm(res, "opexchange_id"). */
export function arm<T = Record<string, unknown>>(res: nfs_resop4 | undefined, name: string): T {
  expect(res, `result ${name}`).toBeDefined();
  return (res as unknown as Record<string, T>)[name]!;
}

export async function newClient(
  h: Harness,
  conn: RpcConnection,
  owner = "client-1",
  cred: Credential = sysCred(),
): Promise<{ clientid: bigint; sequenceid: number }> {
  const res = await h.run([exchangeIdOp(owner)], conn, { cred });
  expect(res.status).toBe(nfsstat4.NFS4_OK);
  const ok = arm<{ eir_resok4: { eir_clientid: bigint; eir_sequenceid: number } }>(
    res.resarray[0],
    "opexchange_id",
  );
  return { clientid: ok.eir_resok4.eir_clientid, sequenceid: ok.eir_resok4.eir_sequenceid };
}

export async function newSession(
  h: Harness,
  conn: RpcConnection,
  owner = "client-1",
  cred: Credential = sysCred(),
): Promise<{ clientid: bigint; sessionid: Uint8Array }> {
  const { clientid, sequenceid } = await newClient(h, conn, owner, cred);
  const res = await h.run([createSessionOp(clientid, sequenceid)], conn, { cred });
  expect(res.status).toBe(nfsstat4.NFS4_OK);
  const ok = arm<{ csr_resok4: { csr_sessionid: Uint8Array } }>(
    res.resarray[0],
    "opcreate_session",
  );
  return { clientid, sessionid: ok.csr_resok4.csr_sessionid };
}

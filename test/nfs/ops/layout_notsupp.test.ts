// The pNFS operations answer NFS4ERR_NOTSUPP; SET_SSV, which may not return
// NOTSUPP, answers NFS4ERR_INVAL (no client can have SSV state protection).

import { describe, expect, it } from "vitest";
import {
  layoutiomode4,
  layoutreturn_type4,
  layouttype4,
  nfs_opnum4,
  nfsstat4,
} from "../../../generated/nfs4/index.js";
import {
  getdeviceinfo,
  getdevicelist,
  layoutcommit,
  layoutget,
  layoutreturn,
  setSsv,
} from "../../../src/nfs/ops/layout_notsupp.js";
import { expectOp } from "./fileops-helpers.js";
import { makeEnv } from "./helpers.js";

const FILES = layouttype4.LAYOUT4_NFSV4_1_FILES;
const ANY_STATEID = { seqid: 0, other: new Uint8Array(12) };

describe("pNFS operations and SET_SSV", () => {
  it("each layout operation is NOTSUPP, with or without a filehandle", async () => {
    const env = await makeEnv();
    for (const fh of [null, env.exp]) {
      const state = env.state();
      state.currentFh = fh;
      const info = await getdeviceinfo(
        {
          gdia_device_id: new Uint8Array(16),
          gdia_layout_type: FILES,
          gdia_maxcount: 4096,
          gdia_notify_types: [],
        },
        state,
      );
      expectOp(nfs_opnum4.OP_GETDEVICEINFO, info.gdir_status, nfsstat4.NFS4ERR_NOTSUPP);
      const list = await getdevicelist(
        {
          gdla_layout_type: FILES,
          gdla_maxdevices: 10,
          gdla_cookie: 0n,
          gdla_cookieverf: new Uint8Array(8),
        },
        state,
      );
      expectOp(nfs_opnum4.OP_GETDEVICELIST, list.gdlr_status, nfsstat4.NFS4ERR_NOTSUPP);
      const commit = await layoutcommit(
        {
          loca_offset: 0n,
          loca_length: 0n,
          loca_reclaim: false,
          loca_stateid: ANY_STATEID,
          loca_last_write_offset: { no_newoffset: false },
          loca_time_modify: { nt_timechanged: false },
          loca_layoutupdate: { lou_type: FILES, lou_body: new Uint8Array(0) },
        },
        state,
      );
      expectOp(nfs_opnum4.OP_LAYOUTCOMMIT, commit.locr_status, nfsstat4.NFS4ERR_NOTSUPP);
      const get = await layoutget(
        {
          loga_signal_layout_avail: false,
          loga_layout_type: FILES,
          loga_iomode: layoutiomode4.LAYOUTIOMODE4_READ,
          loga_offset: 0n,
          loga_length: 4096n,
          loga_minlength: 0n,
          loga_stateid: ANY_STATEID,
          loga_maxcount: 4096,
        },
        state,
      );
      expectOp(nfs_opnum4.OP_LAYOUTGET, get.logr_status, nfsstat4.NFS4ERR_NOTSUPP);
      const ret = await layoutreturn(
        {
          lora_reclaim: false,
          lora_layout_type: FILES,
          lora_iomode: layoutiomode4.LAYOUTIOMODE4_ANY,
          lora_layoutreturn: { lr_returntype: layoutreturn_type4.LAYOUTRETURN4_ALL },
        },
        state,
      );
      expectOp(nfs_opnum4.OP_LAYOUTRETURN, ret.lorr_status, nfsstat4.NFS4ERR_NOTSUPP);
      expect(state.currentFh).toEqual(fh);
    }
  });

  it("SET_SSV is INVAL: NOTSUPP is not among its errors", async () => {
    const env = await makeEnv();
    const res = await setSsv(
      { ssa_ssv: new Uint8Array(32), ssa_digest: new Uint8Array(32) },
      env.state(),
    );
    expectOp(nfs_opnum4.OP_SET_SSV, res.ssr_status, nfsstat4.NFS4ERR_INVAL);
  });
});

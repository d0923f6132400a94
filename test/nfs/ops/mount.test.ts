// The filesystem handlers wired into an OpTable (as COMPOUND will), driven
// through the sequence the Linux client uses to mount server:/export.

import { describe, expect, it } from "vitest";
import {
  FATTR4_FILEID,
  FATTR4_FSID,
  FATTR4_LEASE_TIME,
  FATTR4_SUPPORTED_ATTRS,
  FATTR4_TYPE,
  nfs_opnum4,
  nfsstat4,
  secinfo_style4,
  type nfs_argop4,
  type nfs_resop4,
} from "../../../generated/nfs4/index.js";
import { bitmapOf, bitsOf } from "../../../src/nfs/attrs/index.js";
import type { CompoundState } from "../../../src/nfs/context.js";
import type { OpTable } from "../../../src/nfs/op.js";
import { access } from "../../../src/nfs/ops/access.js";
import { getattr } from "../../../src/nfs/ops/getattr.js";
import { getfh } from "../../../src/nfs/ops/getfh.js";
import { lookup } from "../../../src/nfs/ops/lookup.js";
import { lookupp } from "../../../src/nfs/ops/lookupp.js";
import { putfh } from "../../../src/nfs/ops/putfh.js";
import { putrootfh } from "../../../src/nfs/ops/putrootfh.js";
import { readdir } from "../../../src/nfs/ops/readdir.js";
import { restorefh } from "../../../src/nfs/ops/restorefh.js";
import { savefh } from "../../../src/nfs/ops/savefh.js";
import { secinfoNoName } from "../../../src/nfs/ops/secinfo_no_name.js";
import { makeEnv, mkfile, utf8 } from "./helpers.js";

const TABLE: OpTable = {
  [nfs_opnum4.OP_ACCESS]: access,
  [nfs_opnum4.OP_GETATTR]: getattr,
  [nfs_opnum4.OP_GETFH]: getfh,
  [nfs_opnum4.OP_LOOKUP]: lookup,
  [nfs_opnum4.OP_LOOKUPP]: lookupp,
  [nfs_opnum4.OP_PUTFH]: putfh,
  [nfs_opnum4.OP_PUTROOTFH]: putrootfh,
  [nfs_opnum4.OP_READDIR]: readdir,
  [nfs_opnum4.OP_RESTOREFH]: restorefh,
  [nfs_opnum4.OP_SAVEFH]: savefh,
  [nfs_opnum4.OP_SECINFO_NO_NAME]: secinfoNoName,
};

/** Runs ops in order until one fails, like COMPOUND, returning the result arms. */
async function run(state: CompoundState, ops: nfs_argop4[]): Promise<{ status: nfsstat4 }[]> {
  const out: { status: nfsstat4 }[] = [];
  for (const op of ops) {
    // The table is typed per operation; here arguments and results are handled generically.
    const handler = TABLE[op.argop] as
      ((args: unknown, state: CompoundState) => Promise<{ status: nfsstat4 }>) | undefined;
    if (handler === undefined) throw new Error(`no handler for ${op.argop}`);
    const arg = Object.entries(op).find(([k]) => k !== "argop")?.[1];
    const res = await handler(arg, state);
    out.push(res);
    if (res.status !== nfsstat4.NFS4_OK) break;
  }
  return out;
}

describe("the Linux mount sequence", () => {
  it("PUTROOTFH, LOOKUP export, GETFH, GETATTR; then SECINFO_NO_NAME and READDIR", async () => {
    const env = await makeEnv();
    await mkfile(env.fs, env.exp, "hello", { data: "hi" });
    const state = env.state();
    const res = await run(state, [
      { argop: nfs_opnum4.OP_PUTROOTFH },
      { argop: nfs_opnum4.OP_LOOKUP, oplookup: { objname: utf8("export") } },
      { argop: nfs_opnum4.OP_GETFH },
      {
        argop: nfs_opnum4.OP_GETATTR,
        opgetattr: {
          attr_request: bitmapOf([
            FATTR4_SUPPORTED_ATTRS,
            FATTR4_TYPE,
            FATTR4_FSID,
            FATTR4_LEASE_TIME,
            FATTR4_FILEID,
          ]),
        },
      },
      { argop: nfs_opnum4.OP_SAVEFH },
      {
        argop: nfs_opnum4.OP_SECINFO_NO_NAME,
        opsecinfo_no_name: secinfo_style4.SECINFO_STYLE4_CURRENT_FH,
      },
      { argop: nfs_opnum4.OP_RESTOREFH },
      {
        argop: nfs_opnum4.OP_READDIR,
        opreaddir: {
          cookie: 0n,
          cookieverf: new Uint8Array(8),
          dircount: 8192,
          maxcount: 32768,
          attr_request: bitmapOf([FATTR4_TYPE, FATTR4_FILEID]),
        },
      },
      { argop: nfs_opnum4.OP_LOOKUPP },
      { argop: nfs_opnum4.OP_GETFH },
    ]);
    expect(res.map((r) => r.status)).toEqual(Array(10).fill(nfsstat4.NFS4_OK));
    const fh = res[2] as Extract<nfs_resop4, { resop: 10 }>["opgetfh"];
    if (fh.status === nfsstat4.NFS4_OK) expect(fh.resok4.object).toEqual(env.exp);
    const ga = res[3] as Extract<nfs_resop4, { resop: 9 }>["opgetattr"];
    if (ga.status === nfsstat4.NFS4_OK) {
      expect(bitsOf(ga.resok4.obj_attributes.attrmask)).toEqual([0, 1, 8, 10, 20]);
    }
    const rd = res[7] as Extract<nfs_resop4, { resop: 26 }>["opreaddir"];
    if (rd.status === nfsstat4.NFS4_OK) {
      expect(rd.resok4.reply.entries.map((e) => new TextDecoder().decode(e.name))).toEqual([
        "hello",
      ]);
    }
    expect(state.currentFh).toEqual(env.root);
  });
});

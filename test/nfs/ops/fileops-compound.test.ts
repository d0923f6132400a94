// The file operations through the real COMPOUND path (encode, dispatch,
// encode the reply, decode it): argument and result arms line up with the
// generated codecs, the current/saved filehandle rules hold across operations,
// and the processor records no error RFC 8881 §15.2 does not allow (the
// harness fails the test if it does). The operations are registered as extra
// entries here, until the lead adds them to OPERATIONS.

import { describe, expect, it } from "vitest";
import {
  FATTR4_SIZE,
  OPEN4_SHARE_ACCESS_WANT_READ_DELEG,
  gddrnf4_status,
  layoutiomode4,
  layouttype4,
  nfs_ftype4,
  nfs_opnum4,
  nfsstat4,
  open_claim_type4,
  type nfs_argop4,
} from "../../../generated/nfs4/index.js";
import { MemoryFileSystem } from "../../../src/fs/memory.js";
import type { OpTable } from "../../../src/nfs/op.js";
import { commit } from "../../../src/nfs/ops/commit.js";
import { create } from "../../../src/nfs/ops/create.js";
import { getDirDelegation } from "../../../src/nfs/ops/get_dir_delegation.js";
import { layoutget, setSsv } from "../../../src/nfs/ops/layout_notsupp.js";
import { link } from "../../../src/nfs/ops/link.js";
import { nverify } from "../../../src/nfs/ops/nverify.js";
import { openattr } from "../../../src/nfs/ops/openattr.js";
import { putpubfh } from "../../../src/nfs/ops/putpubfh.js";
import { readlink } from "../../../src/nfs/ops/readlink.js";
import { remove } from "../../../src/nfs/ops/remove.js";
import { rename } from "../../../src/nfs/ops/rename.js";
import { secinfo } from "../../../src/nfs/ops/secinfo.js";
import { verify } from "../../../src/nfs/ops/verify.js";
import { wantDelegation } from "../../../src/nfs/ops/want_delegation.js";
import { Harness, sysCred } from "../harness.js";
import { arm, newSession, sequenceOp } from "../session-helpers.js";
import { fattr, rawFattr } from "./fileops-helpers.js";
import { utf8 } from "./helpers.js";

const FILE_OPS: OpTable = {
  [nfs_opnum4.OP_CREATE]: create,
  [nfs_opnum4.OP_LINK]: link,
  [nfs_opnum4.OP_REMOVE]: remove,
  [nfs_opnum4.OP_RENAME]: rename,
  [nfs_opnum4.OP_READLINK]: readlink,
  [nfs_opnum4.OP_SECINFO]: secinfo,
  [nfs_opnum4.OP_PUTPUBFH]: putpubfh,
  [nfs_opnum4.OP_VERIFY]: verify,
  [nfs_opnum4.OP_NVERIFY]: nverify,
  [nfs_opnum4.OP_OPENATTR]: openattr,
  [nfs_opnum4.OP_COMMIT]: commit,
  [nfs_opnum4.OP_WANT_DELEGATION]: wantDelegation,
  [nfs_opnum4.OP_GET_DIR_DELEGATION]: getDirDelegation,
  [nfs_opnum4.OP_LAYOUTGET]: layoutget,
  [nfs_opnum4.OP_SET_SSV]: setSsv,
};

const putroot: nfs_argop4 = { argop: nfs_opnum4.OP_PUTROOTFH };
const getfh: nfs_argop4 = { argop: nfs_opnum4.OP_GETFH };
const savefh: nfs_argop4 = { argop: nfs_opnum4.OP_SAVEFH };
const lookup = (name: string): nfs_argop4 => ({
  argop: nfs_opnum4.OP_LOOKUP,
  oplookup: { objname: utf8(name) },
});
const mkdirOp = (name: string): nfs_argop4 => ({
  argop: nfs_opnum4.OP_CREATE,
  opcreate: {
    objtype: { type: nfs_ftype4.NF4DIR },
    objname: utf8(name),
    createattrs: fattr({ mode: 0o755 }),
  },
});

async function setup() {
  const fs = new MemoryFileSystem({ exportMode: 0o777 });
  const h = new Harness({}, fs, FILE_OPS);
  const conn = h.conn();
  const cred = sysCred(1000, 1000);
  const { sessionid } = await newSession(h, conn, "fileops", cred);
  let seq = 1;
  const run = (ops: nfs_argop4[]) => h.run([sequenceOp(sessionid, seq++), ...ops], conn, { cred });
  return { fs, run };
}

describe("file operations through COMPOUND", () => {
  it("CREATE, GETFH, LINK, RENAME, READLINK, REMOVE in COMPOUNDs as a client sends them", async () => {
    const { fs, run } = await setup();
    const home = [putroot, lookup("export")];

    // CREATE makes the new directory the current filehandle.
    let r = await run([...home, mkdirOp("d"), getfh]);
    expect(r.status).toBe(nfsstat4.NFS4_OK);
    const created = arm<{ resok4: { attrset: number[] } }>(r.resarray[3], "opcreate");
    expect(created.resok4.attrset.length).toBeGreaterThan(0);
    const dfh = arm<{ resok4: { object: Uint8Array } }>(r.resarray[4], "opgetfh").resok4.object;
    const exp = (await fs.lookup(await fs.root(), "export")).handle;
    expect(dfh).toEqual((await fs.lookup(exp, "d")).handle);

    // A symlink, then READLINK on it in the same COMPOUND.
    r = await run([
      ...home,
      {
        argop: nfs_opnum4.OP_CREATE,
        opcreate: {
          objtype: { type: nfs_ftype4.NF4LNK, linkdata: utf8("d") },
          objname: utf8("l"),
          createattrs: fattr(),
        },
      },
      { argop: nfs_opnum4.OP_READLINK },
    ]);
    expect(r.status).toBe(nfsstat4.NFS4_OK);
    expect(arm<{ resok4: { link: Uint8Array } }>(r.resarray[4], "opreadlink").resok4.link).toEqual(
      utf8("d"),
    );

    // LINK: saved = the symlink, current = d.
    r = await run([
      ...home,
      lookup("l"),
      savefh,
      putroot,
      lookup("export"),
      lookup("d"),
      { argop: nfs_opnum4.OP_LINK, oplink: { newname: utf8("l2") } },
    ]);
    expect(r.status).toBe(nfsstat4.NFS4_OK);
    expect((await fs.lookup(dfh, "l2")).attrs.type).toBe(nfs_ftype4.NF4LNK);

    // RENAME: saved = d, current = export.
    r = await run([
      ...home,
      lookup("d"),
      savefh,
      putroot,
      lookup("export"),
      { argop: nfs_opnum4.OP_RENAME, oprename: { oldname: utf8("l2"), newname: utf8("moved") } },
    ]);
    expect(r.status).toBe(nfsstat4.NFS4_OK);
    const rn = arm<{
      resok4: { source_cinfo: { after: bigint }; target_cinfo: { after: bigint } };
    }>(r.resarray[7], "oprename");
    expect(rn.resok4.source_cinfo.after).toBe((await fs.getattr(dfh)).change);
    expect(rn.resok4.target_cinfo.after).toBe((await fs.getattr(exp)).change);

    // REMOVE, and a failing REMOVE stops the COMPOUND with its status.
    r = await run([
      ...home,
      { argop: nfs_opnum4.OP_REMOVE, opremove: { target: utf8("moved") } },
      { argop: nfs_opnum4.OP_REMOVE, opremove: { target: utf8("moved") } },
      getfh,
    ]);
    expect(r.status).toBe(nfsstat4.NFS4ERR_NOENT);
    expect(r.resarray.length).toBe(5);
  });

  it("SECINFO consumes the current filehandle; PUTPUBFH restores one", async () => {
    const { run } = await setup();
    let r = await run([
      putroot,
      { argop: nfs_opnum4.OP_SECINFO, opsecinfo: { name: utf8("export") } },
      getfh,
    ]);
    expect(r.status).toBe(nfsstat4.NFS4ERR_NOFILEHANDLE);
    r = await run([
      putroot,
      { argop: nfs_opnum4.OP_SECINFO, opsecinfo: { name: utf8("export") } },
      { argop: nfs_opnum4.OP_PUTPUBFH },
      getfh,
    ]);
    expect(r.status).toBe(nfsstat4.NFS4_OK);
  });

  it("VERIFY / NVERIFY gate the rest of a COMPOUND", async () => {
    const { run } = await setup();
    const size0 = rawFattr([FATTR4_SIZE], (w) => w.writeUhyper(0n));
    // A directory's size in this backend is one block, never 0.
    let r = await run([
      putroot,
      { argop: nfs_opnum4.OP_VERIFY, opverify: { obj_attributes: size0 } },
      getfh,
    ]);
    expect(r.status).toBe(nfsstat4.NFS4ERR_NOT_SAME);
    expect(r.resarray.length).toBe(3);
    r = await run([
      putroot,
      { argop: nfs_opnum4.OP_NVERIFY, opnverify: { obj_attributes: size0 } },
      getfh,
    ]);
    expect(r.status).toBe(nfsstat4.NFS4_OK);
  });

  it("the declining answers encode: OPENATTR, COMMIT, WANT_DELEGATION, LAYOUTGET, SET_SSV; GET_DIR_DELEGATION's grant too", async () => {
    const { run } = await setup();
    let r = await run([
      putroot,
      { argop: nfs_opnum4.OP_OPENATTR, opopenattr: { createdir: false } },
    ]);
    expect(r.status).toBe(nfsstat4.NFS4ERR_NOTSUPP);
    r = await run([putroot, { argop: nfs_opnum4.OP_COMMIT, opcommit: { offset: 0n, count: 0 } }]);
    expect(r.status).toBe(nfsstat4.NFS4ERR_ISDIR);
    r = await run([
      putroot,
      {
        argop: nfs_opnum4.OP_WANT_DELEGATION,
        opwant_delegation: {
          wda_want: OPEN4_SHARE_ACCESS_WANT_READ_DELEG,
          wda_claim: { dc_claim: open_claim_type4.CLAIM_FH },
        },
      },
      {
        argop: nfs_opnum4.OP_GET_DIR_DELEGATION,
        opget_dir_delegation: {
          gdda_signal_deleg_avail: false,
          gdda_notification_types: [],
          gdda_child_attr_delay: { seconds: 0n, nseconds: 0 },
          gdda_dir_attr_delay: { seconds: 0n, nseconds: 0 },
          gdda_child_attributes: [],
          gdda_dir_attributes: [],
        },
      },
    ]);
    expect(r.status).toBe(nfsstat4.NFS4_OK);
    // The harness's connections answer the back channel: a directory delegation is granted.
    const gdd = arm<{ gddr_res_non_fatal4: { gddrnf_status: number } }>(
      r.resarray[3],
      "opget_dir_delegation",
    );
    expect(gdd.gddr_res_non_fatal4.gddrnf_status).toBe(gddrnf4_status.GDD4_OK);
    r = await run([
      putroot,
      {
        argop: nfs_opnum4.OP_LAYOUTGET,
        oplayoutget: {
          loga_signal_layout_avail: false,
          loga_layout_type: layouttype4.LAYOUT4_NFSV4_1_FILES,
          loga_iomode: layoutiomode4.LAYOUTIOMODE4_READ,
          loga_offset: 0n,
          loga_length: 1n,
          loga_minlength: 0n,
          loga_stateid: { seqid: 0, other: new Uint8Array(12) },
          loga_maxcount: 4096,
        },
      },
    ]);
    expect(r.status).toBe(nfsstat4.NFS4ERR_NOTSUPP);
    r = await run([
      {
        argop: nfs_opnum4.OP_SET_SSV,
        opset_ssv: { ssa_ssv: new Uint8Array(16), ssa_digest: new Uint8Array(16) },
      },
    ]);
    expect(r.status).toBe(nfsstat4.NFS4ERR_INVAL);
  });
});

// The RFC 8276 extended-attribute operations through the real COMPOUND path
// (encode, dispatch, encode the reply, decode it): they exist in NFSv4.2 only,
// a session's small ca_maxresponsesize (pynfs asks for 8 KiB) still lets
// LISTXATTRS and GETXATTR answer what fits, and no result exceeds its bound
// or carries an error the tables do not allow (the harness checks both).

import { describe, expect, it } from "vitest";
import {
  nfs_opnum4,
  nfsstat4,
  setxattr_option4,
  type GETXATTR4res,
  type LISTXATTRS4res,
  type nfs_argop4,
} from "../../generated/nfs4/index.js";
import { MemoryFileSystem } from "../../src/fs/memory.js";
import { Harness, sysCred } from "./harness.js";
import { arm, createSessionOp, newClient, sequenceOp, utf8 } from "./session-helpers.js";

const putfh = (fh: Uint8Array): nfs_argop4 => ({
  argop: nfs_opnum4.OP_PUTFH,
  opputfh: { object: fh },
});
const setxattr = (key: string, value: Uint8Array): nfs_argop4 => ({
  argop: nfs_opnum4.OP_SETXATTR,
  opsetxattr: {
    sxa_option: setxattr_option4.SETXATTR4_EITHER,
    sxa_key: utf8(key),
    sxa_value: value,
  },
});
const getxattr = (key: string): nfs_argop4 => ({
  argop: nfs_opnum4.OP_GETXATTR,
  opgetxattr: { gxa_name: utf8(key) },
});
const listxattrs = (maxcount: number): nfs_argop4 => ({
  argop: nfs_opnum4.OP_LISTXATTRS,
  oplistxattrs: { lxa_cookie: 0n, lxa_maxcount: maxcount },
});

async function setup(maxResponse: number) {
  const fs = new MemoryFileSystem({ exportMode: 0o777 });
  const h = new Harness({}, fs);
  const conn = h.conn();
  const cred = sysCred();
  const { clientid, sequenceid } = await newClient(h, conn, "xattr", cred);
  const created = await h.run(
    [
      createSessionOp(clientid, sequenceid, {
        fore: { ca_maxresponsesize: maxResponse, ca_maxresponsesize_cached: maxResponse },
      }),
    ],
    conn,
    { cred },
  );
  expect(created.status).toBe(nfsstat4.NFS4_OK);
  const sessionid = arm<{ csr_resok4: { csr_sessionid: Uint8Array } }>(
    created.resarray[0],
    "opcreate_session",
  ).csr_resok4.csr_sessionid;
  let seq = 1;
  const run = (ops: nfs_argop4[], minorversion = 2) =>
    h.run([sequenceOp(sessionid, seq++), ...ops], conn, { cred, minorversion });
  const exp = (await fs.lookup(await fs.root(), "export")).handle;
  const file = (await fs.create(exp, "f", { kind: "guarded" }, { mode: 0o666, uid: 0, gid: 0 }))
    .handle;
  return { fs, run, file };
}

describe("extended attributes over COMPOUND", () => {
  it("are NFSv4.2 operations: OP_ILLEGAL in NFSv4.1", async () => {
    const { run, file } = await setup(64 * 1024);
    const res = await run([putfh(file), getxattr("user.k")], 1);
    expect(res.status).toBe(nfsstat4.NFS4ERR_OP_ILLEGAL);
    const ok = await run([putfh(file), setxattr("user.k", utf8("v")), getxattr("user.k")]);
    expect(ok.status).toBe(nfsstat4.NFS4_OK);
    const got = arm<GETXATTR4res>(ok.resarray[3], "opgetxattr");
    expect(got).toEqual({ gxr_status: nfsstat4.NFS4_OK, gxr_value: utf8("v") });
  });

  it("within an 8 KiB reply limit: LISTXATTRS with maxcount 8192 and small values work, a large value is REP_TOO_BIG", async () => {
    const { fs, run, file } = await setup(8192);
    for (let i = 0; i < 6; i++) await fs.setxattr(file, `user.attr${i}`, utf8("value"), "create");
    await fs.setxattr(file, "user.big", new Uint8Array(32 * 1024), "create");
    const listed = await run([putfh(file), listxattrs(8192)]);
    expect(listed.status).toBe(nfsstat4.NFS4_OK);
    const page = arm<LISTXATTRS4res>(listed.resarray[2], "oplistxattrs");
    if (page.lxr_status !== nfsstat4.NFS4_OK) throw new Error("LISTXATTRS failed");
    expect(page.lxr_value.lxr_names).toHaveLength(7);
    expect(page.lxr_value.lxr_eof).toBe(true);
    expect((await run([putfh(file), getxattr("user.attr3")])).status).toBe(nfsstat4.NFS4_OK);
    expect((await run([putfh(file), getxattr("user.big")])).status).toBe(
      nfsstat4.NFS4ERR_REP_TOO_BIG,
    );
  });
});

import { describe, expect, it } from "vitest";
import { nfs_opnum4, nfsstat4, setxattr_option4 } from "../../../generated/nfs4/index.js";
import { GETXATTR } from "../../../src/nfs/ops/getxattr.js";
import { LISTXATTRS } from "../../../src/nfs/ops/listxattrs.js";
import { REMOVEXATTR } from "../../../src/nfs/ops/removexattr.js";
import { SETXATTR } from "../../../src/nfs/ops/setxattr.js";
import { expectOp } from "./fileops-helpers.js";
import { USER, call, makeEnv, makeState, mkdir, mkfile, utf8 } from "./helpers.js";
import { singleExportPolicy } from "../../../src/exports/policy.js";

const OP = nfs_opnum4.OP_GETXATTR;

describe("GETXATTR", () => {
  it("returns the value of a key of a file or a directory", async () => {
    const env = await makeEnv();
    const state = env.state(USER);
    for (const h of [
      await mkfile(env.fs, env.exp, "f", { uid: 1000 }),
      await mkdir(env.fs, env.exp, "d", { uid: 1000 }),
    ]) {
      await env.fs.setxattr(h, "user.k", utf8("value"), "either");
      state.currentFh = h;
      const res = await call(GETXATTR, { gxa_name: utf8("user.k") }, state);
      expectOp(OP, res.gxr_status, nfsstat4.NFS4_OK);
      if (res.gxr_status === nfsstat4.NFS4_OK) expect(res.gxr_value).toEqual(utf8("value"));
    }
  });

  it("NOXATTR for a key that is not set (pynfs XATT2)", async () => {
    const env = await makeEnv();
    const state = env.state();
    state.currentFh = await mkfile(env.fs, env.exp, "f");
    const res = await call(GETXATTR, { gxa_name: utf8("user.attr1") }, state);
    expectOp(OP, res.gxr_status, nfsstat4.NFS4ERR_NOXATTR);
  });

  it("NOFILEHANDLE, INVAL (empty or non-UTF-8 key), NAMETOOLONG, WRONG_TYPE (symlink)", async () => {
    const env = await makeEnv({ fs: { maxXattrNameBytes: 8 } });
    const state = env.state();
    expectOp(
      OP,
      (await call(GETXATTR, { gxa_name: utf8("k") }, state)).gxr_status,
      nfsstat4.NFS4ERR_NOFILEHANDLE,
    );
    state.currentFh = await mkfile(env.fs, env.exp, "f");
    for (const [key, status] of [
      [new Uint8Array(0), nfsstat4.NFS4ERR_INVAL],
      [new Uint8Array([0xff, 0xfe]), nfsstat4.NFS4ERR_INVAL],
      [utf8("123456789"), nfsstat4.NFS4ERR_NAMETOOLONG],
    ] as const) {
      expectOp(OP, (await call(GETXATTR, { gxa_name: key }, state)).gxr_status, status);
    }
    state.currentFh = (
      await env.fs.symlink(env.exp, "l", utf8("f"), { mode: 0o777, uid: 0, gid: 0 })
    ).handle;
    expectOp(
      OP,
      (await call(GETXATTR, { gxa_name: utf8("k") }, state)).gxr_status,
      nfsstat4.NFS4ERR_WRONG_TYPE,
    );
  });

  it("ACCESS without read permission on the object", async () => {
    const env = await makeEnv();
    const f = await mkfile(env.fs, env.exp, "f", { mode: 0o600 });
    await env.fs.setxattr(f, "user.k", utf8("v"), "either");
    const state = env.state(USER);
    state.currentFh = f;
    expectOp(
      OP,
      (await call(GETXATTR, { gxa_name: utf8("user.k") }, state)).gxr_status,
      nfsstat4.NFS4ERR_ACCESS,
    );
  });

  it("sizes its reply to the session's room: REP_TOO_BIG for a value that does not fit", async () => {
    const env = await makeEnv();
    const f = await mkfile(env.fs, env.exp, "f");
    await env.fs.setxattr(f, "user.small", new Uint8Array(100), "either");
    await env.fs.setxattr(f, "user.big", new Uint8Array(60 * 1024), "either");
    const state = env.state();
    state.currentFh = f;
    state.replyRoom = 8000;
    const args = { gxa_name: utf8("user.big") };
    expect(GETXATTR.replyBound(args, state)).toBeLessThanOrEqual(8000);
    expectOp(OP, (await call(GETXATTR, args, state)).gxr_status, nfsstat4.NFS4ERR_REP_TOO_BIG);
    const small = await call(GETXATTR, { gxa_name: utf8("user.small") }, state);
    expectOp(OP, small.gxr_status, nfsstat4.NFS4_OK);
    // Without a session's limit, the bound covers the largest value the backend stores.
    state.replyRoom = null;
    expect(GETXATTR.replyBound(args, state)).toBeGreaterThanOrEqual(
      4 + 4 + 4 + env.fs.capabilities.xattrs!.maxValueBytes,
    );
    expectOp(OP, (await call(GETXATTR, args, state)).gxr_status, nfsstat4.NFS4_OK);
  });

  it("is an NFSv4.2 operation", () => {
    expect(GETXATTR.minMinorVersion).toBe(2);
    expect(GETXATTR.nonIdempotent).toBe(false);
  });
});

describe("a backend without extended attributes", () => {
  it("answers all four operations NOTSUPP", async () => {
    const env = await makeEnv();
    const f = await mkfile(env.fs, env.exp, "f");
    // The memory backend with its xattr capability taken away.
    const fs = new Proxy(env.fs, {
      get: (target, prop) =>
        prop === "capabilities"
          ? { ...target.capabilities, xattrs: null }
          : Reflect.get(target, prop, target),
    });
    const state = makeState({ ...env.server, fs, exports: singleExportPolicy(fs) });
    state.currentFh = f;
    const key = utf8("user.k");
    expectOp(
      OP,
      (await call(GETXATTR, { gxa_name: key }, state)).gxr_status,
      nfsstat4.NFS4ERR_NOTSUPP,
    );
    const set = await call(
      SETXATTR,
      { sxa_option: setxattr_option4.SETXATTR4_EITHER, sxa_key: key, sxa_value: key },
      state,
    );
    expectOp(nfs_opnum4.OP_SETXATTR, set.sxr_status, nfsstat4.NFS4ERR_NOTSUPP);
    const list = await call(LISTXATTRS, { lxa_cookie: 0n, lxa_maxcount: 4096 }, state);
    expectOp(nfs_opnum4.OP_LISTXATTRS, list.lxr_status, nfsstat4.NFS4ERR_NOTSUPP);
    const rm = await call(REMOVEXATTR, { rxa_name: key }, state);
    expectOp(nfs_opnum4.OP_REMOVEXATTR, rm.rxr_status, nfsstat4.NFS4ERR_NOTSUPP);
  });
});

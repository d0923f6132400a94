import { describe, expect, it } from "vitest";
import { nfs_opnum4, nfsstat4 } from "../../../generated/nfs4/index.js";
import { REMOVEXATTR } from "../../../src/nfs/ops/removexattr.js";
import { expectOp } from "./fileops-helpers.js";
import { USER, call, makeEnv, mkfile, utf8 } from "./helpers.js";

const OP = nfs_opnum4.OP_REMOVEXATTR;

describe("REMOVEXATTR", () => {
  it("removes a key and answers the object's change_info (pynfs XATT9)", async () => {
    const env = await makeEnv();
    const f = await mkfile(env.fs, env.exp, "f");
    await env.fs.setxattr(f, "user.k", utf8("v"), "either");
    const state = env.state();
    state.currentFh = f;
    const before = (await env.fs.getattr(f)).change;
    const res = await call(REMOVEXATTR, { rxa_name: utf8("user.k") }, state);
    expectOp(OP, res.rxr_status, nfsstat4.NFS4_OK);
    if (res.rxr_status === nfsstat4.NFS4_OK) {
      expect(res.rxr_info).toEqual({
        atomic: true,
        before,
        after: (await env.fs.getattr(f)).change,
      });
    }
    await expect(env.fs.getxattr(f, "user.k")).rejects.toThrow();
  });

  it("NOXATTR for a key that is not set, changing nothing (pynfs XATT8)", async () => {
    const env = await makeEnv();
    const f = await mkfile(env.fs, env.exp, "f");
    const state = env.state();
    state.currentFh = f;
    const before = (await env.fs.getattr(f)).change;
    const res = await call(REMOVEXATTR, { rxa_name: utf8("user.attr1") }, state);
    expectOp(OP, res.rxr_status, nfsstat4.NFS4ERR_NOXATTR);
    expect((await env.fs.getattr(f)).change).toBe(before);
  });

  it("ACCESS without write permission, NOFILEHANDLE without a current filehandle", async () => {
    const env = await makeEnv();
    const f = await mkfile(env.fs, env.exp, "f", { mode: 0o644 });
    await env.fs.setxattr(f, "user.k", utf8("v"), "either");
    const state = env.state(USER);
    expectOp(
      OP,
      (await call(REMOVEXATTR, { rxa_name: utf8("user.k") }, state)).rxr_status,
      nfsstat4.NFS4ERR_NOFILEHANDLE,
    );
    state.currentFh = f;
    expectOp(
      OP,
      (await call(REMOVEXATTR, { rxa_name: utf8("user.k") }, state)).rxr_status,
      nfsstat4.NFS4ERR_ACCESS,
    );
    expect(await env.fs.getxattr(f, "user.k")).toEqual(utf8("v"));
  });

  it("is a non-idempotent NFSv4.2 operation", () => {
    expect(REMOVEXATTR.minMinorVersion).toBe(2);
    expect(REMOVEXATTR.nonIdempotent).toBe(true);
  });
});

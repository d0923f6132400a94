import { describe, expect, it } from "vitest";
import {
  MODE4_SVTX,
  nfs_opnum4,
  nfsstat4,
  setxattr_option4,
  type SETXATTR4args,
} from "../../../generated/nfs4/index.js";
import type { FsChange } from "../../../src/fs/backend.js";
import type { CompoundState } from "../../../src/nfs/context.js";
import { SETXATTR } from "../../../src/nfs/ops/setxattr.js";
import { expectOp } from "./fileops-helpers.js";
import { USER, call, credential, makeEnv, mkdir, mkfile, utf8 } from "./helpers.js";

const OP = nfs_opnum4.OP_SETXATTR;
const { SETXATTR4_CREATE, SETXATTR4_EITHER, SETXATTR4_REPLACE } = setxattr_option4;

function args(option: setxattr_option4, key: string, value: string | Uint8Array): SETXATTR4args {
  return {
    sxa_option: option,
    sxa_key: utf8(key),
    sxa_value: typeof value === "string" ? utf8(value) : value,
  };
}

async function expectSet(state: CompoundState, a: SETXATTR4args, status: nfsstat4) {
  const res = await call(SETXATTR, a, state);
  expectOp(OP, res.sxr_status, status);
  return res;
}

describe("SETXATTR", () => {
  it("CREATE, REPLACE and EITHER (pynfs XATT3-7), with the object's change_info", async () => {
    const env = await makeEnv();
    const f = await mkfile(env.fs, env.exp, "f");
    const state = env.state();
    state.currentFh = f;
    await expectSet(state, args(SETXATTR4_REPLACE, "user.k", "v0"), nfsstat4.NFS4ERR_NOXATTR);
    const before = (await env.fs.getattr(f)).change;
    const res = await expectSet(state, args(SETXATTR4_CREATE, "user.k", "v1"), nfsstat4.NFS4_OK);
    if (res.sxr_status === nfsstat4.NFS4_OK) {
      expect(res.sxr_info).toEqual({
        atomic: true,
        before,
        after: (await env.fs.getattr(f)).change,
      });
      expect(res.sxr_info.after).not.toBe(before);
    }
    await expectSet(state, args(SETXATTR4_CREATE, "user.k", "v2"), nfsstat4.NFS4ERR_EXIST);
    expect(await env.fs.getxattr(f, "user.k")).toEqual(utf8("v1"));
    await expectSet(state, args(SETXATTR4_REPLACE, "user.k", "v3"), nfsstat4.NFS4_OK);
    expect(await env.fs.getxattr(f, "user.k")).toEqual(utf8("v3"));
    await expectSet(state, args(SETXATTR4_EITHER, "user.k", "v4"), nfsstat4.NFS4_OK);
    await expectSet(state, args(SETXATTR4_EITHER, "user.new", "v5"), nfsstat4.NFS4_OK);
    expect(await env.fs.getxattr(f, "user.k")).toEqual(utf8("v4"));
    expect(await env.fs.getxattr(f, "user.new")).toEqual(utf8("v5"));
  });

  it("stores a copy of the value, not a view into the request", async () => {
    const env = await makeEnv();
    const state = env.state();
    state.currentFh = await mkfile(env.fs, env.exp, "f");
    const value = utf8("abc");
    await expectSet(state, args(SETXATTR4_EITHER, "user.k", value), nfsstat4.NFS4_OK);
    value.fill(0);
    expect(await env.fs.getxattr(state.currentFh, "user.k")).toEqual(utf8("abc"));
  });

  it("reports the change to observers as the object's attributes, by the requesting client", async () => {
    const env = await makeEnv();
    const f = await mkfile(env.fs, env.exp, "f");
    const seen: FsChange[] = [];
    env.fs.observe((c) => seen.push(c));
    const state = env.state();
    state.currentFh = f;
    await expectSet(state, args(SETXATTR4_EITHER, "user.k", "v"), nfsstat4.NFS4_OK);
    expect(seen.map((c) => c.kind)).toEqual(["attributes"]);
  });

  it("XATTR2BIG beyond the value limit, NOSPC beyond the object's total", async () => {
    const env = await makeEnv({ fs: { maxXattrValueBytes: 100, maxXattrBytesPerObject: 150 } });
    const state = env.state();
    state.currentFh = await mkfile(env.fs, env.exp, "f");
    await expectSet(
      state,
      args(SETXATTR4_EITHER, "user.k", new Uint8Array(101)),
      nfsstat4.NFS4ERR_XATTR2BIG,
    );
    await expectSet(state, args(SETXATTR4_EITHER, "a", new Uint8Array(100)), nfsstat4.NFS4_OK);
    await expectSet(
      state,
      args(SETXATTR4_EITHER, "b", new Uint8Array(100)),
      nfsstat4.NFS4ERR_NOSPC,
    );
  });

  it("needs write permission; in a sticky directory, ownership too", async () => {
    const env = await makeEnv();
    const state = env.state(USER);
    state.currentFh = await mkfile(env.fs, env.exp, "ro", { mode: 0o644 });
    await expectSet(state, args(SETXATTR4_EITHER, "user.k", "v"), nfsstat4.NFS4ERR_ACCESS);
    state.currentFh = await mkfile(env.fs, env.exp, "rw", { mode: 0o666 });
    await expectSet(state, args(SETXATTR4_EITHER, "user.k", "v"), nfsstat4.NFS4_OK);
    const sticky = await mkdir(env.fs, env.exp, "tmp", { mode: 0o777 | MODE4_SVTX, uid: 1000 });
    const other = env.state(credential(2000, 2000));
    other.currentFh = sticky;
    await expectSet(other, args(SETXATTR4_EITHER, "user.k", "v"), nfsstat4.NFS4ERR_ACCESS);
    state.currentFh = sticky;
    await expectSet(state, args(SETXATTR4_EITHER, "user.k", "v"), nfsstat4.NFS4_OK);
  });

  it("NOFILEHANDLE, INVAL for an empty key, WRONG_TYPE for a symlink", async () => {
    const env = await makeEnv();
    const state = env.state();
    await expectSet(state, args(SETXATTR4_EITHER, "k", "v"), nfsstat4.NFS4ERR_NOFILEHANDLE);
    state.currentFh = await mkfile(env.fs, env.exp, "f");
    await expectSet(state, args(SETXATTR4_EITHER, "", "v"), nfsstat4.NFS4ERR_INVAL);
    state.currentFh = (
      await env.fs.symlink(env.exp, "l", utf8("f"), { mode: 0o777, uid: 0, gid: 0 })
    ).handle;
    await expectSet(state, args(SETXATTR4_EITHER, "k", "v"), nfsstat4.NFS4ERR_WRONG_TYPE);
  });

  it("is a non-idempotent NFSv4.2 operation", () => {
    expect(SETXATTR.minMinorVersion).toBe(2);
    expect(SETXATTR.nonIdempotent).toBe(true);
  });
});

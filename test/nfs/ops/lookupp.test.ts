import { describe, expect, it } from "vitest";
import { nfsstat4 } from "../../../generated/nfs4/index.js";
import { LOOKUPP } from "../../../src/nfs/ops/lookupp.js";
import { USER, expectStatus, makeEnv, mkdir, mkfile, utf8, call } from "./helpers.js";

describe("LOOKUPP", () => {
  it("moves to the parent directory", async () => {
    const env = await makeEnv();
    const d = await mkdir(env.fs, env.exp, "d");
    const state = env.state();
    state.currentFh = d;
    expectStatus(await call(LOOKUPP, undefined, state), nfsstat4.NFS4_OK);
    expect(state.currentFh).toEqual(env.exp);
    expectStatus(await call(LOOKUPP, undefined, state), nfsstat4.NFS4_OK);
    expect(state.currentFh).toEqual(env.root);
  });

  it("NOENT at the root", async () => {
    const env = await makeEnv();
    const state = env.state();
    state.currentFh = env.root;
    expectStatus(await call(LOOKUPP, undefined, state), nfsstat4.NFS4ERR_NOENT);
    expect(state.currentFh).toEqual(env.root);
  });

  it("NOFILEHANDLE, NOTDIR, SYMLINK", async () => {
    const env = await makeEnv();
    expectStatus(await call(LOOKUPP, undefined, env.state()), nfsstat4.NFS4ERR_NOFILEHANDLE);
    const state = env.state();
    state.currentFh = await mkfile(env.fs, env.exp, "f");
    expectStatus(await call(LOOKUPP, undefined, state), nfsstat4.NFS4ERR_NOTDIR);
    state.currentFh = (
      await env.fs.symlink(env.exp, "l", utf8("f"), { mode: 0o777, uid: 0, gid: 0 })
    ).handle;
    expectStatus(await call(LOOKUPP, undefined, state), nfsstat4.NFS4ERR_SYMLINK);
  });

  it("ACCESS without search permission on the directory", async () => {
    const env = await makeEnv();
    const d = await mkdir(env.fs, env.exp, "d", { mode: 0o700 });
    const state = env.state(USER);
    state.currentFh = d;
    expectStatus(await call(LOOKUPP, undefined, state), nfsstat4.NFS4ERR_ACCESS);
  });
});

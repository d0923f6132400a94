import { describe, expect, it } from "vitest";
import { nfsstat4, secinfo_style4 } from "../../../generated/nfs4/index.js";
import { auth_flavor } from "../../../generated/rpc/index.js";
import { SECINFO_NO_NAME } from "../../../src/nfs/ops/secinfo_no_name.js";
import { expectStatus, makeEnv, mkfile, call } from "./helpers.js";

describe("SECINFO_NO_NAME", () => {
  it("offers AUTH_SYS then AUTH_NONE and consumes the current filehandle", async () => {
    const env = await makeEnv();
    for (const style of [
      secinfo_style4.SECINFO_STYLE4_CURRENT_FH,
      secinfo_style4.SECINFO_STYLE4_PARENT,
    ]) {
      const state = env.state();
      state.currentFh = env.exp;
      state.savedFh = env.root;
      const res = await call(SECINFO_NO_NAME, style, state);
      expectStatus(res, nfsstat4.NFS4_OK);
      if (res.status === nfsstat4.NFS4_OK) {
        expect(res.resok4.map((s) => s.flavor)).toEqual([
          auth_flavor.AUTH_SYS,
          auth_flavor.AUTH_NONE,
        ]);
      }
      expect(state.currentFh).toBeNull();
      expect(state.savedFh).toEqual(env.root);
    }
  });

  it("CURRENT_FH works on any object", async () => {
    const env = await makeEnv();
    const state = env.state();
    state.currentFh = await mkfile(env.fs, env.exp, "f");
    expectStatus(
      await call(SECINFO_NO_NAME, secinfo_style4.SECINFO_STYLE4_CURRENT_FH, state),
      nfsstat4.NFS4_OK,
    );
  });

  it("PARENT of the root is NOENT, of a file NOTDIR; the filehandle stays", async () => {
    const env = await makeEnv();
    const state = env.state();
    state.currentFh = env.root;
    expectStatus(
      await call(SECINFO_NO_NAME, secinfo_style4.SECINFO_STYLE4_PARENT, state),
      nfsstat4.NFS4ERR_NOENT,
    );
    expect(state.currentFh).toEqual(env.root);
    state.currentFh = await mkfile(env.fs, env.exp, "f");
    expectStatus(
      await call(SECINFO_NO_NAME, secinfo_style4.SECINFO_STYLE4_PARENT, state),
      nfsstat4.NFS4ERR_NOTDIR,
    );
  });

  it("NOFILEHANDLE without a current filehandle", async () => {
    const env = await makeEnv();
    expectStatus(
      await call(SECINFO_NO_NAME, secinfo_style4.SECINFO_STYLE4_CURRENT_FH, env.state()),
      nfsstat4.NFS4ERR_NOFILEHANDLE,
    );
  });
});

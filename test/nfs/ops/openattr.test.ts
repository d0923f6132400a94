import { describe, it } from "vitest";
import { nfs_opnum4, nfsstat4 } from "../../../generated/nfs4/index.js";
import { OPENATTR } from "../../../src/nfs/ops/openattr.js";
import { expectOp } from "./fileops-helpers.js";
import { makeEnv, mkfile, call } from "./helpers.js";

const OP = nfs_opnum4.OP_OPENATTR;

describe("OPENATTR", () => {
  it("NOTSUPP for a valid filehandle, whichever createdir", async () => {
    const env = await makeEnv();
    const state = env.state();
    state.currentFh = await mkfile(env.fs, env.exp, "f");
    for (const createdir of [false, true]) {
      expectOp(OP, (await call(OPENATTR, { createdir }, state)).status, nfsstat4.NFS4ERR_NOTSUPP);
    }
  });

  it("NOFILEHANDLE and STALE come first", async () => {
    const env = await makeEnv();
    const state = env.state();
    expectOp(
      OP,
      (await call(OPENATTR, { createdir: false }, state)).status,
      nfsstat4.NFS4ERR_NOFILEHANDLE,
    );
    state.currentFh = await mkfile(env.fs, env.exp, "f");
    await env.fs.remove(env.exp, "f");
    expectOp(
      OP,
      (await call(OPENATTR, { createdir: false }, state)).status,
      nfsstat4.NFS4ERR_STALE,
    );
  });
});

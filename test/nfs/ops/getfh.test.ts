import { describe, expect, it } from "vitest";
import { nfsstat4 } from "../../../generated/nfs4/index.js";
import { GETFH } from "../../../src/nfs/ops/getfh.js";
import { expectStatus, makeEnv, call } from "./helpers.js";

describe("GETFH", () => {
  it("returns the current filehandle", async () => {
    const env = await makeEnv();
    const state = env.state();
    state.currentFh = env.exp;
    const res = await call(GETFH, undefined, state);
    expectStatus(res, nfsstat4.NFS4_OK);
    if (res.status === nfsstat4.NFS4_OK) expect(res.resok4.object).toEqual(env.exp);
  });

  it("NOFILEHANDLE without one", async () => {
    const env = await makeEnv();
    expectStatus(await call(GETFH, undefined, env.state()), nfsstat4.NFS4ERR_NOFILEHANDLE);
  });
});

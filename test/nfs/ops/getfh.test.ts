import { describe, expect, it } from "vitest";
import { nfsstat4 } from "../../../generated/nfs4/index.js";
import { getfh } from "../../../src/nfs/ops/getfh.js";
import { expectStatus, makeEnv } from "./helpers.js";

describe("GETFH", () => {
  it("returns the current filehandle", async () => {
    const env = await makeEnv();
    const state = env.state();
    state.currentFh = env.exp;
    const res = await getfh(undefined, state);
    expectStatus(res, nfsstat4.NFS4_OK);
    if (res.status === nfsstat4.NFS4_OK) expect(res.resok4.object).toEqual(env.exp);
  });

  it("NOFILEHANDLE without one", async () => {
    const env = await makeEnv();
    expectStatus(await getfh(undefined, env.state()), nfsstat4.NFS4ERR_NOFILEHANDLE);
  });
});

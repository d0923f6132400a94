import { describe, expect, it } from "vitest";
import { nfsstat4 } from "../../../generated/nfs4/index.js";
import { SAVEFH } from "../../../src/nfs/ops/savefh.js";
import { expectStatus, makeEnv, call } from "./helpers.js";

describe("SAVEFH", () => {
  it("copies the current filehandle to the saved one", async () => {
    const env = await makeEnv();
    const state = env.state();
    state.currentFh = env.exp;
    state.savedFh = env.root;
    expectStatus(await call(SAVEFH, undefined, state), nfsstat4.NFS4_OK);
    expect(state.savedFh).toEqual(env.exp);
    expect(state.currentFh).toEqual(env.exp);
  });

  it("NOFILEHANDLE without a current filehandle, keeping the saved one", async () => {
    const env = await makeEnv();
    const state = env.state();
    state.savedFh = env.root;
    expectStatus(await call(SAVEFH, undefined, state), nfsstat4.NFS4ERR_NOFILEHANDLE);
    expect(state.savedFh).toEqual(env.root);
  });
});

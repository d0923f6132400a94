import { describe, expect, it } from "vitest";
import { nfsstat4 } from "../../../generated/nfs4/index.js";
import { PUTROOTFH } from "../../../src/nfs/ops/putrootfh.js";
import { expectStatus, makeEnv, call } from "./helpers.js";

describe("PUTROOTFH", () => {
  it("makes the backend's root the current filehandle", async () => {
    const env = await makeEnv();
    const state = env.state();
    state.savedFh = env.exp;
    expectStatus(await call(PUTROOTFH, undefined, state), nfsstat4.NFS4_OK);
    expect(state.currentFh).toEqual(env.root);
    // The saved filehandle is not PUTROOTFH's business.
    expect(state.savedFh).toEqual(env.exp);
  });

  it("replaces an existing current filehandle", async () => {
    const env = await makeEnv();
    const state = env.state();
    state.currentFh = env.exp;
    await call(PUTROOTFH, undefined, state);
    expect(state.currentFh).toEqual(env.root);
  });
});

import { describe, expect, it } from "vitest";
import { nfsstat4 } from "../../../generated/nfs4/index.js";
import { RESTOREFH } from "../../../src/nfs/ops/restorefh.js";
import { expectStatus, makeEnv, call } from "./helpers.js";

describe("RESTOREFH", () => {
  it("makes the saved filehandle current", async () => {
    const env = await makeEnv();
    const state = env.state();
    state.currentFh = env.root;
    state.savedFh = env.exp;
    expectStatus(await call(RESTOREFH, undefined, state), nfsstat4.NFS4_OK);
    expect(state.currentFh).toEqual(env.exp);
    expect(state.savedFh).toEqual(env.exp);
  });

  it("NOFILEHANDLE (RFC 8881 §15.1.16.4) without a saved filehandle", async () => {
    const env = await makeEnv();
    const state = env.state();
    state.currentFh = env.root;
    expectStatus(await call(RESTOREFH, undefined, state), nfsstat4.NFS4ERR_NOFILEHANDLE);
    expect(state.currentFh).toEqual(env.root);
  });
});

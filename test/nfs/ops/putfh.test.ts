import { describe, expect, it } from "vitest";
import { nfsstat4 } from "../../../generated/nfs4/index.js";
import { MemoryFileSystem } from "../../../src/fs/memory.js";
import { PUTFH } from "../../../src/nfs/ops/putfh.js";
import { expectStatus, makeEnv, mkfile, call } from "./helpers.js";

describe("PUTFH", () => {
  it("sets the current filehandle to a copy of a valid handle", async () => {
    const env = await makeEnv();
    const state = env.state();
    const wire = new Uint8Array([0xff, ...env.exp, 0xff]).subarray(1, 17);
    expectStatus(await call(PUTFH, { object: wire }, state), nfsstat4.NFS4_OK);
    expect(state.currentFh).toEqual(env.exp);
    wire.fill(0);
    expect(state.currentFh).toEqual(env.exp);
  });

  it("BADHANDLE for handles that are not ours in shape", async () => {
    const env = await makeEnv();
    for (const object of [new Uint8Array(0), new Uint8Array(3), new Uint8Array(129)]) {
      const state = env.state();
      expectStatus(await call(PUTFH, { object }, state), nfsstat4.NFS4ERR_BADHANDLE);
      expect(state.currentFh).toBeNull();
    }
  });

  it("STALE for a removed object or another instance's handle", async () => {
    const env = await makeEnv();
    const f = await mkfile(env.fs, env.exp, "f");
    await env.fs.remove(env.exp, "f");
    expectStatus(await call(PUTFH, { object: f }, env.state()), nfsstat4.NFS4ERR_STALE);
    const other = await new MemoryFileSystem().root();
    expectStatus(await call(PUTFH, { object: other }, env.state()), nfsstat4.NFS4ERR_STALE);
  });

  it("leaves the current filehandle alone on failure", async () => {
    const env = await makeEnv();
    const state = env.state();
    state.currentFh = env.exp;
    await call(PUTFH, { object: new Uint8Array(5) }, state);
    expect(state.currentFh).toEqual(env.exp);
  });
});

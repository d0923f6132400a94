import { describe, expect, it } from "vitest";
import { nfs_opnum4, nfsstat4 } from "../../../generated/nfs4/index.js";
import { FsError, type FileSystem } from "../../../src/fs/backend.js";
import { PUTPUBFH } from "../../../src/nfs/ops/putpubfh.js";
import { expectOp, overrideFs } from "./fileops-helpers.js";
import { makeEnv, makeState, call } from "./helpers.js";

const OP = nfs_opnum4.OP_PUTPUBFH;

describe("PUTPUBFH", () => {
  it("the public filehandle is the root, replacing any current one", async () => {
    const env = await makeEnv();
    const state = env.state();
    state.currentFh = env.exp;
    expectOp(OP, (await call(PUTPUBFH, undefined, state)).status, nfsstat4.NFS4_OK);
    expect(state.currentFh).toEqual(env.root);
  });

  it("a backend that cannot name its root is a server fault (PUTPUBFH has no other error)", async () => {
    const env = await makeEnv();
    const fs = overrideFs<FileSystem>(env.fs, {
      root: () => Promise.reject(new FsError(nfsstat4.NFS4ERR_IO)),
    });
    const state = makeState({ ...env.server, fs });
    expectOp(OP, (await call(PUTPUBFH, undefined, state)).status, nfsstat4.NFS4ERR_SERVERFAULT);
    expect(state.currentFh).toBeNull();
  });
});

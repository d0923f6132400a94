// NVERIFY's own view of the comparison VERIFY shares (verify.test.ts runs
// every case through both): the cache-revalidation idiom "NVERIFY change".

import { describe, it } from "vitest";
import {
  FATTR4_CHANGE,
  FATTR4_TIME_MODIFY_SET,
  nfs_opnum4,
  nfsstat4,
} from "../../../generated/nfs4/index.js";
import { NVERIFY } from "../../../src/nfs/ops/nverify.js";
import { expectOp, rawFattr } from "./fileops-helpers.js";
import { makeEnv, mkfile, call } from "./helpers.js";

const OP = nfs_opnum4.OP_NVERIFY;

describe("NVERIFY", () => {
  it("SAME while the change attribute is unchanged, OK once the file changes", async () => {
    const env = await makeEnv();
    const f = await mkfile(env.fs, env.exp, "f");
    const change = (await env.fs.getattr(f)).change;
    const state = env.state();
    state.currentFh = f;
    const args = { obj_attributes: rawFattr([FATTR4_CHANGE], (w) => w.writeUhyper(change)) };
    expectOp(OP, (await call(NVERIFY, args, state)).status, nfsstat4.NFS4ERR_SAME);
    await env.fs.setattr(f, { mode: 0o600 });
    expectOp(OP, (await call(NVERIFY, args, state)).status, nfsstat4.NFS4_OK);
  });

  it("NOFILEHANDLE, ATTRNOTSUPP, INVAL", async () => {
    const env = await makeEnv();
    const state = env.state();
    const change = { obj_attributes: rawFattr([FATTR4_CHANGE], (w) => w.writeUhyper(0n)) };
    expectOp(OP, (await call(NVERIFY, change, state)).status, nfsstat4.NFS4ERR_NOFILEHANDLE);
    state.currentFh = env.exp;
    const acl = { obj_attributes: rawFattr([12], (w) => w.writeUint(0)) };
    expectOp(OP, (await call(NVERIFY, acl, state)).status, nfsstat4.NFS4ERR_ATTRNOTSUPP);
    const wo = { obj_attributes: rawFattr([FATTR4_TIME_MODIFY_SET], (w) => w.writeUint(0)) };
    expectOp(OP, (await call(NVERIFY, wo, state)).status, nfsstat4.NFS4ERR_INVAL);
  });
});

import { describe, expect, it } from "vitest";
import {
  gddrnf4_status,
  nfs_opnum4,
  nfsstat4,
  type GET_DIR_DELEGATION4args,
} from "../../../generated/nfs4/index.js";
import type { FileHandle } from "../../../src/fs/backend.js";
import { GET_DIR_DELEGATION } from "../../../src/nfs/ops/get_dir_delegation.js";
import { expectOp } from "./fileops-helpers.js";
import { makeEnv, mkdir, mkfile, utf8, type TestEnv, call } from "./helpers.js";

const OP = nfs_opnum4.OP_GET_DIR_DELEGATION;

const ARGS: GET_DIR_DELEGATION4args = {
  gdda_signal_deleg_avail: true,
  gdda_notification_types: [],
  gdda_child_attr_delay: { seconds: 0n, nseconds: 0 },
  gdda_dir_attr_delay: { seconds: 0n, nseconds: 0 },
  gdda_child_attributes: [],
  gdda_dir_attributes: [],
};

async function run(env: TestEnv, fh: FileHandle | null, status: nfsstat4) {
  const state = env.state();
  state.currentFh = fh;
  const res = await call(GET_DIR_DELEGATION, ARGS, state);
  expectOp(OP, res.gddr_status, status);
  return res;
}

describe("GET_DIR_DELEGATION", () => {
  it("declines without failing the COMPOUND: OK with GDD4_UNAVAIL, no signal to come", async () => {
    const env = await makeEnv();
    const res = await run(env, await mkdir(env.fs, env.exp, "d"), nfsstat4.NFS4_OK);
    if (res.gddr_status === nfsstat4.NFS4_OK) {
      expect(res.gddr_res_non_fatal4).toEqual({
        gddrnf_status: gddrnf4_status.GDD4_UNAVAIL,
        gddrnf_will_signal_deleg_avail: false,
      });
    }
  });

  it("NOFILEHANDLE, NOTDIR (symlinks too), STALE", async () => {
    const env = await makeEnv();
    await run(env, null, nfsstat4.NFS4ERR_NOFILEHANDLE);
    await run(env, await mkfile(env.fs, env.exp, "f"), nfsstat4.NFS4ERR_NOTDIR);
    const l = await env.fs.symlink(env.exp, "l", utf8("d"), { mode: 0o777, uid: 0, gid: 0 });
    await run(env, l.handle, nfsstat4.NFS4ERR_NOTDIR);
    const gone = await mkdir(env.fs, env.exp, "gone");
    await env.fs.remove(env.exp, "gone");
    await run(env, gone, nfsstat4.NFS4ERR_STALE);
  });
});

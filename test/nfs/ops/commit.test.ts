import { describe, expect, it } from "vitest";
import {
  nfs_ftype4,
  nfs_opnum4,
  nfsstat4,
  type COMMIT4args,
} from "../../../generated/nfs4/index.js";
import type { FileHandle } from "../../../src/fs/backend.js";
import { COMMIT } from "../../../src/nfs/ops/commit.js";
import { expectOp } from "./fileops-helpers.js";
import { USER, makeEnv, mkdir, mkfile, utf8, type TestEnv, call } from "./helpers.js";

const OP = nfs_opnum4.OP_COMMIT;

async function run(env: TestEnv, fh: FileHandle | null, a: COMMIT4args, status: nfsstat4) {
  const state = env.state(USER);
  state.currentFh = fh;
  const res = await call(COMMIT, a, state);
  expectOp(OP, res.status, status);
  return res;
}

describe("COMMIT", () => {
  it("returns the verifier WRITE returned, for any range", async () => {
    const env = await makeEnv();
    const f = await mkfile(env.fs, env.exp, "f", { mode: 0o600 });
    const w = await env.fs.write(f, 0n, utf8("data"), 0);
    for (const [offset, count] of [
      [0n, 0],
      [0n, 4],
      [1000n, 10],
      // offset + count passes 2^64: committed to the end instead of refused.
      [(1n << 64n) - 1n, 2],
    ] as const) {
      // USER may not write the 0600 root-owned file; COMMIT does not check.
      const res = await run(env, f, { offset, count }, nfsstat4.NFS4_OK);
      if (res.status === nfsstat4.NFS4_OK) expect(res.resok4.writeverf).toEqual(w.verifier);
    }
  });

  it("NOFILEHANDLE, STALE, and ISDIR / SYMLINK / WRONG_TYPE for non-regular files", async () => {
    const env = await makeEnv();
    const a = { offset: 0n, count: 0 };
    await run(env, null, a, nfsstat4.NFS4ERR_NOFILEHANDLE);
    await run(env, await mkdir(env.fs, env.exp, "d"), a, nfsstat4.NFS4ERR_ISDIR);
    const l = await env.fs.symlink(env.exp, "l", utf8("x"), { mode: 0o777, uid: 0, gid: 0 });
    await run(env, l.handle, a, nfsstat4.NFS4ERR_SYMLINK);
    const p = await env.fs.mknod(
      env.exp,
      "p",
      nfs_ftype4.NF4FIFO,
      { major: 0, minor: 0 },
      {
        mode: 0o644,
        uid: 0,
        gid: 0,
      },
    );
    await run(env, p.handle, a, nfsstat4.NFS4ERR_WRONG_TYPE);
    const gone = await mkfile(env.fs, env.exp, "gone");
    await env.fs.remove(env.exp, "gone");
    await run(env, gone, a, nfsstat4.NFS4ERR_STALE);
  });
});

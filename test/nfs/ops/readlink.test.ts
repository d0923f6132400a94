import { describe, expect, it } from "vitest";
import { nfs_ftype4, nfs_opnum4, nfsstat4 } from "../../../generated/nfs4/index.js";
import type { FileHandle } from "../../../src/fs/backend.js";
import { READLINK } from "../../../src/nfs/ops/readlink.js";
import { expectOp } from "./fileops-helpers.js";
import { USER, makeEnv, mkdir, mkfile, utf8, type TestEnv, call } from "./helpers.js";

const OP = nfs_opnum4.OP_READLINK;

async function run(env: TestEnv, fh: FileHandle | null, status: nfsstat4) {
  const state = env.state(USER);
  state.currentFh = fh;
  const res = await call(READLINK, undefined, state);
  expectOp(OP, res.status, status);
  return res;
}

describe("READLINK", () => {
  it("returns the target bytes as created, whatever the link's mode", async () => {
    const env = await makeEnv();
    const target = new Uint8Array([0x2e, 0x2e, 0x2f, 0xff, 0x00, 0x61]);
    const l = await env.fs.symlink(env.exp, "l", target, { mode: 0o000, uid: 0, gid: 0 });
    const res = await run(env, l.handle, nfsstat4.NFS4_OK);
    if (res.status === nfsstat4.NFS4_OK) expect(res.resok4.link).toEqual(target);
  });

  it("NOFILEHANDLE, STALE, and INVAL for anything but a symlink", async () => {
    const env = await makeEnv();
    await run(env, null, nfsstat4.NFS4ERR_NOFILEHANDLE);
    await run(env, await mkfile(env.fs, env.exp, "f"), nfsstat4.NFS4ERR_INVAL);
    await run(env, await mkdir(env.fs, env.exp, "d"), nfsstat4.NFS4ERR_INVAL);
    const fifo = await env.fs.mknod(
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
    await run(env, fifo.handle, nfsstat4.NFS4ERR_INVAL);
    const gone = await env.fs.symlink(env.exp, "gone", utf8("x"), { mode: 0o777, uid: 0, gid: 0 });
    await env.fs.remove(env.exp, "gone");
    await run(env, gone.handle, nfsstat4.NFS4ERR_STALE);
  });
});

import { describe, expect, it } from "vitest";
import { nfs_opnum4, nfsstat4, type REMOVE4args } from "../../../generated/nfs4/index.js";
import type { CompoundState } from "../../../src/nfs/context.js";
import { REMOVE } from "../../../src/nfs/ops/remove.js";
import { expectOp } from "./fileops-helpers.js";
import { USER, credential, makeEnv, mkdir, mkfile, utf8, call } from "./helpers.js";

const OP = nfs_opnum4.OP_REMOVE;

function args(name: string | Uint8Array): REMOVE4args {
  return { target: typeof name === "string" ? utf8(name) : name };
}

async function expectRemove(state: CompoundState, a: REMOVE4args, status: nfsstat4) {
  const res = await call(REMOVE, a, state);
  expectOp(OP, res.status, status);
  return res;
}

describe("REMOVE", () => {
  it("removes a file or an empty directory and reports the directory's change", async () => {
    const env = await makeEnv();
    await mkfile(env.fs, env.exp, "f");
    await mkdir(env.fs, env.exp, "d");
    const state = env.state(USER);
    state.currentFh = env.exp;
    for (const name of ["f", "d"]) {
      const before = (await env.fs.getattr(env.exp)).change;
      const res = await expectRemove(state, args(name), nfsstat4.NFS4_OK);
      if (res.status === nfsstat4.NFS4_OK) {
        expect(res.resok4.cinfo).toEqual({
          atomic: true,
          before,
          after: (await env.fs.getattr(env.exp)).change,
        });
      }
      await expect(env.fs.lookup(env.exp, name)).rejects.toThrow();
    }
    expect(state.currentFh).toEqual(env.exp);
  });

  it("an open (pinned) file keeps its data until unpinned", async () => {
    const env = await makeEnv();
    const f = await mkfile(env.fs, env.exp, "f", { data: "data" });
    await env.fs.pin(f);
    const state = env.state();
    state.currentFh = env.exp;
    await expectRemove(state, args("f"), nfsstat4.NFS4_OK);
    expect((await env.fs.read(f, 0n, 10)).data).toEqual(utf8("data"));
    await env.fs.unpin(f);
    await expect(env.fs.getattr(f)).rejects.toThrow();
  });

  it("NOFILEHANDLE, NOTDIR (symlinks too), NOENT, NOTEMPTY", async () => {
    const env = await makeEnv();
    await expectRemove(env.state(), args("x"), nfsstat4.NFS4ERR_NOFILEHANDLE);
    const state = env.state();
    state.currentFh = await mkfile(env.fs, env.exp, "f");
    await expectRemove(state, args("x"), nfsstat4.NFS4ERR_NOTDIR);
    state.currentFh = (
      await env.fs.symlink(env.exp, "l", utf8("f"), { mode: 0o777, uid: 0, gid: 0 })
    ).handle;
    await expectRemove(state, args("x"), nfsstat4.NFS4ERR_NOTDIR);
    state.currentFh = env.exp;
    await expectRemove(state, args("missing"), nfsstat4.NFS4ERR_NOENT);
    const d = await mkdir(env.fs, env.exp, "full");
    await mkfile(env.fs, d, "inside");
    await expectRemove(state, args("full"), nfsstat4.NFS4ERR_NOTEMPTY);
  });

  it("name errors", async () => {
    const env = await makeEnv();
    const state = env.state();
    state.currentFh = env.exp;
    const cases: [Uint8Array, nfsstat4][] = [
      [new Uint8Array(0), nfsstat4.NFS4ERR_INVAL],
      [new Uint8Array([0xfe]), nfsstat4.NFS4ERR_INVAL],
      [utf8("."), nfsstat4.NFS4ERR_BADNAME],
      [utf8(".."), nfsstat4.NFS4ERR_BADNAME],
      [utf8("a/b"), nfsstat4.NFS4ERR_BADNAME],
      [utf8("\0"), nfsstat4.NFS4ERR_BADCHAR],
      [utf8("y".repeat(256)), nfsstat4.NFS4ERR_NAMETOOLONG],
    ];
    for (const [name, status] of cases) await expectRemove(state, args(name), status);
  });

  it("ACCESS without write and search permission on the directory", async () => {
    const env = await makeEnv();
    for (const mode of [0o555, 0o666]) {
      const d = await mkdir(env.fs, env.exp, `d${mode}`, { mode });
      await mkfile(env.fs, d, "f", { uid: USER.uid });
      const state = env.state(USER);
      state.currentFh = d;
      await expectRemove(state, args("f"), nfsstat4.NFS4ERR_ACCESS);
    }
    // Permission comes before existence: no probing of unreadable directories.
    const state = env.state(USER);
    state.currentFh = await mkdir(env.fs, env.exp, "closed", { mode: 0o700 });
    await expectRemove(state, args("nothing"), nfsstat4.NFS4ERR_ACCESS);
  });

  it("sticky directories: only the entry's owner, the directory's owner or root (ACCESS, not PERM)", async () => {
    const env = await makeEnv();
    const tmp = await mkdir(env.fs, env.exp, "tmp", { mode: 0o1777, uid: 0 });
    await mkfile(env.fs, tmp, "theirs", { uid: 2000 });
    await mkfile(env.fs, tmp, "mine", { uid: USER.uid });
    await mkfile(env.fs, tmp, "rootfile", { uid: 2000 });
    const user = env.state(USER);
    user.currentFh = tmp;
    await expectRemove(user, args("theirs"), nfsstat4.NFS4ERR_ACCESS);
    await expectRemove(user, args("mine"), nfsstat4.NFS4_OK);
    const root = env.state(credential(0, 0));
    root.currentFh = tmp;
    await expectRemove(root, args("rootfile"), nfsstat4.NFS4_OK);
    // The directory's owner may remove anything in it.
    const own = await mkdir(env.fs, env.exp, "own", { mode: 0o1777, uid: USER.uid });
    await mkfile(env.fs, own, "theirs", { uid: 2000 });
    user.currentFh = own;
    await expectRemove(user, args("theirs"), nfsstat4.NFS4_OK);
  });

  it("STALE when the directory is gone", async () => {
    const env = await makeEnv();
    const d = await mkdir(env.fs, env.exp, "d");
    await env.fs.remove(env.exp, "d");
    const state = env.state();
    state.currentFh = d;
    await expectRemove(state, args("x"), nfsstat4.NFS4ERR_STALE);
  });
});

import { describe, expect, it } from "vitest";
import { nfs_opnum4, nfsstat4, type LINK4args } from "../../../generated/nfs4/index.js";
import type { FileHandle, FileSystem } from "../../../src/fs/backend.js";
import type { CompoundState } from "../../../src/nfs/context.js";
import { LINK } from "../../../src/nfs/ops/link.js";
import { expectOp, overrideFs } from "./fileops-helpers.js";
import { USER, makeEnv, makeState, mkdir, mkfile, utf8, type TestEnv, call } from "./helpers.js";
import { singleExportPolicy } from "../../../src/exports/policy.js";

const OP = nfs_opnum4.OP_LINK;

function args(name: string | Uint8Array): LINK4args {
  return { newname: typeof name === "string" ? utf8(name) : name };
}

async function expectLink(state: CompoundState, a: LINK4args, status: nfsstat4) {
  const res = await call(LINK, a, state);
  expectOp(OP, res.status, status);
  return res;
}

function linking(env: TestEnv, source: FileHandle | null, dir: FileHandle | null, cred = USER) {
  const state = env.state(cred);
  state.savedFh = source;
  state.currentFh = dir;
  return state;
}

describe("LINK", () => {
  it("adds a name for the saved object in the current directory", async () => {
    const env = await makeEnv();
    const f = await mkfile(env.fs, env.exp, "f", { data: "shared" });
    const d = await mkdir(env.fs, env.exp, "d", { mode: 0o777 });
    const before = (await env.fs.getattr(d)).change;
    const state = linking(env, f, d);
    const res = await expectLink(state, args("g"), nfsstat4.NFS4_OK);
    expect((await env.fs.lookup(d, "g")).handle).toEqual(f);
    expect((await env.fs.getattr(f)).nlink).toBe(2);
    if (res.status === nfsstat4.NFS4_OK) {
      expect(res.resok4.cinfo).toEqual({
        atomic: true,
        before,
        after: (await env.fs.getattr(d)).change,
      });
    }
    // The filehandles are left as they were.
    expect(state.currentFh).toEqual(d);
    expect(state.savedFh).toEqual(f);
    // Symlinks and special files can be linked too.
    const l = (await env.fs.symlink(env.exp, "l", utf8("x"), { mode: 0o777, uid: 0, gid: 0 }))
      .handle;
    await expectLink(linking(env, l, d), args("l2"), nfsstat4.NFS4_OK);
  });

  it("NOFILEHANDLE without a saved or a current filehandle", async () => {
    const env = await makeEnv();
    const f = await mkfile(env.fs, env.exp, "f");
    await expectLink(linking(env, null, env.exp), args("g"), nfsstat4.NFS4ERR_NOFILEHANDLE);
    await expectLink(linking(env, f, null), args("g"), nfsstat4.NFS4ERR_NOFILEHANDLE);
  });

  it("NOTDIR into a file, SYMLINK into a symlink, ISDIR for a directory source", async () => {
    const env = await makeEnv();
    const f = await mkfile(env.fs, env.exp, "f");
    const l = (await env.fs.symlink(env.exp, "l", utf8("x"), { mode: 0o777, uid: 0, gid: 0 }))
      .handle;
    const d = await mkdir(env.fs, env.exp, "d");
    await expectLink(linking(env, f, f), args("g"), nfsstat4.NFS4ERR_NOTDIR);
    await expectLink(linking(env, f, l), args("g"), nfsstat4.NFS4ERR_SYMLINK);
    await expectLink(linking(env, d, env.exp), args("g"), nfsstat4.NFS4ERR_ISDIR);
  });

  it("name errors", async () => {
    const env = await makeEnv();
    const f = await mkfile(env.fs, env.exp, "f");
    const cases: [Uint8Array, nfsstat4][] = [
      [new Uint8Array(0), nfsstat4.NFS4ERR_INVAL],
      [new Uint8Array([0xc3]), nfsstat4.NFS4ERR_INVAL],
      [utf8("."), nfsstat4.NFS4ERR_BADNAME],
      [utf8(".."), nfsstat4.NFS4ERR_BADNAME],
      [utf8("a\0"), nfsstat4.NFS4ERR_BADCHAR],
      [utf8("x".repeat(300)), nfsstat4.NFS4ERR_NAMETOOLONG],
    ];
    for (const [name, status] of cases) {
      await expectLink(linking(env, f, env.exp), args(name), status);
    }
  });

  it("NOTSUPP when the filesystem has no hard links, XDEV across filesystems", async () => {
    const env = await makeEnv();
    const f = await mkfile(env.fs, env.exp, "f");
    const noLinks = overrideFs<FileSystem>(env.fs, {
      capabilities: { ...env.fs.capabilities, linkSupport: false },
    });
    const s1 = makeState(
      { ...env.server, fs: noLinks, exports: singleExportPolicy(noLinks) },
      USER,
    );
    s1.savedFh = f;
    s1.currentFh = env.exp;
    await expectLink(s1, args("g"), nfsstat4.NFS4ERR_NOTSUPP);

    // The file seen as on another filesystem than the export.
    const elsewhere = overrideFs<FileSystem>(env.fs, {
      getattr: async (h) => {
        const a = await env.fs.getattr(h);
        return Buffer.from(h).equals(Buffer.from(f)) ? { ...a, fsid: { major: 9n, minor: 9n } } : a;
      },
    });
    const s2 = makeState({ ...env.server, fs: elsewhere }, USER);
    s2.savedFh = f;
    s2.currentFh = env.exp;
    await expectLink(s2, args("g"), nfsstat4.NFS4ERR_XDEV);
  });

  it("ACCESS without write and search permission on the directory", async () => {
    const env = await makeEnv();
    const f = await mkfile(env.fs, env.exp, "f", { uid: USER.uid });
    const d = await mkdir(env.fs, env.exp, "ro", { mode: 0o755 });
    await expectLink(linking(env, f, d), args("g"), nfsstat4.NFS4ERR_ACCESS);
    await expectLink(linking(env, f, d, { ...USER, uid: 0 }), args("g"), nfsstat4.NFS4_OK);
  });

  it("EXIST for a taken name, MLINK at the link limit", async () => {
    // The root needs 3 links (its own two and the export's "..").
    const env = await makeEnv({ fs: { maxLink: 3 } });
    const f = await mkfile(env.fs, env.exp, "f");
    await mkfile(env.fs, env.exp, "taken");
    await expectLink(linking(env, f, env.exp), args("taken"), nfsstat4.NFS4ERR_EXIST);
    await expectLink(linking(env, f, env.exp), args("g"), nfsstat4.NFS4_OK);
    await expectLink(linking(env, f, env.exp), args("h"), nfsstat4.NFS4_OK);
    await expectLink(linking(env, f, env.exp), args("i"), nfsstat4.NFS4ERR_MLINK);
  });

  it("STALE for a vanished source, and for an open file whose last name is gone", async () => {
    const env = await makeEnv();
    const gone = await mkfile(env.fs, env.exp, "gone");
    await env.fs.remove(env.exp, "gone");
    await expectLink(linking(env, gone, env.exp), args("g"), nfsstat4.NFS4ERR_STALE);
    const open = await mkfile(env.fs, env.exp, "open");
    await env.fs.pin(open);
    await env.fs.remove(env.exp, "open");
    await expectLink(linking(env, open, env.exp), args("g"), nfsstat4.NFS4ERR_STALE);
  });
});

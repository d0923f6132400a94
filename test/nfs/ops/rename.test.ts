import { describe, expect, it } from "vitest";
import {
  nfs_ftype4,
  nfs_opnum4,
  nfsstat4,
  type RENAME4args,
} from "../../../generated/nfs4/index.js";
import type { FileHandle, FileSystem } from "../../../src/fs/backend.js";
import type { Credential } from "../../../src/rpc/types.js";
import { RENAME } from "../../../src/nfs/ops/rename.js";
import { expectOp, overrideFs } from "./fileops-helpers.js";
import {
  ROOT,
  USER,
  makeEnv,
  makeState,
  mkdir,
  mkfile,
  utf8,
  type TestEnv,
  call,
} from "./helpers.js";

const OP = nfs_opnum4.OP_RENAME;

function args(oldname: string | Uint8Array, newname: string | Uint8Array): RENAME4args {
  const bytes = (s: string | Uint8Array) => (typeof s === "string" ? utf8(s) : s);
  return { oldname: bytes(oldname), newname: bytes(newname) };
}

async function expectRename(
  env: TestEnv,
  from: FileHandle | null,
  to: FileHandle | null,
  a: RENAME4args,
  status: nfsstat4,
  cred: Credential = ROOT,
) {
  const state = env.state(cred);
  state.savedFh = from;
  state.currentFh = to;
  const res = await call(RENAME, a, state);
  expectOp(OP, res.status, status);
  expect(state.savedFh).toEqual(from);
  expect(state.currentFh).toEqual(to);
  return res;
}

describe("RENAME", () => {
  it("moves files, directories, symlinks and special files between directories", async () => {
    const env = await makeEnv();
    const d1 = await mkdir(env.fs, env.exp, "d1");
    const d2 = await mkdir(env.fs, env.exp, "d2");
    const f = await mkfile(env.fs, d1, "file");
    const sub = await mkdir(env.fs, d1, "sub");
    await env.fs.symlink(d1, "link", utf8("x"), { mode: 0o777, uid: 0, gid: 0 });
    await env.fs.mknod(
      d1,
      "fifo",
      nfs_ftype4.NF4FIFO,
      { major: 0, minor: 0 },
      {
        mode: 0o644,
        uid: 0,
        gid: 0,
      },
    );
    for (const name of ["file", "sub", "link", "fifo"]) {
      const before1 = (await env.fs.getattr(d1)).change;
      const before2 = (await env.fs.getattr(d2)).change;
      const res = await expectRename(env, d1, d2, args(name, `${name}2`), nfsstat4.NFS4_OK);
      if (res.status === nfsstat4.NFS4_OK) {
        expect(res.resok4.source_cinfo).toEqual({
          atomic: true,
          before: before1,
          after: (await env.fs.getattr(d1)).change,
        });
        expect(res.resok4.target_cinfo).toEqual({
          atomic: true,
          before: before2,
          after: (await env.fs.getattr(d2)).change,
        });
      }
      await expect(env.fs.lookup(d1, name)).rejects.toThrow();
    }
    expect((await env.fs.lookup(d2, "file2")).handle).toEqual(f);
    expect((await env.fs.lookupParent(sub)).handle).toEqual(d2);
  });

  it("within one directory both cinfos are that directory's change", async () => {
    const env = await makeEnv();
    await mkfile(env.fs, env.exp, "a");
    const res = await expectRename(env, env.exp, env.exp, args("a", "b"), nfsstat4.NFS4_OK);
    if (res.status === nfsstat4.NFS4_OK) {
      expect(res.resok4.source_cinfo).toEqual(res.resok4.target_cinfo);
      expect(res.resok4.source_cinfo.after).toBe((await env.fs.getattr(env.exp)).change);
    }
  });

  it("replaces a file with a file and a directory with an empty directory", async () => {
    const env = await makeEnv();
    const a = await mkfile(env.fs, env.exp, "a", { data: "A" });
    await mkfile(env.fs, env.exp, "b", { data: "B" });
    await expectRename(env, env.exp, env.exp, args("a", "b"), nfsstat4.NFS4_OK);
    expect((await env.fs.lookup(env.exp, "b")).handle).toEqual(a);
    const d1 = await mkdir(env.fs, env.exp, "d1");
    await mkfile(env.fs, d1, "inside");
    await mkdir(env.fs, env.exp, "d2");
    await expectRename(env, env.exp, env.exp, args("d1", "d2"), nfsstat4.NFS4_OK);
    expect((await env.fs.lookup(env.exp, "d2")).handle).toEqual(d1);
  });

  it("a replaced file that is open keeps its data until unpinned", async () => {
    const env = await makeEnv();
    const victim = await mkfile(env.fs, env.exp, "victim", { data: "old" });
    await mkfile(env.fs, env.exp, "new", { data: "new" });
    await env.fs.pin(victim);
    await expectRename(env, env.exp, env.exp, args("new", "victim"), nfsstat4.NFS4_OK);
    expect((await env.fs.read(victim, 0n, 10)).data).toEqual(utf8("old"));
    await env.fs.unpin(victim);
    await expect(env.fs.getattr(victim)).rejects.toThrow();
  });

  it("EXIST for incompatible targets: file/directory either way, or a non-empty directory", async () => {
    const env = await makeEnv();
    await mkfile(env.fs, env.exp, "file");
    await mkdir(env.fs, env.exp, "dir");
    const full = await mkdir(env.fs, env.exp, "full");
    await mkfile(env.fs, full, "x");
    await expectRename(env, env.exp, env.exp, args("dir", "file"), nfsstat4.NFS4ERR_EXIST);
    await expectRename(env, env.exp, env.exp, args("file", "dir"), nfsstat4.NFS4ERR_EXIST);
    await expectRename(env, env.exp, env.exp, args("file", "full"), nfsstat4.NFS4ERR_EXIST);
    await expectRename(env, env.exp, env.exp, args("dir", "full"), nfsstat4.NFS4ERR_EXIST);
  });

  it("renaming onto itself or onto another link of it succeeds and changes nothing", async () => {
    const env = await makeEnv();
    const f = await mkfile(env.fs, env.exp, "f");
    await env.fs.link(f, env.exp, "g");
    const d = await mkdir(env.fs, env.exp, "d");
    for (const [from, to, a] of [
      [env.exp, env.exp, args("f", "f")],
      [env.exp, env.exp, args("f", "g")],
      [env.exp, env.exp, args("d", "d")],
    ] as const) {
      const before = (await env.fs.getattr(env.exp)).change;
      const res = await expectRename(env, from, to, a, nfsstat4.NFS4_OK);
      if (res.status === nfsstat4.NFS4_OK) {
        const { source_cinfo: s, target_cinfo: t } = res.resok4;
        expect(s.before).toBe(s.after);
        expect(t.before).toBe(t.after);
      }
      expect((await env.fs.getattr(env.exp)).change).toBe(before);
    }
    expect((await env.fs.lookup(env.exp, "f")).handle).toEqual(f);
    expect((await env.fs.lookup(env.exp, "g")).handle).toEqual(f);
    expect((await env.fs.lookup(env.exp, "d")).handle).toEqual(d);
  });

  it("INVAL for moving a directory into itself or below", async () => {
    const env = await makeEnv();
    const d = await mkdir(env.fs, env.exp, "d");
    const child = await mkdir(env.fs, d, "child");
    await expectRename(env, env.exp, d, args("d", "x"), nfsstat4.NFS4ERR_INVAL);
    await expectRename(env, env.exp, child, args("d", "x"), nfsstat4.NFS4ERR_INVAL);
  });

  it("NOFILEHANDLE without a saved or current filehandle", async () => {
    const env = await makeEnv();
    await expectRename(env, null, env.exp, args("a", "b"), nfsstat4.NFS4ERR_NOFILEHANDLE);
    await expectRename(env, env.exp, null, args("a", "b"), nfsstat4.NFS4ERR_NOFILEHANDLE);
  });

  it("NOTDIR when either handle is not a directory (symlinks too), NOENT for a missing source", async () => {
    const env = await makeEnv();
    const f = await mkfile(env.fs, env.exp, "f");
    const l = (await env.fs.symlink(env.exp, "l", utf8("x"), { mode: 0o777, uid: 0, gid: 0 }))
      .handle;
    await expectRename(env, f, env.exp, args("a", "b"), nfsstat4.NFS4ERR_NOTDIR);
    await expectRename(env, env.exp, f, args("f", "b"), nfsstat4.NFS4ERR_NOTDIR);
    await expectRename(env, l, env.exp, args("a", "b"), nfsstat4.NFS4ERR_NOTDIR);
    await expectRename(env, env.exp, l, args("f", "b"), nfsstat4.NFS4ERR_NOTDIR);
    await expectRename(env, env.exp, env.exp, args("missing", "b"), nfsstat4.NFS4ERR_NOENT);
  });

  it("name errors on either name", async () => {
    const env = await makeEnv();
    await mkfile(env.fs, env.exp, "f");
    const bad: [Uint8Array, nfsstat4][] = [
      [new Uint8Array(0), nfsstat4.NFS4ERR_INVAL],
      [new Uint8Array([0xed, 0xa0, 0x80]), nfsstat4.NFS4ERR_INVAL],
      [utf8("."), nfsstat4.NFS4ERR_BADNAME],
      [utf8(".."), nfsstat4.NFS4ERR_BADNAME],
      [utf8("a/b"), nfsstat4.NFS4ERR_BADNAME],
      [utf8("a\0"), nfsstat4.NFS4ERR_BADCHAR],
      [utf8("z".repeat(256)), nfsstat4.NFS4ERR_NAMETOOLONG],
    ];
    for (const [name, status] of bad) {
      await expectRename(env, env.exp, env.exp, args(name, "g"), status);
      await expectRename(env, env.exp, env.exp, args("f", name), status);
    }
  });

  it("XDEV between filesystems", async () => {
    const env = await makeEnv();
    const other = await mkdir(env.fs, env.exp, "other");
    await mkfile(env.fs, env.exp, "f");
    const fs = overrideFs<FileSystem>(env.fs, {
      getattr: async (h) => {
        const a = await env.fs.getattr(h);
        return Buffer.from(h).equals(Buffer.from(other))
          ? { ...a, fsid: { major: 5n, minor: 0n } }
          : a;
      },
    });
    const state = makeState({ ...env.server, fs });
    state.savedFh = env.exp;
    state.currentFh = other;
    expectOp(OP, (await call(RENAME, args("f", "g"), state)).status, nfsstat4.NFS4ERR_XDEV);
  });

  it("ACCESS without write and search permission on either directory", async () => {
    const env = await makeEnv();
    const ro = await mkdir(env.fs, env.exp, "ro", { mode: 0o755 });
    await mkfile(env.fs, ro, "f", { uid: USER.uid });
    const rw = await mkdir(env.fs, env.exp, "rw", { mode: 0o777 });
    await mkfile(env.fs, rw, "g", { uid: USER.uid });
    await expectRename(env, ro, rw, args("f", "f"), nfsstat4.NFS4ERR_ACCESS, USER);
    await expectRename(env, rw, ro, args("g", "g"), nfsstat4.NFS4ERR_ACCESS, USER);
    const noexec = await mkdir(env.fs, env.exp, "noexec", { mode: 0o666 });
    await expectRename(env, rw, noexec, args("g", "g"), nfsstat4.NFS4ERR_ACCESS, USER);
    await expectRename(env, rw, rw, args("g", "h"), nfsstat4.NFS4_OK, USER);
  });

  it("sticky directories guard both the entry leaving and the entry replaced", async () => {
    const env = await makeEnv();
    const tmp = await mkdir(env.fs, env.exp, "tmp", { mode: 0o1777 });
    await mkfile(env.fs, tmp, "theirs", { uid: 2000 });
    await mkfile(env.fs, tmp, "mine", { uid: USER.uid });
    await expectRename(env, tmp, tmp, args("theirs", "x"), nfsstat4.NFS4ERR_ACCESS, USER);
    await expectRename(env, tmp, tmp, args("mine", "theirs"), nfsstat4.NFS4ERR_ACCESS, USER);
    await expectRename(env, tmp, tmp, args("mine", "mine2"), nfsstat4.NFS4_OK, USER);
  });

  it("moving a directory to another parent needs write permission on it (its '..' changes)", async () => {
    const env = await makeEnv();
    const a = await mkdir(env.fs, env.exp, "a", { mode: 0o777 });
    const b = await mkdir(env.fs, env.exp, "b", { mode: 0o777 });
    await mkdir(env.fs, a, "locked", { mode: 0o555, uid: USER.uid });
    await expectRename(env, a, b, args("locked", "locked"), nfsstat4.NFS4ERR_ACCESS, USER);
    // Within the same parent it may be renamed.
    await expectRename(env, a, a, args("locked", "renamed"), nfsstat4.NFS4_OK, USER);
  });

  it("MLINK when the target directory cannot take another subdirectory", async () => {
    const env = await makeEnv({ fs: { maxLink: 4 } });
    const a = await mkdir(env.fs, env.exp, "a");
    await mkdir(env.fs, a, "child");
    const b = await mkdir(env.fs, env.exp, "b");
    await mkdir(env.fs, b, "first");
    await mkdir(env.fs, b, "second");
    // b has 4 links now: its own two and two subdirectories' "..".
    await expectRename(env, a, b, args("child", "child"), nfsstat4.NFS4ERR_MLINK);
  });

  it("STALE when a directory is gone", async () => {
    const env = await makeEnv();
    const d = await mkdir(env.fs, env.exp, "d");
    await env.fs.remove(env.exp, "d");
    await expectRename(env, d, env.exp, args("a", "b"), nfsstat4.NFS4ERR_STALE);
    await expectRename(env, env.exp, d, args("a", "b"), nfsstat4.NFS4ERR_STALE);
  });
});

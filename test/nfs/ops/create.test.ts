import { describe, expect, it } from "vitest";
import {
  FATTR4_ACL,
  FATTR4_CHANGE,
  FATTR4_MODE,
  nfs_ftype4,
  nfs_opnum4,
  nfsstat4,
  type CREATE4args,
  type CREATE4res,
  type createtype4,
} from "../../../generated/nfs4/index.js";
import { bitsOf } from "../../../src/nfs/attrs/index.js";
import type { CompoundState } from "../../../src/nfs/context.js";
import { CREATE } from "../../../src/nfs/ops/create.js";
import { expectOp, fattr, rawFattr } from "./fileops-helpers.js";
import { USER, credential, makeEnv, mkdir, mkfile, utf8, type TestEnv, call } from "./helpers.js";

const OP = nfs_opnum4.OP_CREATE;
const DIR: createtype4 = { type: nfs_ftype4.NF4DIR };

function args(objtype: createtype4, name: string | Uint8Array, attrs = fattr()): CREATE4args {
  return {
    objtype,
    objname: typeof name === "string" ? utf8(name) : name,
    createattrs: attrs,
  };
}

async function expectCreate(
  state: CompoundState,
  a: CREATE4args,
  status: nfsstat4,
): Promise<CREATE4res> {
  const before = state.currentFh;
  const res = await call(CREATE, a, state);
  expectOp(OP, res.status, status);
  if (status !== nfsstat4.NFS4_OK) expect(state.currentFh).toEqual(before);
  return res;
}

async function inExport(env: TestEnv, cred = USER): Promise<CompoundState> {
  const state = env.state(cred);
  state.currentFh = env.exp;
  return state;
}

describe("CREATE", () => {
  it("makes each non-regular type; the new object becomes the current filehandle", async () => {
    const env = await makeEnv();
    const kinds: [string, createtype4, nfs_ftype4][] = [
      ["dir", DIR, nfs_ftype4.NF4DIR],
      ["link", { type: nfs_ftype4.NF4LNK, linkdata: utf8("../target") }, nfs_ftype4.NF4LNK],
      [
        "blk",
        { type: nfs_ftype4.NF4BLK, devdata: { specdata1: 8, specdata2: 1 } },
        nfs_ftype4.NF4BLK,
      ],
      [
        "chr",
        { type: nfs_ftype4.NF4CHR, devdata: { specdata1: 1, specdata2: 3 } },
        nfs_ftype4.NF4CHR,
      ],
      ["sock", { type: nfs_ftype4.NF4SOCK }, nfs_ftype4.NF4SOCK],
      ["fifo", { type: nfs_ftype4.NF4FIFO }, nfs_ftype4.NF4FIFO],
    ];
    for (const [name, objtype, type] of kinds) {
      const state = await inExport(env);
      const dirBefore = (await env.fs.getattr(env.exp)).change;
      const res = await expectCreate(state, args(objtype, name), nfsstat4.NFS4_OK);
      const found = await env.fs.lookup(env.exp, name);
      expect(state.currentFh).toEqual(found.handle);
      expect(found.attrs.type).toBe(type);
      expect(found.attrs.uid).toBe(USER.uid);
      expect(found.attrs.gid).toBe(USER.gid);
      if (res.status === nfsstat4.NFS4_OK) {
        const { cinfo, attrset } = res.resok4;
        expect(cinfo.atomic).toBe(true);
        expect(cinfo.before).toBe(dirBefore);
        expect(cinfo.after).toBe((await env.fs.getattr(env.exp)).change);
        expect(attrset).toEqual([]);
      }
    }
    const link = (await env.fs.lookup(env.exp, "link")).handle;
    expect(await env.fs.readlink(link)).toEqual(utf8("../target"));
    expect((await env.fs.lookup(env.exp, "chr")).attrs.rdev).toEqual({ major: 1, minor: 3 });
    expect((await env.fs.lookup(env.exp, "fifo")).attrs.rdev).toEqual({ major: 0, minor: 0 });
  });

  it("applies createattrs and reports them in attrset", async () => {
    const env = await makeEnv();
    const state = await inExport(env, credential(1000, 1000, [50]));
    const mtime = { seconds: 12345n, nseconds: 6 };
    const attrs = fattr({ mode: 0o700, owner: "1000", group: "50", mtime, atime: "now" });
    const res = await expectCreate(state, args(DIR, "d", attrs), nfsstat4.NFS4_OK);
    const a = await env.fs.getattr(state.currentFh!);
    expect(a).toMatchObject({ mode: 0o700, uid: 1000, gid: 50, mtime });
    if (res.status === nfsstat4.NFS4_OK) {
      expect(bitsOf(res.resok4.attrset)).toEqual(bitsOf(attrs.attrmask));
    }
  });

  it("defaults: 0755 directories, 0777 symlinks, 0644 others; set-gid directories pass on their group", async () => {
    const env = await makeEnv();
    const state = await inExport(env);
    await expectCreate(state, args(DIR, "d"), nfsstat4.NFS4_OK);
    expect((await env.fs.getattr(state.currentFh!)).mode).toBe(0o755);
    state.currentFh = env.exp;
    await expectCreate(
      state,
      args({ type: nfs_ftype4.NF4LNK, linkdata: utf8("t") }, "l"),
      nfsstat4.NFS4_OK,
    );
    expect((await env.fs.getattr(state.currentFh!)).mode).toBe(0o777);
    state.currentFh = env.exp;
    await expectCreate(state, args({ type: nfs_ftype4.NF4FIFO }, "p"), nfsstat4.NFS4_OK);
    expect((await env.fs.getattr(state.currentFh!)).mode).toBe(0o644);

    const shared = await mkdir(env.fs, env.exp, "shared", { mode: 0o2777, gid: 77 });
    state.currentFh = shared;
    await expectCreate(state, args(DIR, "sub"), nfsstat4.NFS4_OK);
    expect(await env.fs.getattr(state.currentFh!)).toMatchObject({
      gid: 77,
      mode: 0o2755,
      uid: USER.uid,
    });
    // A set-gid bit asked for on a non-directory of a group the caller is not in is dropped.
    state.currentFh = shared;
    await expectCreate(
      state,
      args({ type: nfs_ftype4.NF4FIFO }, "fifo", fattr({ mode: 0o2666 })),
      nfsstat4.NFS4_OK,
    );
    expect(await env.fs.getattr(state.currentFh!)).toMatchObject({ gid: 77, mode: 0o666 });
  });

  it("NOFILEHANDLE without a current filehandle", async () => {
    const env = await makeEnv();
    await expectCreate(env.state(), args(DIR, "d"), nfsstat4.NFS4ERR_NOFILEHANDLE);
  });

  it("NOTDIR in a file or a symlink (CREATE has no NFS4ERR_SYMLINK)", async () => {
    const env = await makeEnv();
    const state = env.state();
    state.currentFh = await mkfile(env.fs, env.exp, "f");
    await expectCreate(state, args(DIR, "d"), nfsstat4.NFS4ERR_NOTDIR);
    state.currentFh = (
      await env.fs.symlink(env.exp, "l", utf8("f"), { mode: 0o777, uid: 0, gid: 0 })
    ).handle;
    await expectCreate(state, args(DIR, "d"), nfsstat4.NFS4ERR_NOTDIR);
  });

  it("BADTYPE for regular files and types that cannot be made", async () => {
    const env = await makeEnv();
    const state = await inExport(env);
    for (const type of [nfs_ftype4.NF4REG, nfs_ftype4.NF4ATTRDIR, nfs_ftype4.NF4NAMEDATTR]) {
      await expectCreate(state, args({ type } as createtype4, "x"), nfsstat4.NFS4ERR_BADTYPE);
    }
    await expect(env.fs.lookup(env.exp, "x")).rejects.toThrow();
  });

  it("name errors: INVAL, BADNAME, BADCHAR, NAMETOOLONG", async () => {
    const env = await makeEnv();
    const state = await inExport(env);
    const cases: [Uint8Array, nfsstat4][] = [
      [new Uint8Array(0), nfsstat4.NFS4ERR_INVAL],
      [new Uint8Array([0x66, 0xff]), nfsstat4.NFS4ERR_INVAL],
      [utf8("."), nfsstat4.NFS4ERR_BADNAME],
      [utf8(".."), nfsstat4.NFS4ERR_BADNAME],
      [utf8("a/b"), nfsstat4.NFS4ERR_BADNAME],
      [utf8("a\0b"), nfsstat4.NFS4ERR_BADCHAR],
      [utf8("n".repeat(256)), nfsstat4.NFS4ERR_NAMETOOLONG],
    ];
    for (const [name, status] of cases) await expectCreate(state, args(DIR, name), status);
  });

  it("attribute errors: ATTRNOTSUPP, INVAL (read-only, size, bad mode), BADXDR, BADOWNER", async () => {
    const env = await makeEnv();
    const state = await inExport(env);
    const cases: [ReturnType<typeof fattr>, nfsstat4][] = [
      [rawFattr([FATTR4_ACL], (w) => w.writeUint(0)), nfsstat4.NFS4ERR_ATTRNOTSUPP],
      [rawFattr([FATTR4_CHANGE], (w) => w.writeUhyper(1n)), nfsstat4.NFS4ERR_INVAL],
      [fattr({ size: 0n }), nfsstat4.NFS4ERR_INVAL],
      [fattr({ mode: 0o10000 }), nfsstat4.NFS4ERR_INVAL],
      [fattr({ owner: new Uint8Array([0xff]) }), nfsstat4.NFS4ERR_INVAL],
      [rawFattr([FATTR4_MODE], () => {}), nfsstat4.NFS4ERR_BADXDR],
      [fattr({ owner: "alice" }), nfsstat4.NFS4ERR_BADOWNER],
      [fattr({ group: "staff" }), nfsstat4.NFS4ERR_BADOWNER],
    ];
    for (const [attrs, status] of cases) await expectCreate(state, args(DIR, "d", attrs), status);
    await expect(env.fs.lookup(env.exp, "d")).rejects.toThrow();
  });

  it("ACCESS without write and search permission on the directory", async () => {
    const env = await makeEnv();
    for (const mode of [0o555, 0o666]) {
      const d = await mkdir(env.fs, env.exp, `d${mode}`, { mode, uid: 0 });
      const state = env.state(USER);
      state.currentFh = d;
      await expectCreate(state, args(DIR, "x"), nfsstat4.NFS4ERR_ACCESS);
      // The superuser is not bound by mode bits.
      const root = env.state();
      root.currentFh = d;
      await expectCreate(root, args(DIR, "x"), nfsstat4.NFS4_OK);
    }
  });

  it("PERM for giving the object away; a member may pick his group, the superuser anything", async () => {
    const env = await makeEnv();
    const state = await inExport(env);
    await expectCreate(state, args(DIR, "a", fattr({ owner: "0" })), nfsstat4.NFS4ERR_PERM);
    await expectCreate(state, args(DIR, "b", fattr({ group: "50" })), nfsstat4.NFS4ERR_PERM);
    const member = await inExport(env, credential(1000, 1000, [50]));
    await expectCreate(member, args(DIR, "c", fattr({ group: "50" })), nfsstat4.NFS4_OK);
    const root = await inExport(env, credential(0, 0));
    await expectCreate(root, args(DIR, "e", fattr({ owner: "7", group: "8" })), nfsstat4.NFS4_OK);
    expect(await env.fs.getattr(root.currentFh!)).toMatchObject({ uid: 7, gid: 8 });
  });

  it("EXIST for a taken name", async () => {
    const env = await makeEnv();
    await mkfile(env.fs, env.exp, "taken");
    const state = await inExport(env);
    await expectCreate(state, args(DIR, "taken"), nfsstat4.NFS4ERR_EXIST);
    await expectCreate(state, args({ type: nfs_ftype4.NF4SOCK }, "taken"), nfsstat4.NFS4ERR_EXIST);
  });

  it("symlink targets: empty is INVAL, overlong NAMETOOLONG", async () => {
    const env = await makeEnv({ fs: { maxSymlinkBytes: 8 } });
    const state = await inExport(env);
    const lnk = (t: string): createtype4 => ({ type: nfs_ftype4.NF4LNK, linkdata: utf8(t) });
    await expectCreate(state, args(lnk(""), "l"), nfsstat4.NFS4ERR_INVAL);
    await expectCreate(state, args(lnk("123456789"), "l"), nfsstat4.NFS4ERR_NAMETOOLONG);
  });

  it("MLINK when the directory has too many subdirectories, NOSPC when out of objects", async () => {
    const env = await makeEnv({ fs: { maxLink: 3 } });
    const state = await inExport(env);
    await expectCreate(state, args(DIR, "one"), nfsstat4.NFS4_OK);
    state.currentFh = env.exp;
    await expectCreate(state, args(DIR, "two"), nfsstat4.NFS4ERR_MLINK);
    // Root, export and one more object.
    const small = await makeEnv({ fs: { maxFiles: 3 } });
    const s = await inExport(small);
    await expectCreate(s, args({ type: nfs_ftype4.NF4FIFO }, "a"), nfsstat4.NFS4_OK);
    s.currentFh = small.exp;
    await expectCreate(s, args({ type: nfs_ftype4.NF4FIFO }, "b"), nfsstat4.NFS4ERR_NOSPC);
  });

  it("STALE when the directory is gone", async () => {
    const env = await makeEnv();
    const d = await mkdir(env.fs, env.exp, "d");
    await env.fs.remove(env.exp, "d");
    const state = env.state();
    state.currentFh = d;
    await expectCreate(state, args(DIR, "x"), nfsstat4.NFS4ERR_STALE);
  });
});

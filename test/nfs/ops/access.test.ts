import { describe, expect, it } from "vitest";
import {
  ACCESS4_DELETE,
  ACCESS4_EXECUTE,
  ACCESS4_EXTEND,
  ACCESS4_LOOKUP,
  ACCESS4_MODIFY,
  ACCESS4_READ,
  ACCESS4_XALIST,
  ACCESS4_XAREAD,
  ACCESS4_XAWRITE,
  nfsstat4,
} from "../../../generated/nfs4/index.js";
import type { Credential } from "../../../src/rpc/types.js";
import type { FileHandle } from "../../../src/fs/backend.js";
import { ACCESS } from "../../../src/nfs/ops/access.js";
import {
  ROOT,
  USER,
  credential,
  expectStatus,
  makeEnv,
  mkdir,
  mkfile,
  type TestEnv,
  call,
} from "./helpers.js";

const ALL = 0x3f;
const FILE_BITS = ACCESS4_READ | ACCESS4_MODIFY | ACCESS4_EXTEND | ACCESS4_EXECUTE;
const DIR_BITS = ACCESS4_READ | ACCESS4_LOOKUP | ACCESS4_MODIFY | ACCESS4_EXTEND | ACCESS4_DELETE;

async function check(
  env: TestEnv,
  fh: FileHandle,
  cred: Credential,
  requested = ALL,
): Promise<{ supported: number; access: number }> {
  const state = env.state(cred);
  state.currentFh = fh;
  const res = await call(ACCESS, { access: requested }, state);
  expectStatus(res, nfsstat4.NFS4_OK);
  if (res.status !== nfsstat4.NFS4_OK) throw new Error("unreachable");
  return res.resok4;
}

describe("ACCESS", () => {
  it("reports the rights meaningful for a file, granted from the owner bits", async () => {
    const env = await makeEnv();
    const f = await mkfile(env.fs, env.exp, "f", { mode: 0o600, uid: 1000 });
    expect(await check(env, f, USER)).toEqual({
      supported: FILE_BITS,
      access: ACCESS4_READ | ACCESS4_MODIFY | ACCESS4_EXTEND,
    });
  });

  it("group (incl. supplementary groups) and other classes", async () => {
    const env = await makeEnv();
    const f = await mkfile(env.fs, env.exp, "f", { mode: 0o754, uid: 1, gid: 50 });
    expect((await check(env, f, credential(2, 50))).access).toBe(ACCESS4_READ | ACCESS4_EXECUTE);
    expect((await check(env, f, credential(2, 3, [50]))).access).toBe(
      ACCESS4_READ | ACCESS4_EXECUTE,
    );
    expect((await check(env, f, credential(2, 3))).access).toBe(ACCESS4_READ);
  });

  it("only the first matching class counts", async () => {
    const env = await makeEnv();
    const f = await mkfile(env.fs, env.exp, "f", { mode: 0o077, uid: 1000, gid: 1000 });
    expect((await check(env, f, USER)).access).toBe(0);
  });

  it("the superuser gets all but EXECUTE on files without any x bit", async () => {
    const env = await makeEnv();
    const plain = await mkfile(env.fs, env.exp, "plain", { mode: 0o000, uid: 5 });
    expect((await check(env, plain, ROOT)).access).toBe(
      ACCESS4_READ | ACCESS4_MODIFY | ACCESS4_EXTEND,
    );
    const script = await mkfile(env.fs, env.exp, "script", { mode: 0o001, uid: 5 });
    expect((await check(env, script, ROOT)).access).toBe(FILE_BITS);
    const d = await mkdir(env.fs, env.exp, "d", { mode: 0o000, uid: 5 });
    expect(await check(env, d, ROOT)).toEqual({ supported: DIR_BITS, access: DIR_BITS });
  });

  it("directories: LOOKUP needs x, MODIFY/EXTEND/DELETE need w and x", async () => {
    const env = await makeEnv();
    const rx = await mkdir(env.fs, env.exp, "rx", { mode: 0o500, uid: 1000 });
    expect(await check(env, rx, USER)).toEqual({
      supported: DIR_BITS,
      access: ACCESS4_READ | ACCESS4_LOOKUP,
    });
    const w = await mkdir(env.fs, env.exp, "w", { mode: 0o200, uid: 1000 });
    expect((await check(env, w, USER)).access).toBe(0);
    const rwx = await mkdir(env.fs, env.exp, "rwx", { mode: 0o700, uid: 1000 });
    expect((await check(env, rwx, USER)).access).toBe(DIR_BITS);
  });

  it("answers only for requested bits, ignoring unknown ones", async () => {
    const env = await makeEnv();
    const f = await mkfile(env.fs, env.exp, "f", { mode: 0o644, uid: 1000 });
    expect(await check(env, f, USER, ACCESS4_READ | ACCESS4_LOOKUP | 0x40 | 0x100)).toEqual({
      supported: ACCESS4_READ,
      access: ACCESS4_READ,
    });
    expect(await check(env, f, USER, 0)).toEqual({ supported: 0, access: 0 });
  });

  it("NOFILEHANDLE and STALE", async () => {
    const env = await makeEnv();
    expectStatus(await call(ACCESS, { access: ALL }, env.state()), nfsstat4.NFS4ERR_NOFILEHANDLE);
    const f = await mkfile(env.fs, env.exp, "f");
    await env.fs.remove(env.exp, "f");
    const state = env.state();
    state.currentFh = f;
    expectStatus(await call(ACCESS, { access: ALL }, state), nfsstat4.NFS4ERR_STALE);
  });
});

describe("ACCESS: the RFC 8276 xattr rights (NFSv4.2)", () => {
  const XA = ACCESS4_XAREAD | ACCESS4_XAWRITE | ACCESS4_XALIST;

  async function xattrRights(env: TestEnv, fh: FileHandle, cred: Credential, minor: number) {
    const state = { ...env.state(cred), minorversion: minor, currentFh: fh };
    const res = await call(ACCESS, { access: XA | ACCESS4_READ }, state);
    if (res.status !== nfsstat4.NFS4_OK) throw new Error("ACCESS failed");
    return res.resok4;
  }

  it("reading and listing need read permission, writing write permission", async () => {
    const env = await makeEnv();
    const f = await mkfile(env.fs, env.exp, "f", { mode: 0o644 });
    expect(await xattrRights(env, f, USER, 2)).toEqual({
      supported: XA | ACCESS4_READ,
      access: ACCESS4_XAREAD | ACCESS4_XALIST | ACCESS4_READ,
    });
    expect((await xattrRights(env, f, ROOT, 2)).access).toBe(XA | ACCESS4_READ);
    const d = await mkdir(env.fs, env.exp, "d", { mode: 0o700 });
    expect((await xattrRights(env, d, USER, 2)).access).toBe(0);
  });

  it("are not NFSv4.1 rights, nor rights on a symlink", async () => {
    const env = await makeEnv();
    const f = await mkfile(env.fs, env.exp, "f", { mode: 0o644 });
    expect((await xattrRights(env, f, ROOT, 1)).supported).toBe(ACCESS4_READ);
    const l = await env.fs.symlink(env.exp, "l", new TextEncoder().encode("f"), {
      mode: 0o777,
      uid: 0,
      gid: 0,
    });
    expect((await xattrRights(env, l.handle, ROOT, 2)).supported & XA).toBe(0);
  });
});

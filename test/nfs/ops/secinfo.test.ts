import { describe, expect, it } from "vitest";
import { nfs_opnum4, nfsstat4, type SECINFO4args } from "../../../generated/nfs4/index.js";
import { auth_flavor } from "../../../generated/rpc/index.js";
import type { FileHandle } from "../../../src/fs/backend.js";
import { SECINFO } from "../../../src/nfs/ops/secinfo.js";
import { expectOp } from "./fileops-helpers.js";
import { USER, makeEnv, mkdir, mkfile, utf8, type TestEnv, call } from "./helpers.js";

const OP = nfs_opnum4.OP_SECINFO;

function args(name: string | Uint8Array): SECINFO4args {
  return { name: typeof name === "string" ? utf8(name) : name };
}

async function run(env: TestEnv, dir: FileHandle | null, a: SECINFO4args, status: nfsstat4) {
  const state = env.state(USER);
  state.currentFh = dir;
  state.savedFh = env.root;
  const res = await call(SECINFO, a, state);
  expectOp(OP, res.status, status);
  // Consumed on success (RFC 8881 §2.6.3.1.1.8), untouched on failure; the saved one stays.
  expect(state.currentFh).toEqual(status === nfsstat4.NFS4_OK ? null : dir);
  expect(state.savedFh).toEqual(env.root);
  return res;
}

describe("SECINFO", () => {
  it("offers AUTH_SYS then AUTH_NONE for an existing entry and consumes the filehandle", async () => {
    const env = await makeEnv();
    await mkfile(env.fs, env.exp, "f");
    const res = await run(env, env.exp, args("f"), nfsstat4.NFS4_OK);
    if (res.status === nfsstat4.NFS4_OK) {
      expect(res.resok4.map((s) => s.flavor)).toEqual([
        auth_flavor.AUTH_SYS,
        auth_flavor.AUTH_NONE,
      ]);
    }
    await run(env, env.root, args("export"), nfsstat4.NFS4_OK);
  });

  it("NOFILEHANDLE, NOTDIR (files and symlinks), NOENT", async () => {
    const env = await makeEnv();
    await run(env, null, args("f"), nfsstat4.NFS4ERR_NOFILEHANDLE);
    const f = await mkfile(env.fs, env.exp, "f");
    await run(env, f, args("x"), nfsstat4.NFS4ERR_NOTDIR);
    const l = await env.fs.symlink(env.exp, "l", utf8("f"), { mode: 0o777, uid: 0, gid: 0 });
    await run(env, l.handle, args("x"), nfsstat4.NFS4ERR_NOTDIR);
    await run(env, env.exp, args("missing"), nfsstat4.NFS4ERR_NOENT);
  });

  it("name errors, and ACCESS without search permission", async () => {
    const env = await makeEnv();
    const cases: [Uint8Array, nfsstat4][] = [
      [new Uint8Array(0), nfsstat4.NFS4ERR_INVAL],
      [new Uint8Array([0x80]), nfsstat4.NFS4ERR_INVAL],
      [utf8("."), nfsstat4.NFS4ERR_BADNAME],
      [utf8(".."), nfsstat4.NFS4ERR_BADNAME],
      [utf8("a\0"), nfsstat4.NFS4ERR_BADCHAR],
      [utf8("q".repeat(256)), nfsstat4.NFS4ERR_NAMETOOLONG],
    ];
    for (const [name, status] of cases) await run(env, env.exp, args(name), status);
    const closed = await mkdir(env.fs, env.exp, "closed", { mode: 0o700 });
    await mkfile(env.fs, closed, "f");
    await run(env, closed, args("f"), nfsstat4.NFS4ERR_ACCESS);
  });

  it("STALE when the directory is gone", async () => {
    const env = await makeEnv();
    const d = await mkdir(env.fs, env.exp, "d");
    await env.fs.remove(env.exp, "d");
    await run(env, d, args("x"), nfsstat4.NFS4ERR_STALE);
  });
});

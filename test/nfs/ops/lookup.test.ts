import { describe, expect, it } from "vitest";
import { nfsstat4 } from "../../../generated/nfs4/index.js";
import { LOOKUP } from "../../../src/nfs/ops/lookup.js";
import { USER, credential, expectStatus, makeEnv, mkdir, mkfile, utf8, call } from "./helpers.js";

describe("LOOKUP", () => {
  it("replaces the current filehandle with the entry's", async () => {
    const env = await makeEnv();
    const f = await mkfile(env.fs, env.exp, "file");
    const state = env.state();
    state.currentFh = env.root;
    expectStatus(await call(LOOKUP, { objname: utf8("export") }, state), nfsstat4.NFS4_OK);
    expect(state.currentFh).toEqual(env.exp);
    expectStatus(await call(LOOKUP, { objname: utf8("file") }, state), nfsstat4.NFS4_OK);
    expect(state.currentFh).toEqual(f);
  });

  it("finds non-ASCII names", async () => {
    const env = await makeEnv();
    const f = await mkfile(env.fs, env.exp, "café");
    const state = env.state();
    state.currentFh = env.exp;
    expectStatus(await call(LOOKUP, { objname: utf8("café") }, state), nfsstat4.NFS4_OK);
    expect(state.currentFh).toEqual(f);
  });

  it("NOFILEHANDLE without a current filehandle", async () => {
    const env = await makeEnv();
    expectStatus(
      await call(LOOKUP, { objname: utf8("x") }, env.state()),
      nfsstat4.NFS4ERR_NOFILEHANDLE,
    );
  });

  it("NOENT for a missing name, leaving the current filehandle", async () => {
    const env = await makeEnv();
    const state = env.state();
    state.currentFh = env.exp;
    expectStatus(await call(LOOKUP, { objname: utf8("missing") }, state), nfsstat4.NFS4ERR_NOENT);
    expect(state.currentFh).toEqual(env.exp);
  });

  it("NOTDIR in a file, SYMLINK in a symlink", async () => {
    const env = await makeEnv();
    const state = env.state();
    state.currentFh = await mkfile(env.fs, env.exp, "f");
    expectStatus(await call(LOOKUP, { objname: utf8("x") }, state), nfsstat4.NFS4ERR_NOTDIR);
    state.currentFh = (
      await env.fs.symlink(env.exp, "l", utf8("f"), { mode: 0o777, uid: 0, gid: 0 })
    ).handle;
    expectStatus(await call(LOOKUP, { objname: utf8("x") }, state), nfsstat4.NFS4ERR_SYMLINK);
  });

  it("INVAL for empty or non-UTF-8 names, BADNAME for . .. and slashes, NAMETOOLONG", async () => {
    const env = await makeEnv();
    const state = env.state();
    state.currentFh = env.exp;
    const cases: [Uint8Array, nfsstat4][] = [
      [new Uint8Array(0), nfsstat4.NFS4ERR_INVAL],
      [new Uint8Array([0x66, 0xff]), nfsstat4.NFS4ERR_INVAL],
      [new Uint8Array([0xc3]), nfsstat4.NFS4ERR_INVAL],
      [utf8("."), nfsstat4.NFS4ERR_BADNAME],
      [utf8(".."), nfsstat4.NFS4ERR_BADNAME],
      [utf8("a/b"), nfsstat4.NFS4ERR_BADNAME],
      [utf8("a\0b"), nfsstat4.NFS4ERR_BADCHAR],
      [utf8("n".repeat(256)), nfsstat4.NFS4ERR_NAMETOOLONG],
    ];
    for (const [objname, status] of cases) {
      expectStatus(await call(LOOKUP, { objname }, state), status);
      expect(state.currentFh).toEqual(env.exp);
    }
  });

  it("ACCESS without search permission on the directory", async () => {
    const env = await makeEnv();
    const d = await mkdir(env.fs, env.exp, "private", { mode: 0o700, uid: 0 });
    await mkfile(env.fs, d, "secret");
    const state = env.state(USER);
    state.currentFh = d;
    expectStatus(await call(LOOKUP, { objname: utf8("secret") }, state), nfsstat4.NFS4ERR_ACCESS);
    // Search permission through a supplementary group.
    const g = await mkdir(env.fs, env.exp, "group", { mode: 0o710, uid: 0, gid: 50 });
    await mkfile(env.fs, g, "f");
    const member = env.state(credential(1000, 1000, [50]));
    member.currentFh = g;
    expectStatus(await call(LOOKUP, { objname: utf8("f") }, member), nfsstat4.NFS4_OK);
    // The superuser searches anything.
    const root = env.state();
    root.currentFh = d;
    expectStatus(await call(LOOKUP, { objname: utf8("secret") }, root), nfsstat4.NFS4_OK);
  });

  it("STALE for a current filehandle whose object is gone", async () => {
    const env = await makeEnv();
    const d = await mkdir(env.fs, env.exp, "d");
    await env.fs.remove(env.exp, "d");
    const state = env.state();
    state.currentFh = d;
    expectStatus(await call(LOOKUP, { objname: utf8("x") }, state), nfsstat4.NFS4ERR_STALE);
  });
});

// The helpers in src/nfs/ops/common.ts that the file operations share.

import { describe, expect, it } from "vitest";
import { nfs_ftype4, nfs_opnum4, nfsstat4 } from "../../../generated/nfs4/index.js";
import { FsError, type FileSystem } from "../../../src/fs/backend.js";
import { toSetAttributes } from "../../../src/nfs/attrs/index.js";
import { failureStatus, newObjectAttributes } from "../../../src/nfs/ops/common.js";
import { REMOVE } from "../../../src/nfs/ops/remove.js";
import { expectOp, overrideFs } from "./fileops-helpers.js";
import { USER, credential, makeEnv, makeState, mkfile, utf8, call } from "./helpers.js";

describe("failureStatus", () => {
  const err = (s: Exclude<nfsstat4, 0>) => new FsError(s);

  it("passes statuses the operation may return", () => {
    expect(failureStatus(nfs_opnum4.OP_REMOVE, err(nfsstat4.NFS4ERR_NOTEMPTY))).toBe(
      nfsstat4.NFS4ERR_NOTEMPTY,
    );
  });

  it("substitutes the nearest allowed status, then IO, then SERVERFAULT", () => {
    expect(failureStatus(nfs_opnum4.OP_REMOVE, err(nfsstat4.NFS4ERR_PERM))).toBe(
      nfsstat4.NFS4ERR_ACCESS,
    );
    expect(failureStatus(nfs_opnum4.OP_RENAME, err(nfsstat4.NFS4ERR_DQUOT))).toBe(
      nfsstat4.NFS4ERR_DQUOT,
    );
    expect(failureStatus(nfs_opnum4.OP_REMOVE, err(nfsstat4.NFS4ERR_DQUOT))).toBe(
      nfsstat4.NFS4ERR_IO,
    );
    expect(failureStatus(nfs_opnum4.OP_CREATE, err(nfsstat4.NFS4ERR_BADHANDLE))).toBe(
      nfsstat4.NFS4ERR_STALE,
    );
    expect(failureStatus(nfs_opnum4.OP_READLINK, err(nfsstat4.NFS4ERR_ISDIR))).toBe(
      nfsstat4.NFS4ERR_WRONG_TYPE,
    );
    expect(failureStatus(nfs_opnum4.OP_PUTPUBFH, err(nfsstat4.NFS4ERR_IO))).toBe(
      nfsstat4.NFS4ERR_SERVERFAULT,
    );
  });

  it("rethrows what is not an FsError", () => {
    expect(() => failureStatus(nfs_opnum4.OP_REMOVE, new TypeError("bug"))).toThrow(TypeError);
  });

  it("keeps a handler's answers valid whatever the backend says", async () => {
    const env = await makeEnv();
    await mkfile(env.fs, env.exp, "f");
    const fs = overrideFs<FileSystem>(env.fs, {
      remove: () => Promise.reject(new FsError(nfsstat4.NFS4ERR_PERM)),
    });
    const state = makeState({ ...env.server, fs });
    state.currentFh = env.exp;
    expectOp(
      nfs_opnum4.OP_REMOVE,
      (await call(REMOVE, { target: utf8("f") }, state)).status,
      nfsstat4.NFS4ERR_ACCESS,
    );
  });
});

describe("toSetAttributes", () => {
  it("maps numeric owners to ids and passes the rest", () => {
    expect(
      toSetAttributes({ mode: 0o600, owner: "7", ownerGroup: "0", size: 3n, atime: "now" }),
    ).toEqual({ ok: true, attrs: { mode: 0o600, uid: 7, gid: 0, size: 3n, atime: "now" } });
    expect(toSetAttributes({})).toEqual({ ok: true, attrs: {} });
  });

  it("BADOWNER for names it cannot map", () => {
    for (const owner of ["alice", "alice@example.com", "-1", "007", "4294967296", ""]) {
      expect(toSetAttributes({ owner })).toEqual({ ok: false, status: nfsstat4.NFS4ERR_BADOWNER });
      expect(toSetAttributes({ ownerGroup: owner })).toEqual({
        ok: false,
        status: nfsstat4.NFS4ERR_BADOWNER,
      });
    }
  });
});

describe("newObjectAttributes", () => {
  const dir = { mode: 0o755, gid: 0 };

  it("the caller owns the object, with the default mode of its type", () => {
    expect(newObjectAttributes(nfs_ftype4.NF4REG, dir, {}, USER)).toEqual({
      ok: true,
      attrs: { mode: 0o644, uid: USER.uid, gid: USER.gid },
    });
    expect(newObjectAttributes(nfs_ftype4.NF4DIR, dir, { mode: 0o700 }, USER)).toEqual({
      ok: true,
      attrs: { mode: 0o700, uid: USER.uid, gid: USER.gid },
    });
  });

  it("a set-gid directory gives its group, and its set-gid bit to subdirectories", () => {
    const sgid = { mode: 0o2775, gid: 42 };
    expect(newObjectAttributes(nfs_ftype4.NF4DIR, sgid, { mode: 0o750 }, USER)).toEqual({
      ok: true,
      attrs: { mode: 0o2750, uid: USER.uid, gid: 42 },
    });
    expect(newObjectAttributes(nfs_ftype4.NF4REG, sgid, {}, USER)).toEqual({
      ok: true,
      attrs: { mode: 0o644, uid: USER.uid, gid: 42 },
    });
  });

  it("PERM for another owner or a foreign group unless superuser", () => {
    expect(newObjectAttributes(nfs_ftype4.NF4DIR, dir, { uid: 0 }, USER)).toEqual({
      ok: false,
      status: nfsstat4.NFS4ERR_PERM,
    });
    expect(newObjectAttributes(nfs_ftype4.NF4DIR, dir, { gid: 9 }, USER)).toEqual({
      ok: false,
      status: nfsstat4.NFS4ERR_PERM,
    });
    expect(
      newObjectAttributes(nfs_ftype4.NF4DIR, dir, { uid: 5, gid: 9 }, credential(0, 0)),
    ).toEqual({
      ok: true,
      attrs: { mode: 0o755, uid: 5, gid: 9 },
    });
  });
});

// VERIFY and NVERIFY share their comparison (compareAttrs), so one file tests
// both, each case from both sides.

import { describe, expect, it } from "vitest";
import {
  FATTR4_ACL,
  FATTR4_CHANGE,
  FATTR4_FILEHANDLE,
  FATTR4_FILES_FREE,
  FATTR4_FSID,
  FATTR4_MODE,
  FATTR4_OPEN_ARGUMENTS,
  FATTR4_OWNER,
  FATTR4_RDATTR_ERROR,
  FATTR4_SIZE,
  FATTR4_SPACE_AVAIL,
  FATTR4_SUPPATTR_EXCLCREAT,
  FATTR4_SUPPORTED_ATTRS,
  FATTR4_TIME_ACCESS_SET,
  FATTR4_TIME_MODIFY,
  FATTR4_TIME_MODIFY_SET,
  FATTR4_TYPE,
  encodefattr4_open_arguments,
  nfs_opnum4,
  nfsstat4,
  type fattr4,
} from "../../../generated/nfs4/index.js";
import type { FileHandle } from "../../../src/fs/backend.js";
import { OPEN_ARGUMENTS, bitmapOf } from "../../../src/nfs/attrs/index.js";
import { GETATTR } from "../../../src/nfs/ops/getattr.js";
import { NVERIFY } from "../../../src/nfs/ops/nverify.js";
import { VERIFY } from "../../../src/nfs/ops/verify.js";
import { expectOp, rawFattr } from "./fileops-helpers.js";
import { USER, makeEnv, mkdir, mkfile, type TestEnv, call } from "./helpers.js";

/** What GETATTR answers for `bits` on `fh`. */
async function current(env: TestEnv, fh: FileHandle, bits: number[]): Promise<fattr4> {
  const state = env.state();
  state.currentFh = fh;
  const res = await call(GETATTR, { attr_request: bitmapOf(bits) }, state);
  if (res.status !== nfsstat4.NFS4_OK) throw new Error(`GETATTR failed: ${res.status}`);
  return res.resok4.obj_attributes;
}

/** Runs VERIFY and NVERIFY with `attrs` on `fh`, expecting `same` or an error. */
async function both(
  env: TestEnv,
  fh: FileHandle | null,
  attrs: fattr4,
  outcome: "same" | "different" | nfsstat4,
): Promise<void> {
  const state = env.state(USER);
  state.currentFh = fh;
  const v = await call(VERIFY, { obj_attributes: attrs }, state);
  const n = await call(NVERIFY, { obj_attributes: attrs }, state);
  const [vs, ns] =
    outcome === "same"
      ? [nfsstat4.NFS4_OK, nfsstat4.NFS4ERR_SAME]
      : outcome === "different"
        ? [nfsstat4.NFS4ERR_NOT_SAME, nfsstat4.NFS4_OK]
        : [outcome, outcome];
  expectOp(nfs_opnum4.OP_VERIFY, v.status, vs);
  expectOp(nfs_opnum4.OP_NVERIFY, n.status, ns);
  // Neither touches the current filehandle.
  expect(state.currentFh).toEqual(fh);
}

describe("VERIFY / NVERIFY", () => {
  it("the REQUIRED attributes as GETATTR reports them are the same", async () => {
    const env = await makeEnv();
    const f = await mkfile(env.fs, env.exp, "f", { data: "abc" });
    const required = [
      FATTR4_SUPPORTED_ATTRS,
      FATTR4_TYPE,
      FATTR4_CHANGE,
      FATTR4_SIZE,
      FATTR4_FSID,
      FATTR4_FILEHANDLE,
      FATTR4_SUPPATTR_EXCLCREAT,
    ];
    await both(env, f, await current(env, f, required), "same");
    // Also with statfs-derived and time attributes, and on a directory.
    const more = [
      FATTR4_MODE,
      FATTR4_OWNER,
      FATTR4_SPACE_AVAIL,
      FATTR4_FILES_FREE,
      FATTR4_TIME_MODIFY,
    ];
    await both(env, f, await current(env, f, more), "same");
    const d = await mkdir(env.fs, env.exp, "d");
    await both(env, d, await current(env, d, [...required, ...more]), "same");
  });

  it("open_arguments (RFC 9754 §3) compares like any attribute", async () => {
    const env = await makeEnv();
    const f = await mkfile(env.fs, env.exp, "f");
    await both(env, f, await current(env, f, [FATTR4_MODE, FATTR4_OPEN_ARGUMENTS]), "same");
    // A server that also took CLAIM_DELEGATE_PREV (bit 3) would not be this one.
    const other = rawFattr([FATTR4_OPEN_ARGUMENTS], (w) =>
      encodefattr4_open_arguments(w, {
        ...OPEN_ARGUMENTS,
        oa_open_claim: bitmapOf([0, 1, 2, 3, 4, 5]),
      }),
    );
    await both(env, f, other, "different");
  });

  it("an empty attribute list is trivially the same", async () => {
    const env = await makeEnv();
    await both(env, env.exp, { attrmask: [], attr_vals: new Uint8Array(0) }, "same");
  });

  it("trailing zero words in the client's bitmap do not matter", async () => {
    const env = await makeEnv();
    const f = await mkfile(env.fs, env.exp, "f");
    const a = await current(env, f, [FATTR4_SIZE]);
    await both(env, f, { attrmask: [...a.attrmask, 0, 0], attr_vals: a.attr_vals }, "same");
  });

  it("a changed value, a stale snapshot or extra bytes are different", async () => {
    const env = await makeEnv();
    const f = await mkfile(env.fs, env.exp, "f", { data: "abc" });
    await both(
      env,
      f,
      rawFattr([FATTR4_SIZE], (w) => w.writeUhyper(4n)),
      "different",
    );
    const snapshot = await current(env, f, [FATTR4_CHANGE, FATTR4_SIZE]);
    await env.fs.write(f, 3n, new Uint8Array([1]), 2);
    await both(env, f, snapshot, "different");
    const now = await current(env, f, [FATTR4_SIZE]);
    const padded = new Uint8Array(now.attr_vals.length + 4);
    padded.set(now.attr_vals);
    await both(env, f, { attrmask: now.attrmask, attr_vals: padded }, "different");
  });

  it("NOFILEHANDLE, STALE", async () => {
    const env = await makeEnv();
    const size = rawFattr([FATTR4_SIZE], (w) => w.writeUhyper(0n));
    await both(env, null, size, nfsstat4.NFS4ERR_NOFILEHANDLE);
    const f = await mkfile(env.fs, env.exp, "f");
    await env.fs.remove(env.exp, "f");
    await both(env, f, size, nfsstat4.NFS4ERR_STALE);
  });

  it("ATTRNOTSUPP for unsupported attributes, INVAL for write-only ones and rdattr_error", async () => {
    const env = await makeEnv();
    const f = await mkfile(env.fs, env.exp, "f");
    await both(
      env,
      f,
      rawFattr([FATTR4_ACL], (w) => w.writeUint(0)),
      nfsstat4.NFS4ERR_ATTRNOTSUPP,
    );
    await both(
      env,
      f,
      rawFattr([200], (w) => w.writeUint(0)),
      nfsstat4.NFS4ERR_ATTRNOTSUPP,
    );
    await both(
      env,
      f,
      rawFattr([FATTR4_TIME_ACCESS_SET], (w) => w.writeUint(0)),
      nfsstat4.NFS4ERR_INVAL,
    );
    await both(
      env,
      f,
      rawFattr([FATTR4_TIME_MODIFY_SET], (w) => w.writeUint(0)),
      nfsstat4.NFS4ERR_INVAL,
    );
    await both(
      env,
      f,
      rawFattr([FATTR4_RDATTR_ERROR], (w) => w.writeUint(0)),
      nfsstat4.NFS4ERR_INVAL,
    );
    // An unsupported attribute wins over a write-only one, as in Linux nfsd.
    await both(
      env,
      f,
      rawFattr([FATTR4_ACL, FATTR4_TIME_MODIFY_SET], (w) => w.writeUint(0)),
      nfsstat4.NFS4ERR_ATTRNOTSUPP,
    );
  });
});

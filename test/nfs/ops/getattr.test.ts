import { describe, expect, it } from "vitest";
import {
  FATTR4_ACL,
  FATTR4_FILEID,
  FATTR4_MODE,
  FATTR4_NUMLINKS,
  FATTR4_OWNER,
  FATTR4_SIZE,
  FATTR4_SPACE_TOTAL,
  FATTR4_TIME_ACCESS_SET,
  FATTR4_TYPE,
  decodefattr4_fileid,
  decodefattr4_mode,
  decodefattr4_numlinks,
  decodefattr4_owner,
  decodefattr4_size,
  decodefattr4_space_total,
  decodefattr4_type,
  nfs_ftype4,
  nfsstat4,
} from "../../../generated/nfs4/index.js";
import { bitmapOf, bitsOf } from "../../../src/nfs/attrs/index.js";
import { GETATTR } from "../../../src/nfs/ops/getattr.js";
import { XdrReader } from "../../../src/xdr/index.js";
import { expectStatus, makeEnv, mkfile, call } from "./helpers.js";

describe("GETATTR", () => {
  it("returns exactly the requested supported attributes with their values", async () => {
    const env = await makeEnv({ fs: { capacityBytes: 1 << 20 } });
    const f = await mkfile(env.fs, env.exp, "f", { mode: 0o640, uid: 1000, data: "hello" });
    const state = env.state();
    state.currentFh = f;
    const requested = bitmapOf([
      FATTR4_TYPE,
      FATTR4_SIZE,
      FATTR4_ACL,
      FATTR4_FILEID,
      FATTR4_MODE,
      FATTR4_NUMLINKS,
      FATTR4_OWNER,
      FATTR4_SPACE_TOTAL,
    ]);
    const res = await call(GETATTR, { attr_request: requested }, state);
    expectStatus(res, nfsstat4.NFS4_OK);
    if (res.status !== nfsstat4.NFS4_OK) return;
    const { attrmask, attr_vals } = res.resok4.obj_attributes;
    expect(bitsOf(attrmask)).toEqual([
      FATTR4_TYPE,
      FATTR4_SIZE,
      FATTR4_FILEID,
      FATTR4_MODE,
      FATTR4_NUMLINKS,
      FATTR4_OWNER,
      FATTR4_SPACE_TOTAL,
    ]);
    const r = new XdrReader(attr_vals);
    expect(decodefattr4_type(r)).toBe(nfs_ftype4.NF4REG);
    expect(decodefattr4_size(r)).toBe(5n);
    expect(decodefattr4_fileid(r)).toBe((await env.fs.getattr(f)).fileid);
    expect(decodefattr4_mode(r)).toBe(0o640);
    expect(decodefattr4_numlinks(r)).toBe(1);
    expect(new TextDecoder().decode(decodefattr4_owner(r))).toBe("1000");
    expect(decodefattr4_space_total(r)).toBe(1n << 20n);
    r.assertDone();
  });

  it("an empty request is an empty answer", async () => {
    const env = await makeEnv();
    const state = env.state();
    state.currentFh = env.exp;
    const res = await call(GETATTR, { attr_request: [] }, state);
    expect(res).toMatchObject({
      status: nfsstat4.NFS4_OK,
      resok4: { obj_attributes: { attrmask: [] } },
    });
  });

  it("INVAL for a write-only attribute", async () => {
    const env = await makeEnv();
    const state = env.state();
    state.currentFh = env.exp;
    const res = await call(
      GETATTR,
      { attr_request: bitmapOf([FATTR4_MODE, FATTR4_TIME_ACCESS_SET]) },
      state,
    );
    expectStatus(res, nfsstat4.NFS4ERR_INVAL);
  });

  it("NOFILEHANDLE and STALE", async () => {
    const env = await makeEnv();
    expectStatus(
      await call(GETATTR, { attr_request: [1] }, env.state()),
      nfsstat4.NFS4ERR_NOFILEHANDLE,
    );
    const f = await mkfile(env.fs, env.exp, "f");
    await env.fs.remove(env.exp, "f");
    const state = env.state();
    state.currentFh = f;
    expectStatus(await call(GETATTR, { attr_request: [1] }, state), nfsstat4.NFS4ERR_STALE);
  });
});

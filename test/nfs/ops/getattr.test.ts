import { describe, expect, it } from "vitest";
import {
  FATTR4_ACL,
  FATTR4_FILEID,
  FATTR4_MODE,
  FATTR4_NUMLINKS,
  FATTR4_OPEN_ARGUMENTS,
  FATTR4_OWNER,
  FATTR4_SIZE,
  FATTR4_SPACE_TOTAL,
  FATTR4_SUPPORTED_ATTRS,
  FATTR4_TIME_ACCESS_SET,
  FATTR4_TIME_DELEG_ACCESS,
  FATTR4_TIME_DELEG_MODIFY,
  FATTR4_TYPE,
  decodefattr4_fileid,
  decodefattr4_mode,
  decodefattr4_numlinks,
  decodefattr4_open_arguments,
  decodefattr4_owner,
  decodefattr4_size,
  decodefattr4_space_total,
  decodefattr4_supported_attrs,
  decodefattr4_type,
  nfs_ftype4,
  nfsstat4,
} from "../../../generated/nfs4/index.js";
import { bitmapOf, bitsOf, hasBit } from "../../../src/nfs/attrs/index.js";
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

  // What pynfs's DELEG24/DELEG25 ask of the root before they open anything.
  it("answers supported_attrs and open_arguments (RFC 9754 §3) together", async () => {
    const env = await makeEnv();
    const state = env.state();
    state.currentFh = env.root;
    const requested = bitmapOf([
      FATTR4_SUPPORTED_ATTRS,
      FATTR4_TIME_DELEG_ACCESS,
      FATTR4_TIME_DELEG_MODIFY,
      FATTR4_OPEN_ARGUMENTS,
    ]);
    const res = await call(GETATTR, { attr_request: requested }, state);
    expectStatus(res, nfsstat4.NFS4_OK);
    if (res.status !== nfsstat4.NFS4_OK) return;
    const { attrmask, attr_vals } = res.resok4.obj_attributes;
    // The delegated times are not supported: left out.
    expect(bitsOf(attrmask)).toEqual([FATTR4_SUPPORTED_ATTRS, FATTR4_OPEN_ARGUMENTS]);
    const r = new XdrReader(attr_vals);
    const supported = decodefattr4_supported_attrs(r);
    expect(hasBit(supported, FATTR4_OPEN_ARGUMENTS)).toBe(true);
    expect(hasBit(supported, FATTR4_TIME_DELEG_ACCESS)).toBe(false);
    expect(hasBit(supported, FATTR4_TIME_DELEG_MODIFY)).toBe(false);
    const oa = decodefattr4_open_arguments(r);
    r.assertDone();
    expect(bitsOf(oa.oa_share_access)).toEqual([1, 2, 3]);
    expect(bitsOf(oa.oa_share_deny)).toEqual([0, 1, 2, 3]);
    expect(bitsOf(oa.oa_share_access_want)).toEqual([3, 4, 5]);
    expect(bitsOf(oa.oa_open_claim)).toEqual([0, 1, 2, 4, 5]);
    expect(bitsOf(oa.oa_create_mode)).toEqual([0, 1, 2, 3]);
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

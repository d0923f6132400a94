import { describe, expect, it } from "vitest";
import { nfs_opnum4, nfsstat4, type LISTXATTRS4resok } from "../../../generated/nfs4/index.js";
import type { CompoundState } from "../../../src/nfs/context.js";
import { LISTXATTRS } from "../../../src/nfs/ops/listxattrs.js";
import { expectOp } from "./fileops-helpers.js";
import { USER, call, makeEnv, mkfile, utf8 } from "./helpers.js";

const OP = nfs_opnum4.OP_LISTXATTRS;
const dec = new TextDecoder();

/** The encoded size of a LISTXATTRS4resok with `names`. */
function resokSize(names: readonly Uint8Array[]): number {
  return 8 + 4 + names.reduce((n, k) => n + 4 + ((k.length + 3) & ~3), 0) + 4;
}

async function list(
  state: CompoundState,
  cookie: bigint,
  maxcount: number,
  status: nfsstat4 = nfsstat4.NFS4_OK,
): Promise<LISTXATTRS4resok | null> {
  const res = await call(LISTXATTRS, { lxa_cookie: cookie, lxa_maxcount: maxcount }, state);
  expectOp(OP, res.lxr_status, status);
  if (res.lxr_status !== nfsstat4.NFS4_OK) return null;
  expect(resokSize(res.lxr_value.lxr_names)).toBeLessThanOrEqual(maxcount);
  return res.lxr_value;
}

describe("LISTXATTRS", () => {
  it("an object without xattrs: an empty list at eof (pynfs XATT10)", async () => {
    const env = await makeEnv();
    const state = env.state();
    state.currentFh = await mkfile(env.fs, env.exp, "f");
    const page = await list(state, 0n, 8192);
    expect(page).toEqual({ lxr_cookie: 0n, lxr_names: [], lxr_eof: true });
  });

  it("lists every key (pynfs XATT11)", async () => {
    const env = await makeEnv();
    const f = await mkfile(env.fs, env.exp, "f");
    const keys = ["user.attr1", "user.attr2", "user.attr3", "user.attr4", "user.attr5"];
    for (const k of keys) await env.fs.setxattr(f, k, utf8("value"), "create");
    const state = env.state();
    state.currentFh = f;
    const page = await list(state, 0n, 8192);
    expect(page!.lxr_names.map((n) => dec.decode(n))).toEqual(keys);
    expect(page!.lxr_eof).toBe(true);
  });

  it("pages by lxa_maxcount, resuming at lxr_cookie", async () => {
    const env = await makeEnv();
    const f = await mkfile(env.fs, env.exp, "f");
    const keys = Array.from({ length: 10 }, (_, i) => `user.key${i}`);
    for (const k of keys) await env.fs.setxattr(f, k, utf8("v"), "create");
    const state = env.state();
    state.currentFh = f;
    // Room for two 10-byte keys (16 bytes each) besides the fixed 16.
    const maxcount = 16 + 2 * 16;
    const seen: string[] = [];
    let cookie = 0n;
    for (let pages = 0; pages < 20; pages++) {
      const page = (await list(state, cookie, maxcount))!;
      expect(page.lxr_names.length).toBeLessThanOrEqual(2);
      seen.push(...page.lxr_names.map((n) => dec.decode(n)));
      cookie = page.lxr_cookie;
      if (page.lxr_eof) break;
    }
    expect(seen).toEqual(keys);
  });

  it("TOOSMALL when not even one key fits, BAD_COOKIE for a cookie never handed out", async () => {
    const env = await makeEnv();
    const f = await mkfile(env.fs, env.exp, "f");
    await env.fs.setxattr(f, "user.long-key-name", utf8("v"), "create");
    const state = env.state();
    state.currentFh = f;
    await list(state, 0n, 20, nfsstat4.NFS4ERR_TOOSMALL);
    await list(state, 0n, 8, nfsstat4.NFS4ERR_TOOSMALL);
    await list(state, 99n, 8192, nfsstat4.NFS4ERR_BAD_COOKIE);
  });

  it("holds the page to the session's room even when lxa_maxcount is larger", async () => {
    const env = await makeEnv();
    const f = await mkfile(env.fs, env.exp, "f");
    for (let i = 0; i < 100; i++) await env.fs.setxattr(f, `user.k${i}`, utf8("v"), "create");
    const state = env.state();
    state.currentFh = f;
    state.replyRoom = 200;
    const args = { lxa_cookie: 0n, lxa_maxcount: 1 << 20 };
    expect(LISTXATTRS.replyBound(args, state)).toBeLessThanOrEqual(200);
    const page = (await list(state, 0n, 1 << 20))!;
    expect(page.lxr_eof).toBe(false);
    expect(4 + 4 + resokSize(page.lxr_names)).toBeLessThanOrEqual(200);
  });

  it("ACCESS without read permission", async () => {
    const env = await makeEnv();
    const state = env.state(USER);
    state.currentFh = await mkfile(env.fs, env.exp, "f", { mode: 0o600 });
    await list(state, 0n, 8192, nfsstat4.NFS4ERR_ACCESS);
  });

  it("is an NFSv4.2 operation", () => {
    expect(LISTXATTRS.minMinorVersion).toBe(2);
    expect(LISTXATTRS.nonIdempotent).toBe(false);
  });
});

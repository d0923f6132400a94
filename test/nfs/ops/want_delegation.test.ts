import { describe, expect, it } from "vitest";
import {
  OPEN4_SHARE_ACCESS_BOTH,
  OPEN4_SHARE_ACCESS_WANT_ANY_DELEG,
  OPEN4_SHARE_ACCESS_WANT_CANCEL,
  OPEN4_SHARE_ACCESS_WANT_NO_DELEG,
  OPEN4_SHARE_ACCESS_WANT_NO_PREFERENCE,
  OPEN4_SHARE_ACCESS_WANT_PUSH_DELEG_WHEN_UNCONTENDED,
  OPEN4_SHARE_ACCESS_WANT_READ_DELEG,
  OPEN4_SHARE_ACCESS_WANT_SIGNAL_DELEG_WHEN_RESRC_AVAIL,
  OPEN4_SHARE_ACCESS_WANT_WRITE_DELEG,
  nfs_ftype4,
  nfs_opnum4,
  nfsstat4,
  open_claim_type4,
  open_delegation_type4,
  why_no_delegation4,
  type WANT_DELEGATION4args,
  type deleg_claim4,
  type open_none_delegation4,
} from "../../../generated/nfs4/index.js";
import type { FileHandle } from "../../../src/fs/backend.js";
import { WANT_DELEGATION } from "../../../src/nfs/ops/want_delegation.js";
import { expectOp } from "./fileops-helpers.js";
import { makeEnv, mkdir, mkfile, utf8, type TestEnv, call } from "./helpers.js";

const OP = nfs_opnum4.OP_WANT_DELEGATION;
const FH: deleg_claim4 = { dc_claim: open_claim_type4.CLAIM_FH };

async function run(
  env: TestEnv,
  fh: FileHandle | null,
  args: WANT_DELEGATION4args,
  status: nfsstat4,
): Promise<open_none_delegation4 | null> {
  const state = env.state();
  state.currentFh = fh;
  const res = await call(WANT_DELEGATION, args, state);
  expectOp(OP, res.wdr_status, status);
  if (res.wdr_status !== nfsstat4.NFS4_OK) return null;
  // Never a delegation: always NONE_EXT, with a reason.
  expect(res.wdr_resok4.delegation_type).toBe(open_delegation_type4.OPEN_DELEGATE_NONE_EXT);
  return res.wdr_resok4.delegation_type === open_delegation_type4.OPEN_DELEGATE_NONE_EXT
    ? res.wdr_resok4.od_whynone
    : null;
}

describe("WANT_DELEGATION", () => {
  it("declines every wanted delegation on a regular file: RESOURCE, no signal promised", async () => {
    const env = await makeEnv();
    const f = await mkfile(env.fs, env.exp, "f");
    for (const want of [
      OPEN4_SHARE_ACCESS_WANT_READ_DELEG,
      OPEN4_SHARE_ACCESS_WANT_WRITE_DELEG,
      OPEN4_SHARE_ACCESS_WANT_ANY_DELEG,
      // Share-access bits are ignored; the hint flags are accepted.
      OPEN4_SHARE_ACCESS_WANT_ANY_DELEG | OPEN4_SHARE_ACCESS_BOTH,
      OPEN4_SHARE_ACCESS_WANT_READ_DELEG | OPEN4_SHARE_ACCESS_WANT_SIGNAL_DELEG_WHEN_RESRC_AVAIL,
      OPEN4_SHARE_ACCESS_WANT_WRITE_DELEG | OPEN4_SHARE_ACCESS_WANT_PUSH_DELEG_WHEN_UNCONTENDED,
    ]) {
      expect(await run(env, f, { wda_want: want, wda_claim: FH }, nfsstat4.NFS4_OK)).toEqual({
        ond_why: why_no_delegation4.WND4_RESOURCE,
        ond_server_will_signal_avail: false,
      });
    }
  });

  it("the reason follows the want and the object", async () => {
    const env = await makeEnv();
    const f = await mkfile(env.fs, env.exp, "f");
    const d = await mkdir(env.fs, env.exp, "d");
    const l = (await env.fs.symlink(env.exp, "l", utf8("f"), { mode: 0o777, uid: 0, gid: 0 }))
      .handle;
    const p = (
      await env.fs.mknod(
        env.exp,
        "p",
        nfs_ftype4.NF4FIFO,
        { major: 0, minor: 0 },
        {
          mode: 0o644,
          uid: 0,
          gid: 0,
        },
      )
    ).handle;
    const any = OPEN4_SHARE_ACCESS_WANT_ANY_DELEG;
    const cases: [FileHandle, number, number][] = [
      [f, OPEN4_SHARE_ACCESS_WANT_CANCEL, why_no_delegation4.WND4_CANCELLED],
      [d, OPEN4_SHARE_ACCESS_WANT_CANCEL, why_no_delegation4.WND4_CANCELLED],
      [f, OPEN4_SHARE_ACCESS_WANT_NO_PREFERENCE, why_no_delegation4.WND4_NOT_WANTED],
      [f, OPEN4_SHARE_ACCESS_WANT_NO_DELEG, why_no_delegation4.WND4_NOT_WANTED],
      [d, any, why_no_delegation4.WND4_IS_DIR],
      [l, any, why_no_delegation4.WND4_NOT_SUPP_FTYPE],
      [p, any, why_no_delegation4.WND4_NOT_SUPP_FTYPE],
    ];
    for (const [fh, want, why] of cases) {
      const r = await run(env, fh, { wda_want: want, wda_claim: FH }, nfsstat4.NFS4_OK);
      expect(r?.ond_why).toBe(why);
    }
  });

  it("INVAL for undefined want values and bits", async () => {
    const env = await makeEnv();
    const f = await mkfile(env.fs, env.exp, "f");
    for (const want of [0x600, 0xff00, 0x4, 0x40000 | OPEN4_SHARE_ACCESS_WANT_READ_DELEG]) {
      await run(env, f, { wda_want: want, wda_claim: FH }, nfsstat4.NFS4ERR_INVAL);
    }
  });

  it("reclaims: NO_GRACE for CLAIM_PREVIOUS, RECLAIM_BAD for CLAIM_DELEG_PREV_FH", async () => {
    const env = await makeEnv();
    const f = await mkfile(env.fs, env.exp, "f");
    const want = OPEN4_SHARE_ACCESS_WANT_READ_DELEG;
    await run(
      env,
      f,
      {
        wda_want: want,
        wda_claim: {
          dc_claim: open_claim_type4.CLAIM_PREVIOUS,
          dc_delegate_type: open_delegation_type4.OPEN_DELEGATE_READ,
        },
      },
      nfsstat4.NFS4ERR_NO_GRACE,
    );
    await run(
      env,
      f,
      { wda_want: want, wda_claim: { dc_claim: open_claim_type4.CLAIM_DELEG_PREV_FH } },
      nfsstat4.NFS4ERR_RECLAIM_BAD,
    );
  });

  it("NOFILEHANDLE, STALE", async () => {
    const env = await makeEnv();
    const args = { wda_want: OPEN4_SHARE_ACCESS_WANT_READ_DELEG, wda_claim: FH };
    await run(env, null, args, nfsstat4.NFS4ERR_NOFILEHANDLE);
    const f = await mkfile(env.fs, env.exp, "f");
    await env.fs.remove(env.exp, "f");
    await run(env, f, args, nfsstat4.NFS4ERR_STALE);
  });
});

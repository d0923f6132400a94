// BACKCHANNEL_CTL (RFC 8881 §18.33) through the COMPOUND path: it replaces the
// session's callback program and security parameters (copies), re-probes the
// back channel with them, and refuses a list with no usable flavor.

import { describe, expect, it } from "vitest";
import type { callback_sec_parms4, nfs_argop4 } from "../../../generated/nfs4/index.js";
import { nfs_opnum4, nfsstat4 } from "../../../generated/nfs4/index.js";
import { parseAuthSys } from "../../../src/rpc/auth.js";
import { Harness } from "../harness.js";
import { newSession, sequenceOp } from "../session-helpers.js";

function ctl(program: number, parms: callback_sec_parms4[]): nfs_argop4 {
  return {
    argop: nfs_opnum4.OP_BACKCHANNEL_CTL,
    opbackchannel_ctl: { bca_cb_program: program, bca_sec_parms: parms },
  };
}

const sys: callback_sec_parms4 = {
  cb_secflavor: 1,
  cbsp_sys_cred: { stamp: 5, machinename: "bc", uid: 11, gid: 12, gids: [13] },
};
const gss: callback_sec_parms4 = {
  cb_secflavor: 6,
  cbsp_gss_handles: {
    gcbp_service: 1,
    gcbp_handle_from_server: new Uint8Array(1),
    gcbp_handle_from_client: new Uint8Array(1),
  },
};

async function until(p: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !p(); i++) await new Promise((r) => setTimeout(r, 2));
  expect(p()).toBe(true);
}

describe("BACKCHANNEL_CTL", () => {
  it("sets the program and security parameters, then probes with them", async () => {
    const h = new Harness();
    const conn = h.conn();
    const { sessionid } = await newSession(h, conn);
    await until(() => conn.calls.length === 1);
    const res = await h.run([sequenceOp(sessionid, 1), ctl(0x40000042, [gss, sys])], conn);
    expect(res.status).toBe(nfsstat4.NFS4_OK);
    const session = h.state.session(sessionid)!;
    expect(session.cbProgram).toBe(0x40000042);
    expect(session.cbSecParms).toEqual([gss, sys]);
    await until(() => conn.calls.length === 2);
    const probe = conn.calls[1]!;
    expect(probe).toMatchObject({ prog: 0x40000042, vers: 1, proc: 0 });
    expect(parseAuthSys(probe.cred.body)).toMatchObject({ uid: 11, gid: 12, gids: [13] });
  });

  it("NFS4ERR_INVAL when no flavor is usable; the session keeps what it had", async () => {
    const h = new Harness();
    const conn = h.conn();
    const { sessionid } = await newSession(h, conn);
    const lists: callback_sec_parms4[][] = [[gss], []];
    for (const [i, parms] of lists.entries()) {
      const res = await h.run([sequenceOp(sessionid, i + 1), ctl(7, parms)], conn);
      expect(res.status).toBe(nfsstat4.NFS4ERR_INVAL);
    }
    const session = h.state.session(sessionid)!;
    expect(session.cbProgram).toBe(0x40000000);
    expect(session.cbSecParms).toEqual([{ cb_secflavor: 0 }]);
  });

  it("needs a session: alone in a COMPOUND it is NFS4ERR_OP_NOT_IN_SESSION", async () => {
    const h = new Harness();
    const conn = h.conn();
    const res = await h.run([ctl(7, [sys])], conn);
    expect(res.status).toBe(nfsstat4.NFS4ERR_OP_NOT_IN_SESSION);
  });
});

// The callback credential from csa_sec_parms / bca_sec_parms (RFC 8881 §18.36.3).

import { describe, expect, it } from "vitest";
import type { callback_sec_parms4 } from "../../generated/nfs4/index.js";
import { callbackCredential, hasUsableFlavor } from "../../src/callback/security.js";
import { parseAuthSys } from "../../src/rpc/auth.js";

const gss: callback_sec_parms4 = {
  cb_secflavor: 6,
  cbsp_gss_handles: {
    gcbp_service: 1,
    gcbp_handle_from_server: new Uint8Array(2),
    gcbp_handle_from_client: new Uint8Array(2),
  },
};

describe("callbackCredential", () => {
  it("AUTH_SYS: exactly the fields given, stamp included", () => {
    const cred = callbackCredential([
      {
        cb_secflavor: 1,
        cbsp_sys_cred: { stamp: 77, machinename: "m", uid: 10, gid: 20, gids: [30, 40] },
      },
    ]);
    expect(cred?.flavor).toBe(1);
    expect(parseAuthSys(cred!.body)).toMatchObject({
      uid: 10,
      gid: 20,
      gids: [30, 40],
      machinename: "m",
    });
    // The stamp is the first word of the body.
    expect(new DataView(cred!.body.buffer, cred!.body.byteOffset).getUint32(0)).toBe(77);
  });

  it("the first usable entry wins; RPCSEC_GSS is skipped", () => {
    expect(callbackCredential([gss, { cb_secflavor: 0 }])?.flavor).toBe(0);
    expect(callbackCredential([{ cb_secflavor: 0 }, gss])?.flavor).toBe(0);
  });

  it("none usable: null", () => {
    expect(callbackCredential([gss])).toBeNull();
    expect(callbackCredential([])).toBeNull();
    expect(hasUsableFlavor([gss])).toBe(false);
  });

  it("an AUTH_SYS entry that cannot be encoded is skipped", () => {
    const tooMany: callback_sec_parms4 = {
      cb_secflavor: 1,
      cbsp_sys_cred: {
        stamp: 0,
        machinename: "m",
        uid: 0,
        gid: 0,
        gids: new Array<number>(17).fill(1),
      },
    };
    expect(callbackCredential([tooMany])).toBeNull();
    expect(callbackCredential([tooMany, { cb_secflavor: 0 }])?.flavor).toBe(0);
  });
});

import { describe, expect, it } from "vitest";
import { auth_flavor, auth_stat } from "../../generated/rpc/index.js";
import {
  AUTH_NONE_CREDENTIAL,
  authSysCredential,
  authenticate,
  parseAuthSys,
} from "../../src/rpc/index.js";

const none = { flavor: auth_flavor.AUTH_NONE, body: new Uint8Array(0) };

describe("authenticate", () => {
  it("accepts AUTH_NONE, ignoring a non-empty body (RFC 5531 only recommends empty)", () => {
    expect(authenticate(none, none)).toEqual({ ok: true, cred: AUTH_NONE_CREDENTIAL });
    expect(authenticate({ flavor: auth_flavor.AUTH_NONE, body: new Uint8Array(4) }, none).ok).toBe(
      true,
    );
  });

  it("accepts a full AUTH_SYS credential at its limits", () => {
    const machinename = "m".repeat(255);
    const gids = Array.from({ length: 16 }, (_, i) => 0xffffffff - i);
    const body = authSysCredential({ machinename, uid: 0xffffffff, gid: 0, gids }).body;
    expect(authenticate({ flavor: auth_flavor.AUTH_SYS, body }, none)).toEqual({
      ok: true,
      cred: { flavor: 1, uid: 0xffffffff, gid: 0, gids, machinename, principal: "sys:4294967295" },
    });
  });

  it("refuses by flavor as documented in auth.ts", () => {
    const body = new Uint8Array(0);
    const stat = (flavor: number) => {
      const r = authenticate({ flavor: flavor as 0, body }, none);
      return r.ok ? "ok" : r.stat;
    };
    expect(stat(auth_flavor.RPCSEC_GSS)).toBe(auth_stat.AUTH_TOOWEAK);
    expect(stat(auth_flavor.AUTH_DH)).toBe(auth_stat.AUTH_TOOWEAK);
    expect(stat(auth_flavor.AUTH_SHORT)).toBe(auth_stat.AUTH_REJECTEDCRED);
    expect(stat(auth_flavor.AUTH_SYS)).toBe(auth_stat.AUTH_BADCRED);
    expect(stat(4)).toBe(auth_stat.AUTH_BADCRED);
  });

  it("refuses a verifier other than AUTH_NONE", () => {
    const sys = authSysCredential({ machinename: "m", uid: 1, gid: 1 });
    const r = authenticate(
      { flavor: auth_flavor.AUTH_SYS, body: sys.body },
      { flavor: auth_flavor.AUTH_SYS, body: sys.body },
    );
    expect(r).toEqual({ ok: false, stat: auth_stat.AUTH_BADVERF });
  });

  it("parses AUTH_SYS bodies strictly", () => {
    const good = authSysCredential({ machinename: "host", uid: 5, gid: 6, gids: [7] }).body;
    expect(parseAuthSys(good)?.principal).toBe("sys:5");
    for (let n = 0; n < good.length; n += 4) expect(parseAuthSys(good.subarray(0, n))).toBeNull();
    expect(parseAuthSys(Buffer.concat([good, new Uint8Array(4)]))).toBeNull();
  });

  it("reuses the credential of a body seen just before, and only of an identical one", () => {
    const a = authSysCredential({ machinename: "host", uid: 5, gid: 6, gids: [7] }).body;
    const b = authSysCredential({ machinename: "host", uid: 8, gid: 6, gids: [7] }).body;
    const first = parseAuthSys(a);
    // A copy of the bytes (the receive buffer is reused) gives the same frozen credential.
    expect(parseAuthSys(new Uint8Array(a))).toBe(first);
    expect(Object.isFrozen(first)).toBe(true);
    expect(parseAuthSys(b)?.uid).toBe(8);
    expect(parseAuthSys(a.subarray(0, a.length - 4))).toBeNull();
    // The buffer it was parsed from changing afterwards changes nothing.
    const buf = new Uint8Array(a);
    expect(parseAuthSys(buf)?.uid).toBe(5);
    buf.set(b);
    expect(parseAuthSys(buf)?.uid).toBe(8);
  });

  it("refuses to encode an AUTH_SYS credential over its limits", () => {
    expect(() => authSysCredential({ machinename: "m".repeat(256), uid: 0, gid: 0 })).toThrow();
    expect(() =>
      authSysCredential({ machinename: "m", uid: 0, gid: 0, gids: new Array<number>(17).fill(0) }),
    ).toThrow();
  });
});

import { describe, expect, it } from "vitest";
import {
  AddressError,
  parseAddress,
  parsePrefix,
  peerAddress,
  prefixContains,
} from "../../src/exports/address.js";
import { allowsClient, DEFAULT_EXPORT_RULES, squashCredential } from "../../src/exports/rules.js";
import type { Credential } from "../../src/rpc/types.js";

const addr = (text: string): Uint8Array => {
  const a = parseAddress(text);
  if (a === null) throw new Error(text);
  return a;
};
const inside = (prefix: string, address: string): boolean =>
  prefixContains(parsePrefix(prefix), addr(address));

describe("addresses and prefixes", () => {
  it("parses IPv4 and IPv6 forms, and nothing else", () => {
    expect([...addr("10.1.2.3")]).toEqual([10, 1, 2, 3]);
    expect([...addr("::1")]).toEqual([...new Array<number>(15).fill(0), 1]);
    expect([...addr("2001:db8::ff00:42:8329")]).toEqual([
      0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0xff, 0x00, 0x00, 0x42, 0x83, 0x29,
    ]);
    expect([...addr("::ffff:192.0.2.1")].slice(10)).toEqual([0xff, 0xff, 192, 0, 2, 1]);
    for (const bad of ["", "host.example", "1.2.3", "256.1.1.1", "fe80::1%eth0", "1::2::3"])
      expect(parseAddress(bad)).toBeNull();
  });

  it("matches CIDR prefixes of both families", () => {
    expect(inside("10.0.0.0/8", "10.200.3.4")).toBe(true);
    expect(inside("10.0.0.0/8", "11.0.0.1")).toBe(false);
    expect(inside("192.168.1.0/25", "192.168.1.127")).toBe(true);
    expect(inside("192.168.1.0/25", "192.168.1.128")).toBe(false);
    expect(inside("127.0.0.1", "127.0.0.1")).toBe(true);
    expect(inside("127.0.0.1", "127.0.0.2")).toBe(false);
    expect(inside("0.0.0.0/0", "203.0.113.9")).toBe(true);
    expect(inside("2001:db8::/32", "2001:db8:1::5")).toBe(true);
    expect(inside("2001:db8::/32", "2001:db9::5")).toBe(false);
    expect(inside("::/0", "::1")).toBe(true);
    // One family never matches the other...
    expect(inside("::/0", "10.0.0.1")).toBe(false);
    expect(inside("0.0.0.0/0", "::1")).toBe(false);
    // ...except an IPv4-mapped address, which is the IPv4 address it carries.
    expect(inside("10.0.0.0/8", "::ffff:10.9.9.9")).toBe(true);
    expect(inside("::ffff:10.0.0.0/104", "10.9.9.9")).toBe(true);
    expect(inside("::ffff:10.0.0.0/104", "11.9.9.9")).toBe(false);
  });

  it("refuses malformed prefixes and host bits beyond the prefix", () => {
    for (const bad of [
      "10.0.0.0/33",
      "::/129",
      "10.0.0.1/8",
      "10.0.0.0/",
      "10.0.0.0/x",
      "*",
      "a/8",
    ])
      expect(() => parsePrefix(bad), bad).toThrow(AddressError);
  });

  it("reads the peer address of a connection's remote string", () => {
    expect([...peerAddress("127.0.0.2:812")!]).toEqual([127, 0, 0, 2]);
    expect(peerAddress("[::1]:2049")).toEqual(addr("::1"));
    expect(peerAddress("unknown")).toBeNull();
  });
});

describe("rules", () => {
  const cred = (uid: number, gid: number, gids: number[] = []): Credential => ({
    flavor: 1,
    uid,
    gid,
    gids,
    machinename: "m",
    principal: `sys:${uid}`,
  });

  it("admit every client by default, and only listed ones otherwise", () => {
    expect(allowsClient(DEFAULT_EXPORT_RULES, null)).toBe(true);
    const listed = { ...DEFAULT_EXPORT_RULES, clients: [parsePrefix("10.0.0.0/8")] };
    expect(allowsClient(listed, addr("10.1.1.1"))).toBe(true);
    expect(allowsClient(listed, addr("192.168.0.1"))).toBe(false);
    expect(allowsClient(listed, null)).toBe(false);
  });

  it("squash root's ids (and group 0 among the supplementary ones), or everyone's", () => {
    const root = { ...DEFAULT_EXPORT_RULES, squash: "root" as const };
    expect(squashCredential(root, cred(0, 0, [0, 4]))).toMatchObject({
      uid: 65534,
      gid: 65534,
      gids: [65534, 4],
      principal: "sys:0",
    });
    const user = cred(1000, 100, [4]);
    expect(squashCredential(root, user)).toBe(user);
    expect(squashCredential(root, cred(1000, 0))).toMatchObject({ uid: 1000, gid: 65534 });
    const all = { ...DEFAULT_EXPORT_RULES, squash: "all" as const, anonUid: 7, anonGid: 8 };
    expect(squashCredential(all, user)).toMatchObject({
      uid: 7,
      gid: 8,
      gids: [],
      principal: "sys:1000",
    });
    expect(squashCredential(DEFAULT_EXPORT_RULES, cred(0, 0))).toMatchObject({ uid: 0, gid: 0 });
  });
});

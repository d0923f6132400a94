// Link, IP and TCP header parsing.

import { describe, expect, it } from "vitest";
import {
  LINKTYPE_ETHERNET,
  LINKTYPE_LINUX_SLL,
  LINKTYPE_LINUX_SLL2,
  LINKTYPE_LOOP,
  LINKTYPE_NULL,
  LINKTYPE_RAW,
  ipv6Text,
  parseFrame,
} from "../../src/decode/packet.js";
import { tcpFrame } from "./support.js";

const PAYLOAD = new Uint8Array([0xde, 0xad, 0xbe, 0xef]);
/** The IPv4 packet of a test frame, without its Ethernet header. */
const ipPacket = (): Uint8Array =>
  tcpFrame({ fromClient: true, seq: 77, payload: PAYLOAD }).subarray(14);

function tcpOf(linkType: number, data: Uint8Array, originalLength = data.length) {
  const p = parseFrame(linkType, data, originalLength);
  if (p.kind !== "tcp") throw new Error(`not TCP: ${p.reason}`);
  return p.segment;
}

describe("parseFrame", () => {
  it("reads Ethernet + IPv4 + TCP", () => {
    const s = tcpOf(
      LINKTYPE_ETHERNET,
      tcpFrame({ fromClient: true, seq: 77, payload: PAYLOAD, syn: true }),
    );
    expect(s).toMatchObject({
      src: "10.0.0.1",
      srcPort: 876,
      dst: "10.0.0.2",
      dstPort: 2049,
      seq: 77,
    });
    expect([s.syn, s.fin, s.rst, s.missing]).toEqual([true, false, false, 0]);
    expect([...s.payload]).toEqual([...PAYLOAD]);
  });

  it("skips VLAN tags and ignores Ethernet padding", () => {
    const f = tcpFrame({ fromClient: false, seq: 1, payload: PAYLOAD });
    const tagged = Buffer.concat([
      f.subarray(0, 12),
      Buffer.from([0x81, 0, 0, 5]),
      f.subarray(12),
      Buffer.alloc(6),
    ]);
    const s = tcpOf(LINKTYPE_ETHERNET, tagged);
    expect(s.src).toBe("10.0.0.2");
    expect([...s.payload]).toEqual([...PAYLOAD]);
  });

  it("reads Linux cooked captures (SLL and SLL2), BSD loopback and raw IP", () => {
    const sll = Buffer.concat([Buffer.alloc(14), Buffer.from([0x08, 0x00]), ipPacket()]);
    expect(tcpOf(LINKTYPE_LINUX_SLL, sll).seq).toBe(77);
    const sll2 = Buffer.concat([Buffer.from([0x08, 0x00]), Buffer.alloc(18), ipPacket()]);
    expect(tcpOf(LINKTYPE_LINUX_SLL2, sll2).seq).toBe(77);
    const nullLe = Buffer.concat([Buffer.from([2, 0, 0, 0]), ipPacket()]);
    expect(tcpOf(LINKTYPE_NULL, nullLe).seq).toBe(77);
    const loop = Buffer.concat([Buffer.from([0, 0, 0, 2]), ipPacket()]);
    expect(tcpOf(LINKTYPE_LOOP, loop).seq).toBe(77);
    expect(tcpOf(LINKTYPE_RAW, ipPacket()).seq).toBe(77);
  });

  it("reads IPv6 through extension headers", () => {
    const tcp = ipPacket().subarray(20);
    const hopByHop = Buffer.from([6, 0, 0, 0, 0, 0, 0, 0]); // next header TCP, 8 bytes
    const ip6 = Buffer.alloc(40);
    ip6[0] = 0x60;
    ip6.writeUInt16BE(hopByHop.length + tcp.length, 4);
    ip6[6] = 0; // hop-by-hop options first
    ip6[23] = 1; // ::1
    ip6[24] = 0xfe;
    ip6[25] = 0x80;
    ip6[39] = 2;
    const s = tcpOf(LINKTYPE_RAW, Buffer.concat([ip6, hopByHop, tcp]));
    expect([s.src, s.dst, s.seq]).toEqual(["::1", "fe80::2", 77]);
    expect([...s.payload]).toEqual([...PAYLOAD]);
  });

  it("counts payload bytes a short snap length cut off", () => {
    const f = tcpFrame({ fromClient: true, seq: 5, payload: new Uint8Array(100) });
    const s = tcpOf(LINKTYPE_ETHERNET, f.subarray(0, f.length - 30), f.length);
    expect([s.payload.length, s.missing]).toEqual([70, 30]);
  });

  it("skips what is not TCP over IP, with a reason", () => {
    const arp = Buffer.alloc(42);
    arp.writeUInt16BE(0x0806, 12);
    expect(parseFrame(LINKTYPE_ETHERNET, arp, 42)).toEqual({ kind: "skip", reason: "not IP" });
    const udp = Buffer.from(tcpFrame({ fromClient: true, seq: 1 }));
    udp[14 + 9] = 17;
    expect(parseFrame(LINKTYPE_ETHERNET, udp, udp.length)).toEqual({
      kind: "skip",
      reason: "not TCP",
    });
    const frag = Buffer.from(tcpFrame({ fromClient: true, seq: 1 }));
    frag[14 + 6] = 0x20; // more fragments
    expect(parseFrame(LINKTYPE_ETHERNET, frag, frag.length)).toEqual({
      kind: "skip",
      reason: "IPv4 fragment",
    });
    expect(parseFrame(LINKTYPE_ETHERNET, new Uint8Array(10), 10).kind).toBe("skip");
    expect(parseFrame(147, ipPacket(), 44)).toEqual({
      kind: "skip",
      reason: "link type 147 not supported",
    });
  });
});

describe("ipv6Text", () => {
  it("writes RFC 5952 text", () => {
    const b = new Uint8Array(16);
    expect(ipv6Text(b)).toBe("::");
    b[15] = 1;
    expect(ipv6Text(b)).toBe("::1");
    b.set([0x20, 0x01, 0x0d, 0xb8], 0);
    b[7] = 1;
    expect(ipv6Text(b)).toBe("2001:db8:0:1::1");
  });
});

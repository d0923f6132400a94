// From a captured frame to a TCP segment: the link layer (Ethernet with VLAN
// tags, Linux cooked SLL and SLL2, BSD loopback, raw IP), IPv4 (RFC 791) or
// IPv6 with its extension headers (RFC 8200), then the TCP header (RFC 9293).
// Anything else (ARP, UDP, IP fragments, frames too short) is skipped with a
// reason; nothing here throws on bad bytes.

/** A TCP segment as the capture saw it. */
export interface TcpSegment {
  readonly src: string;
  readonly srcPort: number;
  readonly dst: string;
  readonly dstPort: number;
  readonly seq: number;
  readonly syn: boolean;
  readonly fin: boolean;
  readonly rst: boolean;
  /** The payload bytes captured. */
  readonly payload: Uint8Array;
  /** Payload bytes the IP length announces beyond those captured (a short snap length). */
  readonly missing: number;
}

export type ParsedFrame =
  | { readonly kind: "tcp"; readonly segment: TcpSegment }
  | { readonly kind: "skip"; readonly reason: string };

// LINKTYPE_ values (https://www.tcpdump.org/linktypes.html).
export const LINKTYPE_NULL = 0;
export const LINKTYPE_ETHERNET = 1;
export const LINKTYPE_RAW = 101;
export const LINKTYPE_LOOP = 108;
export const LINKTYPE_LINUX_SLL = 113;
export const LINKTYPE_IPV4 = 228;
export const LINKTYPE_IPV6 = 229;
export const LINKTYPE_LINUX_SLL2 = 276;
/** DLT_RAW as some systems number it in pcap files. */
const LINKTYPE_RAW_ALT = [12, 14];

const ETHERTYPE_IPV4 = 0x0800;
const ETHERTYPE_IPV6 = 0x86dd;
const ETHERTYPE_VLAN = [0x8100, 0x88a8, 0x9100];
const IPPROTO_TCP = 6;
// IPv6 extension headers that may precede TCP (RFC 8200 §4).
const IPV6_HOP_BY_HOP = 0;
const IPV6_ROUTING = 43;
const IPV6_FRAGMENT = 44;
const IPV6_AH = 51;
const IPV6_DEST_OPTS = 60;
// BSD loopback address families for IPv6 (NetBSD/OpenBSD, FreeBSD, macOS).
const AF_INET = 2;
const AF_INET6 = [24, 28, 30];

const skip = (reason: string): ParsedFrame => ({ kind: "skip", reason });

/** Parses `data` (captured with `linkType`; `originalLength` on the wire) down to TCP. */
export function parseFrame(
  linkType: number,
  data: Uint8Array,
  originalLength: number,
): ParsedFrame {
  const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
  // Bytes of the frame the capture cut off (they are at its end).
  const cut = Math.max(0, originalLength - data.length);
  let off: number;
  let ethertype: number | null;
  switch (linkType) {
    case LINKTYPE_ETHERNET: {
      if (data.length < 14) return skip("Ethernet header truncated");
      off = 12;
      ethertype = dv.getUint16(off);
      off += 2;
      while (ETHERTYPE_VLAN.includes(ethertype)) {
        if (data.length < off + 4) return skip("VLAN tag truncated");
        ethertype = dv.getUint16(off + 2);
        off += 4;
      }
      break;
    }
    case LINKTYPE_LINUX_SLL:
      if (data.length < 16) return skip("SLL header truncated");
      ethertype = dv.getUint16(14);
      off = 16;
      break;
    case LINKTYPE_LINUX_SLL2:
      if (data.length < 20) return skip("SLL2 header truncated");
      ethertype = dv.getUint16(0);
      off = 20;
      break;
    case LINKTYPE_NULL:
    case LINKTYPE_LOOP: {
      if (data.length < 4) return skip("loopback header truncated");
      // NULL stores the family in the capturing host's byte order, LOOP in network order.
      const be = dv.getUint32(0, false);
      const family = linkType === LINKTYPE_LOOP || be < 0x10000 ? be : dv.getUint32(0, true);
      ethertype =
        family === AF_INET ? ETHERTYPE_IPV4 : AF_INET6.includes(family) ? ETHERTYPE_IPV6 : -1;
      off = 4;
      break;
    }
    case LINKTYPE_RAW:
    case LINKTYPE_IPV4:
    case LINKTYPE_IPV6:
      ethertype = null;
      off = 0;
      break;
    default:
      if (!LINKTYPE_RAW_ALT.includes(linkType)) return skip(`link type ${linkType} not supported`);
      ethertype = null;
      off = 0;
  }
  if (ethertype === null) {
    if (data.length <= off) return skip("empty IP packet");
    const version = data[off]! >> 4;
    ethertype = version === 4 ? ETHERTYPE_IPV4 : version === 6 ? ETHERTYPE_IPV6 : -1;
  }
  if (ethertype === ETHERTYPE_IPV4) return ipv4(data, dv, off, cut);
  if (ethertype === ETHERTYPE_IPV6) return ipv6(data, dv, off, cut);
  return skip("not IP");
}

function ipv4(data: Uint8Array, dv: DataView, off: number, cut: number): ParsedFrame {
  if (data.length < off + 20) return skip("IPv4 header truncated");
  const first = data[off]!;
  if (first >> 4 !== 4) return skip("bad IPv4 version");
  const ihl = (first & 0x0f) * 4;
  if (ihl < 20 || data.length < off + ihl) return skip("bad IPv4 header length");
  const fragment = dv.getUint16(off + 6);
  // More-fragments bit or a fragment offset: NFS over TCP never fragments in practice.
  if ((fragment & 0x2000) !== 0 || (fragment & 0x1fff) !== 0) return skip("IPv4 fragment");
  if (data[off + 9] !== IPPROTO_TCP) return skip("not TCP");
  const total = dv.getUint16(off + 2);
  // A total length of 0 is what segmentation offload leaves in captures of
  // segments over 64 KiB: trust the frame's length then.
  const ipEnd = total === 0 ? data.length + cut : off + total;
  if (ipEnd < off + ihl) return skip("bad IPv4 total length");
  const src = Array.from(data.subarray(off + 12, off + 16)).join(".");
  const dst = Array.from(data.subarray(off + 16, off + 20)).join(".");
  return tcp(data, dv, off + ihl, ipEnd, src, dst);
}

function ipv6(data: Uint8Array, dv: DataView, off: number, cut: number): ParsedFrame {
  if (data.length < off + 40) return skip("IPv6 header truncated");
  if (data[off]! >> 4 !== 6) return skip("bad IPv6 version");
  const payloadLength = dv.getUint16(off + 4);
  const ipEnd = payloadLength === 0 ? data.length + cut : off + 40 + payloadLength;
  const src = ipv6Text(data.subarray(off + 8, off + 24));
  const dst = ipv6Text(data.subarray(off + 24, off + 40));
  let next = data[off + 6]!;
  let at = off + 40;
  for (;;) {
    if (next === IPPROTO_TCP) return tcp(data, dv, at, ipEnd, src, dst);
    if (next === IPV6_FRAGMENT) return skip("IPv6 fragment");
    if (![IPV6_HOP_BY_HOP, IPV6_ROUTING, IPV6_DEST_OPTS, IPV6_AH].includes(next))
      return skip("not TCP");
    if (data.length < at + 2) return skip("IPv6 extension header truncated");
    const len = next === IPV6_AH ? (data[at + 1]! + 2) * 4 : (data[at + 1]! + 1) * 8;
    next = data[at]!;
    at += len;
  }
}

function tcp(
  data: Uint8Array,
  dv: DataView,
  off: number,
  ipEnd: number,
  src: string,
  dst: string,
): ParsedFrame {
  if (data.length < off + 20) return skip("TCP header truncated");
  const headerLength = (data[off + 12]! >> 4) * 4;
  if (headerLength < 20 || data.length < off + headerLength) return skip("bad TCP header length");
  const flags = data[off + 13]!;
  const start = off + headerLength;
  // Ethernet pads short frames: the IP length, not the frame, says where data ends.
  const end = Math.max(start, ipEnd);
  const captured = Math.max(0, Math.min(end, data.length) - start);
  return {
    kind: "tcp",
    segment: {
      src,
      srcPort: dv.getUint16(off),
      dst,
      dstPort: dv.getUint16(off + 2),
      seq: dv.getUint32(off + 4),
      fin: (flags & 0x01) !== 0,
      syn: (flags & 0x02) !== 0,
      rst: (flags & 0x04) !== 0,
      payload: data.subarray(start, start + captured),
      missing: end - start - captured,
    },
  };
}

/** RFC 5952 text form: lower-case hex, the longest run of two or more zero groups as "::". */
export function ipv6Text(b: Uint8Array): string {
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((b[i]! << 8) | b[i + 1]!);
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(":");
  return `${hex.slice(0, bestStart).join(":")}::${hex.slice(bestStart + bestLength).join(":")}`;
}

// Client address lists of an export (its `clients` rule): single addresses
// and CIDR prefixes, IPv4 and IPv6, matched against the peer address of the
// connection a request came on (as Linux nfsd's client lists, exports(5)
// "IP networks"). An IPv4 peer that reaches an IPv6 socket arrives as an
// IPv4-mapped address (::ffff:a.b.c.d) and is matched as the IPv4 address it is.

import { isIPv4, isIPv6 } from "node:net";

/** An address as bytes: 4 for IPv4, 16 for IPv6. */
export type AddressBytes = Uint8Array;

/** One entry of a client list: every address whose first `prefixBits` bits equal `network`'s. */
export interface AddressPrefix {
  readonly network: AddressBytes;
  readonly prefixBits: number;
  /** As written in the configuration, for messages. */
  readonly text: string;
}

export class AddressError extends Error {
  override name = "AddressError";
}

function parseIPv4(text: string): AddressBytes {
  return Uint8Array.from(text.split(".").map(Number));
}

function parseIPv6(text: string): AddressBytes {
  // A trailing dotted quad (::ffff:1.2.3.4) stands for the last two groups.
  let groups = text;
  const dotted = /^(.*:)(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted) {
    const v4 = parseIPv4(dotted[2]!);
    groups = `${dotted[1]}${((v4[0]! << 8) | v4[1]!).toString(16)}:${((v4[2]! << 8) | v4[3]!).toString(16)}`;
  }
  const [head, tail] = groups.includes("::") ? groups.split("::") : [groups, null];
  const words = (s: string | undefined): number[] =>
    s === undefined || s === "" ? [] : s.split(":").map((w) => parseInt(w, 16));
  const front = words(head);
  const back = tail === null ? [] : words(tail);
  const fill = tail === null ? 0 : 8 - front.length - back.length;
  const all = [...front, ...new Array<number>(fill).fill(0), ...back];
  const out = new Uint8Array(16);
  all.forEach((w, i) => {
    out[2 * i] = w >> 8;
    out[2 * i + 1] = w & 0xff;
  });
  return out;
}

/** The bytes of an IPv4 or IPv6 address (no zone index), or null when `text` is neither. */
export function parseAddress(text: string): AddressBytes | null {
  if (isIPv4(text)) return parseIPv4(text);
  if (isIPv6(text) && !text.includes("%")) return parseIPv6(text);
  return null;
}

/** "a.b.c.d", "a.b.c.d/n", "v6" or "v6/n": AddressError when it is none of these. */
export function parsePrefix(text: string): AddressPrefix {
  const slash = text.indexOf("/");
  const addr = slash < 0 ? text : text.slice(0, slash);
  const network = parseAddress(addr);
  if (network === null) throw new AddressError(`'${text}' is not an IPv4/IPv6 address or CIDR`);
  const maxBits = network.length * 8;
  let prefixBits = maxBits;
  if (slash >= 0) {
    const bits = text.slice(slash + 1);
    if (!/^\d{1,3}$/.test(bits) || Number(bits) > maxBits)
      throw new AddressError(`'${text}': the prefix length must be 0..${maxBits}`);
    prefixBits = Number(bits);
  }
  // Host bits set below the prefix are a typo more often than intent: refuse them.
  if (!equalPrefix(network, masked(network, prefixBits), maxBits))
    throw new AddressError(`'${text}' has bits set beyond its /${prefixBits} prefix`);
  return { network, prefixBits, text };
}

function masked(a: AddressBytes, bits: number): AddressBytes {
  const out = new Uint8Array(a.length);
  for (let i = 0; i < a.length; i++) {
    const keep = Math.max(0, Math.min(8, bits - 8 * i));
    out[i] = a[i]! & ((0xff << (8 - keep)) & 0xff);
  }
  return out;
}

function equalPrefix(a: AddressBytes, b: AddressBytes, bits: number): boolean {
  for (let i = 0; i < a.length && bits > 0; i++, bits -= 8) {
    const mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
    if ((a[i]! & mask) !== (b[i]! & mask)) return false;
  }
  return true;
}

/** An IPv4-mapped IPv6 address (::ffff:a.b.c.d) as its IPv4 bytes; others unchanged. */
export function unmapped(a: AddressBytes): AddressBytes {
  if (a.length !== 16) return a;
  for (let i = 0; i < 10; i++) if (a[i] !== 0) return a;
  if (a[10] !== 0xff || a[11] !== 0xff) return a;
  return a.slice(12);
}

/** True when `address` is in `prefix` (an IPv4 address never matches an IPv6 prefix, and back). */
export function prefixContains(prefix: AddressPrefix, address: AddressBytes): boolean {
  const a = unmapped(address);
  const net = unmapped(prefix.network);
  // A mapped prefix (::ffff:10.0.0.0/104) covers IPv4 addresses: its bits shift by 96.
  const bits = net.length === prefix.network.length ? prefix.prefixBits : prefix.prefixBits - 96;
  if (a.length !== net.length || bits < 0) return false;
  return equalPrefix(net, a, bits);
}

/** The host part of a connection's "address:port" or "[v6]:port" (RpcConnection.remote), as bytes. */
export function peerAddress(remote: string): AddressBytes | null {
  const m = /^\[([^\]]+)\]:\d+$/.exec(remote) ?? /^([^:]+):\d+$/.exec(remote);
  return m ? parseAddress(m[1]!) : null;
}

// Structure-aware generation of NFSv4.1 COMPOUND arguments from the generated
// metadata (generated/nfs4/meta.ts): every operation's arguments are written
// field by field from their XDR description, and the byte offset of each field
// a mutator cares about — operation numbers, union discriminants, enum values,
// variable lengths and booleans — is recorded as a "site", so mutations hit the
// structure (a discriminant swapped, a length set to 2^32-1) rather than random
// bytes. Values lean towards realistic ones (known filehandles, names that
// exist, stateids the server handed out) so operations get past the first
// checks and into their handlers.

import type { TypeMeta, XdrType } from "../../src/xdr/meta.js";
import { nfs4Types, nfs_opnum4 } from "../../generated/nfs4/index.js";
import { rpcTypes } from "../../generated/rpc/index.js";
import type { Prng } from "./prng.js";

/** A place in an operation's bytes that a structural mutation may rewrite (a uint32). */
export type Site =
  | { readonly kind: "opnum"; readonly offset: number }
  | { readonly kind: "disc"; readonly offset: number; readonly values: readonly number[] }
  | { readonly kind: "enum"; readonly offset: number; readonly members: readonly number[] }
  | { readonly kind: "length"; readonly offset: number; readonly max: number }
  | { readonly kind: "bool"; readonly offset: number };

/** One encoded operation (its number first) and its mutation sites, offsets relative to `bytes`. */
export interface EncodedOp {
  readonly op: number;
  bytes: Uint8Array;
  sites: Site[];
  /** Bytes [start, end) no mutation may touch (SEQUENCE's session, sequence ID and slot). */
  readonly frozen?: readonly [number, number];
}

/** What the generator may draw realistic values from; the driver keeps these up to date. */
export interface Pools {
  /** Filehandles the server gave out (root, /export, GETFH results). */
  readonly fhs: Uint8Array[];
  /** Stateids the server gave out (OPEN, LOCK) besides the special ones. */
  readonly stateids: { seqid: number; other: Uint8Array }[];
  sessionid: Uint8Array;
  clientid: bigint;
  /** Whether this record opened a file first: stateids are then mostly the current one. */
  preferCurrent: boolean;
}

const NAMES = ["export", "f0", "f1", "f2", "d0", "l0", ".", "..", "", "a/b", "x".repeat(300)];
/** Attribute numbers: the defined ones (RFC 8881 §5.6, §5.7; RFC 7862; RFC 8276) and a few beyond. */
const MAX_ATTR = 82;
/** How deep optional and recursive structures go before the generator stops nesting. */
const MAX_DEPTH = 10;
const MAX_ELEMENTS = 3;
const MAX_BYTES = 48;

/** The operation numbers of nfs_argop4's arms, and each one's argument type. */
const ARGOP = nfs4Types["nfs_argop4"];
if (ARGOP?.kind !== "union") throw new Error("nfs_argop4 metadata missing");
export const OP_ARGS: ReadonlyMap<number, XdrType> = new Map(
  ARGOP.arms.flatMap((a) => a.values.map((v) => [Number(v), a.type] as const)),
);
export const OP_NUMBERS: readonly number[] = [...OP_ARGS.keys()];

/** A growable byte buffer written in XDR units. */
export class Bytes {
  private buf = new Uint8Array(256);
  private view = new DataView(this.buf.buffer);
  length = 0;

  private need(n: number): void {
    if (this.length + n <= this.buf.length) return;
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.length + n));
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  u32(v: number): void {
    this.need(4);
    this.view.setUint32(this.length, v >>> 0);
    this.length += 4;
  }

  u64(v: bigint): void {
    this.need(8);
    this.view.setBigUint64(this.length, BigInt.asUintN(64, v));
    this.length += 8;
  }

  /** `data` then zero padding to a multiple of 4. */
  padded(data: Uint8Array): void {
    const n = (data.length + 3) & ~3;
    this.need(n);
    this.buf.set(data, this.length);
    this.buf.fill(0, this.length + data.length, this.length + n);
    this.length += n;
  }

  raw(data: Uint8Array): void {
    this.need(data.length);
    this.buf.set(data, this.length);
    this.length += data.length;
  }

  finish(): Uint8Array {
    return this.buf.slice(0, this.length);
  }
}

/** A uint32 that is often one of the boundary values. */
function u32Value(p: Prng): number {
  switch (p.below(8)) {
    case 0:
      return 0;
    case 1:
      return 1;
    case 2:
      return 0xffffffff;
    case 3:
      return 0x7fffffff;
    case 4:
    case 5:
      return p.below(64);
    default:
      return p.u32();
  }
}

function u64Value(p: Prng): bigint {
  switch (p.below(7)) {
    case 0:
      return 0n;
    case 1:
      return 1n;
    case 2:
      return 0xffff_ffff_ffff_ffffn;
    case 3:
      return 0x7fff_ffff_ffff_ffffn;
    case 4:
      return BigInt(p.below(1 << 16));
    default:
      return (BigInt(p.u32()) << 32n) | BigInt(p.u32());
  }
}

/** A length in [0, min(max, cap)], leaning to 0 and small values. */
function lengthValue(p: Prng, max: number, cap: number): number {
  const top = Math.min(max, cap);
  return p.chance(0.2) ? 0 : p.between(0, top);
}

const ascii = new TextEncoder();

export class Composer {
  private readonly types: ReadonlyMap<string, TypeMeta> = new Map([
    ...Object.entries(rpcTypes),
    ...Object.entries(nfs4Types),
  ]);

  constructor(private readonly pools: Pools) {}

  /** Operation `op` with arguments drawn at random from its XDR description. */
  op(p: Prng, op: number): EncodedOp {
    const out = new Bytes();
    const sites: Site[] = [{ kind: "opnum", offset: 0 }];
    out.u32(op);
    const t = OP_ARGS.get(op);
    if (t !== undefined) this.value(p, t, out, sites, 0);
    return { op, bytes: out.finish(), sites };
  }

  /** An operation whose arguments are `args`, already encoded (no sites but the number). */
  fixed(op: number, args: (b: Bytes) => void): EncodedOp {
    const out = new Bytes();
    out.u32(op);
    args(out);
    return { op, bytes: out.finish(), sites: [{ kind: "opnum", offset: 0 }] };
  }

  /** PUTFH of `fh`. */
  putfh(fh: Uint8Array): EncodedOp {
    const out = new Bytes();
    out.u32(nfs_opnum4.OP_PUTFH);
    out.u32(fh.length);
    out.padded(fh);
    return { op: nfs_opnum4.OP_PUTFH, bytes: out.finish(), sites: [{ kind: "opnum", offset: 0 }] };
  }

  /**
   * A valid OPEN that creates (UNCHECKED4) or opens one of a few files for
   * reading and writing, by one of a few owners of our client; it leaves the
   * open's stateid as the current stateid (RFC 8881 §16.2.3.1.2).
   */
  openCreate(p: Prng): EncodedOp {
    const out = new Bytes();
    const sites: Site[] = [{ kind: "opnum", offset: 0 }];
    out.u32(nfs_opnum4.OP_OPEN);
    out.u32(0); // seqid: ignored in NFSv4.1
    sites.push({ kind: "enum", offset: out.length, members: [1, 2, 3] });
    out.u32(p.pick([1, 2, 3])); // share_access READ, WRITE or BOTH
    sites.push({ kind: "enum", offset: out.length, members: [0, 1, 2, 3] });
    out.u32(p.chance(0.9) ? 0 : p.between(1, 3)); // share_deny
    out.u64(this.pools.clientid);
    const owner = ascii.encode(`owner-${p.below(4)}`);
    sites.push({ kind: "length", offset: out.length, max: 1024 });
    out.u32(owner.length);
    out.padded(owner);
    sites.push({ kind: "disc", offset: out.length, values: [0, 1] });
    out.u32(1); // OPEN4_CREATE
    sites.push({ kind: "disc", offset: out.length, values: [0, 1, 2, 3] });
    out.u32(0); // UNCHECKED4
    if (p.chance(0.5)) this.settableAttrs(p, out);
    else {
      out.u32(0); // an empty attrmask
      out.u32(0); // and no attr_vals
    }
    sites.push({ kind: "disc", offset: out.length, values: [0, 1, 2, 3, 4, 5, 6] });
    out.u32(0); // CLAIM_NULL
    const name = ascii.encode(`f${p.below(4)}`);
    sites.push({ kind: "length", offset: out.length, max: 0xffffffff });
    out.u32(name.length);
    out.padded(name);
    return { op: nfs_opnum4.OP_OPEN, bytes: out.finish(), sites };
  }

  /**
   * SEQUENCE for `slot` at `seqid` in the current session. Its identity fields
   * (session, slot, sequence ID) carry no sites: they stay right, so the slot
   * stays usable; sa_highest_slotid and sa_cachethis may be mutated.
   */
  sequence(slot: number, seqid: number, highest: number, cachethis: boolean): EncodedOp {
    const out = new Bytes();
    out.u32(nfs_opnum4.OP_SEQUENCE);
    out.raw(this.pools.sessionid);
    out.u32(seqid);
    out.u32(slot);
    const highestAt = out.length;
    out.u32(highest);
    const cacheAt = out.length;
    out.u32(cachethis ? 1 : 0);
    return {
      op: nfs_opnum4.OP_SEQUENCE,
      bytes: out.finish(),
      frozen: [4, highestAt],
      sites: [
        { kind: "opnum", offset: 0 },
        { kind: "disc", offset: highestAt, values: [0, 1, 63, 64, 0xffffffff] },
        { kind: "bool", offset: cacheAt },
      ],
    };
  }

  private named(p: Prng, name: string, out: Bytes, sites: Site[], depth: number): void {
    if (this.hook(p, name, out)) return;
    const t = this.types.get(name);
    if (!t) throw new Error(`no metadata for ${name}`);
    switch (t.kind) {
      case "typedef":
        return this.value(p, t.type, out, sites, depth);
      case "enum": {
        const members = Object.values(t.members);
        sites.push({ kind: "enum", offset: out.length, members });
        out.u32(p.pick(members));
        return;
      }
      case "struct":
        for (const f of t.fields) this.value(p, f.type, out, sites, depth + 1);
        return;
      case "union": {
        const values = t.arms.flatMap((a) => a.values.map((v) => (v === true ? 1 : Number(v))));
        const armIndex = p.below(t.arms.length + (t.defaultArm ? 1 : 0));
        const arm = t.arms[armIndex];
        let disc: number;
        let type: XdrType;
        if (arm !== undefined) {
          const v = p.pick(arm.values);
          disc = v === true ? 1 : Number(v);
          type = arm.type;
        } else {
          // The default arm: some value no explicit arm takes.
          disc = p.u32();
          while (values.includes(disc)) disc = p.u32();
          type = t.defaultArm!.type;
        }
        sites.push({ kind: "disc", offset: out.length, values });
        out.u32(disc);
        this.value(p, type, out, sites, depth + 1);
        return;
      }
    }
  }

  private value(p: Prng, t: XdrType, out: Bytes, sites: Site[], depth: number): void {
    switch (t.kind) {
      case "int":
      case "uint":
      case "float":
        return out.u32(u32Value(p));
      case "hyper":
      case "uhyper":
      case "double":
        return out.u64(u64Value(p));
      case "quadruple":
        return out.raw(p.bytes(16));
      case "bool":
        sites.push({ kind: "bool", offset: out.length });
        return out.u32(p.below(2));
      case "void":
        return;
      case "opaque":
      case "string": {
        const fixed = t.kind === "opaque" ? t.fixed : null;
        if (fixed !== null) return out.padded(p.bytes(fixed));
        const n = lengthValue(p, t.max, MAX_BYTES);
        sites.push({ kind: "length", offset: out.length, max: t.max });
        out.u32(n);
        return out.padded(
          t.kind === "string"
            ? ascii.encode(String.fromCharCode(...p.bytes(n).map((b) => 0x20 + (b % 95))))
            : p.bytes(n),
        );
      }
      case "array": {
        let n = t.fixed ?? (depth > MAX_DEPTH ? 0 : lengthValue(p, t.max, MAX_ELEMENTS));
        if (t.fixed === null) {
          sites.push({ kind: "length", offset: out.length, max: t.max });
          out.u32(n);
        } else n = t.fixed;
        for (let i = 0; i < n; i++) this.value(p, t.of, out, sites, depth + 1);
        return;
      }
      case "optional": {
        const present = depth <= MAX_DEPTH && p.chance(0.5);
        sites.push({ kind: "bool", offset: out.length });
        out.u32(present ? 1 : 0);
        if (present) this.value(p, t.of, out, sites, depth + 1);
        return;
      }
      case "list": {
        const n = depth > MAX_DEPTH ? 0 : p.below(MAX_ELEMENTS);
        for (let i = 0; i < n; i++) {
          sites.push({ kind: "bool", offset: out.length });
          out.u32(1);
          this.named(p, t.of, out, sites, depth + 1);
        }
        sites.push({ kind: "bool", offset: out.length });
        out.u32(0);
        return;
      }
      case "ref":
        return this.named(p, t.name, out, sites, depth);
    }
  }

  /**
   * Realistic values for the types that decide whether an operation gets past
   * its first checks; false to fall back to the metadata (often, so the
   * unrealistic values are tried too).
   */
  private hook(p: Prng, name: string, out: Bytes): boolean {
    if (p.chance(0.2)) return false;
    switch (name) {
      case "nfs_fh4": {
        if (this.pools.fhs.length === 0) return false;
        const fh = p.pick(this.pools.fhs);
        out.u32(fh.length);
        out.padded(fh);
        return true;
      }
      case "component4":
      case "linktext4": {
        const name = ascii.encode(p.pick(NAMES));
        out.u32(name.length);
        out.padded(name);
        return true;
      }
      case "stateid4": {
        // Draw the same numbers whatever the pool holds, so a record's stream
        // (and its reproduction with --only) does not depend on earlier replies.
        const special = p.below(4);
        const kind = p.below(3);
        const which = p.u32();
        const seqidChoice = p.below(10);
        const current = p.chance(0.7);
        if (this.pools.preferCurrent && current) {
          // The current stateid (RFC 8881 §16.2.3.1.2): seqid 1, other all zeros.
          out.u32(1);
          out.raw(new Uint8Array(12));
        } else if (special === 0 || this.pools.stateids.length === 0) {
          // The anonymous, READ-bypass and current stateids (RFC 8881 §8.2.3).
          out.u32(kind === 2 ? 1 : kind === 1 ? 0xffffffff : 0);
          out.raw(new Uint8Array(12).fill(kind === 1 ? 0xff : 0));
        } else {
          const s = this.pools.stateids[which % this.pools.stateids.length]!;
          out.u32(seqidChoice < 8 ? s.seqid : seqidChoice === 8 ? 0 : s.seqid + 1);
          out.raw(s.other);
        }
        return true;
      }
      case "sessionid4":
        // Rarely our own session: DESTROY_SESSION or BIND_CONN_TO_SESSION on it are worth trying.
        if (!p.chance(0.1)) return false;
        out.raw(this.pools.sessionid);
        return true;
      case "clientid4":
        if (!p.chance(0.3)) return false;
        out.u64(this.pools.clientid);
        return true;
      case "bitmap4": {
        const words = p.between(0, 3);
        const bits = [0, 0, 0];
        for (let i = p.between(0, 4); i > 0; i--) {
          const a = p.below(MAX_ATTR + 4);
          if (a < 96) bits[a >> 5]! |= 1 << (a & 31);
        }
        out.u32(words);
        for (let i = 0; i < words; i++) out.u32(bits[i]!);
        return true;
      }
      case "fattr4":
        if (p.chance(0.5)) return false;
        this.settableAttrs(p, out);
        return true;
      default:
        return false;
    }
  }

  /** A well-formed fattr4 of settable attributes: size (4) and/or mode (33). */
  private settableAttrs(p: Prng, out: Bytes): void {
    const size = p.chance(0.5);
    const mode = p.chance(0.6);
    out.u32(2);
    out.u32(size ? 1 << 4 : 0);
    out.u32(mode ? 1 << (33 - 32) : 0);
    out.u32((size ? 8 : 0) + (mode ? 4 : 0));
    if (size) out.u64(p.chance(0.7) ? BigInt(p.below(1 << 20)) : u64Value(p));
    if (mode) out.u32(p.chance(0.8) ? 0o644 : u32Value(p));
  }
}

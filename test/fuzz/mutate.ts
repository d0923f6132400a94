// Mutations of a generated COMPOUND at the XDR structure level: a field at a
// recorded site rewritten (operation numbers and union arms swapped, lengths at
// 0/1/max/2^32-1, enum values out of range), operations reordered, repeated or
// dropped, the operation count or minor version made wrong, the arguments
// truncated; and on the wire, the record split into several record-mark
// fragments.

import type { EncodedOp, Site } from "./compose.js";
import { OP_NUMBERS } from "./compose.js";
import type { Prng } from "./prng.js";

/** A COMPOUND before encoding: header fields and operations. */
export interface CompoundPlan {
  tag: Uint8Array;
  /** The tag length to send; null for the real one. */
  tagLength: number | null;
  minorversion: number;
  /** The operation count to send; null for the real count. */
  count: number | null;
  ops: EncodedOp[];
  /** Cut the encoded arguments to this many bytes; null for no cut. */
  truncateAt: number | null;
}

const OUT_OF_RANGE_OPS = [0, 1, 2, 59, 75, 99, 10043, 10044, 0x7fffffff, 0xffffffff];

function rewriteSite(p: Prng, op: EncodedOp, site: Site): string {
  const view = new DataView(op.bytes.buffer, op.bytes.byteOffset, op.bytes.byteLength);
  const old = view.getUint32(site.offset);
  let v: number;
  switch (site.kind) {
    case "opnum":
      v = p.chance(0.8) ? p.pick(OP_NUMBERS) : p.pick(OUT_OF_RANGE_OPS);
      break;
    case "disc":
      v = p.chance(0.7) ? p.pick(site.values) : p.chance(0.5) ? 0xffffffff : p.u32();
      break;
    case "enum": {
      const top = Math.max(...site.members);
      v = p.pick([top + 1, 0xffffffff, 0x7fffffff, 0x80000000, p.u32(), p.pick(site.members)]);
      break;
    }
    case "length":
      v = p.pick([0, 1, site.max, site.max + 1, 0xffffffff, 0x80000000, old + 1, old - 1, old * 2]);
      break;
    case "bool":
      v = p.pick([2, 0xffffffff, old ^ 1]);
      break;
  }
  view.setUint32(site.offset, v >>> 0);
  return `${site.kind}@${site.offset}:${old}->${v >>> 0}`;
}

/** Applies 1 to 3 mutations to `plan`; returns a short description of each. */
export function mutate(p: Prng, plan: CompoundPlan): string[] {
  const done: string[] = [];
  for (let n = p.between(1, 3); n > 0; n--) {
    const ops = plan.ops;
    const k = p.below(100);
    if (k < 45) {
      // A field at a structural site (the most useful mutation: weigh it most).
      const i = p.below(ops.length);
      const op = ops[i]!;
      if (op.sites.length === 0) continue;
      op.bytes = op.bytes.slice();
      done.push(`op${i}:${rewriteSite(p, op, p.pick(op.sites))}`);
    } else if (k < 55 && ops.length > 1) {
      const i = p.below(ops.length);
      const j = p.below(ops.length);
      [ops[i], ops[j]] = [ops[j]!, ops[i]!];
      done.push(`swap ${i},${j}`);
    } else if (k < 63) {
      const i = p.below(ops.length);
      const times = p.between(1, 3);
      ops.splice(i, 0, ...Array.from({ length: times }, () => ops[i]!));
      done.push(`repeat ${i}x${times}`);
    } else if (k < 68 && ops.length > 1) {
      const i = p.below(ops.length);
      ops.splice(i, 1);
      done.push(`drop ${i}`);
    } else if (k < 76) {
      plan.truncateAt = -1; // resolved to a site or byte offset when encoded
      done.push("truncate");
    } else if (k < 81) {
      plan.count = p.pick([0, 1, ops.length - 1, ops.length + 1, ops.length + 100, 0xffffffff]);
      done.push(`count=${plan.count}`);
    } else if (k < 84) {
      plan.minorversion = p.pick([0, 3, 4, 0xffffffff]);
      done.push(`minor=${plan.minorversion}`);
    } else if (k < 85) {
      plan.tagLength = p.pick([0xffffffff, 0x80000000, 1024 * 1024, plan.tag.length + 1]);
      done.push(`tag length=${plan.tagLength}`);
    } else if (k < 87) {
      plan.tag = p.pick([
        new Uint8Array([0xff, 0xfe]),
        new Uint8Array([0xc3]),
        p.bytes(p.below(64)),
      ]);
      done.push("tag");
    } else {
      // Unstructured: one byte anywhere in one operation.
      const i = p.below(ops.length);
      const op = ops[i]!;
      op.bytes = op.bytes.slice();
      const at = p.below(op.bytes.length);
      if (op.frozen && at >= op.frozen[0] && at < op.frozen[1]) continue;
      op.bytes[at] = p.u32() & 0xff;
      done.push(`op${i}:byte@${at}`);
    }
  }
  return done;
}

/** The COMPOUND4args bytes of `plan`, truncated if it says so. */
export function encodePlan(p: Prng, plan: CompoundPlan): Uint8Array {
  const tagLen = (plan.tag.length + 3) & ~3;
  const headerLen = 4 + tagLen + 8;
  const total = headerLen + plan.ops.reduce((n, o) => n + o.bytes.length, 0);
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  view.setUint32(0, plan.tagLength ?? plan.tag.length);
  out.set(plan.tag, 4);
  view.setUint32(4 + tagLen, plan.minorversion >>> 0);
  view.setUint32(8 + tagLen, (plan.count ?? plan.ops.length) >>> 0);
  let at = headerLen;
  const cuts: number[] = [];
  for (const o of plan.ops) {
    out.set(o.bytes, at);
    for (const s of o.sites) cuts.push(at + s.offset, at + s.offset + 4);
    at += o.bytes.length;
  }
  if (plan.truncateAt === null) return out;
  // Cut at a field boundary mostly (right before or after a length, an arm...), else anywhere.
  const cut = cuts.length > 0 && p.chance(0.7) ? p.pick(cuts) : p.below(total);
  return out.subarray(0, Math.min(cut, total - 1));
}

/**
 * The record-marked wire form of RPC `record`: one fragment mostly, else 2..8
 * fragments (some possibly empty) whose last one carries the last-fragment bit.
 */
export function fragment(p: Prng, record: Uint8Array): Uint8Array {
  const pieces = p.chance(0.75) ? 1 : p.between(2, 8);
  const bounds = [0];
  for (let i = 1; i < pieces; i++) bounds.push(p.between(0, record.length));
  bounds.sort((a, b) => a - b);
  bounds.push(record.length);
  const out = new Uint8Array(record.length + 4 * pieces);
  const view = new DataView(out.buffer);
  let at = 0;
  for (let i = 0; i < pieces; i++) {
    const len = bounds[i + 1]! - bounds[i]!;
    view.setUint32(at, (i === pieces - 1 ? 0x80000000 : 0) + len);
    out.set(record.subarray(bounds[i]!, bounds[i + 1]!), at + 4);
    at += 4 + len;
  }
  return out;
}

/** Splits wire bytes into 1..4 socket writes at random points. */
export function writeChunks(p: Prng, wire: Uint8Array): Uint8Array[] {
  if (p.chance(0.8)) return [wire];
  const n = p.between(2, 4);
  const cuts = Array.from({ length: n - 1 }, () => p.between(1, wire.length - 1)).sort(
    (a, b) => a - b,
  );
  const out: Uint8Array[] = [];
  let from = 0;
  for (const c of [...cuts, wire.length]) {
    if (c > from) out.push(wire.subarray(from, c));
    from = c;
  }
  return out;
}

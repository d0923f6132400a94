// fattr4 encoding for GETATTR and READDIR (RFC 8881 §5, §18.7): the reply
// carries exactly the requested attributes that are supported (and have a
// value for the object), their values concatenated in ascending attribute
// order in attr_vals.

import {
  FATTR4_RDATTR_ERROR,
  encodebitmap4,
  encodefattr4,
  encodefattr4_rdattr_error,
  type bitmap4,
  type fattr4,
  type nfsstat4,
} from "../../../generated/nfs4/index.js";
import { XdrWriter } from "../../xdr/index.js";
import { bitmapOf, bitsOf, intersect, isEmpty, sameWords } from "../../protocol/bitmap.js";
import {
  ATTR_BY_BIT,
  STATS_ATTRS,
  WRITE_ONLY_ATTRS,
  type AttrDef,
  type AttrSource,
} from "./table.js";

// One scratch writer for every call: encodeAttrs never awaits, so calls cannot
// interleave, and toBytes() hands out a copy.
const scratch = new XdrWriter(1024);

type AttrWriter = NonNullable<AttrDef["write"]>;

/**
 * What answering one attribute request takes: the supported, readable
 * attributes it names, in order. READDIR asks the same for every entry, so
 * the last request's plan is kept (compared by value: callers may reuse arrays).
 */
interface AttrPlan {
  readonly requested: readonly number[];
  readonly bits: readonly number[];
  readonly writers: readonly AttrWriter[];
  /** The attrmask when every planned attribute has a value, shared by the replies that have them all. */
  readonly full: bitmap4;
}

let lastPlan: AttrPlan | null = null;

function planFor(requested: bitmap4): AttrPlan {
  const last = lastPlan;
  if (last !== null && sameWords(last.requested, requested)) return last;
  const bits: number[] = [];
  const writers: AttrWriter[] = [];
  for (const bit of bitsOf(requested)) {
    const write = ATTR_BY_BIT[bit]?.write;
    if (write == null) continue;
    bits.push(bit);
    writers.push(write);
  }
  const full = bitmapOf(bits);
  // Shared by many results: a change to one would change them all.
  Object.freeze(full);
  const plan = { requested: [...requested], bits, writers, full };
  lastPlan = plan;
  return plan;
}

/**
 * The fattr4 answering `requested` for one object. Its attrmask may be shared
 * with other results (frozen): replies only encode it.
 */
export function encodeAttrs(requested: bitmap4, src: AttrSource): fattr4 {
  const plan = planFor(requested);
  scratch.reset();
  const { bits, writers } = plan;
  // The attributes that had a value, collected only once one had none.
  let present: number[] | null = null;
  for (let i = 0; i < writers.length; i++) {
    if (writers[i]!(scratch, src)) present?.push(bits[i]!);
    else present ??= bits.slice(0, i);
  }
  return {
    attrmask: present === null ? plan.full : bitmapOf(present),
    attr_vals: scratch.toBytes(),
  };
}

/**
 * Writes the fattr4 answering `requested` for one object straight into `w`,
 * the same bytes as encodefattr4(w, encodeAttrs(requested, src)) without the
 * intermediate fattr4 (READDIR writes thousands of entries a listing). The
 * values are written in place behind the full attrmask; should an attribute
 * have no value, they are taken back and written through encodeAttrs, whose
 * attrmask leaves it out.
 */
export function writeAttrs(w: XdrWriter, requested: bitmap4, src: AttrSource): void {
  const plan = planFor(requested);
  const start = w.length;
  encodebitmap4(w, plan.full);
  const lengthAt = w.reserve(4);
  const { writers } = plan;
  for (let i = 0; i < writers.length; i++) {
    if (!writers[i]!(w, src)) {
      w.truncate(start);
      encodefattr4(w, encodeAttrs(requested, src));
      return;
    }
  }
  // Every attribute value is XDR, a multiple of 4 bytes: attr_vals needs no padding.
  w.patchUint(lengthAt, w.length - lengthAt - 4);
}

/**
 * A READDIR entry's attributes when they could not be read but rdattr_error
 * was requested: that attribute alone, holding the error (RFC 8881 §18.23.3).
 */
export function rdattrErrorAttrs(error: nfsstat4): fattr4 {
  scratch.reset();
  encodefattr4_rdattr_error(scratch, error);
  return { attrmask: bitmapOf([FATTR4_RDATTR_ERROR]), attr_vals: scratch.toBytes() };
}

/** True when answering `requested` needs the statfs figures (AttrSource.stats). */
export function needsStats(requested: bitmap4): boolean {
  return !isEmpty(intersect(requested, STATS_ATTRS));
}

/** True when `requested` names a write-only attribute: GETATTR/READDIR answer NFS4ERR_INVAL. */
export function requestsWriteOnly(requested: bitmap4): boolean {
  return !isEmpty(intersect(requested, WRITE_ONLY_ATTRS));
}

/** Bytes `f` takes on the wire: the bitmap (count + words) and the counted, padded values. */
export function fattr4Size(f: fattr4): number {
  return 4 + 4 * f.attrmask.length + 4 + ((f.attr_vals.length + 3) & ~3);
}

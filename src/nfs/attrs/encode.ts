// fattr4 encoding for GETATTR and READDIR (RFC 8881 §5, §18.7): the reply
// carries exactly the requested attributes that are supported (and have a
// value for the object), their values concatenated in ascending attribute
// order in attr_vals.

import {
  FATTR4_RDATTR_ERROR,
  encodefattr4_rdattr_error,
  type bitmap4,
  type fattr4,
  type nfsstat4,
} from "../../../generated/nfs4/index.js";
import { XdrWriter } from "../../xdr/index.js";
import { bitmapOf, bitsOf, intersect, isEmpty } from "../../protocol/bitmap.js";
import { ATTR_BY_BIT, STATS_ATTRS, WRITE_ONLY_ATTRS, type AttrSource } from "./table.js";

// One scratch writer for every call: encodeAttrs never awaits, so calls cannot
// interleave, and toBytes() hands out a copy.
const scratch = new XdrWriter(1024);

/** The fattr4 answering `requested` for one object. */
export function encodeAttrs(requested: bitmap4, src: AttrSource): fattr4 {
  scratch.reset();
  const present: number[] = [];
  for (const bit of bitsOf(requested)) {
    const write = ATTR_BY_BIT[bit]?.write;
    if (write != null && write(scratch, src)) present.push(bit);
  }
  return { attrmask: bitmapOf(present), attr_vals: scratch.toBytes() };
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

// fattr4 on the client's side (RFC 8881 §3.3.3, §5): bitmap4 helpers and the
// decoding of the attributes a client commonly asks for (READDIR listings,
// CB_NOTIFY's ne_attrs). fattr4 values are packed in ascending bit order with
// no lengths, so decoding stops at the first attribute this table does not
// know: its size is unknown. Those attributes are reported by number in
// `undecoded` rather than guessed at.

import type { fattr4, nfstime4 } from "../../generated/nfs4/index.js";
import { bitsOf } from "../protocol/bitmap.js";

export { bitmapOf, bitsOf } from "../protocol/bitmap.js";
import {
  FATTR4_CHANGE,
  FATTR4_FILEID,
  FATTR4_LEASE_TIME,
  FATTR4_MODE,
  FATTR4_NUMLINKS,
  FATTR4_OWNER,
  FATTR4_OWNER_GROUP,
  FATTR4_SIZE,
  FATTR4_SPACE_USED,
  FATTR4_TIME_ACCESS,
  FATTR4_TIME_METADATA,
  FATTR4_TIME_MODIFY,
  FATTR4_TYPE,
  decodefattr4_change,
  decodefattr4_fileid,
  decodefattr4_lease_time,
  decodefattr4_mode,
  decodefattr4_numlinks,
  decodefattr4_owner,
  decodefattr4_owner_group,
  decodefattr4_size,
  decodefattr4_space_used,
  decodefattr4_time_access,
  decodefattr4_time_metadata,
  decodefattr4_time_modify,
  decodefattr4_type,
} from "../../generated/nfs4/index.js";
import { XdrReader } from "../xdr/index.js";

/** The attributes the client decodes, by the names its API uses. */
export interface Attributes {
  type?: number;
  change?: bigint;
  size?: bigint;
  fileid?: bigint;
  leaseTime?: number;
  mode?: number;
  numlinks?: number;
  owner?: string;
  ownerGroup?: string;
  spaceUsed?: bigint;
  timeAccess?: nfstime4;
  timeMetadata?: nfstime4;
  timeModify?: nfstime4;
  /** Attributes present in the fattr4 that this client could not decode (numbers, ascending). */
  undecoded?: number[];
}

export type AttributeName = Exclude<keyof Attributes, "undecoded">;

const utf8 = new TextDecoder();

/** One decodable attribute: its number and how its value lands in Attributes. */
interface AttrDef {
  readonly bit: number;
  readonly decode: (r: XdrReader, into: Attributes) => void;
}

const TABLE: Readonly<Record<AttributeName, AttrDef>> = {
  type: { bit: FATTR4_TYPE, decode: (r, a) => (a.type = decodefattr4_type(r)) },
  change: { bit: FATTR4_CHANGE, decode: (r, a) => (a.change = decodefattr4_change(r)) },
  size: { bit: FATTR4_SIZE, decode: (r, a) => (a.size = decodefattr4_size(r)) },
  leaseTime: {
    bit: FATTR4_LEASE_TIME,
    decode: (r, a) => (a.leaseTime = decodefattr4_lease_time(r)),
  },
  fileid: { bit: FATTR4_FILEID, decode: (r, a) => (a.fileid = decodefattr4_fileid(r)) },
  mode: { bit: FATTR4_MODE, decode: (r, a) => (a.mode = decodefattr4_mode(r)) },
  numlinks: { bit: FATTR4_NUMLINKS, decode: (r, a) => (a.numlinks = decodefattr4_numlinks(r)) },
  owner: { bit: FATTR4_OWNER, decode: (r, a) => (a.owner = utf8.decode(decodefattr4_owner(r))) },
  ownerGroup: {
    bit: FATTR4_OWNER_GROUP,
    decode: (r, a) => (a.ownerGroup = utf8.decode(decodefattr4_owner_group(r))),
  },
  spaceUsed: {
    bit: FATTR4_SPACE_USED,
    decode: (r, a) => (a.spaceUsed = decodefattr4_space_used(r)),
  },
  timeAccess: {
    bit: FATTR4_TIME_ACCESS,
    decode: (r, a) => (a.timeAccess = decodefattr4_time_access(r)),
  },
  timeMetadata: {
    bit: FATTR4_TIME_METADATA,
    decode: (r, a) => (a.timeMetadata = decodefattr4_time_metadata(r)),
  },
  timeModify: {
    bit: FATTR4_TIME_MODIFY,
    decode: (r, a) => (a.timeModify = decodefattr4_time_modify(r)),
  },
};

/** The names of the attributes the client decodes. */
export const ATTRIBUTE_NAMES: readonly AttributeName[] = Object.keys(TABLE).filter(
  (k): k is AttributeName => k in TABLE,
);

const BY_BIT: ReadonlyMap<number, AttrDef> = new Map(Object.values(TABLE).map((d) => [d.bit, d]));

/** True when `name` is one of ATTRIBUTE_NAMES. */
export function isAttributeName(name: string): name is AttributeName {
  return name in TABLE;
}

/** The attribute number of `name` (RFC 8881 §5.6, §5.7). */
export function attributeBit(name: AttributeName): number {
  return TABLE[name].bit;
}

/**
 * Decodes `f` as far as the table allows. Throws XdrError when a value is
 * truncated or bytes are left over after every attribute was decoded.
 */
export function decodeAttributes(f: fattr4): Attributes {
  const out: Attributes = {};
  const r = new XdrReader(f.attr_vals);
  const bits = bitsOf(f.attrmask);
  for (let i = 0; i < bits.length; i++) {
    const def = BY_BIT.get(bits[i]!);
    if (def === undefined) {
      out.undecoded = bits.slice(i);
      return out;
    }
    def.decode(r, out);
  }
  r.assertDone();
  return out;
}

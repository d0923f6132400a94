// fattr4 decoding for the operations that carry attributes to set (SETATTR,
// OPEN and CREATE of the next issue). Only settable attributes decode; per
// RFC 8881 §18.30.3 an unsupported attribute is NFS4ERR_ATTRNOTSUPP, a
// supported read-only one NFS4ERR_INVAL, and values that do not parse (or
// bytes left over) NFS4ERR_BADXDR.

import {
  FATTR4_MODE,
  FATTR4_OWNER,
  FATTR4_OWNER_GROUP,
  FATTR4_SIZE,
  FATTR4_TIME_ACCESS_SET,
  FATTR4_TIME_MODIFY_SET,
  MODE4_SUID,
  decodefattr4_mode,
  decodefattr4_owner,
  decodefattr4_owner_group,
  decodefattr4_size,
  decodefattr4_time_access_set,
  decodefattr4_time_modify_set,
  nfsstat4,
  time_how4,
  type bitmap4,
  type fattr4,
  type settime4,
} from "../../../generated/nfs4/index.js";
import type { NfsErrorStatus, SetAttributes, TimeToSet } from "../../fs/backend.js";
import { XdrError, XdrReader } from "../../xdr/index.js";
import { bitmapOf, bitsOf } from "../../protocol/bitmap.js";
import { ATTR_BY_BIT } from "./table.js";

/** The settable attributes of a fattr4, as the client sent them. */
export interface SettableAttrs {
  mode?: number;
  /** owner / owner_group as sent; map them with numericId() (or an idmapper later). */
  owner?: string;
  ownerGroup?: string;
  size?: bigint;
  atime?: TimeToSet;
  mtime?: TimeToSet;
}

export type DecodedAttrs =
  | { readonly ok: true; readonly attrs: SettableAttrs; readonly attrsset: bitmap4 }
  | { readonly ok: false; readonly status: NfsErrorStatus };

/** All mode bits: permissions plus set-uid, set-gid and sticky. */
const MODE_BITS = (MODE4_SUID << 1) - 1;
const NS_PER_SECOND = 1_000_000_000;

const strictUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

class BadValue extends Error {
  constructor(readonly status: NfsErrorStatus) {
    super();
  }
}

function text(bytes: Uint8Array): string {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    throw new BadValue(nfsstat4.NFS4ERR_INVAL);
  }
}

function timeToSet(v: settime4): TimeToSet {
  if (v.set_it !== time_how4.SET_TO_CLIENT_TIME4) return "now";
  if (v.time.nseconds >= NS_PER_SECOND) throw new BadValue(nfsstat4.NFS4ERR_INVAL);
  return { seconds: v.time.seconds, nseconds: v.time.nseconds };
}

/** Decodes the settable attributes of `f`. */
export function decodeAttrs(f: fattr4): DecodedAttrs {
  const bits = bitsOf(f.attrmask);
  for (const bit of bits) {
    const def = ATTR_BY_BIT[bit];
    if (def === undefined) return { ok: false, status: nfsstat4.NFS4ERR_ATTRNOTSUPP };
    if (!def.settable) return { ok: false, status: nfsstat4.NFS4ERR_INVAL };
  }
  const r = new XdrReader(f.attr_vals);
  const attrs: SettableAttrs = {};
  try {
    for (const bit of bits) {
      switch (bit) {
        case FATTR4_SIZE:
          attrs.size = decodefattr4_size(r);
          break;
        case FATTR4_MODE: {
          const mode = decodefattr4_mode(r);
          if ((mode & ~MODE_BITS) !== 0) throw new BadValue(nfsstat4.NFS4ERR_INVAL);
          attrs.mode = mode;
          break;
        }
        case FATTR4_OWNER:
          attrs.owner = text(decodefattr4_owner(r));
          break;
        case FATTR4_OWNER_GROUP:
          attrs.ownerGroup = text(decodefattr4_owner_group(r));
          break;
        case FATTR4_TIME_ACCESS_SET:
          attrs.atime = timeToSet(decodefattr4_time_access_set(r));
          break;
        case FATTR4_TIME_MODIFY_SET:
          attrs.mtime = timeToSet(decodefattr4_time_modify_set(r));
          break;
        default:
          // The table marks an attribute settable that this switch cannot decode.
          throw new Error(`decodeAttrs: no decoder for settable attribute ${bit}`);
      }
    }
    r.assertDone();
  } catch (e) {
    if (e instanceof BadValue) return { ok: false, status: e.status };
    if (e instanceof XdrError) return { ok: false, status: nfsstat4.NFS4ERR_BADXDR };
    throw e;
  }
  return { ok: true, attrs, attrsset: bitmapOf(bits) };
}

/** Largest uid/gid: ids are 32-bit. */
const MAX_ID = 0xffff_ffff;

/**
 * A numeric owner string ("0", "1000") as an id, or null when `s` is not one
 * (then the caller answers NFS4ERR_BADOWNER). Leading zeros and signs are
 * refused so each id has exactly one spelling, as the reply spells it.
 */
export function numericId(s: string): number | null {
  if (!/^(0|[1-9][0-9]{0,9})$/.test(s)) return null;
  const n = Number(s);
  return n <= MAX_ID ? n : null;
}

/**
 * The backend's SetAttributes for decoded attributes: owner and owner_group
 * become ids (NFS4ERR_BADOWNER for strings that are not numeric ids, the only
 * form this server speaks under AUTH_SYS). No permission checks: see
 * authorizeSetattr() in fs/permission.ts.
 */
export function toSetAttributes(
  attrs: SettableAttrs,
):
  | { readonly ok: true; readonly attrs: SetAttributes }
  | { readonly ok: false; readonly status: NfsErrorStatus } {
  const { mode, owner, ownerGroup, size, atime, mtime } = attrs;
  const uid = owner === undefined ? undefined : numericId(owner);
  const gid = ownerGroup === undefined ? undefined : numericId(ownerGroup);
  if (uid === null || gid === null) return { ok: false, status: nfsstat4.NFS4ERR_BADOWNER };
  const out: { -readonly [K in keyof SetAttributes]: SetAttributes[K] } = {};
  if (mode !== undefined) out.mode = mode;
  if (uid !== undefined) out.uid = uid;
  if (gid !== undefined) out.gid = gid;
  if (size !== undefined) out.size = size;
  if (atime !== undefined) out.atime = atime;
  if (mtime !== undefined) out.mtime = mtime;
  return { ok: true, attrs: out };
}

// Upper bounds of encoded operation results, for the reply-size check COMPOUND
// makes before each operation runs (RFC 8881 §2.10.6.4, §18.46.3). A bound
// counts the whole nfs_resop4: the 4-byte operation number and the result.
// Where the result type is bounded the generated *_MAXSIZE constant is the
// bound; elsewhere (READ, READDIR, GETATTR, …) it is computed from the
// arguments and from what this server can put in the result.

import {
  FATTR4_FS_LOCATIONS,
  FATTR4_OPEN_ARGUMENTS,
  FATTR4_OWNER,
  FATTR4_OWNER_GROUP,
  FATTR4_RDATTR_ERROR,
  FATTR4_SUPPATTR_EXCLCREAT,
  FATTR4_SUPPORTED_ATTRS,
  encodefattr4_open_arguments,
  nfs4Types,
  stateid4_MAXSIZE,
  type bitmap4,
} from "../../../generated/nfs4/index.js";
import {
  ATTRS,
  OPEN_ARGUMENTS,
  SUPPATTR_EXCLCREAT,
  SUPPORTED_ATTRS,
  hasBit,
} from "../attrs/index.js";
import { XdrWriter } from "../../xdr/index.js";
import type { CompoundState } from "../context.js";

/**
 * Opaque data of at least this many bytes in a reply (READ data, large
 * attributes, READDIR's entries) goes to the socket as its own piece, by
 * reference, instead of being copied into the reply (compound.ts).
 */
export const REPLY_GATHER_FROM = 4096;

/** The operation number in front of every result (nfs_resop4's discriminant). */
export const RESOP_SIZE = 4;

/** An nfs_resop4 carrying only a status: what every failed operation answers. */
export const STATUS_ONLY_SIZE = RESOP_SIZE + 4;

/** The bound of an operation whose result type has a generated *_MAXSIZE. */
export function fixed(resultMaxSize: number): () => number {
  const bound = RESOP_SIZE + resultMaxSize;
  return () => bound;
}

/** An operation that only ever answers with a status (NOTSUPP, INVAL, OK). */
export const statusOnly = fixed(4);

/** XDR length of `n` opaque bytes with their length word. */
export function opaqueSize(n: number): number {
  return 4 + ((n + 3) & ~3);
}

/** A bitmap4 holding at most the attributes this server supports. */
export const SUPPORTED_BITMAP_SIZE = 4 + 4 * SUPPORTED_ATTRS.length;

/**
 * Largest symbolic-link target READLINK returns: PATH_MAX, which is also the
 * Linux limit on a symlink's target. The backend interface has no capability
 * for it yet; a longer target would be caught by COMPOUND's final check.
 */
export const MAX_SYMLINK_BYTES = 4096;

/**
 * The largest open_delegation4 OPEN and WANT_DELEGATION answer: a write
 * delegation (type, stateid, recall, a size space limit, and an ACE with an
 * empty name, as delegations.ts grants them).
 */
export const DELEGATION_BOUND = 4 + stateid4_MAXSIZE + 4 + (4 + 8) + (4 + 4 + 4 + 4);

/** open_arguments is the constant OPEN_ARGUMENTS (attrs/open-arguments.ts): its exact size. */
const OPEN_ARGUMENTS_SIZE = (() => {
  const w = new XdrWriter(64);
  encodefattr4_open_arguments(w, OPEN_ARGUMENTS);
  return w.toBytes().length;
})();

/** owner and owner_group are decimal uids/gids: at most 10 digits (attrs/table.ts). */
const NUMERIC_NAME_SIZE = opaqueSize(10);

/**
 * Bounds of attributes whose XDR type is unbounded, for the values this
 * server produces (attrs/table.ts): bitmaps it builds, numeric names, its
 * empty fs_locations (an empty pathname4 and an empty location list), its
 * constant open_arguments.
 */
const VARIABLE_ATTR_BOUNDS: ReadonlyMap<number, number> = new Map([
  [FATTR4_SUPPORTED_ATTRS, SUPPORTED_BITMAP_SIZE],
  [FATTR4_SUPPATTR_EXCLCREAT, 4 + 4 * SUPPATTR_EXCLCREAT.length],
  [FATTR4_OWNER, NUMERIC_NAME_SIZE],
  [FATTR4_OWNER_GROUP, NUMERIC_NAME_SIZE],
  [FATTR4_FS_LOCATIONS, 8],
  [FATTR4_OPEN_ARGUMENTS, OPEN_ARGUMENTS_SIZE],
]);

/** Each readable supported attribute and the largest encoding of its value. */
const ATTR_BOUNDS: readonly (readonly [bit: number, size: number])[] = ATTRS.filter(
  (d) => d.write !== null,
).map((d) => {
  const meta = nfs4Types[`fattr4_${d.name}`];
  const size = VARIABLE_ATTR_BOUNDS.get(d.bit) ?? meta?.maxSize ?? null;
  // A new variable-size attribute needs its bound here before it can be served.
  if (size === null) throw new Error(`reply-size: no size bound for attribute ${d.name}`);
  return [d.bit, size] as const;
});

/**
 * The largest fattr4 GETATTR (or a READDIR entry) answers `requested` with:
 * a bitmap of at most the supported attributes and the values of the
 * requested supported ones (unsupported ones are left out).
 */
export function fattr4Bound(requested: bitmap4): number {
  let values = 0;
  for (const [bit, size] of ATTR_BOUNDS) if (hasBit(requested, bit)) values += size;
  const words = Math.min(requested.length, SUPPORTED_ATTRS.length);
  return 4 + 4 * words + 4 + values;
}

/** READDIR's rdattr_error-only attributes of an unreadable entry (readdir.ts). */
export const RDATTR_ERROR_FATTR_SIZE = 4 + 4 * (1 + (FATTR4_RDATTR_ERROR >>> 5)) + 4 + 4;

/** READ's reply: status, eof, and at most min(count, maxIoSize) bytes of data. */
export function readBound(count: number, state: CompoundState): number {
  return RESOP_SIZE + 4 + 4 + opaqueSize(Math.min(count, state.server.settings.maxIoSize));
}

// LISTXATTRS (RFC 8276, Operation 74; NFSv4.2): the keys of the current
// object's extended attributes, a page at a time. lxa_cookie 0 starts the
// listing; lxr_cookie resumes after the last key returned. lxa_maxcount
// bounds the encoded LISTXATTRS4resok (cookie, key array, eof): as many keys
// as fit are returned, and NFS4ERR_TOOSMALL when not even the next one (or
// an empty page) fits. The page is also held to what is left of the
// session's reply limit (CompoundState.replyRoom), as Linux nfsd holds it to
// its reply buffer: lxa_maxcount is an upper bound, not a promise. Read
// permission is needed (xattr-common.ts).

import { nfs_opnum4, nfsstat4, type LISTXATTRS4args } from "../../../generated/nfs4/index.js";
import type { CompoundState } from "../context.js";
import { defineOp, type OpHandler } from "../op.js";
import { capabilitiesOf } from "./common.js";
import { RESOP_SIZE, STATUS_ONLY_SIZE, opaqueSize } from "./reply-size.js";
import { xattrTarget } from "./xattr-common.js";

/** LISTXATTRS4resok without keys: the cookie, the array's length word and eof. */
const EMPTY_RESOK_BYTES = 8 + 4 + 4;

/** The fewest bytes one key takes in the array (a 1-byte key: length word and padded byte). */
const MIN_KEY_BYTES = opaqueSize(1);

/**
 * The largest resok this server sends for `maxcount`: no more than the
 * session's reply room leaves after the operation number and status, nor
 * than one object's keys can take (at most maxBytesPerObject bytes, each key
 * at least one byte, and each key's XDR — length word and padding — at most
 * MIN_KEY_BYTES times its length).
 */
function resokLimit(maxcount: number, state: CompoundState): number | null {
  const limits = capabilitiesOf(state).xattrs;
  if (limits === null) return null;
  const room = state.replyRoom === null ? Infinity : state.replyRoom - RESOP_SIZE - 4;
  return Math.max(
    0,
    Math.min(maxcount, room, EMPTY_RESOK_BYTES + MIN_KEY_BYTES * limits.maxBytesPerObject),
  );
}

export const listxattrs: OpHandler<typeof nfs_opnum4.OP_LISTXATTRS> = async (args, state) => {
  const target = await xattrTarget(state, "read");
  if ("error" in target) return { lxr_status: target.error };
  const budget = resokLimit(args.lxa_maxcount, state) ?? 0;
  if (budget < EMPTY_RESOK_BYTES) return { lxr_status: nfsstat4.NFS4ERR_TOOSMALL };
  const wanted = Math.floor((budget - EMPTY_RESOK_BYTES) / MIN_KEY_BYTES) + 1;
  const page = await state.server.fs.listxattrs(target.fh, args.lxa_cookie, wanted);
  const encoder = new TextEncoder();
  const names: Uint8Array[] = [];
  let used = EMPTY_RESOK_BYTES;
  let cookie = args.lxa_cookie;
  for (const e of page.entries) {
    const key = encoder.encode(e.name);
    if (used + opaqueSize(key.length) > budget) break;
    used += opaqueSize(key.length);
    names.push(key);
    cookie = e.cookie;
  }
  if (names.length === 0 && page.entries.length > 0)
    return { lxr_status: nfsstat4.NFS4ERR_TOOSMALL };
  const eof = page.eof && names.length === page.entries.length;
  return {
    lxr_status: nfsstat4.NFS4_OK,
    lxr_value: { lxr_cookie: cookie, lxr_names: names, lxr_eof: eof },
  };
};

function listxattrsBound(args: LISTXATTRS4args, state: CompoundState): number {
  const resok = resokLimit(args.lxa_maxcount, state);
  return resok === null ? STATUS_ONLY_SIZE : Math.max(RESOP_SIZE + 4 + resok, STATUS_ONLY_SIZE);
}

export const LISTXATTRS = defineOp({
  op: nfs_opnum4.OP_LISTXATTRS,
  handler: listxattrs,
  needsCurrentFh: true,
  minMinorVersion: 2,
  replyBound: listxattrsBound,
  nonIdempotent: false,
});

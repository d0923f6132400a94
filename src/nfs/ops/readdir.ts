// READDIR (RFC 8881 §18.23): entries of the current directory after `cookie`,
// each with the requested attributes, as many as fit the client's limits.
//
// - cookie 0 starts the listing (its verifier is ignored); 1 and 2 are
//   reserved and never handed out: NFS4ERR_BAD_COOKIE. Other cookies must come
//   with the verifier returned alongside them, else NFS4ERR_NOT_SAME; the
//   backend keeps cookies stable (backend.ts).
// - maxcount bounds the whole READDIR4resok on the wire; if not even one entry
//   fits, NFS4ERR_TOOSMALL. dircount is a hint bounding the names and cookies
//   (RFC 8881 makes 0 mean "no limit"); like Linux nfsd we always let the
//   first entry through it.
// - An entry whose attributes cannot be read gets rdattr_error alone when the
//   client asked for rdattr_error; otherwise the whole READDIR fails with it.
// - "." and ".." are never returned (backends do not list them).

import {
  FATTR4_RDATTR_ERROR,
  nfs_ftype4,
  nfs_opnum4,
  nfsstat4,
  type READDIR4args,
  type READDIR4res,
  type entry4,
  type fattr4,
} from "../../../generated/nfs4/index.js";
import { MAY_READ, mayAccess } from "../../fs/permission.js";
import {
  encodeAttrs,
  fattr4Size,
  hasBit,
  needsStats,
  rdattrErrorAttrs,
  requestsWriteOnly,
} from "../attrs/index.js";
import type { CompoundState } from "../context.js";
import type { FsStats } from "../../fs/backend.js";
import { reachable } from "../export-access.js";
import { defineOp, type OpHandler } from "../op.js";
import { attrSource, currentFh } from "./common.js";
import {
  RDATTR_ERROR_FATTR_SIZE,
  RESOP_SIZE,
  STATUS_ONLY_SIZE,
  fattr4Bound,
} from "./reply-size.js";

/** READDIR4resok without entries: cookieverf (8), no-more-entries (4), eof (4). */
const EMPTY_RESOK_BYTES = 16;
/** The smallest entry: value-follows (4), cookie (8), a 1-byte name (4+4), empty fattr4 (4+4). */
const MIN_ENTRY_BYTES = 28;
/** value-follows (4) + cookie (8) + name length (4), before the padded name and the attributes. */
const ENTRY_FIXED_BYTES = 16;
/** What an entry costs against dircount beyond its padded name: the cookie (as Linux nfsd counts). */
const DIRCOUNT_COOKIE_BYTES = 8;
/**
 * Entries asked of the backend first; each further page asks twice as many.
 * maxcount alone would allow thousands of the smallest entries, but an entry
 * with attributes takes about 100 bytes, so asking for all at once read and
 * built most entries only to drop them (the kernel-client benchmark's ls -l:
 * three READDIRs of 19 ms each over 1000 files, 2026-12-02).
 */
const FIRST_PAGE_ENTRIES = 64;

function padded(n: number): number {
  return (n + 3) & ~3;
}

export const readdir: OpHandler<typeof nfs_opnum4.OP_READDIR> = async (args, state) => {
  const dir = currentFh(state);
  const { cookie, cookieverf, dircount, maxcount, attr_request } = args;
  const { fs, settings } = state.server;
  const dirAttrs = await fs.getattr(dir);
  if (dirAttrs.type !== nfs_ftype4.NF4DIR) return { status: nfsstat4.NFS4ERR_NOTDIR };
  if (!mayAccess(dirAttrs, state.cred, MAY_READ)) return { status: nfsstat4.NFS4ERR_ACCESS };
  if (requestsWriteOnly(attr_request)) return { status: nfsstat4.NFS4ERR_INVAL };
  if (cookie === 1n || cookie === 2n) return { status: nfsstat4.NFS4ERR_BAD_COOKIE };
  if (maxcount < EMPTY_RESOK_BYTES) return { status: nfsstat4.NFS4ERR_TOOSMALL };

  // Ask for no more entries than could possibly fit (one more, so that an
  // empty directory is told apart from a maxcount too small for any entry).
  const fitting = Math.floor((maxcount - EMPTY_RESOK_BYTES) / MIN_ENTRY_BYTES) + 1;
  const maxEntries = Math.min(settings.maxReaddirEntries, fitting);
  const wantsError = hasBit(attr_request, FATTR4_RDATTR_ERROR);

  const entries: entry4[] = [];
  let bytes = EMPTY_RESOK_BYTES;
  let dirBytes = 0;
  // The reply's verifier: the first page's (cookies are the backend's, valid across its pages).
  let replyVerifier: Uint8Array | null = null;
  let stats: FsStats | undefined;
  let eof = false;
  let next = { cookie, verifier: cookieverf };
  // Pages of growing size until the reply is full, the directory ends or maxEntries is reached.
  for (let ask = Math.min(maxEntries, FIRST_PAGE_ENTRIES); ;) {
    const page = await fs.readdir(dir, next.cookie, next.verifier, { maxEntries: ask });
    replyVerifier ??= page.verifier;
    // Left out: exports of the pseudo-filesystem whose client list leaves this client out
    // (export-access.ts). A page that loses every entry is followed by the next.
    const visible = page.entries.filter((e) => !e.ok || reachable(state, e.handle));
    if (stats === undefined && visible.length > 0 && needsStats(attr_request))
      stats = await fs.statfs(dir);
    for (const e of visible) {
      // Buffer.from: small strings come from Node's pool, cheaper than TextEncoder's new array.
      const name = Buffer.from(e.name, "utf8");
      let attrs: fattr4;
      if (e.ok) {
        attrs = encodeAttrs(attr_request, attrSource(state, e.handle, e.attrs, stats));
      } else if (wantsError) {
        attrs = rdattrErrorAttrs(e.error);
      } else {
        return { status: e.error };
      }
      const entryBytes = ENTRY_FIXED_BYTES + padded(name.length) + fattr4Size(attrs);
      const entryDirBytes = DIRCOUNT_COOKIE_BYTES + padded(name.length);
      const overDircount =
        dircount > 0 && entries.length > 0 && dirBytes + entryDirBytes > dircount;
      if (bytes + entryBytes > maxcount || overDircount) {
        if (entries.length === 0) return { status: nfsstat4.NFS4ERR_TOOSMALL };
        return replyOf(entries, replyVerifier, false);
      }
      bytes += entryBytes;
      dirBytes += entryDirBytes;
      entries.push({ cookie: e.cookie, name, attrs });
    }
    const last = page.entries.at(-1);
    if (page.eof || last === undefined) {
      eof = page.eof;
      break;
    }
    const room = maxEntries - entries.length;
    if (room <= 0) break;
    next = { cookie: last.cookie, verifier: page.verifier };
    ask = Math.min(room, ask * 2);
  }
  return replyOf(entries, replyVerifier, eof);
};

function replyOf(entries: entry4[], verifier: Uint8Array, eof: boolean): READDIR4res {
  return { status: nfsstat4.NFS4_OK, resok4: { cookieverf: verifier, reply: { entries, eof } } };
}

/**
 * The reply is at most maxcount bytes of READDIR4resok (the handler stops
 * before an entry that would pass it), and at most maxReaddirEntries of the
 * largest entry this server can make: a name of maxNameBytes and the
 * requested attributes (or rdattr_error alone).
 */
function readdirBound(args: READDIR4args, state: CompoundState): number {
  const { settings, fs } = state.server;
  const attrs = Math.max(fattr4Bound(args.attr_request), RDATTR_ERROR_FATTR_SIZE);
  const entry = ENTRY_FIXED_BYTES + padded(fs.capabilities.maxNameBytes) + attrs;
  const resok = Math.min(args.maxcount, EMPTY_RESOK_BYTES + settings.maxReaddirEntries * entry);
  return Math.max(RESOP_SIZE + 4 + resok, STATUS_ONLY_SIZE);
}

export const READDIR = defineOp({
  op: nfs_opnum4.OP_READDIR,
  handler: readdir,
  needsCurrentFh: true,
  replyBound: readdirBound,
  nonIdempotent: false,
});

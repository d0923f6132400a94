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
  encodefattr4,
  nfs_ftype4,
  nfs_opnum4,
  nfsstat4,
  type READDIR4args,
} from "../../../generated/nfs4/index.js";
import { MAY_READ, mayAccess } from "../../fs/permission.js";
import type { FileAttributes, NfsErrorStatus } from "../../fs/backend.js";
import { XdrWriter } from "../../xdr/index.js";
import { ioBuffers } from "../../xdr/io-buffers.js";
import {
  hasBit,
  needsStats,
  rdattrErrorAttrs,
  requestsWriteOnly,
  writeAttrs,
  type AttrSource,
} from "../attrs/index.js";
import type { CompoundState } from "../context.js";
import { reachable } from "../export-access.js";
import { defineOp, type OpHandler } from "../op.js";
import { capabilitiesOf, currentFh } from "./common.js";
import { EncodedDirlist, encodeReaddirResult } from "./readdir-entries.js";
import {
  RDATTR_ERROR_FATTR_SIZE,
  REPLY_GATHER_FROM,
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
/** A READDIR's own entries buffer (no lent one) starts this large, or at maxcount. */
const FIRST_BUFFER_BYTES = 16 * 1024;
/** component4 is an unbounded opaque in the spec; the backend already bounds names. */
const ANY_LENGTH = 0xffffffff;

function padded(n: number): number {
  return (n + 3) & ~3;
}

export const readdir: OpHandler<typeof nfs_opnum4.OP_READDIR> = async (args, state) => {
  const dir = currentFh(state);
  const { cookie, maxcount, attr_request } = args;
  const dirAttrs = await state.server.fs.getattr(dir);
  if (dirAttrs.type !== nfs_ftype4.NF4DIR) return { status: nfsstat4.NFS4ERR_NOTDIR };
  if (!mayAccess(dirAttrs, state.cred, MAY_READ)) return { status: nfsstat4.NFS4ERR_ACCESS };
  if (requestsWriteOnly(attr_request)) return { status: nfsstat4.NFS4ERR_INVAL };
  if (cookie === 1n || cookie === 2n) return { status: nfsstat4.NFS4ERR_BAD_COOKIE };
  if (maxcount < EMPTY_RESOK_BYTES) return { status: nfsstat4.NFS4ERR_TOOSMALL };

  // The entries are written as XDR as they are admitted (readdir-entries.ts).
  // A reply that may be as long as one of the I/O buffer pool's buffers (the
  // clients' usual maxcount is their rsize) is written into a buffer lent by
  // the pool, which the connection's RecordWriter gives back once the reply
  // is written: a fresh buffer for each READDIR was external memory V8
  // answered with a full collection every few listings. Entries short enough
  // to be copied into the reply are copied out of it, and it goes back at
  // once. A smaller maxcount gets a buffer of its own that grows as needed:
  // no READDIR holds more than about twice its maxcount.
  const lent = ioBuffers.lends(Math.min(maxcount, ioBuffers.bufferSize))
    ? ioBuffers.take(ioBuffers.bufferSize)
    : null;
  const out =
    lent === null
      ? new XdrWriter(Math.min(maxcount, FIRST_BUFFER_BYTES))
      : new XdrWriter(0, { buffer: lent });
  let lentToReply = false;
  try {
    const written = await writeEntries(out, args, state, dirAttrs);
    if (typeof written === "number") return { status: written };
    const encoded = out.length >= REPLY_GATHER_FROM ? out.finish() : out.toBytes();
    // The reply refers to the lent buffer (unless the entries outgrew it).
    lentToReply = encoded.buffer === lent?.buffer;
    const reply = new EncodedDirlist(encoded, written.count, written.eof);
    return { status: nfsstat4.NFS4_OK, resok4: { cookieverf: written.verifier, reply } };
  } finally {
    if (lent !== null && !lentToReply) ioBuffers.release(lent);
  }
};

/** What writeEntries wrote: how many entries, whether the directory ends there, the cookie verifier. */
interface WrittenEntries {
  readonly count: number;
  readonly eof: boolean;
  readonly verifier: Uint8Array;
}

/**
 * Writes the entries of the current directory after args.cookie into `out`,
 * each as it comes from the backend, as many as fit maxcount, dircount and
 * maxReaddirEntries (an entry that does not fit is taken back); or the status
 * the READDIR fails with.
 */
async function writeEntries(
  out: XdrWriter,
  args: READDIR4args,
  state: CompoundState,
  dirAttrs: FileAttributes,
): Promise<WrittenEntries | NfsErrorStatus> {
  const dir = currentFh(state);
  const { cookie, cookieverf, dircount, maxcount, attr_request } = args;
  const { fs, settings, exports } = state.server;
  // Ask for no more entries than could possibly fit (one more, so that an
  // empty directory is told apart from a maxcount too small for any entry).
  const fitting = Math.floor((maxcount - EMPTY_RESOK_BYTES) / MIN_ENTRY_BYTES) + 1;
  const maxEntries = Math.min(settings.maxReaddirEntries, fitting);
  const wantsError = hasBit(attr_request, FATTR4_RDATTR_ERROR);
  // Outside the pseudo-filesystem every entry is in the directory's export:
  // its capabilities and whether this client may see it are the directory's.
  const shared = exports.entriesShareExport(dir);
  const sharedCaps = shared ? capabilitiesOf(state, dir) : null;
  const sharedVisible = shared ? reachable(state, dir) : true;
  // One attribute source, refilled per entry (the attribute writers keep nothing).
  const src: { -readonly [K in keyof AttrSource]: AttrSource[K] } = {
    handle: dir,
    attrs: dirAttrs,
    caps: sharedCaps ?? capabilitiesOf(state, dir),
    settings,
    stats: undefined,
  };
  let count = 0;
  let bytes = EMPTY_RESOK_BYTES;
  let dirBytes = 0;
  // The reply's verifier: the first page's (cookies are the backend's, valid across its pages).
  let verifier: Uint8Array | null = null;
  let next = { cookie, verifier: cookieverf };
  // Pages of growing size until the reply is full, the directory ends or maxEntries is reached.
  for (let ask = Math.min(maxEntries, FIRST_PAGE_ENTRIES); ;) {
    const page = await fs.readdir(dir, next.cookie, next.verifier, { maxEntries: ask });
    verifier ??= page.verifier;
    // Left out: exports of the pseudo-filesystem whose client list leaves this client out
    // (export-access.ts). A page that loses every entry is followed by the next.
    const visible = shared
      ? sharedVisible
        ? page.entries
        : page.entries.filter((e) => !e.ok)
      : page.entries.filter((e) => !e.ok || reachable(state, e.handle));
    if (src.stats === undefined && visible.length > 0 && needsStats(attr_request))
      src.stats = await fs.statfs(dir);
    for (const e of visible) {
      if (!e.ok && !wantsError) return e.error;
      const mark = out.length;
      out.writeBool(true);
      out.writeUhyper(e.cookie);
      out.writeString(e.name, ANY_LENGTH);
      const nameBytes = out.length - mark - ENTRY_FIXED_BYTES;
      if (e.ok) {
        src.handle = e.handle;
        src.attrs = e.attrs;
        src.caps = sharedCaps ?? capabilitiesOf(state, e.handle);
        writeAttrs(out, attr_request, src);
      } else {
        encodefattr4(out, rdattrErrorAttrs(e.error));
      }
      const entryBytes = out.length - mark;
      const entryDirBytes = DIRCOUNT_COOKIE_BYTES + padded(nameBytes);
      const overDircount = dircount > 0 && count > 0 && dirBytes + entryDirBytes > dircount;
      if (bytes + entryBytes > maxcount || overDircount) {
        if (count === 0) return nfsstat4.NFS4ERR_TOOSMALL;
        out.truncate(mark);
        return { count, eof: false, verifier };
      }
      bytes += entryBytes;
      dirBytes += entryDirBytes;
      count++;
    }
    const last = page.entries.at(-1);
    if (page.eof || last === undefined) return { count, eof: page.eof, verifier };
    if (count >= maxEntries) return { count, eof: false, verifier };
    next = { cookie: last.cookie, verifier: page.verifier };
    ask = Math.min(maxEntries - count, ask * 2);
  }
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
  encodeResult: encodeReaddirResult,
});

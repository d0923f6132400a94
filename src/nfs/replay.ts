// The replay cache's wire side (RFC 8881 §2.10.6.1.3, §18.46.3): what a slot
// keeps of an encoded COMPOUND4res, and how a retry's reply is rebuilt from it.
// The slot keeps the COMPOUND status, the result count and the encoded results
// after SEQUENCE; on replay the header is encoded with the retry's tag and a
// SEQUENCE result computed now (current status flags and slot limits), then
// the cached bytes follow.

import type { nfs_resop4, SEQUENCE4res } from "../../generated/nfs4/index.js";
import { encodenfs_resop4, nfs_opnum4 } from "../../generated/nfs4/index.js";
import type { CachedReply } from "../state/slot-table.js";
import { XdrWriter } from "../xdr/index.js";

/** Bytes [from, to) of a reply in pieces, as a new array that owns its memory. */
export function copyRange(pieces: readonly Uint8Array[], from: number, to: number): Uint8Array {
  const out = new Uint8Array(Math.max(0, to - from));
  let at = 0; // offset of the current piece in the reply
  for (const p of pieces) {
    const start = Math.max(from, at);
    const end = Math.min(to, at + p.length);
    if (start < end) out.set(p.subarray(start - at, end - at), start - from);
    at += p.length;
    if (at >= to) break;
  }
  return out;
}

function uintAt(pieces: readonly Uint8Array[], offset: number): number {
  const b = copyRange(pieces, offset, offset + 4);
  return new DataView(b.buffer).getUint32(0);
}

function encodedLength(res: nfs_resop4): number {
  const w = new XdrWriter(64);
  encodenfs_resop4(w, res);
  return w.length;
}

/**
 * What a slot caches of the encoded reply `pieces` of a COMPOUND with tag
 * `tag` whose first result is SEQUENCE's `sequenceResult`: an owned copy, never
 * a view into a buffer the writer may reuse.
 */
export function cachedReplyOf(
  pieces: readonly Uint8Array[],
  tag: Uint8Array,
  sequenceResult: nfs_resop4,
): CachedReply {
  const total = pieces.reduce((n, p) => n + p.length, 0);
  // COMPOUND4res: status, tag (padded), result count, then the results.
  const countAt = 4 + 4 + ((tag.length + 3) & ~3);
  const tailAt = countAt + 4 + encodedLength(sequenceResult);
  return {
    status: uintAt(pieces, 0),
    count: uintAt(pieces, countAt),
    tail: copyRange(pieces, tailAt, total),
  };
}

/** The reply to a retry: a fresh header and SEQUENCE result, then the cached results. */
export function encodeReplay(
  tag: Uint8Array,
  sequenceRes: SEQUENCE4res,
  cached: CachedReply,
): Uint8Array[] {
  const w = new XdrWriter(128 + tag.length);
  w.writeUint(cached.status);
  w.writeOpaqueVar(tag, 0xffffffff);
  w.writeUint(cached.count);
  encodenfs_resop4(w, { resop: nfs_opnum4.OP_SEQUENCE, opsequence: sequenceRes });
  const head = w.finish();
  return cached.tail.length > 0 ? [head, cached.tail] : [head];
}

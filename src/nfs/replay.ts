// The replay cache's wire side (RFC 8881 §2.10.6.1.3, §18.46.3): what a slot
// keeps of an encoded COMPOUND4res, and how a retry's reply is rebuilt from it.
// The slot keeps the COMPOUND status, the result count and the encoded results
// after SEQUENCE; on replay the header is encoded with the retry's tag and a
// SEQUENCE result computed now (current status flags and slot limits), then
// the cached bytes follow.

import type { SEQUENCE4res, nfsstat4 } from "../../generated/nfs4/index.js";
import { encodenfs_resop4, nfs_opnum4 } from "../../generated/nfs4/index.js";
import { joinResult } from "../rpc/types.js";
import type { CachedReply } from "../state/slot-table.js";
import { XdrWriter } from "../xdr/index.js";

/**
 * What a slot caches of a COMPOUND answered `status` whose results, SEQUENCE's
 * first, were encoded as `results`: the status, the count and an owned copy of
 * the results after SEQUENCE, never a view into a buffer the writer may reuse.
 */
export function cachedReplyOf(
  status: nfsstat4,
  results: readonly { readonly pieces: readonly Uint8Array[] }[],
): CachedReply {
  return {
    status,
    count: results.length,
    tail: joinResult(results.slice(1).flatMap((r) => r.pieces)),
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

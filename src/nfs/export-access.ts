// Per-request application of the export rules (src/exports/rules.ts) that
// COMPOUND enforces around the operations, so the operation files stay about
// their operation:
//
// - Read-only (readOnlyRefusal): an operation that would modify the export
//   holding its filehandle answers NFS4ERR_ROFS before it runs, before any
//   permission check — as Linux nfsd's nfsd_permission() tests exp_rdonly()
//   first. The pseudo-filesystem is read-only too. COMMIT is left alone:
//   RFC 8881 §15.2 gives it no NFS4ERR_ROFS, and nothing can be uncommitted
//   on an export nobody may write.
// - Security flavors (RFC 8881 §2.6.3.1.1, as nfsd's need_wrongsec_check):
//   a put-filehandle operation (PUTFH, PUTROOTFH, PUTPUBFH, RESTOREFH) whose
//   filehandle's export does not accept the request's flavor answers
//   NFS4ERR_WRONGSEC — unless it is the last operation (§2.6.3.1.1.7) or the
//   next one checks for itself: LOOKUP and LOOKUPP check the filehandle they
//   produce (§2.6.3.1.1.4–5: the way a client crosses into an export it
//   must then ask SECINFO about), OPEN the directory it opens in, SECINFO and
//   SECINFO_NO_NAME never fail with it (§2.6.3.1.1.6), and a further
//   put-filehandle operation replaces the handle (§2.6.3.1.1.3).
// - Squashing (effectiveCredential): the credential every permission check
//   and every new object's owner use is the request's, squashed by the rules
//   of the export holding the current filehandle (nfsd_setuser per
//   fh_verify); the principal that names the client is left alone.
// - Client lists: a client outside an export's list does not see it in the
//   pseudo-filesystem (LOOKUP: NFS4ERR_NOENT, READDIR leaves it out) and a
//   handle of it is NFS4ERR_STALE at PUTFH, as nfsd answers when no export
//   matches the client (rqst_exp_find → -ENOENT → nfserr_stale). Those
//   checks live in the operations that see names and handles (putfh, lookup,
//   readdir, secinfo) through `clientAddress`.

import { nfs_opnum4, nfsstat4 } from "../../generated/nfs4/index.js";
import type { nfs_argop4 } from "../../generated/nfs4/index.js";
import { peerAddress, type AddressBytes } from "../exports/address.js";
import type { ExportPolicy } from "../exports/policy.js";
import { squashCredential } from "../exports/rules.js";
import type { FileHandle } from "../fs/backend.js";
import type { Credential, RpcConnection } from "../rpc/types.js";
import type { CompoundState } from "./context.js";
import type { Operation } from "./op.js";

const addresses = new WeakMap<RpcConnection, AddressBytes | null>();

/** The peer address of the connection the request came on (parsed once per connection). */
export function clientAddress(conn: RpcConnection): AddressBytes | null {
  let a = addresses.get(conn);
  if (a === undefined) {
    a = peerAddress(conn.remote);
    addresses.set(conn, a);
  }
  return a;
}

/** True when a client on `conn` may see and use `handle` (its export's client list). */
export function reachable(state: CompoundState, handle: FileHandle): boolean {
  return state.server.exports.reachable(handle, clientAddress(state.conn));
}

/** `cred` as the rules of the export holding `fh` make it (no current filehandle: unchanged). */
export function effectiveCredential(
  exports: ExportPolicy,
  cred: Credential,
  fh: FileHandle | null,
): Credential {
  return fh === null ? cred : squashCredential(exports.rulesOf(fh), cred);
}

/**
 * NFS4ERR_ROFS when `op` would modify a read-only export (or the
 * pseudo-filesystem): when its descriptor says it writes
 * (OpDescriptor.writesExport). Null when it may run. RENAME and LINK are
 * judged by their target directory: the source is in the same export or the
 * operation is NFS4ERR_XDEV anyway.
 */
export function readOnlyRefusal(
  operation: Operation,
  op: nfs_argop4,
  state: CompoundState,
): nfsstat4 | null {
  const fh = state.currentFh;
  if (fh === null || !operation.writesExport(op)) return null;
  return state.server.exports.rulesOf(fh).readOnly ? nfsstat4.NFS4ERR_ROFS : null;
}

/** Put-filehandle operations (§2.6.3.1.1.1). */
const PUT_FH_LIKE: ReadonlySet<number> = new Set([
  nfs_opnum4.OP_PUTFH,
  nfs_opnum4.OP_PUTROOTFH,
  nfs_opnum4.OP_PUTPUBFH,
  nfs_opnum4.OP_RESTOREFH,
]);

/** Operations that check the flavor themselves, so a put-filehandle before them does not. */
const HANDLES_WRONGSEC: ReadonlySet<number> = new Set([
  ...PUT_FH_LIKE,
  nfs_opnum4.OP_LOOKUP,
  nfs_opnum4.OP_LOOKUPP,
  nfs_opnum4.OP_OPEN,
  nfs_opnum4.OP_SECINFO,
  nfs_opnum4.OP_SECINFO_NO_NAME,
]);

function flavorAllowed(state: CompoundState, fh: FileHandle): boolean {
  return state.server.exports.rulesOf(fh).flavors.includes(state.cred.flavor);
}

/**
 * NFS4ERR_WRONGSEC before `op` runs: OPEN in a directory of an export that
 * does not accept the request's flavor (it checks for the put-filehandle
 * operation before it).
 */
export function flavorRefusalBefore(op: nfs_argop4, state: CompoundState): nfsstat4 | null {
  if (op.argop !== nfs_opnum4.OP_OPEN || state.currentFh === null) return null;
  return flavorAllowed(state, state.currentFh) ? null : nfsstat4.NFS4ERR_WRONGSEC;
}

/**
 * NFS4ERR_WRONGSEC after `op` succeeded: LOOKUP and LOOKUPP whose new
 * filehandle's export refuses the flavor, and a put-filehandle operation
 * whose does, when `next` (the next operation's number, null if none)
 * relies on it being checked.
 */
export function flavorRefusalAfter(
  op: number,
  next: number | null,
  state: CompoundState,
): nfsstat4 | null {
  const fh = state.currentFh;
  if (fh === null) return null;
  const checks =
    op === nfs_opnum4.OP_LOOKUP ||
    op === nfs_opnum4.OP_LOOKUPP ||
    (PUT_FH_LIKE.has(op) && next !== null && !HANDLES_WRONGSEC.has(next));
  if (!checks || flavorAllowed(state, fh)) return null;
  return nfsstat4.NFS4ERR_WRONGSEC;
}

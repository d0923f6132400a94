// LOCK (RFC 8881 §18.10): takes a byte-range lock for a lock-owner. A new
// lock-owner comes through an open stateid (open_to_lock_owner4), a known one
// through its lock stateid. Conflicts with other lock-owners' locks are
// NFS4ERR_DENIED naming the conflicting owner and range; a lock-owner's own
// locks are upgraded, downgraded, split and merged (POSIX semantics). A client
// holding nfs.maxStateidsPerClient stateids gets no new lock stateid
// (NFS4ERR_SERVERFAULT, see STATEID_LIMIT) but may lock through those it holds.

import type { LOCK4res } from "../../../generated/nfs4/index.js";
import {
  LOCK4res_MAXSIZE,
  nfs_lock_type4,
  nfs_opnum4,
  nfsstat4,
} from "../../../generated/nfs4/index.js";
import type { LockState } from "../../state/lock-state.js";
import type { OpenState } from "../../state/open-state.js";
import { ACCESS_WRITE } from "../../state/open-state.js";
import type { NfsError } from "../../state/slot-table.js";
import { bumpSeqid, stateidOf } from "../../state/stateid.js";
import { defineOp, type OpHandler } from "../op.js";
import { resolveForFile } from "../stateids.js";
import { findConflict, modeOf, notDenied, requestRange } from "./lock-common.js";
import { fixed } from "./reply-size.js";

/**
 * The answer to a LOCK that needs a new lock stateid while its client holds
 * nfs.maxStateidsPerClient. The fitting error, NFS4ERR_NOSPC (which OPEN
 * answers), is not among LOCK's errors in RFC 8881 §15.2, and NFS4ERR_DENIED
 * would name a conflicting lock that does not exist. Of those allowed,
 * NFS4ERR_DELAY would have the client retry (the Linux client does so without
 * end) against a limit that lifts only when the client itself frees state, so
 * the application would hang. NFS4ERR_SERVERFAULT is, by its definition
 * among RFC 8881 §15.1.1's general errors, the error for a failure that maps
 * to no specific legal one, and the client reports it to fcntl(2) as an I/O
 * error (EIO or EREMOTEIO, by Linux version) instead of waiting for ever.
 * Locking through a lock stateid the client already holds still works.
 */
const STATEID_LIMIT = nfsstat4.NFS4ERR_SERVERFAULT;

const fail = (status: NfsError): LOCK4res => ({ status: notDenied(status) });

export const lock: OpHandler<typeof nfs_opnum4.OP_LOCK> = (args, state) => {
  const session = state.session;
  if (session === null) return fail(nfsstat4.NFS4ERR_OP_NOT_IN_SESSION);
  if (!(args.locktype in nfs_lock_type4_values)) return fail(nfsstat4.NFS4ERR_INVAL);
  const range = requestRange(args.offset, args.length);
  if (range === null) return fail(nfsstat4.NFS4ERR_INVAL);
  // A reclaim (after a server restart) needs the grace period and a recorded
  // client; a new lock waits for the client's RECLAIM_COMPLETE and the end
  // of grace (§8.4.2.1, recovery.ts).
  const recovery = state.server.recovery;
  const graceError = args.reclaim
    ? recovery.reclaimError(session.client)
    : recovery.acquireError(session.client);
  if (graceError !== null) return fail(graceError);

  const manager = state.server.state;
  let lockState: LockState;
  if (args.locker.new_lock_owner) {
    const o = args.locker.open_owner;
    const r = resolveForFile<OpenState>(state, o.open_stateid, ["open"]);
    if ("error" in r) return fail(r.error);
    const made = manager.lockStateFor(session.client, o.lock_owner.owner, r.ok);
    if (made === null) return fail(STATEID_LIMIT);
    lockState = made;
  } else {
    const r = resolveForFile<LockState>(state, args.locker.lock_owner.lock_stateid, ["lock"]);
    if ("error" in r) return fail(r.error);
    lockState = r.ok;
  }
  const mode = modeOf(args.locktype);
  // A write lock needs an open for writing (§18.10.4); any open can be read-locked.
  if (mode === "write" && (lockState.open.access & ACCESS_WRITE) === 0)
    return fail(nfsstat4.NFS4ERR_OPENMODE);
  const denied = findConflict(
    manager,
    lockState.fileKey,
    lockState.owner,
    range.start,
    range.end,
    mode,
  );
  if (denied) {
    // A lock state made for this request and left empty is not kept.
    if (lockState.ranges.length === 0 && lockState.seqid === 1 && args.locker.new_lock_owner)
      manager.removeLockState(lockState);
    return { status: nfsstat4.NFS4ERR_DENIED, denied };
  }
  const fresh =
    lockState.ranges.length === 0 && args.locker.new_lock_owner && lockState.seqid === 1;
  lockState.apply(range.start, range.end, mode);
  if (!fresh) bumpSeqid(lockState);
  state.currentStateid = stateidOf(lockState);
  return { status: nfsstat4.NFS4_OK, resok4: { lock_stateid: stateidOf(lockState) } };
};

const nfs_lock_type4_values: Record<number, true> = Object.fromEntries(
  Object.values(nfs_lock_type4).map((v) => [v, true]),
);

export const LOCK = defineOp({
  op: nfs_opnum4.OP_LOCK,
  handler: lock,
  needsCurrentFh: true,
  replyBound: fixed(LOCK4res_MAXSIZE),
  nonIdempotent: true,
});

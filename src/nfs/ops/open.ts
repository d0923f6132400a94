// OPEN (RFC 8881 §18.16): opens (creating if asked) a regular file for an
// open-owner with share access and deny modes, returning an open stateid and,
// when the policy allows, a delegation (§10.4, delegations.ts).
// Claims: CLAIM_NULL (a name in the current directory) and CLAIM_FH (the
// current file); CLAIM_DELEGATE_CUR and CLAIM_DELEG_CUR_FH, with which the
// holder of a delegation being recalled turns the opens it did locally into
// real ones (§10.2.1); CLAIM_PREVIOUS, with which a client reclaims an open
// of the current file after the server restarted, during the grace period
// and only for a client recorded before the restart (recovery.ts, §8.4.2.1),
// with the delegation it held then, if any (delegate_type: granted again,
// Delegations.reclaim). Reclaims of delegations held before the client restarted
// get NOTSUPP, as Linux nfsd answers them (§18.16.4's text allows NOTSUPP;
// see spec/nfs4-errors.txt). An OPEN by another client that
// conflicts with a delegation recalls it and is answered NFS4ERR_DELAY until
// it is returned. A second OPEN of a file by the same owner upgrades the
// open. A client holding nfs.maxStateidsPerClient stateids may upgrade its
// opens but gets no new one (NFS4ERR_NOSPC, see STATEID_LIMIT).

import type {
  OPEN4args,
  OPEN4res,
  change_info4,
  open_delegation4,
  stateid4,
} from "../../../generated/nfs4/index.js";
import {
  OPEN4_RESULT_LOCKTYPE_POSIX,
  OPEN4_RESULT_PRESERVE_UNLINKED,
  OPEN4_SHARE_ACCESS_WANT_DELEG_MASK,
  OPEN4_SHARE_ACCESS_WANT_DELEG_TIMESTAMPS,
  OPEN4_SHARE_ACCESS_WANT_PUSH_DELEG_WHEN_UNCONTENDED,
  OPEN4_SHARE_ACCESS_WRITE,
  OPEN4_SHARE_ACCESS_WANT_SIGNAL_DELEG_WHEN_RESRC_AVAIL,
  change_info4_MAXSIZE,
  createmode4,
  nfs_ftype4,
  nfs_opnum4,
  nfsstat4,
  open_claim_type4,
  open_delegation_type4,
  opentype4,
  stateid4_MAXSIZE,
  notify_type4,
} from "../../../generated/nfs4/index.js";
import type { CreateHow, FileHandle } from "../../fs/backend.js";
import { decodeName } from "../../fs/names.js";
import { MAY_EXEC, MAY_READ, MAY_WRITE, mayAccess } from "../../fs/permission.js";
import { keyOf } from "../../state/keys.js";
import { ownerKeyOf } from "../../state/keys.js";
import type { DelegationState, GrantingCall } from "../../state/delegation-state.js";
import type { StateManager } from "../../state/manager.js";
import { ACCESS_READ, ACCESS_WRITE } from "../../state/open-state.js";
import type { ClientRecord } from "../../state/client.js";
import type { NfsError } from "../../state/slot-table.js";
import { bumpSeqid, stateidOf } from "../../state/stateid.js";
import { decodeAttrs, toSetAttributes } from "../attrs/index.js";
import type { CompoundState } from "../context.js";
import { reachable } from "../export-access.js";
import { defineOp, type OpHandler } from "../op.js";
import { resolveStateid } from "../stateids.js";
import { changeOrigin, currentFh, delegationConflict, newObjectAttributes } from "./common.js";
import { DELEGATION_BOUND, RESOP_SIZE, SUPPORTED_BITMAP_SIZE } from "./reply-size.js";

/** share_access bits beyond the access mode: the delegation wants (§18.16.3). */
const WANT_BITS =
  OPEN4_SHARE_ACCESS_WANT_DELEG_MASK |
  // RFC 9754 §5: a hint this server does not act on (no delegated timestamps).
  OPEN4_SHARE_ACCESS_WANT_DELEG_TIMESTAMPS |
  OPEN4_SHARE_ACCESS_WANT_SIGNAL_DELEG_WHEN_RESRC_AVAIL |
  OPEN4_SHARE_ACCESS_WANT_PUSH_DELEG_WHEN_UNCONTENDED;

/**
 * The answer to an OPEN that needs a new open stateid while its client holds
 * nfs.maxStateidsPerClient. RFC 8881 §15.2 lists NFS4ERR_NOSPC for OPEN, and
 * its meaning (one of §15.1.4's file system errors: a limit of the server's
 * storage) fits: the server will not store more state for this client. The
 * Linux client reports it to open(2) as ENOSPC, an error applications expect
 * from a file system, and does not retry it; NFS4ERR_DELAY would have it
 * retry for ever against a limit that lifts only when it closes something,
 * and NFS4ERR_SERVERFAULT (an I/O error) would say the server is broken.
 */
const STATEID_LIMIT = nfsstat4.NFS4ERR_NOSPC;

function fail(status: NfsError): OPEN4res {
  return { status };
}

export const open: OpHandler<typeof nfs_opnum4.OP_OPEN> = async (args, state) => {
  const session = state.session;
  if (session === null) return fail(nfsstat4.NFS4ERR_OP_NOT_IN_SESSION);
  const access = args.share_access & ~WANT_BITS;
  if (access < 1 || access > 3 || args.share_deny > 3) return fail(nfsstat4.NFS4ERR_INVAL);
  const client = session.client;
  const recovery = state.server.recovery;
  // A reclaim needs the grace period and a recorded client; anything else
  // waits for the client's RECLAIM_COMPLETE and the end of grace (§8.4.2.1).
  const graceError =
    args.claim.claim === open_claim_type4.CLAIM_PREVIOUS
      ? recovery.reclaimError(client)
      : recovery.acquireError(client);
  if (graceError !== null) return fail(graceError);

  let target: Opened;
  /** The delegation a CLAIM_DELEGATE_CUR / CLAIM_DELEG_CUR_FH names. */
  let delegation: DelegationState | null = null;
  switch (args.claim.claim) {
    case open_claim_type4.CLAIM_NULL:
    case open_claim_type4.CLAIM_DELEGATE_CUR: {
      const name =
        args.claim.claim === open_claim_type4.CLAIM_NULL
          ? args.claim.file
          : args.claim.delegate_cur_info.file;
      // Only CLAIM_NULL may create (§18.16.3: the others name an existing file).
      if (
        args.claim.claim !== open_claim_type4.CLAIM_NULL &&
        args.openhow.opentype === opentype4.OPEN4_CREATE
      )
        return fail(nfsstat4.NFS4ERR_INVAL);
      const r = await byName(state, args, name, client);
      if ("error" in r) return fail(r.error);
      target = r;
      if (args.claim.claim === open_claim_type4.CLAIM_DELEGATE_CUR) {
        const d = delegationFor(state, args.claim.delegate_cur_info.delegate_stateid, target.fh);
        if ("error" in d) return fail(d.error);
        delegation = d.ok;
      }
      break;
    }
    case open_claim_type4.CLAIM_FH:
    case open_claim_type4.CLAIM_PREVIOUS:
    case open_claim_type4.CLAIM_DELEG_CUR_FH: {
      // These name an existing file, the current one (§18.16.3).
      if (args.openhow.opentype === opentype4.OPEN4_CREATE) return fail(nfsstat4.NFS4ERR_INVAL);
      const fh = currentFh(state);
      const before = (await state.server.fs.getattr(fh)).change;
      target = {
        fh,
        created: false,
        attrsset: [],
        cinfo: { atomic: true, before, after: before },
      };
      if (args.claim.claim === open_claim_type4.CLAIM_DELEG_CUR_FH) {
        const d = delegationFor(state, args.claim.oc_delegate_stateid, fh);
        if ("error" in d) return fail(d.error);
        delegation = d.ok;
      }
      break;
    }
    default:
      return fail(nfsstat4.NFS4ERR_NOTSUPP);
  }
  const attrs = await state.server.fs.getattr(target.fh);
  if (attrs.type !== nfs_ftype4.NF4REG) return fail(typeError(attrs.type));
  // The creator of a file may use it whatever mode it was created with (as POSIX open(O_CREAT)).
  if (!target.created) {
    const wanted =
      ((access & ACCESS_READ) !== 0 ? MAY_READ : 0) |
      ((access & ACCESS_WRITE) !== 0 ? MAY_WRITE : 0);
    if (!mayAccess(attrs, state.cred, wanted)) return fail(nfsstat4.NFS4ERR_ACCESS);
  }

  // Another client's delegation this open conflicts with is recalled first
  // (§10.4.6): a reader conflicts with a write delegation, a writer (or a
  // deny) with any.
  const conflict = delegationConflict(
    state,
    target.fh,
    (access & ACCESS_WRITE) !== 0 || args.share_deny !== 0 ? "write" : "read",
  );
  if (conflict !== null) return fail(conflict);

  const manager = state.server.state;
  const ownerKey = ownerKeyOf(client.clientid, args.owner.owner);
  const fileKey = keyOf(target.fh);
  if (shareDenied(manager, fileKey, ownerKey, access, args.share_deny))
    return fail(nfsstat4.NFS4ERR_SHARE_DENIED);
  // The owner is looked up, not created: one is kept only while it holds an open.
  let openState = manager.findOpen(manager.findOpenOwner(client, args.owner.owner), fileKey);
  if (openState) bumpSeqid(openState);
  else {
    if (manager.atStateidLimit(client)) return fail(STATEID_LIMIT);
    // The backend keeps an open file (data and handle) even if its last name goes, until CLOSE.
    await state.server.fs.pin(target.fh);
    // Another OPEN of this owner may have won the race while we waited.
    openState = manager.findOpen(manager.findOpenOwner(client, args.owner.owner), fileKey);
    if (openState) {
      void state.server.fs.unpin(target.fh);
      bumpSeqid(openState);
    } else {
      const made = manager.newOpen(client, args.owner.owner, target.fh);
      if (made === null) {
        // Other OPENs of this client took the last stateids while we waited.
        void state.server.fs.unpin(target.fh);
        return fail(STATEID_LIMIT);
      }
      openState = made;
    }
  }
  openState.grant(access, args.share_deny);

  state.currentFh = target.fh;
  state.currentStateid = stateidOf(openState);
  const grantedBy = state.sequence && { sessionId: session.id, ...state.sequence };
  return {
    status: nfsstat4.NFS4_OK,
    resok4: {
      stateid: stateidOf(openState),
      cinfo: target.cinfo,
      rflags: OPEN4_RESULT_LOCKTYPE_POSIX | OPEN4_RESULT_PRESERVE_UNLINKED,
      attrset: target.attrsset,
      // An open under a delegation it already holds gets no second one; a
      // reclaim gets back the one it had, and no other.
      delegation:
        args.claim.claim === open_claim_type4.CLAIM_PREVIOUS
          ? reclaimedDelegation(state, args.claim.delegate_type, target.fh, grantedBy)
          : delegation !== null
            ? { delegation_type: open_delegation_type4.OPEN_DELEGATE_NONE }
            : state.server.delegations.offer(
                client,
                target.fh,
                access,
                args.share_access,
                grantedBy,
              ),
    },
  };
};

/** The delegation an OPEN CLAIM_PREVIOUS reclaims: `type` as held before the restart. */
function reclaimedDelegation(
  state: CompoundState,
  type: open_delegation_type4,
  fh: Uint8Array,
  grantedBy: GrantingCall | null,
): open_delegation4 {
  const session = state.session;
  if (session === null) return { delegation_type: open_delegation_type4.OPEN_DELEGATE_NONE };
  switch (type) {
    case open_delegation_type4.OPEN_DELEGATE_READ:
      return state.server.delegations.reclaim(session.client, fh, "read", grantedBy);
    case open_delegation_type4.OPEN_DELEGATE_WRITE:
      return state.server.delegations.reclaim(session.client, fh, "write", grantedBy);
    default:
      return { delegation_type: open_delegation_type4.OPEN_DELEGATE_NONE };
  }
}

interface Opened {
  readonly fh: FileHandle;
  readonly created: boolean;
  readonly attrsset: number[];
  readonly cinfo: change_info4;
}

/** CLAIM_NULL: the file `name` in the current directory, created if asked. */
async function byName(
  state: CompoundState,
  args: OPEN4args,
  nameBytes: Uint8Array,
  client: ClientRecord,
): Promise<Opened | { error: NfsError }> {
  const fs = state.server.fs;
  const dir = currentFh(state);
  const dirAttrs = await fs.getattr(dir);
  if (dirAttrs.type === nfs_ftype4.NF4LNK) return { error: nfsstat4.NFS4ERR_SYMLINK };
  if (dirAttrs.type !== nfs_ftype4.NF4DIR) return { error: nfsstat4.NFS4ERR_NOTDIR };
  const name = decodeName(nameBytes, fs.capabilities.maxNameBytes);
  if (!name.ok) return { error: name.status };
  if (!mayAccess(dirAttrs, state.cred, MAY_EXEC)) return { error: nfsstat4.NFS4ERR_ACCESS };

  if (args.openhow.opentype !== opentype4.OPEN4_CREATE) {
    const found = await fs.lookup(dir, name.name);
    // An export hidden from this client is not there for it (export-access.ts).
    if (!reachable(state, found.handle)) return { error: nfsstat4.NFS4ERR_NOENT };
    return {
      fh: found.handle,
      created: false,
      attrsset: [],
      cinfo: { atomic: true, before: dirAttrs.change, after: dirAttrs.change },
    };
  }
  const how = args.openhow.how;
  let createHow: CreateHow;
  let fattr = null;
  switch (how.mode) {
    case createmode4.UNCHECKED4:
    case createmode4.GUARDED4:
      createHow = { kind: how.mode === createmode4.GUARDED4 ? "guarded" : "unchecked" };
      fattr = how.createattrs;
      break;
    case createmode4.EXCLUSIVE4:
      createHow = { kind: "exclusive", verifier: new Uint8Array(how.createverf) };
      break;
    case createmode4.EXCLUSIVE4_1:
      createHow = { kind: "exclusive", verifier: new Uint8Array(how.ch_createboth.cva_verf) };
      fattr = how.ch_createboth.cva_attrs;
      break;
  }
  const decoded = fattr ? decodeAttrs(fattr) : { ok: true as const, attrs: {}, attrsset: [] };
  if (!decoded.ok) return { error: decoded.status };
  const requested = toSetAttributes(decoded.attrs);
  if (!requested.ok) return { error: requested.status };
  // The new file's owner, group and mode as POSIX would set them (set-gid directories, no giving away).
  const initial = newObjectAttributes(nfs_ftype4.NF4REG, dirAttrs, requested.attrs, state.cred);
  if (!initial.ok) return { error: initial.status };
  // Creating needs write and search permission on the directory.
  if (!mayAccess(dirAttrs, state.cred, MAY_WRITE | MAY_EXEC)) {
    // …unless the file exists and this is not an exclusive or guarded create: then it is an open.
    if (createHow.kind !== "unchecked") return { error: nfsstat4.NFS4ERR_ACCESS };
    const found = await fs.lookup(dir, name.name).catch(() => null);
    if (!found) return { error: nfsstat4.NFS4ERR_ACCESS };
    return {
      fh: found.handle,
      created: false,
      attrsset: [],
      cinfo: { atomic: true, before: dirAttrs.change, after: dirAttrs.change },
    };
  }
  // A client at its stateid limit gets its NFS4ERR_NOSPC before the file is
  // created, not after: an OPEN that fails must leave no new file behind.
  // Only re-opening a file its owner already has open needs no new stateid.
  // (Concurrent OPENs of the same client may still take the last stateid
  // while this one creates its file; it then fails after creating it, a file
  // the client could as well have created by closing something first.)
  if (state.server.state.atStateidLimit(client)) {
    const found = await fs.lookup(dir, name.name).catch(() => null);
    const owner = state.server.state.findOpenOwner(client, args.owner.owner);
    if (!found || !state.server.state.findOpen(owner, keyOf(found.handle)))
      return { error: STATEID_LIMIT };
  }
  // Opening an existing file with a size (O_TRUNC: UNCHECKED4 with size 0)
  // changes it as the backend opens it: other clients' delegations are
  // recalled before that, not after (§10.4.6), or the holder's cached data
  // would no longer be what the file holds while it still has its delegation.
  if (createHow.kind === "unchecked" && initial.attrs.size !== undefined) {
    const found = await fs.lookup(dir, name.name).catch(() => null);
    if (found) {
      // The backend truncates as it opens: the checks OPEN makes of an
      // existing file come first — write permission (the file's creator
      // excepted, but this file exists) and share reservations denying writes.
      if (!mayAccess(found.attrs, state.cred, MAY_WRITE)) return { error: nfsstat4.NFS4ERR_ACCESS };
      const ownerKey = ownerKeyOf(client.clientid, args.owner.owner);
      if (shareDenied(state.server.state, keyOf(found.handle), ownerKey, ACCESS_WRITE, 0))
        return { error: nfsstat4.NFS4ERR_SHARE_DENIED };
      const conflict = delegationConflict(state, found.handle, "write");
      if (conflict !== null) return { error: conflict };
    }
  }
  // Creating adds an entry: other clients' directory delegations not told of
  // additions are recalled (§10.9.2). Opening a file that is there adds none;
  // whether it is there is asked only of a delegated directory. (Should the
  // file go meanwhile, the backend's change record recalls them after the
  // fact: dir-notifications.ts.)
  const adds =
    !state.server.delegations.delegated(dir) ||
    (await fs.lookup(dir, name.name).catch(() => null)) === null;
  if (adds) {
    const dirConflict = delegationConflict(
      state,
      { fh: dir, notified: notify_type4.NOTIFY4_ADD_ENTRY },
      "write",
    );
    if (dirConflict !== null) return { error: dirConflict };
  }
  const result = await fs.create(dir, name.name, createHow, initial.attrs, changeOrigin(state));
  return {
    fh: result.handle,
    created: result.created,
    attrsset: result.created ? decoded.attrsset : [],
    cinfo: result.dirChange,
  };
}

/**
 * True if another open-owner's share reservation denies these modes (§9.7);
 * courtesy clients (lease expired) standing in the way lose their state
 * instead.
 */
function shareDenied(
  manager: StateManager,
  fileKey: string,
  ownerKey: string,
  access: number,
  deny: number,
): boolean {
  for (;;) {
    const conflict = manager.fileState(fileKey)?.shareConflict(ownerKey, access, deny);
    if (!conflict) return false;
    if (!manager.evictIfCourtesy(conflict.client)) return true;
  }
}

function typeError(type: nfs_ftype4): NfsError {
  if (type === nfs_ftype4.NF4DIR) return nfsstat4.NFS4ERR_ISDIR;
  if (type === nfs_ftype4.NF4LNK) return nfsstat4.NFS4ERR_SYMLINK;
  return nfsstat4.NFS4ERR_WRONG_TYPE;
}

/** The delegation stateid a CLAIM_DELEGATE_CUR / CLAIM_DELEG_CUR_FH names: the client's, for this file. */
function delegationFor(
  state: CompoundState,
  stateid: stateid4,
  fh: Uint8Array,
): { ok: DelegationState } | { error: NfsError } {
  const r = resolveStateid<DelegationState>(state, stateid, ["delegation"]);
  if ("error" in r) return r;
  if (keyOf(r.ok.fh) !== keyOf(fh)) return { error: nfsstat4.NFS4ERR_BAD_STATEID };
  return r;
}

/**
 * status, stateid, cinfo, rflags, attrset (the supported attributes that
 * were set) and the delegation.
 */
const OPEN_BOUND =
  RESOP_SIZE +
  4 +
  stateid4_MAXSIZE +
  change_info4_MAXSIZE +
  4 +
  SUPPORTED_BITMAP_SIZE +
  DELEGATION_BOUND;

export const OPEN = defineOp({
  op: nfs_opnum4.OP_OPEN,
  handler: open,
  needsCurrentFh: true,
  replyBound: () => OPEN_BOUND,
  nonIdempotent: true,
  // Creating, or opening for writing, modifies the export (nfsd's
  // do_open_permission with NFSD_MAY_WRITE).
  writesExport: (a) =>
    a.openhow.opentype === opentype4.OPEN4_CREATE ||
    (a.share_access & OPEN4_SHARE_ACCESS_WRITE) !== 0,
});

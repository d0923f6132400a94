// Resolving the stateid an operation was given (RFC 8881 §8.2): the special
// stateids, the "current" stateid of the COMPOUND, the client that must own
// it, the file it must be for, and the access an I/O operation needs. A
// revoked delegation's stateid is NFS4ERR_DELEG_REVOKED (§10.2.1) everywhere
// but FREE_STATEID, which frees it.

import type { stateid4 } from "../../generated/nfs4/index.js";
import { nfsstat4 } from "../../generated/nfs4/index.js";
import { keyOf } from "../state/keys.js";
import type { DelegationState } from "../state/delegation-state.js";
import type { LockState } from "../state/lock-state.js";
import type { OpenState } from "../state/open-state.js";
import { ACCESS_WRITE } from "../state/open-state.js";
import type { NfsError } from "../state/slot-table.js";
import type { StateObject } from "../state/stateid.js";
import { specialStateid } from "../state/stateid.js";
import type { CompoundState } from "./context.js";

export type Resolved<T> = { readonly ok: T } | { readonly error: NfsError };

/**
 * The state object `s` names for this COMPOUND's client: the special
 * "current" stateid stands for the COMPOUND's current stateid; other special
 * stateids are BAD_STATEID here (callers that accept them check first).
 */
export function resolveStateid<T extends StateObject>(
  state: CompoundState,
  s: stateid4,
  kinds: readonly T["kind"][],
  options: { readonly revoked?: boolean } = {},
): Resolved<T> {
  const special = specialStateid(s);
  if (special === "current") {
    if (state.currentStateid === null) return { error: nfsstat4.NFS4ERR_BAD_STATEID };
    s = state.currentStateid;
  } else if (special !== null) {
    return { error: nfsstat4.NFS4ERR_BAD_STATEID };
  }
  const found = state.server.state.stateids.lookup<T>(s, kinds);
  if ("error" in found) return found;
  // A stateid is only good for the client that owns it (§8.2.4).
  if (state.session && found.ok.client !== state.session.client)
    return { error: nfsstat4.NFS4ERR_BAD_STATEID };
  if (found.ok.revoked === true && options.revoked !== true)
    return { error: revokedStatus(found.ok) };
  return found;
}

/**
 * What a revoked delegation's stateid answers: NFS4ERR_ADMIN_REVOKED when an
 * administrator revoked it, NFS4ERR_DELEG_REVOKED when the server did because
 * it was not returned in time (RFC 8881 §15.1.5.1, §15.1.5.3).
 */
export function revokedStatus(s: StateObject): NfsError {
  return s.adminRevoked === true ? nfsstat4.NFS4ERR_ADMIN_REVOKED : nfsstat4.NFS4ERR_DELEG_REVOKED;
}

/** Like resolveStateid, also requiring the state to be for the current filehandle. */
export function resolveForFile<T extends StateObject>(
  state: CompoundState,
  s: stateid4,
  kinds: readonly T["kind"][],
): Resolved<T> {
  const r = resolveStateid<T>(state, s, kinds);
  if ("error" in r) return r;
  if (state.currentFh === null || keyOf(r.ok.fh) !== keyOf(state.currentFh))
    return { error: nfsstat4.NFS4ERR_BAD_STATEID };
  return r;
}

/** What a READ, WRITE or SETATTR(size) may rely on. */
export type IoAuthority =
  /** An open (directly, or through a lock stateid) that grants the access. */
  | { readonly kind: "open"; readonly open: OpenState }
  /** A delegation: a read one for reading, a write one for both (§10.4). */
  | { readonly kind: "delegation"; readonly delegation: DelegationState }
  /** The anonymous or bypass stateid: the caller's permissions decide, and share denials apply (not for bypass reads). */
  | { readonly kind: "special"; readonly bypass: boolean };

/**
 * Checks the stateid of an I/O operation on the current file (§8.2.3, §9.1.2):
 * `access` is ACCESS_READ or ACCESS_WRITE. A READ is allowed through an open
 * for writing too (clients read to fill partial pages), as Linux nfsd does.
 */
export function ioAuthority(
  state: CompoundState,
  s: stateid4,
  access: number,
): Resolved<IoAuthority> {
  const special = specialStateid(s);
  if (special === "anonymous" || special === "bypass") {
    const bypass = special === "bypass" && access !== ACCESS_WRITE;
    if (!bypass && state.currentFh !== null) {
      const file = state.server.state.fileState(keyOf(state.currentFh));
      if (file?.denies(access)) return { error: nfsstat4.NFS4ERR_LOCKED };
    }
    return { ok: { kind: "special", bypass } };
  }
  const r = resolveForFile<OpenState | LockState | DelegationState>(state, s, [
    "open",
    "lock",
    "delegation",
  ]);
  if ("error" in r) return r;
  if (r.ok.kind === "delegation") {
    // A directory delegation is no authority for I/O (no file's handle matches it anyway).
    if (r.ok.type === "directory") return { error: nfsstat4.NFS4ERR_BAD_STATEID };
    if (access === ACCESS_WRITE && r.ok.type !== "write")
      return { error: nfsstat4.NFS4ERR_OPENMODE };
    return { ok: { kind: "delegation", delegation: r.ok } };
  }
  const open = r.ok.kind === "open" ? r.ok : r.ok.open;
  if (access === ACCESS_WRITE && (open.access & ACCESS_WRITE) === 0)
    return { error: nfsstat4.NFS4ERR_OPENMODE };
  return { ok: { kind: "open", open } };
}

// What an operation handler can see: the server-wide context and the state of
// the COMPOUND being processed (current and saved file handles, the session
// SEQUENCE established, the caller's credential and connection).

import type { Logger } from "pino";
import type { CallbackService } from "../callback/service.js";
import type { stateid4 } from "../../generated/nfs4/index.js";
import type { Credential, RpcConnection } from "../rpc/types.js";
import type { ExportPolicy } from "../exports/policy.js";
import type { FileSystem } from "../fs/backend.js";
import type { StateManager } from "../state/manager.js";
import type { DebugLog } from "./debug-log.js";
import type { Delegations } from "./delegations.js";
import type { Session } from "../state/session.js";
import type { ClientRecovery } from "./recovery.js";
import type { NfsSettings } from "./settings.js";

/** Server-wide, shared by every COMPOUND. */
export interface ServerContext {
  readonly settings: NfsSettings;
  readonly state: StateManager;
  /** The namespace: every export and the pseudo-filesystem joining them (src/exports/namespace.ts). */
  readonly fs: FileSystem;
  /** The rules of the export each handle belongs to (the same namespace, seen as policy). */
  readonly exports: ExportPolicy;
  readonly log: Logger;
  readonly delegations: Delegations;
  /** The back channel: callbacks to clients, and what SEQUENCE reports about it. */
  readonly callbacks: CallbackService;
  /** Client recovery records and the grace period after a restart (RFC 8881 §8.4.2). */
  readonly recovery: ClientRecovery;
  /** The per-client and per-session debug switch (dfsctl debug). */
  readonly debug: DebugLog;
}

/** Per-COMPOUND state, mutated by the operations in order (RFC 8881 §16.2.3). */
export interface CompoundState {
  readonly server: ServerContext;
  /**
   * The caller's credential as the export of the current filehandle squashes
   * it (export-access.ts effectiveCredential); `principal` is the request's.
   */
  readonly cred: Credential;
  readonly conn: RpcConnection;
  readonly minorversion: number;
  /** Index of the operation being processed, and how many the COMPOUND has. */
  readonly opIndex: number;
  readonly opCount: number;
  /** The current and saved file handles (opaque bytes, ≤ NFS4_FHSIZE), null when unset. */
  currentFh: Uint8Array | null;
  savedFh: Uint8Array | null;
  /**
   * The current and saved stateids (RFC 8881 §16.2.3.1.2): set by operations
   * that return a stateid, used when a request carries the special "current"
   * stateid, saved and restored with the filehandle, and cleared when an
   * operation changes the current filehandle without setting one.
   */
  currentStateid: stateid4 | null;
  savedStateid: stateid4 | null;
  /** The session named by this COMPOUND's SEQUENCE, once SEQUENCE has succeeded. */
  session: Session | null;
  /** The slot and sequence ID of this request, once SEQUENCE has succeeded (a callback it causes names them, §2.10.6.3). */
  sequence: { readonly slotid: number; readonly sequenceid: number } | null;
  /**
   * Bytes the current operation's nfs_resop4 may take and still leave the
   * reply within the session's limits (ca_maxresponsesize, or
   * ca_maxresponsesize_cached when the reply is cached, RFC 8881 §2.10.6.4)
   * with room for a later operation's error; null outside a session. An
   * operation whose result size is its own choice (LISTXATTRS, GETXATTR) sizes
   * its reply bound and its result by it rather than fail with REP_TOO_BIG.
   */
  replyRoom: number | null;
}

// Errors of the NFSv4.1 client. Convenience helpers (exchangeId, createSession,
// destroy, …) throw NfsError when the server answers with a status other than
// NFS4_OK; compound() and compoundRaw() never do: they return statuses, because
// tests and tools need to see them.

import type { nfs_opnum4, nfsstat4 } from "../../generated/nfs4/index.js";
import { nfs_opnum4_names, nfsstat4_names } from "../../generated/nfs4/index.js";

/** The server answered `status` to operation `op` (null: the COMPOUND as a whole). */
export class NfsError extends Error {
  readonly status: nfsstat4;
  readonly op: nfs_opnum4 | null;

  constructor(status: nfsstat4, op: nfs_opnum4 | null, context?: string) {
    const where = op === null ? "COMPOUND" : (nfs_opnum4_names[op] ?? `op ${op}`);
    const what = nfsstat4_names[status] ?? `status ${status}`;
    super(`${context ? `${context}: ` : ""}${where} failed with ${what}`);
    this.name = "NfsError";
    this.status = status;
    this.op = op;
  }
}

/** The client (or the session) was closed or destroyed while a request waited for it. */
export class NfsClientClosedError extends Error {
  constructor(what: string) {
    super(`${what} is closed`);
    this.name = "NfsClientClosedError";
  }
}

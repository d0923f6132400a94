// Backend failures. A backend reports every expected failure (no such name,
// stale handle, full disk, …) as an FsError carrying the NFSv4 status the
// operation should answer with, so the NFS layer maps errors without a table
// and a backend picks the most precise status it knows. Anything else a
// backend throws is a bug or an I/O surprise; COMPOUND turns it into
// NFS4ERR_SERVERFAULT.

import { nfsstat4 } from "../../generated/nfs4/index.js";

/** Every nfsstat4 except NFS4_OK: the status of a failed operation. */
export type NfsErrorStatus = Exclude<nfsstat4, typeof nfsstat4.NFS4_OK>;

export class FsError extends Error {
  override readonly name = "FsError";

  constructor(
    readonly status: NfsErrorStatus,
    message?: string,
  ) {
    // An answer, not a bug: where it was thrown is never read, and a LOOKUP or
    // OPEN of a missing name spent more capturing the stack (async frames
    // included) than looking the name up.
    const stackTraceLimit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    super(message ?? statusName(status));
    Error.stackTraceLimit = stackTraceLimit;
  }
}

/** For operations a backend declares but does not implement. */
export function notSupported(what: string): FsError {
  return new FsError(nfsstat4.NFS4ERR_NOTSUPP, `${what} is not supported by this backend`);
}

/** The status a failure should be reported with; rethrows anything that is not an FsError. */
export function statusOfError(e: unknown): NfsErrorStatus {
  if (e instanceof FsError) return e.status;
  throw e;
}

const NAMES: ReadonlyMap<number, string> = new Map(
  Object.entries(nfsstat4).map(([name, value]) => [value, name]),
);

function statusName(status: nfsstat4): string {
  return NAMES.get(status) ?? `nfsstat4 ${status}`;
}

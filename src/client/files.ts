// Whole-file helpers over a session: open a file by path, read it, write it,
// close it, return a delegation. A server answers NFS4ERR_DELAY to an OPEN (or
// I/O) that conflicts with another client's delegation while it recalls that
// delegation (RFC 8881 §10.4.1, §15.1.1.3), so every call here retries DELAY
// with a doubling wait, bounded in total. For interop scripts, tests and tools.

import type { nfs_argop4, open_delegation4, stateid4 } from "../../generated/nfs4/index.js";
import {
  OPEN4_SHARE_ACCESS_WANT_NO_DELEG,
  OPEN4_SHARE_DENY_NONE,
  nfs_opnum4,
  nfsstat4,
  stable_how4,
} from "../../generated/nfs4/index.js";
import { resultOf } from "../protocol/results.js";
import { NfsError } from "./errors.js";
import * as ops from "./ops.js";
import type { ClientSession, SessionReply } from "./session.js";
import { failureOf } from "./session.js";

/** How NFS4ERR_DELAY is retried. */
export interface DelayRetry {
  /** The wait after the first DELAY, ms; it doubles after each further one. */
  readonly initialMs: number;
  /** The longest single wait, ms. */
  readonly maxMs: number;
  /** Give up (NfsError NFS4ERR_DELAY) once the waits add up to this, ms. */
  readonly totalMs: number;
}

/**
 * Short waits first (the Linux client returns a recalled delegation within
 * milliseconds), and a bound beyond the default 90 s lease: by then a server
 * has revoked a delegation its holder never returned (§10.2.1).
 */
export const DEFAULT_DELAY_RETRY: DelayRetry = { initialMs: 20, maxMs: 500, totalMs: 100_000 };

/** How much one READ asks for, bytes. */
export const READ_CHUNK = 64 * 1024;
/** How much one WRITE carries, bytes. */
export const WRITE_CHUNK = 64 * 1024;

export type Sleep = (ms: number) => Promise<void>;
const sleep: Sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** A reply that was not NFS4ERR_DELAY, and how many DELAY answers came before it. */
export interface Retried<R> {
  readonly reply: R;
  readonly delays: number;
}

/**
 * Runs `send` until its COMPOUND is answered with something other than
 * NFS4ERR_DELAY; throws NfsError(NFS4ERR_DELAY) once the waits reach
 * `retry.totalMs`.
 */
export async function retryOnDelay<R extends { readonly status: nfsstat4 }>(
  send: () => Promise<R>,
  retry: DelayRetry = DEFAULT_DELAY_RETRY,
  wait: Sleep = sleep,
): Promise<Retried<R>> {
  let delays = 0;
  let waited = 0;
  let next = retry.initialMs;
  for (;;) {
    const reply = await send();
    if (reply.status !== nfsstat4.NFS4ERR_DELAY) return { reply, delays };
    delays++;
    if (waited >= retry.totalMs)
      throw new NfsError(nfsstat4.NFS4ERR_DELAY, null, `still DELAY after ${delays} tries`);
    const ms = Math.min(next, retry.maxMs, retry.totalMs - waited);
    await wait(ms);
    waited += ms;
    next = Math.min(next * 2, retry.maxMs);
  }
}

/** A file this client has open. */
export interface OpenFile {
  readonly fh: Uint8Array;
  /** The open stateid; CLOSE and I/O use it. */
  readonly stateid: stateid4;
  /** The delegation OPEN granted (OPEN_DELEGATE_NONE unless asked for with `want`). */
  readonly delegation: open_delegation4;
  /** NFS4ERR_DELAY answers before the OPEN succeeded (a recall of someone's delegation). */
  readonly delays: number;
}

export interface OpenFileOptions {
  /** OPEN4_SHARE_ACCESS_READ, _WRITE or _BOTH. */
  readonly access: number;
  /** Default OPEN4_SHARE_DENY_NONE. */
  readonly deny?: number;
  /** Create the file if it does not exist (UNCHECKED4). Default false. */
  readonly create?: boolean;
  /** OPEN4_SHARE_ACCESS_WANT_* bits; default WANT_NO_DELEG (§18.16.3). */
  readonly want?: number;
  /** The open-owner. Default "dittofs-client". */
  readonly owner?: string | Uint8Array;
  readonly retry?: DelayRetry;
  readonly wait?: Sleep;
}

/** The operations that reach `path` ("/export/dir/file") from the root: PUTROOTFH, LOOKUP…; and its last name. */
function walk(path: string): { readonly ops: nfs_argop4[]; readonly name: string } {
  const names = path.split("/").filter((n) => n !== "");
  const name = names.pop();
  if (name === undefined) throw new Error(`openFile: '${path}' names no file`);
  return { ops: [ops.putrootfh(), ...names.map((n) => ops.lookup(n))], name };
}

/** The reply's status as an error unless it succeeded. */
function check(reply: SessionReply, what: string): void {
  const err = failureOf(reply.res);
  if (err !== null) throw new NfsError(err.status, err.op, what);
}

/** OPEN of the file at `path` (CLAIM_NULL), retrying NFS4ERR_DELAY. */
export async function openFile(
  session: ClientSession,
  path: string,
  options: OpenFileOptions,
): Promise<OpenFile> {
  const { ops: lookups, name } = walk(path);
  const want = options.want ?? OPEN4_SHARE_ACCESS_WANT_NO_DELEG;
  const open = ops.open(
    name,
    options.owner ?? "dittofs-client",
    options.access | want,
    options.deny ?? OPEN4_SHARE_DENY_NONE,
    ops.openHow(options.create ?? false),
  );
  const { reply, delays } = await retryOnDelay(
    () => session.compound([...lookups, open, ops.getfh()]),
    options.retry,
    options.wait,
  );
  check(reply, `OPEN ${path}`);
  const opened = resultOf(reply.resarray.at(-2), nfs_opnum4.OP_OPEN);
  const fh = resultOf(reply.resarray.at(-1), nfs_opnum4.OP_GETFH);
  if (opened?.status !== nfsstat4.NFS4_OK || fh?.status !== nfsstat4.NFS4_OK)
    throw new NfsError(nfsstat4.NFS4ERR_SERVERFAULT, null, `OPEN ${path}: malformed reply`);
  return {
    fh: new Uint8Array(fh.resok4.object),
    stateid: opened.resok4.stateid,
    delegation: opened.resok4.delegation,
    delays,
  };
}

/** The whole file, READ by READ from offset 0 to end of file. */
export async function readFile(
  session: ClientSession,
  file: OpenFile,
  retry?: DelayRetry,
): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  let offset = 0n;
  for (;;) {
    const { reply } = await retryOnDelay(
      () => session.compound([ops.putfh(file.fh), ops.read(file.stateid, offset, READ_CHUNK)]),
      retry,
    );
    check(reply, "READ");
    const r = resultOf(reply.resarray.at(-1), nfs_opnum4.OP_READ);
    if (r?.status !== nfsstat4.NFS4_OK)
      throw new NfsError(nfsstat4.NFS4ERR_SERVERFAULT, null, "READ: malformed reply");
    parts.push(new Uint8Array(r.resok4.data));
    offset += BigInt(r.resok4.data.length);
    if (r.resok4.eof || r.resok4.data.length === 0) break;
  }
  return Buffer.concat(parts);
}

/** Writes all of `data` at `offset`, FILE_SYNC4, WRITE by WRITE (a server may write less than asked). */
export async function writeFile(
  session: ClientSession,
  file: OpenFile,
  data: Uint8Array,
  offset = 0n,
  retry?: DelayRetry,
): Promise<void> {
  let done = 0;
  while (done < data.length) {
    const chunk = data.subarray(done, done + WRITE_CHUNK);
    const at = offset + BigInt(done);
    const { reply } = await retryOnDelay(
      () =>
        session.compound([
          ops.putfh(file.fh),
          ops.write(file.stateid, at, chunk, stable_how4.FILE_SYNC4),
        ]),
      retry,
    );
    check(reply, "WRITE");
    const r = resultOf(reply.resarray.at(-1), nfs_opnum4.OP_WRITE);
    if (r?.status !== nfsstat4.NFS4_OK || r.resok4.count === 0)
      throw new NfsError(nfsstat4.NFS4ERR_SERVERFAULT, null, "WRITE: wrote nothing");
    done += r.resok4.count;
  }
}

/** Sets the file's size (0: truncates it) through the open. */
export async function truncateFile(
  session: ClientSession,
  file: OpenFile,
  size = 0n,
  retry?: DelayRetry,
): Promise<void> {
  const { reply } = await retryOnDelay(
    () => session.compound([ops.putfh(file.fh), ops.setattrSize(file.stateid, size)]),
    retry,
  );
  check(reply, "SETATTR size");
}

/** CLOSE of the open. */
export async function closeFile(
  session: ClientSession,
  file: Pick<OpenFile, "fh" | "stateid">,
  retry?: DelayRetry,
): Promise<void> {
  const { reply } = await retryOnDelay(
    () => session.compound([ops.putfh(file.fh), ops.close(file.stateid)]),
    retry,
  );
  check(reply, "CLOSE");
}

/** DELEGRETURN of the delegation `stateid` of the file `fh`. */
export async function returnDelegation(
  session: ClientSession,
  fh: Uint8Array,
  stateid: stateid4,
  retry?: DelayRetry,
): Promise<void> {
  const { reply } = await retryOnDelay(
    () => session.compound([ops.putfh(fh), ops.delegreturn(stateid)]),
    retry,
  );
  check(reply, "DELEGRETURN");
}

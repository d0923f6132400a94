// The load generator's workloads. Each is one "operation" (step) the runner
// repeats: one or a few COMPOUNDs whose statuses and payload bytes it reports.
// Setup makes what the steps need inside the run's own directory; cleanup
// removes it again.

import type { bitmap4, nfs_argop4, stateid4 } from "../../generated/nfs4/index.js";
import {
  FATTR4_CHANGE,
  FATTR4_FILEID,
  FATTR4_MODE,
  FATTR4_SIZE,
  FATTR4_TIME_MODIFY,
  FATTR4_TYPE,
  OPEN4_SHARE_ACCESS_BOTH,
  OPEN4_SHARE_ACCESS_WANT_NO_DELEG,
  OPEN4_SHARE_DENY_NONE,
  nfs_opnum4,
  nfsstat4,
  stable_how4,
} from "../../generated/nfs4/index.js";
import type { ClientSession, SessionReply } from "../client/index.js";
import { NfsError, closeFile, ops, resultOf } from "../client/index.js";

export const WORKLOADS = [
  "getattr",
  "lookup",
  "churn",
  "write",
  "read",
  "readdir",
  "mixed",
] as const;
export type WorkloadName = (typeof WORKLOADS)[number];

export function isWorkload(s: string): s is WorkloadName {
  return (WORKLOADS as readonly string[]).includes(s);
}

/** Bytes of one churn WRITE. */
export const CHURN_WRITE_BYTES = 4096;
/** Bytes of one sequential WRITE or READ. */
export const IO_BYTES = 1024 * 1024;
/** Names LOOKUP cycles over (--files). */
export const DEFAULT_LOOKUP_FILES = 1000;
/** Entries of the READDIR workload's directory (--files). */
export const DEFAULT_READDIR_ENTRIES = 10_000;
/** Size of the file the write and read workloads cycle over (--file-size). */
export const DEFAULT_FILE_SIZE = 64 * IO_BYTES;
/** READDIR maxcount: the server caps it further (its own entry limit). */
export const READDIR_MAXCOUNT = 1024 * 1024;
/** How many setup and cleanup COMPOUNDs are in flight at once. */
export const SETUP_PARALLELISM = 32;

/** Attributes GETATTR, LOOKUP and READDIR ask for: what `stat` needs, about. */
const STAT_ATTRS: bitmap4 = [
  (1 << FATTR4_TYPE) | (1 << FATTR4_CHANGE) | (1 << FATTR4_SIZE) | (1 << FATTR4_FILEID),
  (1 << (FATTR4_MODE - 32)) | (1 << (FATTR4_TIME_MODIFY - 32)),
];
const OWNER = "dfsctl-bench";

/** Sends SEQUENCE + `argops` in one of the run's sessions (ClientSession.compound). */
export type Send = (argops: nfs_argop4[]) => Promise<SessionReply>;

/** One step's outcome: each COMPOUND's status, and the file data it moved. */
export interface StepResult {
  readonly statuses: readonly nfsstat4[];
  readonly bytes: number;
}

export interface WorkloadContext {
  /** The session setup and cleanup use. */
  readonly session: ClientSession;
  /** The filehandle of the directory given on the command line. */
  readonly exportFh: Uint8Array;
  /** The run's own directory, made in it. */
  readonly dirFh: Uint8Array;
  /** --files: names for lookup, entries for readdir. */
  readonly files: number;
  /** --file-size for write and read, a multiple of IO_BYTES. */
  readonly fileSize: number;
  /** The run's sessions: write and read give each its own file. */
  readonly sessions: number;
}

export interface Workload {
  setup(): Promise<void>;
  /**
   * Operation number `index` (0, 1, … over the whole run), its COMPOUNDs sent
   * with `send` in session number `session` (0 … sessions-1). The step keeps
   * none of its replies' bytes once it has returned: the runner releases them.
   */
  step(send: Send, index: number, session: number): Promise<StepResult>;
  cleanup(): Promise<void>;
}

/** Runs `job(i)` for i in [0, n), `SETUP_PARALLELISM` at a time. */
async function parallel(n: number, job: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < n) await job(next++);
  };
  await Promise.all(Array.from({ length: Math.min(n, SETUP_PARALLELISM) }, worker));
}

async function must(session: ClientSession, argops: nfs_argop4[], what: string) {
  const reply = await session.compound(argops);
  if (reply.status !== nfsstat4.NFS4_OK)
    throw new NfsError(reply.status, reply.resarray.at(-1)?.resop ?? null, what);
  return reply;
}

/** OPEN (creating) `name` in `dir` for reading and writing: its filehandle and open stateid. */
async function create(
  session: ClientSession,
  dir: Uint8Array,
  name: string,
): Promise<{ fh: Uint8Array; stateid: stateid4 }> {
  const access = OPEN4_SHARE_ACCESS_BOTH | OPEN4_SHARE_ACCESS_WANT_NO_DELEG;
  const reply = await must(
    session,
    [
      ops.putfh(dir),
      ops.open(name, OWNER, access, OPEN4_SHARE_DENY_NONE, ops.openHow(true)),
      ops.getfh(),
    ],
    `creating ${name}`,
  );
  const opened = resultOf(reply.resarray[1], nfs_opnum4.OP_OPEN);
  const fh = resultOf(reply.resarray[2], nfs_opnum4.OP_GETFH);
  if (opened?.status !== nfsstat4.NFS4_OK || fh?.status !== nfsstat4.NFS4_OK)
    throw new NfsError(nfsstat4.NFS4ERR_SERVERFAULT, null, `creating ${name}: malformed reply`);
  return { fh: new Uint8Array(fh.resok4.object), stateid: opened.resok4.stateid };
}

/** Creates files `prefix`0 … `prefix`(n-1), empty and closed. */
async function createFiles(ctx: WorkloadContext, prefix: string, n: number): Promise<void> {
  await parallel(n, async (i) => {
    const f = await create(ctx.session, ctx.dirFh, `${prefix}${i}`);
    await closeFile(ctx.session, f);
  });
}

async function removeFiles(ctx: WorkloadContext, prefix: string, n: number): Promise<void> {
  await parallel(n, async (i) => {
    await ctx.session.compound([ops.putfh(ctx.dirFh), ops.remove(`${prefix}${i}`)]);
  });
}

function statuses(...replies: { readonly status: nfsstat4 }[]): nfsstat4[] {
  return replies.map((r) => r.status);
}

/** PUTFH of the export's directory + GETATTR. */
function getattr(ctx: WorkloadContext): Workload {
  return {
    setup: async () => {},
    step: async (send) => ({
      statuses: statuses(await send([ops.putfh(ctx.exportFh), ops.getattr(STAT_ATTRS)])),
      bytes: 0,
    }),
    cleanup: async () => {},
  };
}

/** LOOKUP + GETATTR over `files` names made in setup, in turn. */
function lookup(ctx: WorkloadContext): Workload {
  return {
    setup: () => createFiles(ctx, "f", ctx.files),
    step: async (send, i) => ({
      statuses: statuses(
        await send([
          ops.putfh(ctx.dirFh),
          ops.lookup(`f${i % ctx.files}`),
          ops.getattr(STAT_ATTRS),
        ]),
      ),
      bytes: 0,
    }),
    cleanup: () => removeFiles(ctx, "f", ctx.files),
  };
}

/** OPEN create + WRITE 4 KiB + CLOSE + REMOVE of a new name: three COMPOUNDs. */
function churn(ctx: WorkloadContext): Workload {
  const data = new Uint8Array(CHURN_WRITE_BYTES).fill(0x63);
  return {
    setup: async () => {},
    step: async (send, i) => {
      const name = `c${i}`;
      const access = OPEN4_SHARE_ACCESS_BOTH | OPEN4_SHARE_ACCESS_WANT_NO_DELEG;
      const opened = await send([
        ops.putfh(ctx.dirFh),
        ops.open(name, OWNER, access, OPEN4_SHARE_DENY_NONE, ops.openHow(true)),
        ops.getfh(),
      ]);
      const open = resultOf(opened.resarray[1], nfs_opnum4.OP_OPEN);
      const fh = resultOf(opened.resarray[2], nfs_opnum4.OP_GETFH);
      if (open?.status !== nfsstat4.NFS4_OK || fh?.status !== nfsstat4.NFS4_OK)
        return { statuses: statuses(opened), bytes: 0 };
      const stateid = open.resok4.stateid;
      const written = await send([
        ops.putfh(fh.resok4.object),
        ops.write(stateid, 0n, data, stable_how4.UNSTABLE4),
        ops.close(stateid),
      ]);
      const removed = await send([ops.putfh(ctx.dirFh), ops.remove(name)]);
      const wrote = written.status === nfsstat4.NFS4_OK ? CHURN_WRITE_BYTES : 0;
      return { statuses: statuses(opened, written, removed), bytes: wrote };
    },
    cleanup: async () => {},
  };
}

/** The offset of step `i` in a file of `fileSize` bytes read or written IO_BYTES at a time. */
function offsetOf(ctx: WorkloadContext, i: number): bigint {
  return BigInt((i % (ctx.fileSize / IO_BYTES)) * IO_BYTES);
}

type OpenFile = { fh: Uint8Array; stateid: stateid4 };

/**
 * One file per session, `prefix`0 … `prefix`(sessions-1), opened in setup,
 * and each session's own count of steps: every session goes sequentially over
 * its own file, so sessions do not contend for one file (as separate
 * processes of a real client would not).
 */
class SessionFiles {
  private readonly files: (OpenFile | undefined)[];
  private readonly steps: number[];

  constructor(
    private readonly ctx: WorkloadContext,
    private readonly prefix: string,
  ) {
    this.files = Array.from({ length: ctx.sessions }, () => undefined);
    this.steps = Array.from({ length: ctx.sessions }, () => 0);
  }

  /**
   * Creates and opens every session's file, then runs `fill` on each in turn
   * (one file at a time: fill has its own parallelism).
   */
  async open(fill?: (f: OpenFile) => Promise<void>): Promise<void> {
    await parallel(this.ctx.sessions, async (s) => {
      this.files[s] = await create(this.ctx.session, this.ctx.dirFh, `${this.prefix}${s}`);
    });
    if (fill !== undefined) for (const f of this.files) if (f !== undefined) await fill(f);
  }

  /** Session `s`'s file and the offset of its next step (its steps so far, round the file). */
  next(s: number): { file: OpenFile; offset: bigint } {
    const file = this.files[s];
    if (file === undefined) throw new Error(`${this.prefix}${s}: no setup`);
    const step = this.steps[s]!;
    this.steps[s] = step + 1;
    return { file, offset: offsetOf(this.ctx, step) };
  }

  async close(): Promise<void> {
    await parallel(this.ctx.sessions, async (s) => {
      const f = this.files[s];
      if (f !== undefined) await closeFile(this.ctx.session, f).catch(() => {});
    });
    await removeFiles(this.ctx, this.prefix, this.ctx.sessions);
  }
}

/**
 * WRITE 1 MiB UNSTABLE sequentially, each session over its own file (w0, w1,
 * …), COMMIT with each WRITE that ends the file.
 */
function write(ctx: WorkloadContext): Workload {
  const data = new Uint8Array(IO_BYTES).fill(0x77);
  const files = new SessionFiles(ctx, "w");
  return {
    setup: () => files.open(),
    step: async (send, _i, s) => {
      const { file, offset } = files.next(s);
      const last = offset + BigInt(IO_BYTES) === BigInt(ctx.fileSize);
      const reply = await send([
        ops.putfh(file.fh),
        ops.write(file.stateid, offset, data, stable_how4.UNSTABLE4),
        ...(last ? [ops.commit()] : []),
      ]);
      const w = resultOf(reply.resarray[1], nfs_opnum4.OP_WRITE);
      return {
        statuses: statuses(reply),
        bytes: w?.status === nfsstat4.NFS4_OK ? w.resok4.count : 0,
      };
    },
    cleanup: () => files.close(),
  };
}

/** READ 1 MiB sequentially, each session over its own file (r0, r1, …) written in setup. */
function read(ctx: WorkloadContext): Workload {
  const files = new SessionFiles(ctx, "r");
  const data = new Uint8Array(IO_BYTES).fill(0x72);
  const fill = async (f: OpenFile): Promise<void> => {
    await parallel(ctx.fileSize / IO_BYTES, async (i) => {
      await must(
        ctx.session,
        [ops.putfh(f.fh), ops.write(f.stateid, offsetOf(ctx, i), data, stable_how4.UNSTABLE4)],
        "writing the file to read",
      );
    });
    await must(ctx.session, [ops.putfh(f.fh), ops.commit()], "COMMIT");
  };
  return {
    setup: () => files.open(fill),
    step: async (send, _i, s) => {
      const { file, offset } = files.next(s);
      const reply = await send([ops.putfh(file.fh), ops.read(file.stateid, offset, IO_BYTES)]);
      const r = resultOf(reply.resarray[1], nfs_opnum4.OP_READ);
      return {
        statuses: statuses(reply),
        bytes: r?.status === nfsstat4.NFS4_OK ? r.resok4.data.length : 0,
      };
    },
    cleanup: () => files.close(),
  };
}

/** The whole listing of a directory of `files` entries: READDIR after READDIR until eof. */
function readdir(ctx: WorkloadContext): Workload {
  return {
    setup: () => createFiles(ctx, "e", ctx.files),
    step: async (send) => {
      const seen: nfsstat4[] = [];
      let cookie = 0n;
      let verifier: Uint8Array = new Uint8Array(8);
      // Every READDIR that is not the last returns an entry: more rounds than
      // entries (+1) is a server going round in circles.
      for (let round = 0; round <= ctx.files + 1; round++) {
        const reply = await send([
          ops.putfh(ctx.dirFh),
          ops.readdir(cookie, verifier, STAT_ATTRS, READDIR_MAXCOUNT),
        ]);
        seen.push(reply.status);
        const r = resultOf(reply.resarray[1], nfs_opnum4.OP_READDIR);
        if (r?.status !== nfsstat4.NFS4_OK) break;
        const last = r.resok4.reply.entries.at(-1);
        if (r.resok4.reply.eof || last === undefined) break;
        cookie = last.cookie;
        verifier = r.resok4.cookieverf;
      }
      return { statuses: seen, bytes: 0 };
    },
    cleanup: () => removeFiles(ctx, "e", ctx.files),
  };
}

/**
 * Metadata traffic in fixed proportions, by operation number: of every ten,
 * six getattr, three lookup, one churn (so a count of 10·k runs exactly 6k,
 * 3k and k of them).
 */
export const MIXED_PATTERN: readonly ("getattr" | "lookup" | "churn")[] = [
  "churn",
  "lookup",
  "getattr",
  "getattr",
  "lookup",
  "getattr",
  "getattr",
  "lookup",
  "getattr",
  "getattr",
];

function mixed(ctx: WorkloadContext): Workload {
  const parts = { getattr: getattr(ctx), lookup: lookup(ctx), churn: churn(ctx) };
  return {
    setup: () => parts.lookup.setup(),
    step: (send, i, s) => parts[MIXED_PATTERN[i % MIXED_PATTERN.length]!].step(send, i, s),
    cleanup: () => parts.lookup.cleanup(),
  };
}

const MAKERS: Readonly<Record<WorkloadName, (ctx: WorkloadContext) => Workload>> = {
  getattr,
  lookup,
  churn,
  write,
  read,
  readdir,
  mixed,
};

export function makeWorkload(name: WorkloadName, ctx: WorkloadContext): Workload {
  return MAKERS[name](ctx);
}

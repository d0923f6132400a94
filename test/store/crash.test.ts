// kill -9 at random moments loses nothing acknowledged as stable (issue 10,
// RFC 8881 §18.32 WRITE, §18.3 COMMIT): a `dfs serve` child on a SQLite data
// directory — and on PostgreSQL + S3 (issue 11: throwaway PostgreSQL and
// radosgw, test/support/) — is driven by the client library — lanes of OPEN create + UNSTABLE4
// WRITEs + COMMIT, FILE_SYNC4 and DATA_SYNC4 WRITEs, CREATE, REMOVE (of open
// files too), RENAME, LINK and SETATTR size, several in flight at once — and
// killed with SIGKILL while requests are in flight. After each restart on the
// same directory (no repair step: the server must simply start) every name,
// size and byte acknowledged as stable is there (crash-model.ts says what may
// differ), the write verifier is new, no object is left that no name reaches,
// and no payload file is left that no object names.
//
// SIGKILL ends the process, not the machine: the page cache survives, so this
// proves atomicity, ordering and recovery, not that every fsync is in place.
//
// DFS_CRASH_ITERATIONS (default 50) and DFS_CRASH_SEED (default random,
// printed on failure) reproduce or lengthen a run.

import type { S3Client } from "@aws-sdk/client-s3";
import { CreateBucketCommand, ListObjectsV2Command } from "@aws-sdk/client-s3";
import Database from "better-sqlite3";
import pg from "pg";
import { randomInt } from "node:crypto";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  FATTR4_FILEID,
  FATTR4_TYPE,
  OPEN4_SHARE_ACCESS_BOTH,
  OPEN4_SHARE_ACCESS_WANT_NO_DELEG,
  OPEN4_SHARE_DENY_NONE,
  type nfs_argop4,
  nfs_ftype4,
  nfs_opnum4,
  nfsstat4,
  stable_how4,
  type stateid4,
} from "../../generated/nfs4/index.js";
import {
  NfsClient,
  decodeAttributes,
  failureOf,
  ops,
  resultOf,
  type ClientSession,
  type SessionReply,
} from "../../src/client/index.js";
import { bitmapOf } from "../../src/protocol/bitmap.js";
import {
  DirModel,
  FileModel,
  dirFromActual,
  explainDir,
  type ActualEntry,
  type SentWrite,
} from "./crash-model.js";
import { CrashServer, bundleServer } from "./crash-server.js";
import { postgresMissing, startPostgres, type PostgresCluster } from "../support/postgres.js";
import {
  radosgwMissing,
  s3ClientOf,
  scaleOutStore,
  startRadosgw,
  type RadosgwCluster,
} from "../support/radosgw.js";

const ITERATIONS = Number(process.env["DFS_CRASH_ITERATIONS"] ?? 50);
const SEED = Number(process.env["DFS_CRASH_SEED"] ?? randomInt(2 ** 31));
/** Directories worked on concurrently, one operation in flight in each. */
const LANES = 3;
/** The workload runs this long (ms, uniform) before the kill, on SQLite. */
const KILL_AFTER_MS = { min: 5, max: 250 };
/** Files stay small so that reading everything back after each restart is quick. */
const MAX_OFFSET = 12_000;
const MAX_WRITE = 6_000;
/** Above this many names a lane removes more than it creates. */
const LANE_NAMES = 12;
/** One client owner across restarts: the same client coming back (it may reclaim). */
const OWNER = "crash-test";
const ANONYMOUS: stateid4 = { seqid: 0, other: new Uint8Array(12) };
const DIR_ATTRS = bitmapOf([FATTR4_TYPE, FATTR4_FILEID]);

/** mulberry32: a small seeded generator, so a failing run can be repeated. */
function generator(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}
const random = generator(SEED);
const between = (min: number, max: number): number => min + Math.floor(random() * (max - min + 1));
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function bytes(n: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = 1 + Math.floor(random() * 255);
  return b;
}

/**
 * Sends `argops` in the session; retries GRACE and DELAY (a restarted server
 * may be in its grace period: RFC 8881 §8.4.2). Throws when the server does
 * not answer (it was killed) or answers with an error.
 */
async function call(
  session: ClientSession,
  argops: readonly nfs_argop4[],
  what: string,
): Promise<SessionReply> {
  for (let waited = 0; ; waited += 50) {
    const reply = await session.compound(argops);
    const err = failureOf(reply.res);
    if (err === null) return reply;
    const again = err.status === nfsstat4.NFS4ERR_GRACE || err.status === nfsstat4.NFS4ERR_DELAY;
    if (!again || waited > 120_000) throw new Error(`${what}: ${err.message} (seed ${SEED})`);
    await sleep(50);
  }
}

function last<K extends nfs_opnum4>(reply: SessionReply, op: K) {
  const r = resultOf(reply.resarray.at(-1), op);
  if (r === undefined) throw new Error(`reply without op ${op}`);
  return r;
}

interface Opened {
  readonly fh: Uint8Array;
  readonly stateid: stateid4;
}

/** One directory of the workload and what the client knows of it. */
class Lane {
  model = new DirModel();
  /** The namespace change of the operation in flight, had it been done. */
  inflight: ((m: DirModel) => void) | null = null;
  /** Files this lane has open in this server run (never closed: removing one leaves an orphan). */
  opens = new Map<FileModel, Opened>();
  private names = 0;

  constructor(
    readonly index: number,
    readonly fh: Uint8Array,
  ) {}

  freshName(prefix: string, iteration: number): string {
    return `${prefix}${iteration}_${++this.names}`;
  }

  /** The states the directory may be in after a crash. */
  candidates(): DirModel[] {
    if (this.inflight === null) return [this.model];
    const after = this.model.clone();
    this.inflight(after);
    return [this.model, after];
  }
}

/** The workload's run against one server start. */
class Run {
  /** Every write verifier this run's server handed out. */
  readonly verifiers = new Set<string>();
  private seq = 0;
  stopped = false;

  constructor(
    readonly session: ClientSession,
    readonly iteration: number,
  ) {}

  /** Runs random operations in `lane` until the server is gone. */
  async drive(lane: Lane): Promise<void> {
    try {
      while (!this.stopped) await this.step(lane);
    } catch (e) {
      // The kill: the operation in flight stays in doubt (lane.inflight, pending writes).
      if (!this.stopped) throw e;
    }
  }

  private async step(lane: Lane): Promise<void> {
    const files = lane.model.namesOf("file");
    const dirs = lane.model.namesOf("dir");
    const crowded = lane.model.names.size > LANE_NAMES;
    const r = random();
    if (files.length === 0 || (!crowded && r < 0.2)) return this.createFile(lane);
    if (r < 0.35) return this.unstableBurst(lane, pick(files));
    if (r < 0.5) return this.syncWrite(lane, pick(files), stable_how4.FILE_SYNC4);
    if (r < 0.6) return this.syncWrite(lane, pick(files), stable_how4.DATA_SYNC4);
    if (r < 0.67 && !crowded) return this.mkdir(lane);
    if (r < 0.8 || crowded) return this.remove(lane, pick([...files, ...dirs]));
    if (r < 0.87) return this.rename(lane, pick([...files, ...dirs]));
    if (r < 0.93) return this.link(lane, pick(files));
    return this.resize(lane, pick(files));
  }

  private fileOf(lane: Lane, name: string): FileModel {
    const node = lane.model.names.get(name);
    if (node?.kind !== "file") throw new Error(`${name} is not a file`);
    return node.file;
  }

  /** The lane's open of `name` (an OPEN without create the first time). */
  private async open(lane: Lane, name: string): Promise<Opened> {
    const file = this.fileOf(lane, name);
    const known = lane.opens.get(file);
    if (known !== undefined) return known;
    const opened = await this.sendOpen(lane, name, false);
    lane.opens.set(file, opened);
    return opened;
  }

  private async sendOpen(lane: Lane, name: string, create: boolean): Promise<Opened> {
    const access = OPEN4_SHARE_ACCESS_BOTH | OPEN4_SHARE_ACCESS_WANT_NO_DELEG;
    const reply = await call(
      this.session,
      [
        ops.putfh(lane.fh),
        ops.open(name, `lane${lane.index}`, access, OPEN4_SHARE_DENY_NONE, ops.openHow(create)),
        ops.getfh(),
      ],
      `OPEN ${name}`,
    );
    const open = resultOf(reply.resarray.at(-2), nfs_opnum4.OP_OPEN);
    const fh = last(reply, nfs_opnum4.OP_GETFH);
    if (open?.status !== nfsstat4.NFS4_OK || fh.status !== nfsstat4.NFS4_OK)
      throw new Error("OPEN: malformed reply");
    return { fh: new Uint8Array(fh.resok4.object), stateid: open.resok4.stateid };
  }

  /** OPEN with create (a namespace operation), then UNSTABLE4 writes and COMMIT. */
  private async createFile(lane: Lane): Promise<void> {
    const name = lane.freshName("f", this.iteration);
    lane.inflight = (m) => m.names.set(name, { kind: "file", file: new FileModel() });
    const opened = await this.sendOpen(lane, name, true);
    const file = new FileModel();
    lane.model.names.set(name, { kind: "file", file });
    lane.inflight = null;
    lane.opens.set(file, opened);
    await this.unstableBurst(lane, name);
  }

  private async write(
    lane: Lane,
    name: string,
    how: stable_how4,
  ): Promise<{ w: SentWrite; committed: stable_how4 }> {
    const file = this.fileOf(lane, name);
    const { fh, stateid } = await this.open(lane, name);
    const w = {
      seq: this.seq++,
      offset: between(0, MAX_OFFSET),
      data: bytes(between(1, MAX_WRITE)),
    };
    file.sent(w);
    const reply = await call(
      this.session,
      [ops.putfh(fh), ops.write(stateid, BigInt(w.offset), w.data, how)],
      `WRITE ${name}`,
    );
    const r = last(reply, nfs_opnum4.OP_WRITE);
    if (r.status !== nfsstat4.NFS4_OK) throw new Error("WRITE: malformed reply");
    expect(r.resok4.count, `short WRITE (seed ${SEED})`).toBe(w.data.length);
    this.verifiers.add(Buffer.from(r.resok4.writeverf).toString("hex"));
    return { w, committed: r.resok4.committed };
  }

  /** 1–3 UNSTABLE4 writes, then COMMIT. */
  private async unstableBurst(lane: Lane, name: string): Promise<void> {
    const file = this.fileOf(lane, name);
    for (let i = between(1, 3); i > 0; i--) await this.write(lane, name, stable_how4.UNSTABLE4);
    const { fh } = await this.open(lane, name);
    const sentBefore = this.seq++;
    const reply = await call(this.session, [ops.putfh(fh), ops.commit()], `COMMIT ${name}`);
    const r = last(reply, nfs_opnum4.OP_COMMIT);
    if (r.status !== nfsstat4.NFS4_OK) throw new Error("COMMIT: malformed reply");
    this.verifiers.add(Buffer.from(r.resok4.writeverf).toString("hex"));
    file.committed(sentBefore);
  }

  private async syncWrite(lane: Lane, name: string, how: stable_how4): Promise<void> {
    const { w, committed } = await this.write(lane, name, how);
    expect(
      committed,
      `WRITE answered less stable than asked (seed ${SEED})`,
    ).toBeGreaterThanOrEqual(how);
    this.fileOf(lane, name).stable(w);
  }

  private async mkdir(lane: Lane): Promise<void> {
    const name = lane.freshName("d", this.iteration);
    lane.inflight = (m) => m.names.set(name, { kind: "dir" });
    await call(this.session, [ops.putfh(lane.fh), ops.mkdir(name)], `CREATE ${name}`);
    lane.inflight(lane.model);
    lane.inflight = null;
  }

  /** REMOVE; half the files are opened first, so their removal leaves an open orphan. */
  private async remove(lane: Lane, name: string): Promise<void> {
    if (lane.model.names.get(name)?.kind === "file" && random() < 0.5) await this.open(lane, name);
    lane.inflight = (m) => m.names.delete(name);
    await call(this.session, [ops.putfh(lane.fh), ops.remove(name)], `REMOVE ${name}`);
    lane.inflight(lane.model);
    lane.inflight = null;
  }

  private async rename(lane: Lane, name: string): Promise<void> {
    const to = lane.freshName("r", this.iteration);
    lane.inflight = (m) => {
      m.names.set(to, m.names.get(name)!);
      m.names.delete(name);
    };
    await call(
      this.session,
      [ops.putfh(lane.fh), ops.savefh(), ops.rename(name, to)],
      `RENAME ${name} ${to}`,
    );
    lane.inflight(lane.model);
    lane.inflight = null;
  }

  private async link(lane: Lane, name: string): Promise<void> {
    const to = lane.freshName("l", this.iteration);
    lane.inflight = (m) => m.names.set(to, m.names.get(name)!);
    await call(
      this.session,
      [ops.putfh(lane.fh), ops.lookup(name), ops.savefh(), ops.putfh(lane.fh), ops.link(to)],
      `LINK ${name} ${to}`,
    );
    lane.inflight(lane.model);
    lane.inflight = null;
  }

  /** SETATTR size (of a file with no uncommitted writes, whose outcome the model can tell). */
  private async resize(lane: Lane, name: string): Promise<void> {
    if (this.fileOf(lane, name).hasPending) return this.unstableBurst(lane, name);
    const { fh, stateid } = await this.open(lane, name);
    const size = between(0, MAX_OFFSET + MAX_WRITE);
    const seq = this.seq++;
    lane.inflight = (m) => {
      const node = m.names.get(name);
      if (node?.kind === "file") node.file.resized(size, seq);
    };
    await call(
      this.session,
      [ops.putfh(fh), ops.setattrSize(stateid, BigInt(size))],
      `SETATTR ${name}`,
    );
    lane.inflight(lane.model);
    lane.inflight = null;
  }
}

/** A client of the server at `port`: the same owner every time, its reclaim (of nothing) done. */
async function connect(port: number): Promise<{ client: NfsClient; session: ClientSession }> {
  const client = await NfsClient.connect({ host: "127.0.0.1", port, timeoutMs: 60_000 });
  await client.exchangeId(OWNER);
  const session = await client.createSession();
  await call(session, [ops.reclaimComplete()], "RECLAIM_COMPLETE");
  return { client, session };
}

/** Everything in the directory `dir`, files read through (anonymous stateid). */
async function readBack(session: ClientSession, dir: Uint8Array): Promise<ActualEntry[]> {
  const out: ActualEntry[] = [];
  let cookie = 0n;
  let verifier: Uint8Array = new Uint8Array(8);
  for (;;) {
    const reply = await call(
      session,
      [ops.putfh(dir), ops.readdir(cookie, verifier, DIR_ATTRS, 32_768)],
      "READDIR",
    );
    const r = last(reply, nfs_opnum4.OP_READDIR);
    if (r.status !== nfsstat4.NFS4_OK) throw new Error("READDIR: malformed reply");
    verifier = r.resok4.cookieverf;
    for (const e of r.resok4.reply.entries) {
      const name = Buffer.from(e.name).toString("utf8");
      const a = decodeAttributes(e.attrs);
      const isDir = a.type === nfs_ftype4.NF4DIR;
      out.push({
        name,
        kind: isDir ? "dir" : "file",
        fileid: a.fileid ?? -1n,
        data: isDir ? null : await readAll(session, dir, name),
      });
      cookie = e.cookie;
    }
    if (r.resok4.reply.eof) return out;
  }
}

async function readAll(session: ClientSession, dir: Uint8Array, name: string): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  let offset = 0n;
  for (;;) {
    const reply = await call(
      session,
      [ops.putfh(dir), ops.lookup(name), ops.read(ANONYMOUS, offset, 32_768)],
      `READ ${name}`,
    );
    const r = last(reply, nfs_opnum4.OP_READ);
    if (r.status !== nfsstat4.NFS4_OK) throw new Error("READ: malformed reply");
    parts.push(new Uint8Array(r.resok4.data));
    offset += BigInt(r.resok4.data.length);
    if (r.resok4.eof || r.resok4.data.length === 0) return Buffer.concat(parts);
  }
}

/**
 * With the restarted server up and nothing open: no object without a name
 * (orphans of the last run reclaimed), every object reachable from the lanes,
 * and no payload file that no object names.
 */
/** A store the crash test runs the server on. */
interface CrashStore {
  /** The server's `store` settings (besides dataDir). */
  readonly settings: Readonly<Record<string, unknown>>;
  /** The workload runs this long (ms, uniform) before the kill: long enough for a few dozen operations. */
  readonly killAfterMs: { readonly min: number; readonly max: number };
  /** Checks that no object is left that no name reaches, and no payload that no object names. */
  checkNoLeaks(dataDir: string, reachable: number): Promise<void>;
}

const SQLITE: CrashStore = {
  settings: { backend: "sqlite" },
  killAfterMs: KILL_AFTER_MS,
  checkNoLeaks: async (dataDir, reachable) => checkNoLeaks(dataDir, reachable),
};

function checkNoLeaks(dataDir: string, reachable: number): void {
  const db = new Database(join(dataDir, "metadata.sqlite"), {
    readonly: true,
    fileMustExist: true,
  });
  try {
    const count = (sql: string): number => Number(Object.values(db.prepare(sql).get() ?? {})[0]);
    expect(count("SELECT count(*) FROM objects WHERE nlink = 0"), "orphans left").toBe(0);
    expect(count("SELECT count(*) FROM objects"), "objects no name reaches").toBe(reachable);
    const named = new Set(
      db
        .prepare("SELECT payload FROM objects WHERE payload IS NOT NULL")
        .all()
        .map((row) => Object.values(row ?? {})[0]),
    );
    const leaked = readdirSync(join(dataDir, "payload")).filter((p) => !named.has(p));
    expect(leaked, "payload files no object names").toEqual([]);
  } finally {
    db.close();
  }
}

/** Every server started, so that a failed test leaves none running. */
const servers = new Set<CrashServer>();

async function start(bundlePath: string, dataDir: string, store: CrashStore): Promise<CrashServer> {
  const s = await CrashServer.start(bundlePath, dataDir, store.settings);
  servers.add(s);
  return s;
}

/**
 * `iterations` times: random work in LANES directories of the store in
 * `dataDir`, kill -9, restart, check. Returns the number of kills.
 */
async function crashSequence(
  bundlePath: string,
  dataDir: string,
  iterations: number,
  store: CrashStore = SQLITE,
): Promise<number> {
  let server = await start(bundlePath, dataDir, store);
  let { client, session } = await connect(server.port);
  // Setup, before the first kill: the lanes' directories (a namespace operation: durable).
  const exp = last(
    await call(session, [ops.putrootfh(), ops.lookup("export"), ops.getfh()], "export"),
    nfs_opnum4.OP_GETFH,
  );
  if (exp.status !== nfsstat4.NFS4_OK) throw new Error("no /export");
  const lanes: Lane[] = [];
  for (let i = 0; i < LANES; i++) {
    const r = await call(
      session,
      [ops.putfh(exp.resok4.object), ops.mkdir(`lane${i}`), ops.getfh()],
      "CREATE lane",
    );
    const fh = last(r, nfs_opnum4.OP_GETFH);
    if (fh.status !== nfsstat4.NFS4_OK) throw new Error("CREATE lane: no handle");
    lanes.push(new Lane(i, new Uint8Array(fh.resok4.object)));
  }
  // A file whose COMMIT tells the write verifier after each restart.
  const probeOpen = await call(
    session,
    [
      ops.putfh(exp.resok4.object),
      ops.open("probe", "setup", OPEN4_SHARE_ACCESS_BOTH, OPEN4_SHARE_DENY_NONE, ops.openHow(true)),
      ops.getfh(),
    ],
    "OPEN probe",
  );
  const probeFh = last(probeOpen, nfs_opnum4.OP_GETFH);
  if (probeFh.status !== nfsstat4.NFS4_OK) throw new Error("OPEN probe: no handle");
  const probe = new Uint8Array(probeFh.resok4.object);
  const earlierVerifiers = new Set<string>();
  let kills = 0;
  for (let iteration = 1; iteration <= iterations; iteration++) {
    const run = new Run(session, iteration);
    const driving = lanes.map((lane) => run.drive(lane));
    await sleep(between(store.killAfterMs.min, store.killAfterMs.max));
    run.stopped = true;
    await server.kill();
    kills++;
    await Promise.all(driving);
    client.destroy();
    for (const v of run.verifiers) earlierVerifiers.add(v);

    // Restart on the same directory: it must open as it is.
    server = await start(bundlePath, dataDir, store);
    ({ client, session } = await connect(server.port));
    // Root, /export, the probe and the lanes' directories, then what is in them.
    let reachable = 3 + LANES;
    for (const lane of lanes) {
      const actual = await readBack(session, lane.fh);
      const candidates = lane.candidates();
      const why = candidates.map((m) => explainDir(m, actual));
      expect(
        why.some((w) => w === null),
        `${dataDir}: lane ${lane.index} after kill ${kills} (seed ${SEED}): ${why.join("; or ")}`,
      ).toBe(true);
      lane.model = dirFromActual(actual);
      lane.inflight = null;
      lane.opens.clear();
      reachable += new Set(actual.map((e) => e.fileid)).size;
    }
    await store.checkNoLeaks(dataDir, reachable);
    // The write verifier is new: what was UNSTABLE4 in the killed run must be sent again.
    const commit = last(
      await call(session, [ops.putfh(probe), ops.commit()], "COMMIT probe"),
      nfs_opnum4.OP_COMMIT,
    );
    if (commit.status !== nfsstat4.NFS4_OK) throw new Error("COMMIT: malformed reply");
    const verifier = Buffer.from(commit.resok4.writeverf).toString("hex");
    expect(earlierVerifiers.has(verifier), `verifier reused after kill ${kills}`).toBe(false);
    earlierVerifiers.add(verifier);
  }
  client.destroy();
  await server.kill();
  return kills;
}

describe("kill -9 of a server on the SQLite store", () => {
  let root: string;
  let bundle: { path: string; remove: () => void } | null = null;

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), "dfs-crash-"));
    bundle = await bundleServer();
  });

  afterAll(async () => {
    for (const s of servers) await s.kill();
    bundle?.remove();
    rmSync(root, { recursive: true, force: true });
  });

  it(`loses nothing acknowledged as stable across ${ITERATIONS} kills at random moments`, async () => {
    // Two stores side by side: a restart is mostly the child's start-up, one core each.
    const half = Math.ceil(ITERATIONS / 2);
    const kills = await Promise.all([
      crashSequence(bundle!.path, join(root, "a"), half),
      crashSequence(bundle!.path, join(root, "b"), ITERATIONS - half),
    ]);
    expect(kills[0] + kills[1]).toBe(ITERATIONS);
  }, 300_000);
});

const missingServices = radosgwMissing() ?? postgresMissing();
if (missingServices !== null) {
  if (process.env["DFS_REQUIRE_SERVICES"] === "1")
    throw new Error(`crash test on PostgreSQL + S3: ${missingServices}`);
  console.warn(`\n*** SKIPPING the crash test on PostgreSQL + S3: ${missingServices} ***\n`);
}

describe.skipIf(missingServices !== null)("kill -9 of a server on PostgreSQL + S3", () => {
  let root: string;
  let bundle: { path: string; remove: () => void } | null = null;
  let postgres: PostgresCluster | null = null;
  let rgw: RadosgwCluster | null = null;
  let s3: S3Client | null = null;

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), "dfs-crash-pg-s3-"));
    [bundle, postgres, rgw] = await Promise.all([bundleServer(), startPostgres(), startRadosgw()]);
    s3 = s3ClientOf(rgw);
  }, 120_000);

  afterAll(async () => {
    for (const s of servers) await s.kill();
    bundle?.remove();
    s3?.destroy();
    rgw?.stop();
    postgres?.stop();
    rmSync(root, { recursive: true, force: true });
  });

  /**
   * A database and a bucket of its own; small blocks. Uploads after
   * `uploadDelayMs`: quick ones let kills land mid-upload, slow ones leave
   * most changes in the write-back tier for the restart to find.
   */
  async function pgS3(name: string, uploadDelayMs: number): Promise<CrashStore> {
    const url = await postgres!.createDatabase(name);
    await s3!.send(new CreateBucketCommand({ Bucket: name }));
    return {
      settings: {
        ...scaleOutStore(url, rgw!, name),
        s3BlockSize: 4096,
        s3UploadDelayMs: uploadDelayMs,
      },
      // A namespace operation takes several PostgreSQL round trips: ms, not µs.
      killAfterMs: { min: 50, max: 1500 },
      checkNoLeaks: async (dataDir, reachable) => {
        const db = new pg.Client({ connectionString: url });
        await db.connect();
        try {
          const count = async (sql: string): Promise<number> =>
            Number((await db.query<{ n: string }>(sql)).rows[0]?.n);
          expect(
            await count("SELECT count(*) AS n FROM objects WHERE nlink = 0"),
            "orphans left",
          ).toBe(0);
          expect(await count("SELECT count(*) AS n FROM objects"), "objects no name reaches").toBe(
            reachable,
          );
          const named = new Set(
            (
              await db.query<{ payload: string }>(
                "SELECT payload FROM objects WHERE payload IS NOT NULL",
              )
            ).rows.map((r) => r.payload),
          );
          const listed = await s3!.send(new ListObjectsV2Command({ Bucket: name, Delimiter: "/" }));
          const inBucket = (listed.CommonPrefixes ?? []).map((p) => (p.Prefix ?? "").slice(0, -1));
          expect(
            inBucket.filter((p) => !named.has(p)),
            "payloads in the bucket no object names",
          ).toEqual([]);
          const staged = readdirSync(join(dataDir, "s3-staging")).map((f) =>
            f.replace(/-[0-9a-f]+$/, ""),
          );
          expect(
            staged.filter((p) => !named.has(p)),
            "staged blocks no object names",
          ).toEqual([]);
        } finally {
          await db.end();
        }
      },
    };
  }

  it(`loses nothing acknowledged as stable across ${ITERATIONS} kills at random moments`, async () => {
    const half = Math.ceil(ITERATIONS / 2);
    const [a, b] = await Promise.all([pgS3("crasha", 20), pgS3("crashb", 1000)]);
    const kills = await Promise.all([
      crashSequence(bundle!.path, join(root, "a"), half, a),
      crashSequence(bundle!.path, join(root, "b"), ITERATIONS - half, b),
    ]);
    expect(kills[0] + kills[1]).toBe(ITERATIONS);
  }, 600_000);
});

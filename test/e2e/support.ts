// Shared helpers of the end-to-end suites: each file starts its own NfsServer
// on 127.0.0.1:0 and the clients it makes are closed after each test, so
// suites neither share state nor leak sockets.

import { mkdtempSync, rmSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Socket } from "node:net";
import { afterAll, afterEach, beforeAll, expect } from "vitest";
import { nfs_opnum4, nfsstat4, type stateid4 } from "../../generated/nfs4/index.js";
import type { ClientSession, NfsClientOptions } from "../../src/client/index.js";
import { NfsClient, ops, resultOf } from "../../src/client/index.js";
import type { FileAttributes, FileHandle, FileSystem, ReadResult } from "../../src/fs/backend.js";
import { MemoryFileSystem } from "../../src/fs/memory.js";
import type { NfsServerOptions } from "../../src/nfs/server.js";
import { NfsServer } from "../../src/nfs/server.js";
import { openDataDir, type OpenedStore } from "../../src/store/data-dir.js";

export interface Running {
  readonly server: NfsServer;
  readonly port: number;
}

/**
 * DFS_TEST_STORE=sqlite runs the suites on the SQLite store (a fresh data
 * directory per server) wherever a test does not bring its own backend.
 */
const TEST_STORE = process.env.DFS_TEST_STORE ?? "memory";
const stores: { store: OpenedStore; dir: string }[] = [];
afterAll(async () => {
  for (const { store, dir } of stores.splice(0)) {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

async function testBackend(): Promise<FileSystem | undefined> {
  if (TEST_STORE === "memory") return undefined;
  if (TEST_STORE !== "sqlite") throw new Error(`DFS_TEST_STORE: unknown store ${TEST_STORE}`);
  const dir = mkdtempSync(join(tmpdir(), "dfs-e2e-"));
  const store = await openDataDir(dir);
  stores.push({ store, dir });
  return store.fs;
}

export async function startServer(options: NfsServerOptions = {}): Promise<Running> {
  const fs = options.fs ?? (await testBackend());
  const server = new NfsServer(fs === undefined ? options : { ...options, fs });
  const [bound] = await server.listen([{ host: "127.0.0.1", port: 0 }]);
  return { server, port: bound!.port };
}

/**
 * One server for the enclosing describe (or file), started before its tests
 * and closed after them. Read `.server` / `.port` inside tests.
 */
export function useServer(options: NfsServerOptions | (() => NfsServerOptions) = {}): Running {
  let running: Running | undefined;
  beforeAll(async () => {
    running = await startServer(typeof options === "function" ? options() : options);
  });
  afterAll(async () => {
    await running?.server.close();
  });
  return {
    get server(): NfsServer {
      if (!running) throw new Error("server not started");
      return running.server;
    },
    get port(): number {
      if (!running) throw new Error("server not started");
      return running.port;
    },
  };
}

const clients: NfsClient[] = [];
afterEach(() => {
  // Abrupt, like a crashed client: the server must cope, and no FIN waits.
  for (const c of clients.splice(0)) c.destroy();
});

/** A client connected to `port`, destroyed after the test. */
export async function connectClient(
  port: number,
  options: Partial<NfsClientOptions> = {},
): Promise<NfsClient> {
  const c = await NfsClient.connect({ host: "127.0.0.1", port, timeoutMs: 10_000, ...options });
  clients.push(c);
  return c;
}

let owners = 0;
/** An owner ID no other test of this process uses. */
export function uniqueOwner(prefix = "e2e"): string {
  return `${prefix}-${process.pid}-${++owners}`;
}

/** A connected client with a confirmed client ID and one session. */
export async function establish(
  port: number,
  options: Partial<NfsClientOptions> & { owner?: string } = {},
): Promise<{ client: NfsClient; session: ClientSession }> {
  const client = await connectClient(port, options);
  await client.exchangeId(options.owner ?? uniqueOwner());
  const session = await client.createSession();
  return { client, session };
}

/**
 * establish(), then RECLAIM_COMPLETE (asserted to succeed): a session that may
 * OPEN from now on (RFC 8881 §18.51.3).
 */
export async function establishReady(
  port: number,
  options: Partial<NfsClientOptions> & { owner?: string } = {},
): Promise<{ client: NfsClient; session: ClientSession }> {
  const made = await establish(port, options);
  expect((await made.session.compound([ops.reclaimComplete()])).status).toBe(nfsstat4.NFS4_OK);
  return made;
}

/** Creates directory `name` under /export (asserting it succeeds); its filehandle. */
export async function mkdirInExport(session: ClientSession, name: string): Promise<Uint8Array> {
  const reply = await session.compound([
    ops.putrootfh(),
    ops.lookup("export"),
    ops.mkdir(name),
    ops.getfh(),
  ]);
  expect(reply.status).toBe(nfsstat4.NFS4_OK);
  const fh = resultOf(reply.resarray.at(-1), nfs_opnum4.OP_GETFH);
  if (fh?.status !== nfsstat4.NFS4_OK) throw new Error("no filehandle");
  return new Uint8Array(fh.resok4.object);
}

/** Resolves once `predicate` holds, polling; fails after `timeoutMs` (generous: not a timing test). */
export async function until(
  predicate: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 15_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** How many times the server ran operation `op` so far. */
export function executed(server: NfsServer, op: number): number {
  return server.compound.executed.get(op) ?? 0;
}

/** A raw TCP socket to the server, for peers that do not speak the protocol properly. */
export function rawSocket(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect({ port, host: "127.0.0.1" });
    s.once("error", reject);
    s.once("connect", () => {
      s.off("error", reject);
      // The server may reset us; that is the expected outcome, not a test failure.
      s.on("error", () => {});
      // Discard what the server sends: an unread socket would never see the server's FIN.
      s.resume();
      resolve(s);
    });
  });
}

/** Resolves when `s` has closed, or destroys it after `graceMs` (the server owes us nothing). */
export function closedOrDestroyed(s: Socket, graceMs = 2_000): Promise<void> {
  return new Promise((resolve) => {
    if (s.destroyed) return resolve();
    const timer = setTimeout(() => s.resetAndDestroy(), graceMs);
    s.once("close", () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/** The server's view of the connection whose local end is `local` ("127.0.0.1:port"). */
export function serverConnId(server: NfsServer, local: string): number {
  for (const c of server.rpc.connections) if (c.remote === local) return c.id;
  throw new Error(`the server has no connection from ${local}`);
}

/** Asserts a session still works end to end (SEQUENCE over TCP succeeds). */
export async function expectAlive(session: ClientSession): Promise<void> {
  const r = await session.sequenceOnly();
  expect(r.status).toBe(nfsstat4.NFS4_OK);
}

export const OP = nfs_opnum4;
export const ST = nfsstat4;

/**
 * A memory filesystem whose getattr() waits while the gate is closed — so
 * LOOKUP of "export" from the pseudo-filesystem root (GATED_OPS), which reads
 * the export root's attributes: the way to hold a request "in flight" on the
 * server for as long as a test needs, without sleeping. (PUTROOTFH alone is
 * answered by the pseudo-filesystem and never reaches a backend.)
 */
export class GatedFileSystem extends MemoryFileSystem {
  /** getattr() calls that reached the gate so far. */
  arrived = 0;
  private gate: Promise<void> | null = null;
  private open: (() => void) | null = null;

  close(): void {
    this.gate ??= new Promise((resolve) => (this.open = resolve));
  }

  release(): void {
    this.open?.();
    this.gate = null;
    this.open = null;
  }

  override async getattr(handle: FileHandle): Promise<FileAttributes> {
    const gate = this.gate;
    if (gate) {
      this.arrived++;
      await gate;
    }
    return super.getattr(handle);
  }
}

/** A memory filesystem that counts the bytes its read() hands out. */
export class CountingFileSystem extends MemoryFileSystem {
  bytesRead = 0;
  override async read(handle: FileHandle, offset: bigint, count: number): Promise<ReadResult> {
    const r = await super.read(handle, offset, count);
    this.bytesRead += r.data.length;
    return r;
  }
}

/**
 * READs `count` bytes at `offset` of an open file and expects byte i to be
 * `expected(offset + i)`; the message names `what` and the first wrong byte.
 */
export async function expectReadBack(
  session: ClientSession,
  file: { readonly fh: Uint8Array; readonly stateid: stateid4 },
  offset: number,
  count: number,
  expected: (at: number) => number,
  what: string,
): Promise<void> {
  const r = await session.compound([
    ops.putfh(file.fh),
    ops.read(file.stateid, BigInt(offset), count),
  ]);
  const res = resultOf(r.resarray.at(-1), nfs_opnum4.OP_READ);
  if (res?.status !== nfsstat4.NFS4_OK) throw new Error(`${what}: READ ${res?.status}`);
  const data = res.resok4.data;
  expect(data.length, what).toBe(count);
  let wrong = -1;
  for (let i = 0; i < count && wrong < 0; i++) if (data[i] !== expected(offset + i)) wrong = i;
  expect(wrong, `${what}: first wrong byte`).toBe(-1);
}

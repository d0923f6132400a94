// A CompoundState around an in-memory backend, for calling operation handlers
// directly. The state manager, connection and session are stubs: the
// filesystem operations never touch them.

import { ClientRecovery } from "../../../src/nfs/recovery.js";
import { MemoryClientRecoveryStore } from "../../../src/store/recovery.js";
import { pino } from "pino";
import { expect } from "vitest";
import { nfsstat4, type nfs_opnum4 } from "../../../generated/nfs4/index.js";
import { CallbackService } from "../../../src/callback/service.js";
import type { CreateAttributes, FileHandle, FileSystem } from "../../../src/fs/backend.js";
import { singleExportPolicy } from "../../../src/exports/policy.js";
import { MemoryFileSystem, type MemoryFsOptions } from "../../../src/fs/memory.js";
import type { CompoundState, ServerContext } from "../../../src/nfs/context.js";
import { invoke, type ArgsOf, type OpDescriptor } from "../../../src/nfs/op.js";
import { resultOf, type ResultOf } from "../../../src/protocol/results.js";
import { DEFAULT_NFS_SETTINGS, type NfsSettings } from "../../../src/nfs/settings.js";
import type { Credential, RpcConnection } from "../../../src/rpc/types.js";
import { StateManager } from "../../../src/state/manager.js";
import { Delegations } from "../../../src/nfs/delegations.js";
import { DebugLog } from "../../../src/nfs/debug-log.js";

export function credential(uid: number, gid: number, gids: number[] = []): Credential {
  return { flavor: 1, uid, gid, gids, machinename: "test", principal: `sys:${uid}` };
}

export const ROOT = credential(0, 0);
export const USER = credential(1000, 1000);

export interface TestEnv {
  readonly fs: MemoryFileSystem;
  readonly server: ServerContext;
  /** The backend's root and its "export" directory. */
  readonly root: FileHandle;
  readonly exp: FileHandle;
  /** A fresh per-COMPOUND state (no current or saved handle). */
  state(cred?: Credential): CompoundState;
}

export async function makeEnv(
  opts: { settings?: Partial<NfsSettings>; fs?: Partial<MemoryFsOptions> } = {},
): Promise<TestEnv> {
  const fs = new MemoryFileSystem({ exportMode: 0o777, ...opts.fs });
  const settings = { ...DEFAULT_NFS_SETTINGS, ...opts.settings };
  const log = pino({ enabled: false });
  const state = new StateManager({ settings, log });
  const callbacks = new CallbackService({ settings, log, state });
  const server: ServerContext = {
    debug: new DebugLog(log),
    settings,
    state,
    callbacks,
    fs,
    exports: singleExportPolicy(fs),
    log,
    delegations: new Delegations(state, callbacks, settings, log, fs),
    recovery: new ClientRecovery(new MemoryClientRecoveryStore(), settings, log, state.now),
  };
  const root = await fs.root();
  const exp = (await fs.lookup(root, "export")).handle;
  return { fs, server, root, exp, state: (cred = ROOT) => makeState(server, cred) };
}

export function makeState(server: ServerContext, cred: Credential = ROOT): CompoundState {
  return {
    server,
    cred,
    conn: {} as unknown as RpcConnection,
    minorversion: 1,
    opIndex: 0,
    opCount: 1,
    currentFh: null,
    savedFh: null,
    currentStateid: null,
    savedStateid: null,
    sequence: null,
    session: null,
    replyRoom: null,
  };
}

export function attrs(mode: number, uid = 0, gid = 0): CreateAttributes {
  return { mode, uid, gid };
}

export async function mkfile(
  fs: FileSystem,
  dir: FileHandle,
  name: string,
  opts: { mode?: number; uid?: number; gid?: number; data?: string | Uint8Array } = {},
): Promise<FileHandle> {
  const { handle } = await fs.create(
    dir,
    name,
    { kind: "guarded" },
    attrs(opts.mode ?? 0o644, opts.uid ?? 0, opts.gid ?? 0),
  );
  if (opts.data !== undefined) {
    const data = typeof opts.data === "string" ? new TextEncoder().encode(opts.data) : opts.data;
    await fs.write(handle, 0n, data, 2);
  }
  return handle;
}

export async function mkdir(
  fs: FileSystem,
  dir: FileHandle,
  name: string,
  opts: { mode?: number; uid?: number; gid?: number } = {},
): Promise<FileHandle> {
  const res = await fs.mkdir(dir, name, attrs(opts.mode ?? 0o755, opts.uid ?? 0, opts.gid ?? 0));
  return res.handle;
}

/** A component4 (UTF-8 bytes) from a string. */
export function utf8(s: string): Uint8Array {
  return new TextEncoder().encode(s);
}

/** Expects an operation result to carry `status` (by name in failure messages). */
export function expectStatus(res: { status: nfsstat4 }, status: nfsstat4): void {
  const name = (s: number): string =>
    Object.entries(nfsstat4).find(([, v]) => v === s)?.[0] ?? String(s);
  expect(name(res.status)).toBe(name(status));
}

/**
 * Runs operation `d` as COMPOUND does (op.ts invoke: the current-filehandle
 * check, then the handler, with backend failures mapped to a status the
 * operation may return) and returns its result.
 */
export async function call<N extends nfs_opnum4>(
  d: OpDescriptor<N>,
  args: ArgsOf<N>,
  state: CompoundState,
): Promise<ResultOf<N>> {
  const value = resultOf(await invoke(d, args, state), d.op);
  if (value === undefined) throw new Error(`no result of operation ${d.op}`);
  return value;
}

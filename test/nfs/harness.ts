// Drives the COMPOUND processor in-process, without TCP: encode COMPOUND4args
// with the generated codecs, run it as an RPC call from a fake connection, and
// decode the COMPOUND4res. Used by the session and operation unit tests.

import { ClientRecovery } from "../../src/nfs/recovery.js";
import { MemoryClientRecoveryStore } from "../../src/store/recovery.js";
import { pino } from "pino";
import type { COMPOUND4res, nfs_argop4 } from "../../generated/nfs4/index.js";
import { decodeCOMPOUND4res, encodeCOMPOUND4args } from "../../generated/nfs4/index.js";
import { CallbackService } from "../../src/callback/service.js";
import { singleExportPolicy } from "../../src/exports/policy.js";
import type { FileSystem } from "../../src/fs/backend.js";
import { CompoundProcessor } from "../../src/nfs/compound.js";
import type { ServerContext } from "../../src/nfs/context.js";
import type { OpTable } from "../../src/nfs/op.js";
import { OPERATIONS } from "../../src/nfs/ops/index.js";
import type { NfsSettings } from "../../src/nfs/settings.js";
import { DEFAULT_NFS_SETTINGS } from "../../src/nfs/settings.js";
import type { Credential, OutgoingCall, RpcConnection, RpcOutcome } from "../../src/rpc/types.js";
import { joinResult } from "../../src/rpc/types.js";
import { StateManager } from "../../src/state/manager.js";
import type { CallbackSender } from "../../src/nfs/delegations.js";
import { Delegations } from "../../src/nfs/delegations.js";
import { XdrReader, XdrWriter } from "../../src/xdr/index.js";
import { DebugLog } from "../../src/nfs/debug-log.js";

export class FakeConnection implements RpcConnection {
  open = true;
  private readonly listeners: (() => void)[] = [];
  constructor(
    readonly id: number,
    readonly remote = `127.0.0.1:${40000 + id}`,
    readonly local = "127.0.0.1:2049",
  ) {}
  onClose(listener: () => void): void {
    if (this.open) this.listeners.push(listener);
    else listener();
  }
  close(): void {
    this.open = false;
    for (const l of this.listeners.splice(0)) l();
  }
  /** The callbacks the server sent on this connection. */
  readonly calls: OutgoingCall[] = [];
  /** Answers CB_NULL (the server's back-channel probe); refuses anything else. */
  call(request: OutgoingCall): Promise<XdrReader> {
    this.calls.push(request);
    if (request.proc === 0) return Promise.resolve(new XdrReader(new Uint8Array(0)));
    return Promise.reject(new Error("FakeConnection answers no CB_COMPOUND"));
  }
}

export function sysCred(uid = 0, gid = 0): Credential {
  return { flavor: 1, uid, gid, gids: [], machinename: "test", principal: `sys:${uid}` };
}

export class Harness {
  readonly clock = { now: 1_800_000_000_000 };
  readonly state: StateManager;
  readonly ctx: ServerContext;
  readonly processor: CompoundProcessor;
  readonly delegations: Delegations;
  readonly callbacks: CallbackService;
  readonly recovery: ClientRecovery;
  private nextConn = 1;

  /** `callbacks` answers the delegation callbacks (CB_RECALL, CB_GETATTR); by default the real callback service over the fake connections. */
  constructor(
    settings: Partial<NfsSettings> = {},
    fs: FileSystem = {} as FileSystem,
    extraOps: OpTable = {},
    callbacks?: CallbackSender,
  ) {
    const log = pino({ level: "silent" });
    const full = { ...DEFAULT_NFS_SETTINGS, ...settings };
    this.state = new StateManager({
      settings: full,
      log,
      now: () => this.clock.now,
      onOpenRemoved: (fh) => void fs.unpin?.(fh),
      // As src/nfs/server.ts wires it: the delegation logic hears of every delegation that goes.
      onDelegationRemoved: (d, end) => this.delegations.removed(d, end),
      onSessionDestroyed: (s) => this.callbacks.sessionDestroyed(s),
      onClientRemoved: (c) => {
        this.callbacks.clientRemoved(c);
        this.recovery.clientRemoved(c);
      },
    });
    this.recovery = new ClientRecovery(new MemoryClientRecoveryStore(), full, log, this.state.now);
    this.callbacks = new CallbackService({ settings: full, log, state: this.state });
    // Delegations call back through `callbacks` when a test gives one, else the real service.
    this.delegations = new Delegations(this.state, callbacks ?? this.callbacks, full, log, fs);
    this.ctx = {
      debug: new DebugLog(log),
      settings: full,
      state: this.state,
      fs,
      exports: singleExportPolicy(fs),
      log,
      delegations: this.delegations,
      callbacks: this.callbacks,
      recovery: this.recovery,
    };
    this.processor = new CompoundProcessor(this.ctx, { ...OPERATIONS, ...extraOps });
  }

  conn(): FakeConnection {
    return new FakeConnection(this.nextConn++);
  }

  /** Encodes the request as it would travel (without the RPC header). */
  static encode(ops: nfs_argop4[], minorversion = 1, tag = "t"): Uint8Array {
    const w = new XdrWriter();
    encodeCOMPOUND4args(w, { tag: new TextEncoder().encode(tag), minorversion, argarray: ops });
    return w.toBytes();
  }

  /** Runs raw COMPOUND4args bytes and returns the raw outcome. */
  async raw(
    bytes: Uint8Array,
    conn: RpcConnection,
    cred: Credential = sysCred(),
  ): Promise<RpcOutcome> {
    return this.processor.process({
      xid: 1,
      prog: 100003,
      vers: 4,
      proc: 1,
      cred,
      args: new XdrReader(bytes),
      conn,
      reserveReplyBytes: () => Promise.resolve(true),
    });
  }

  /** Runs a COMPOUND and decodes its reply; also returns the reply bytes. */
  async run(
    ops: nfs_argop4[],
    conn: RpcConnection,
    options: { cred?: Credential; minorversion?: number } = {},
  ): Promise<COMPOUND4res & { bytes: Uint8Array }> {
    const outcome = await this.raw(Harness.encode(ops, options.minorversion), conn, options.cred);
    // Every test doubles as a check that operations return only the errors RFC 8881 §15.2 allows.
    if (this.processor.disallowed.length > 0)
      throw new Error(`disallowed errors returned: ${JSON.stringify(this.processor.disallowed)}`);
    // …and that no operation answers more than its descriptor's reply bound.
    if (this.processor.boundViolations > 0)
      throw new Error(`${this.processor.boundViolations} results exceeded their reply bound`);
    if (outcome.kind !== "success") throw new Error(`COMPOUND outcome ${outcome.kind}`);
    const bytes = joinResult(outcome.result);
    const r = new XdrReader(bytes);
    const res = decodeCOMPOUND4res(r);
    r.assertDone();
    return { ...res, bytes: new Uint8Array(bytes) };
  }
}

// The NFSv4.1 client: TCP connections to one server, the session-less
// operations (NULL, EXCHANGE_ID, CREATE_SESSION, DESTROY_CLIENTID) and raw
// COMPOUNDs. Built on the generated codecs and the RPC transport's Connection,
// for the end-to-end tests, the benchmarks and dfsctl.

import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import type { Logger } from "pino";
import { pino } from "pino";
import type {
  callback_sec_parms4,
  channel_attrs4,
  COMPOUND4args,
  EXCHANGE_ID4resok,
  nfs_argop4,
} from "../../generated/nfs4/index.js";
import {
  CREATE_SESSION4_FLAG_CONN_BACK_CHAN,
  EXCHGID4_FLAG_CONFIRMED_R,
  NFS4_CALLBACK,
  NFSPROC4_COMPOUND,
  NFSPROC4_NULL,
  decodeCOMPOUND4res,
  encodeCOMPOUND4args,
  nfs_opnum4,
  nfsstat4,
  state_protect_how4,
} from "../../generated/nfs4/index.js";
import { AUTH_NONE_OUTGOING, authSysCredential } from "../rpc/auth.js";
import { Dispatcher } from "../rpc/dispatch.js";
import { XdrWriter } from "../xdr/index.js";
import type { CallbackCallInfo, CallbackHandler } from "./callback.js";
import { callbackProgram, defaultCallbackHandler } from "./callback.js";
import { NfsClientClosedError, NfsError } from "./errors.js";
import * as ops from "./ops.js";
import { resultOf } from "../protocol/results.js";
import type { RawReply, SessionHost } from "./session.js";
import { ClientSession, failureOf } from "./session.js";
import type { WireCredential } from "./transport.js";
import { ClientConnection } from "./transport.js";

/** AUTH_SYS identity of the client's calls. */
export interface SysCredential {
  readonly uid: number;
  readonly gid: number;
  readonly gids?: readonly number[];
  /** Default: this host's name. */
  readonly machinename?: string;
}

export interface NfsClientOptions {
  readonly host: string;
  readonly port: number;
  /** The local address every connection is made from (e.g. "127.0.0.2"); default the system's choice. */
  readonly localAddress?: string;
  /** AUTH_SYS fields, or "none" for AUTH_NONE. Default AUTH_SYS uid 0, gid 0. */
  readonly cred?: SysCredential | "none";
  /** Connect and per-call timeout. Default 30 s. */
  readonly timeoutMs?: number;
  readonly logger?: Logger;
  /** The COMPOUND tag of every request. Default "dittofs-client". */
  readonly tag?: string;
  /** csa_cb_program, served on our connections. Default NFS4_CALLBACK. */
  readonly callbackProgram?: number;
  /** Answers CB_COMPOUNDs; default accepts CB_SEQUENCE and refuses the rest. */
  readonly onCallback?: CallbackHandler;
  /** Hears of each CB_NULL the server sends (the Dispatcher answers it). */
  readonly onCallbackNull?: (info: CallbackCallInfo) => void;
  /**
   * More program numbers served like callbackProgram (a session may be moved to
   * one with BACKCHANNEL_CTL).
   */
  readonly extraCallbackPrograms?: readonly number[];
}

export interface CreateSessionOptions {
  /** Overrides of the fore channel asked for (ops.channelAttrs()). */
  readonly fore?: Partial<channel_attrs4>;
  /** Overrides of the back channel asked for (ops.backChannelAttrs()). */
  readonly back?: Partial<channel_attrs4>;
  /** csa_flags; default CREATE_SESSION4_FLAG_CONN_BACK_CHAN. */
  readonly flags?: number;
  /** The connection to send CREATE_SESSION on (and so bind). Default the first open one. */
  readonly conn?: ClientConnection;
  /** csa_cb_program; default the client's callbackProgram. */
  readonly cbProgram?: number;
  /** csa_sec_parms; default the client's own credential (AUTH_SYS or AUTH_NONE). */
  readonly secParms?: readonly callback_sec_parms4[];
}

const DEFAULT_TIMEOUT_MS = 30_000;
/** Opaques in a request at least this long are sent from the caller's array (XdrWriter gatherFrom). */
const CALL_GATHER_FROM = 4096;
/** Replies shorter than this are copied out of the receive buffer; longer ones pin at most 4× their size. */
const COPY_REPLY_BELOW = 16 * 1024;
const EMPTY_VERIFIER_BYTES = 8;

export class NfsClient implements SessionHost {
  /** co_verifier: this client incarnation (a new NfsClient is a "rebooted" client). */
  readonly verifier: Uint8Array;
  readonly tag: Uint8Array;
  /** The client ID from the last successful EXCHANGE_ID. */
  clientid: bigint | null = null;
  /** CB_COMPOUNDs the server sent us. */
  callbacksReceived = 0;
  private readonly options: NfsClientOptions;
  private readonly cred: WireCredential;
  /** csa_sec_parms of createSession(): callbacks come back with the client's own identity. */
  readonly secParms: readonly callback_sec_parms4[];
  private readonly dispatcher: Dispatcher;
  private readonly log: Logger;
  private readonly conns: ClientConnection[] = [];
  private readonly sessions: ClientSession[] = [];
  private nextConnId = 1;
  /** csa_sequence of the next CREATE_SESSION (RFC 8881 §18.36.4). */
  private createSessionSeq = 1;
  private closed = false;

  private constructor(options: NfsClientOptions) {
    this.options = options;
    this.log = options.logger ?? pino({ level: "silent" });
    this.verifier = new Uint8Array(randomBytes(EMPTY_VERIFIER_BYTES));
    this.tag = ops.bytesOf(options.tag ?? "dittofs-client");
    const c = options.cred ?? { uid: 0, gid: 0 };
    if (c === "none") {
      this.cred = AUTH_NONE_OUTGOING;
      this.secParms = [{ cb_secflavor: 0 }];
    } else {
      const sys = {
        stamp: 0,
        machinename: c.machinename ?? hostname(),
        uid: c.uid,
        gid: c.gid,
        gids: [...(c.gids ?? [])],
      };
      this.cred = authSysCredential(sys);
      // Callbacks come back with the same identity (csa_sec_parms).
      this.secParms = [{ cb_secflavor: 1, cbsp_sys_cred: sys }];
    }
    this.dispatcher = new Dispatcher(this.log);
    const programs = [
      options.callbackProgram ?? NFS4_CALLBACK,
      ...(options.extraCallbackPrograms ?? []),
    ];
    for (const prog of new Set(programs))
      this.dispatcher.register(
        callbackProgram(
          prog,
          options.onCallback ?? defaultCallbackHandler,
          () => this.callbacksReceived++,
          options.onCallbackNull,
        ),
      );
  }

  /** Connects to the server (one TCP connection; addConnection() opens more). */
  static async connect(options: NfsClientOptions): Promise<NfsClient> {
    const client = new NfsClient(options);
    await client.addConnection();
    return client;
  }

  /** The open connections, oldest first. */
  get connections(): readonly ClientConnection[] {
    return this.conns.filter((c) => c.open);
  }

  /** The oldest open connection. */
  get connection(): ClientConnection {
    const c = this.conns.find((x) => x.open);
    if (c === undefined) throw new NfsClientClosedError("every connection of the client");
    return c;
  }

  /** Opens another TCP connection to the same server. */
  async addConnection(): Promise<ClientConnection> {
    if (this.closed) throw new NfsClientClosedError("the client");
    const conn = await ClientConnection.open({
      host: this.options.host,
      port: this.options.port,
      ...(this.options.localAddress === undefined
        ? {}
        : { localAddress: this.options.localAddress }),
      cred: this.cred,
      timeoutMs: this.options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      dispatcher: this.dispatcher,
      logger: this.log,
      id: this.nextConnId++,
    });
    this.conns.push(conn);
    // Closed connections leave the list, so a long-lived client does not accumulate them.
    void conn.closed.then(() => {
      const i = this.conns.indexOf(conn);
      if (i >= 0) this.conns.splice(i, 1);
    });
    return conn;
  }

  /** The NULL procedure: a round trip that touches no state. */
  async null(conn: ClientConnection = this.connection): Promise<void> {
    await conn.call(NFSPROC4_NULL, new Uint8Array(0));
  }

  /** Sends COMPOUND4args as given; returns the decoded reply and its raw bytes. */
  async compoundRaw(
    args: COMPOUND4args,
    conn: ClientConnection = this.connection,
  ): Promise<RawReply> {
    // WRITE data and other large opaques are sent from the caller's arrays,
    // not copied into the request (nor copied again as the writer grows).
    const w = new XdrWriter(256, { gatherFrom: CALL_GATHER_FROM });
    encodeCOMPOUND4args(w, args);
    const r = await conn.call(NFSPROC4_COMPOUND, w.finishGather());
    const start = r.offset;
    const res = decodeCOMPOUND4res(r);
    r.assertDone();
    const bytes = r.buffer.subarray(start, r.end);
    // The reader is a view into the received record: a slice of Node.js's
    // shared small-buffer pool for a small reply, copied so that it does not
    // pin that memory; a buffer of its own for a large one (a 1 MiB READ),
    // kept as it is: from the client's reply pool (transport.ts), which can
    // reuse it once the caller gives it back with conn.releaseReply(bytes).
    return { res, bytes: bytes.length < COPY_REPLY_BELOW ? new Uint8Array(bytes) : bytes };
  }

  /** A session-less COMPOUND (minor version 1, our tag) of exactly `argops`. */
  compound(argops: readonly nfs_argop4[], conn?: ClientConnection): Promise<RawReply> {
    return this.compoundRaw({ tag: this.tag, minorversion: 1, argarray: [...argops] }, conn);
  }

  /**
   * EXCHANGE_ID for `ownerId` (co_ownerid) with this client's verifier unless
   * another is given; remembers the client ID for createSession(). Throws
   * NfsError unless NFS4_OK.
   */
  async exchangeId(
    ownerId: string | Uint8Array,
    verifier: Uint8Array = this.verifier,
    flags = 0,
    conn?: ClientConnection,
  ): Promise<EXCHANGE_ID4resok> {
    const { res } = await this.compound(
      [
        {
          argop: nfs_opnum4.OP_EXCHANGE_ID,
          opexchange_id: {
            eia_clientowner: { co_verifier: verifier, co_ownerid: ops.bytesOf(ownerId) },
            eia_flags: flags >>> 0,
            eia_state_protect: { spa_how: state_protect_how4.SP4_NONE },
            eia_client_impl_id: [],
          },
        },
      ],
      conn,
    );
    const r = resultOf(res.resarray[0], nfs_opnum4.OP_EXCHANGE_ID);
    if (r?.eir_status !== nfsstat4.NFS4_OK)
      throw failureOf(res) ?? new NfsError(nfsstat4.NFS4ERR_SERVERFAULT, null, "EXCHANGE_ID");
    const ok = r.eir_resok4;
    // eir_sequenceid matters for a new (unconfirmed) record; a confirmed one we
    // already hold keeps counting from our own last CREATE_SESSION.
    if (ok.eir_clientid !== this.clientid || (ok.eir_flags & EXCHGID4_FLAG_CONFIRMED_R) === 0)
      this.createSessionSeq = ok.eir_sequenceid;
    this.clientid = ok.eir_clientid;
    return ok;
  }

  /** CREATE_SESSION for the client ID of the last exchangeId(); throws NfsError unless NFS4_OK. */
  async createSession(options: CreateSessionOptions = {}): Promise<ClientSession> {
    if (this.clientid === null) throw new Error("createSession() needs exchangeId() first");
    const conn = options.conn ?? this.connection;
    const clientid = this.clientid;
    const { res } = await this.compound(
      [
        {
          argop: nfs_opnum4.OP_CREATE_SESSION,
          opcreate_session: {
            csa_clientid: clientid,
            csa_sequence: this.createSessionSeq,
            csa_flags: options.flags ?? CREATE_SESSION4_FLAG_CONN_BACK_CHAN,
            csa_fore_chan_attrs: ops.channelAttrs(options.fore),
            csa_back_chan_attrs: ops.backChannelAttrs(options.back),
            csa_cb_program: options.cbProgram ?? this.options.callbackProgram ?? NFS4_CALLBACK,
            csa_sec_parms: [...(options.secParms ?? this.secParms)],
          },
        },
      ],
      conn,
    );
    const r = resultOf(res.resarray[0], nfs_opnum4.OP_CREATE_SESSION);
    if (r?.csr_status !== nfsstat4.NFS4_OK)
      throw failureOf(res) ?? new NfsError(nfsstat4.NFS4ERR_SERVERFAULT, null, "CREATE_SESSION");
    // Only a CREATE_SESSION the server accepted uses up the sequence ID.
    this.createSessionSeq = (r.csr_resok4.csr_sequence + 1) >>> 0;
    const session = new ClientSession(this, clientid, r.csr_resok4, conn);
    this.sessions.push(session);
    return session;
  }

  /** DESTROY_CLIENTID for our client ID (its sessions must be destroyed first). */
  async destroyClientId(conn?: ClientConnection): Promise<void> {
    if (this.clientid === null) throw new Error("destroyClientId() needs exchangeId() first");
    const { res } = await this.compound([ops.destroyClientid(this.clientid)], conn);
    const err = failureOf(res);
    if (err) throw err;
    this.clientid = null;
  }

  /** Closes every connection gracefully; sessions stay on the server until their lease ends. */
  async close(): Promise<void> {
    this.closed = true;
    for (const s of this.sessions) s.forget();
    await Promise.all(this.conns.map((c) => c.close()));
  }

  /** Closes every connection at once (calls in flight fail), as a crashing client would. */
  destroy(): void {
    this.closed = true;
    for (const s of this.sessions) s.forget();
    for (const c of this.conns) c.destroy();
  }
}

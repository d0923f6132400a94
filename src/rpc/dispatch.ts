// Answers one decoded CALL per RFC 5531 §9, in the order servers check things
// (Linux svc_process_common): RPC version, then authentication, then program,
// version and procedure. It turns every failure, including an exception thrown by
// a program, into the matching RPC reply: nothing a peer sends can crash us.
//
// The NULL procedure (0) of every registered program is answered here with
// SUCCESS and empty results; programs only hear of it (RpcProgram.onNull).

import type { Logger } from "pino";
import type { call_body, reply_body } from "../../generated/rpc/index.js";
import { accept_stat } from "../../generated/rpc/index.js";
import type { XdrReader } from "../xdr/index.js";
import { authenticate } from "./auth.js";
import { describeReply } from "./errors.js";
import { RPC_VERSION, accepted, authError, encodeReply, rpcMismatch, success } from "./message.js";
import type { RpcConnection, RpcOutcome, RpcProgram } from "./types.js";

/** The NULL procedure's number in every ONC RPC program (RFC 5531 §12.1 convention). */
export const NULL_PROC = 0;

const UINT32_MAX = 0xffffffff;

/** A reply to send: the header fields plus the procedure's results, if any. */
interface Answer {
  readonly body: reply_body;
  readonly results?: Uint8Array | readonly Uint8Array[];
}

const GARBAGE_ARGS: Answer = { body: accepted({ stat: accept_stat.GARBAGE_ARGS }) };
const PROC_UNAVAIL: Answer = { body: accepted({ stat: accept_stat.PROC_UNAVAIL }) };
const SYSTEM_ERR: Answer = { body: accepted({ stat: accept_stat.SYSTEM_ERR }) };

/** How much of a request's arguments a SYSTEM_ERR log line carries (hex), bytes. */
const LOGGED_ARGS_BYTES = 1024;
const PROG_UNAVAIL: Answer = { body: accepted({ stat: accept_stat.PROG_UNAVAIL }) };

function isUint32(v: number): boolean {
  return Number.isInteger(v) && v >= 0 && v <= UINT32_MAX;
}

export class Dispatcher {
  private readonly programs = new Map<number, RpcProgram>();
  private readonly log: Logger;

  constructor(logger: Logger) {
    this.log = logger;
  }

  /** Adds a program; one RpcProgram per program number. */
  register(program: RpcProgram): void {
    const { prog, lowVersion, highVersion } = program;
    if (!isUint32(prog) || !isUint32(lowVersion) || !isUint32(highVersion)) {
      throw new RangeError(
        `RPC program numbers must be uint32: ${prog} v${lowVersion}-${highVersion}`,
      );
    }
    if (lowVersion > highVersion) {
      throw new RangeError(
        `RPC program ${prog}: lowVersion ${lowVersion} > highVersion ${highVersion}`,
      );
    }
    if (this.programs.has(prog)) throw new Error(`RPC program ${prog} is already registered`);
    this.programs.set(prog, program);
  }

  /**
   * The record-marked reply to a CALL, or null if nothing is to be sent. Never
   * rejects: a failure inside a program becomes SYSTEM_ERR. `reserveReplyBytes`
   * is the connection's reservation for this call (RpcCall.reserveReplyBytes).
   */
  async dispatch(
    xid: number,
    call: call_body,
    args: XdrReader,
    conn: RpcConnection,
    reserveReplyBytes: (bytes: number) => Promise<boolean>,
  ): Promise<Uint8Array[] | null> {
    const answer = await this.answer(xid, call, args, conn, reserveReplyBytes);
    if (answer === null) return null;
    try {
      return encodeReply(xid, answer.body, answer.results);
    } catch (e) {
      // Only a result beyond the 2^31-1 byte fragment limit gets here.
      this.log.error({ err: e, xid, prog: call.prog, proc: call.proc }, "cannot encode RPC reply");
      return encodeReply(xid, SYSTEM_ERR.body);
    }
  }

  private async answer(
    xid: number,
    call: call_body,
    args: XdrReader,
    conn: RpcConnection,
    reserveReplyBytes: (bytes: number) => Promise<boolean>,
  ): Promise<Answer | null> {
    if (call.rpcvers !== RPC_VERSION) {
      return this.refuse(xid, call, conn, { body: rpcMismatch() });
    }
    const auth = authenticate(call.cred, call.verf);
    if (!auth.ok) return this.refuse(xid, call, conn, { body: authError(auth.stat) });
    const program = this.programs.get(call.prog);
    if (program === undefined) return this.refuse(xid, call, conn, PROG_UNAVAIL);
    if (call.vers < program.lowVersion || call.vers > program.highVersion) {
      return this.refuse(xid, call, conn, {
        body: accepted({
          stat: accept_stat.PROG_MISMATCH,
          mismatch_info: { low: program.lowVersion, high: program.highVersion },
        }),
      });
    }
    if (call.proc === NULL_PROC) {
      program.onNull?.({ xid, prog: call.prog, vers: call.vers, cred: auth.cred, conn });
      return { body: success() };
    }

    let outcome: RpcOutcome;
    // Where the arguments start, so a program failure can be logged with them.
    const argsStart = args.offset;
    try {
      outcome = await program.handle({
        xid,
        prog: call.prog,
        vers: call.vers,
        proc: call.proc,
        cred: auth.cred,
        args,
        conn,
        reserveReplyBytes,
      });
    } catch (e) {
      // A real server fault: logged with (the head of) the request that caused it.
      const request = Buffer.from(
        args.buffer.subarray(argsStart, Math.min(args.end, argsStart + LOGGED_ARGS_BYTES)),
      ).toString("hex");
      this.log.error(
        {
          err: e,
          conn: conn.id,
          xid,
          prog: call.prog,
          vers: call.vers,
          proc: call.proc,
          argsLength: args.end - argsStart,
          request,
        },
        "RPC program threw; answering SYSTEM_ERR",
      );
      return SYSTEM_ERR;
    }
    return this.fromOutcome(xid, call, outcome);
  }

  private fromOutcome(xid: number, call: call_body, outcome: RpcOutcome): Answer | null {
    // Checked at run time too: a program is code we do not control.
    switch (outcome?.kind) {
      case "success":
        if (
          outcome.result instanceof Uint8Array ||
          (Array.isArray(outcome.result) && outcome.result.every((p) => p instanceof Uint8Array))
        ) {
          return { body: success(), results: outcome.result };
        }
        break;
      case "garbage_args":
        return GARBAGE_ARGS;
      case "proc_unavail":
        return PROC_UNAVAIL;
      case "system_err":
        return SYSTEM_ERR;
      case "drop":
        return null;
    }
    this.log.error(
      { xid, prog: call.prog, proc: call.proc },
      "RPC program returned an invalid outcome",
    );
    return SYSTEM_ERR;
  }

  private refuse(xid: number, call: call_body, conn: RpcConnection, answer: Answer): Answer {
    if (this.log.isLevelEnabled("debug")) {
      this.log.debug(
        {
          conn: conn.id,
          xid,
          rpcvers: call.rpcvers,
          prog: call.prog,
          vers: call.vers,
          proc: call.proc,
        },
        `refusing RPC call: ${describeReply(answer.body)}`,
      );
    }
    return answer;
  }
}

// A peer that speaks record-marked RPC by hand, for the hostile-input suite:
// it can send anything (half records, absurd marks, garbage arguments) and
// still read the replies the server sends back.

import { connect } from "node:net";
import type { Socket } from "node:net";
import type { COMPOUND4res } from "../../generated/nfs4/index.js";
import {
  NFS4_PROGRAM,
  NFSPROC4_COMPOUND,
  NFSPROC4_NULL,
  NFS_V4,
  decodeCOMPOUND4res,
} from "../../generated/nfs4/index.js";
import {
  accept_stat,
  auth_flavor,
  decoderpc_msg,
  encoderpc_msg,
  msg_type,
  reply_stat,
} from "../../generated/rpc/index.js";
import { RecordAssembler } from "../../src/rpc/record.js";
import { XdrReader, XdrWriter } from "../../src/xdr/index.js";

/** Big-endian uint32 words. */
export function words(...ws: number[]): Buffer {
  const b = Buffer.alloc(ws.length * 4);
  ws.forEach((w, i) => b.writeUInt32BE(w >>> 0, i * 4));
  return b;
}

/** One record, one fragment. */
export function framed(body: Uint8Array): Buffer {
  return Buffer.concat([words(0x80000000 + body.length), body]);
}

/** A framed NFS4 CALL (AUTH_NONE) of procedure `proc` whose arguments are `args`, as given. */
export function nfsCall(xid: number, args: Uint8Array, proc = NFSPROC4_COMPOUND): Buffer {
  const w = new XdrWriter();
  const none = { flavor: auth_flavor.AUTH_NONE, body: new Uint8Array(0) };
  encoderpc_msg(w, {
    xid,
    body: {
      mtype: msg_type.CALL,
      cbody: { rpcvers: 2, prog: NFS4_PROGRAM, vers: NFS_V4, proc, cred: none, verf: none },
    },
  });
  return framed(Buffer.concat([w.finish(), args]));
}

export const nullCall = (xid: number): Buffer => nfsCall(xid, new Uint8Array(0), NFSPROC4_NULL);

/** What the server answered to one call. */
export type RawReply =
  | { readonly xid: number; readonly kind: "success"; readonly results: XdrReader }
  | { readonly xid: number; readonly kind: "refused"; readonly stat: number };

export class RawPeer {
  readonly socket: Socket;
  private readonly assembler = new RecordAssembler(16 * 1024 * 1024);
  private readonly records: Uint8Array[] = [];
  private waiter: ((r: Uint8Array | null) => void) | null = null;

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.on("data", (chunk: Buffer) => {
      this.assembler.push(chunk);
      for (let r = this.assembler.next(); r !== undefined; r = this.assembler.next()) {
        if (this.waiter) {
          const w = this.waiter;
          this.waiter = null;
          w(r);
        } else this.records.push(r);
      }
    });
    // The server may close or reset us; that is an expected outcome here.
    socket.on("error", () => {});
    socket.on("close", () => this.waiter?.(null));
  }

  static open(port: number): Promise<RawPeer> {
    return new Promise((resolve, reject) => {
      const s = connect({ port, host: "127.0.0.1", noDelay: true });
      s.once("error", reject);
      s.once("connect", () => {
        s.off("error", reject);
        resolve(new RawPeer(s));
      });
    });
  }

  send(bytes: Uint8Array): void {
    this.socket.write(bytes);
  }

  /** The next reply record; rejects if the connection closes first. */
  async reply(): Promise<RawReply> {
    const record =
      this.records.shift() ??
      (this.socket.destroyed
        ? null
        : await new Promise<Uint8Array | null>((resolve) => (this.waiter = resolve)));
    if (record === null) throw new Error("connection closed before a reply");
    const r = new XdrReader(record);
    const msg = decoderpc_msg(r);
    const body = msg.body;
    if (body.mtype !== msg_type.REPLY) throw new Error("expected a REPLY");
    if (body.rbody.stat !== reply_stat.MSG_ACCEPTED)
      return { xid: msg.xid, kind: "refused", stat: -1 };
    const stat = body.rbody.areply.reply_data.stat;
    return stat === accept_stat.SUCCESS
      ? { xid: msg.xid, kind: "success", results: r }
      : { xid: msg.xid, kind: "refused", stat };
  }

  /** Sends a COMPOUND's raw argument bytes and decodes the COMPOUND4res. */
  async compound(xid: number, args: Uint8Array): Promise<COMPOUND4res> {
    this.send(nfsCall(xid, args));
    const reply = await this.reply();
    if (reply.kind !== "success") throw new Error(`call refused: accept_stat ${reply.stat}`);
    return decodeCOMPOUND4res(reply.results);
  }

  /** Resolves once the socket has closed (whoever closed it). */
  closed(): Promise<void> {
    if (this.socket.destroyed) return Promise.resolve();
    return new Promise((resolve) => this.socket.once("close", () => resolve()));
  }

  destroy(): void {
    this.socket.resetAndDestroy();
  }
}

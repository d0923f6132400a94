// Builders for the decoder's tests: RPC records made with the project's own
// encoders, TCP/IP frames around them, and pcap / pcapng files around those.

import { gunzipSync } from "node:zlib";
import { readFileSync } from "node:fs";
import type {
  CB_COMPOUND4args,
  COMPOUND4args,
  COMPOUND4res,
  nfs_argop4,
} from "../../generated/nfs4/index.js";
import {
  encodeCB_COMPOUND4args,
  encodeCOMPOUND4args,
  encodeCOMPOUND4res,
  nfs_opnum4,
  nfsstat4,
} from "../../generated/nfs4/index.js";
import { accept_stat, auth_flavor } from "../../generated/rpc/index.js";
import { accepted, encodeCall, encodeReply, success } from "../../src/rpc/message.js";
import { XdrWriter } from "../../src/xdr/index.js";
import type { DecodeNotice, DecodeSummary, DecodedRecord } from "../../src/decode/decoder.js";
import { decodeCapture } from "../../src/decode/decoder.js";
import type { DecodeSettings } from "../../src/decode/settings.js";
import { DEFAULT_DECODE_SETTINGS } from "../../src/decode/settings.js";

export const NFS_PORT = 2049;
export const SESSION = new Uint8Array(16).fill(0xab);
export const SESSION_HEX = "ab".repeat(16);

function concat(parts: readonly Uint8Array[]): Uint8Array {
  return Buffer.concat(parts.map((p) => Buffer.from(p.buffer, p.byteOffset, p.length)));
}

/** A record-marked CALL (one fragment). */
export function callRecord(
  xid: number,
  prog: number,
  vers: number,
  proc: number,
  args: Uint8Array,
): Uint8Array {
  return concat(
    encodeCall(xid, {
      prog,
      vers,
      proc,
      cred: { flavor: auth_flavor.AUTH_NONE, body: new Uint8Array(0) },
      args,
      timeoutMs: 0,
    }),
  );
}

/** A record-marked SUCCESS reply with `results`. */
export function replyRecord(xid: number, results: Uint8Array): Uint8Array {
  return concat(encodeReply(xid, success(), results));
}

/** A record-marked GARBAGE_ARGS reply. */
export function garbageArgsRecord(xid: number): Uint8Array {
  return concat(encodeReply(xid, accepted({ stat: accept_stat.GARBAGE_ARGS })));
}

export function compoundArgs(argarray: nfs_argop4[], minorversion = 1): Uint8Array {
  const w = new XdrWriter();
  const v: COMPOUND4args = { tag: new TextEncoder().encode("t"), minorversion, argarray };
  encodeCOMPOUND4args(w, v);
  return w.finish();
}

export function compoundRes(v: COMPOUND4res): Uint8Array {
  const w = new XdrWriter();
  encodeCOMPOUND4res(w, v);
  return w.finish();
}

export function cbCompoundArgs(v: CB_COMPOUND4args): Uint8Array {
  const w = new XdrWriter();
  encodeCB_COMPOUND4args(w, v);
  return w.finish();
}

export const sequenceOp = (slot: number, seqid: number): nfs_argop4 => ({
  argop: nfs_opnum4.OP_SEQUENCE,
  opsequence: {
    sa_sessionid: SESSION,
    sa_sequenceid: seqid,
    sa_slotid: slot,
    sa_highest_slotid: 0,
    sa_cachethis: false,
  },
});

/** SEQUENCE + PUTROOTFH + GETFH and its reply (SEQUENCE OK, PUTROOTFH OK, GETFH NFS4ERR_DELAY). */
export function sampleExchange(xid: number): { call: Uint8Array; reply: Uint8Array } {
  const call = callRecord(
    xid,
    100003,
    4,
    1,
    compoundArgs([
      sequenceOp(3, 7),
      { argop: nfs_opnum4.OP_PUTROOTFH },
      { argop: nfs_opnum4.OP_GETFH },
    ]),
  );
  const reply = replyRecord(
    xid,
    compoundRes({
      status: nfsstat4.NFS4ERR_DELAY,
      tag: new TextEncoder().encode("t"),
      resarray: [
        {
          resop: nfs_opnum4.OP_SEQUENCE,
          opsequence: {
            sr_status: nfsstat4.NFS4_OK,
            sr_resok4: {
              sr_sessionid: SESSION,
              sr_sequenceid: 7,
              sr_slotid: 3,
              sr_highest_slotid: 3,
              sr_target_highest_slotid: 3,
              sr_status_flags: 0,
            },
          },
        },
        { resop: nfs_opnum4.OP_PUTROOTFH, opputrootfh: { status: nfsstat4.NFS4_OK } },
        { resop: nfs_opnum4.OP_GETFH, opgetfh: { status: nfsstat4.NFS4ERR_DELAY } },
      ],
    }),
  );
  return { call, reply };
}

export interface SegmentSpec {
  readonly fromClient: boolean;
  readonly seq: number;
  readonly payload?: Uint8Array;
  readonly syn?: boolean;
  readonly fin?: boolean;
  readonly rst?: boolean;
  readonly clientPort?: number;
  readonly serverPort?: number;
}

/** An Ethernet + IPv4 + TCP frame between 10.0.0.1 (client) and 10.0.0.2 (server). */
export function tcpFrame(s: SegmentSpec): Uint8Array {
  const payload = s.payload ?? new Uint8Array(0);
  const cport = s.clientPort ?? 876;
  const sport = s.serverPort ?? NFS_PORT;
  const eth = Buffer.alloc(14);
  eth.writeUInt16BE(0x0800, 12);
  const ip = Buffer.alloc(20);
  ip[0] = 0x45;
  ip.writeUInt16BE(20 + 20 + payload.length, 2);
  ip[8] = 64;
  ip[9] = 6;
  const client = [10, 0, 0, 1];
  const server = [10, 0, 0, 2];
  ip.set(s.fromClient ? client : server, 12);
  ip.set(s.fromClient ? server : client, 16);
  const tcp = Buffer.alloc(20);
  tcp.writeUInt16BE(s.fromClient ? cport : sport, 0);
  tcp.writeUInt16BE(s.fromClient ? sport : cport, 2);
  tcp.writeUInt32BE(s.seq >>> 0, 4);
  tcp[12] = 5 << 4;
  tcp[13] = (s.fin ? 1 : 0) | (s.syn ? 2 : 0) | (s.rst ? 4 : 0) | 0x10;
  return concat([eth, ip, tcp, payload]);
}

export interface Frame {
  readonly data: Uint8Array;
  readonly time?: number;
  readonly originalLength?: number;
}

/** A classic pcap file (LINKTYPE_ETHERNET unless told). */
export function pcapFile(
  frames: readonly Frame[],
  opts: { le?: boolean; nanoseconds?: boolean; linkType?: number } = {},
): Uint8Array {
  const le = opts.le ?? true;
  const head = Buffer.alloc(24);
  const u32 = (b: Buffer, v: number, at: number): number =>
    le ? b.writeUInt32LE(v >>> 0, at) : b.writeUInt32BE(v >>> 0, at);
  const u16 = (b: Buffer, v: number, at: number): number =>
    le ? b.writeUInt16LE(v, at) : b.writeUInt16BE(v, at);
  u32(head, opts.nanoseconds ? 0xa1b23c4d : 0xa1b2c3d4, 0);
  u16(head, 2, 4);
  u16(head, 4, 6);
  u32(head, 262144, 16);
  u32(head, opts.linkType ?? 1, 20);
  const parts: Uint8Array[] = [head];
  frames.forEach((f, i) => {
    const t = f.time ?? 1_700_000_000 + i / 1000;
    const rec = Buffer.alloc(16);
    u32(rec, Math.floor(t), 0);
    u32(rec, Math.round((t % 1) * (opts.nanoseconds ? 1e9 : 1e6)), 4);
    u32(rec, f.data.length, 8);
    u32(rec, f.originalLength ?? f.data.length, 12);
    parts.push(rec, f.data);
  });
  return concat(parts);
}

/** A pcapng file: one section, one interface (if_tsresol `tsresol` if given), Enhanced Packet Blocks. */
export function pcapngFile(
  frames: readonly Frame[],
  opts: { le?: boolean; linkType?: number; tsresol?: number; simple?: boolean } = {},
): Uint8Array {
  const le = opts.le ?? true;
  const u32 = (b: Buffer, v: number, at: number): number =>
    le ? b.writeUInt32LE(v >>> 0, at) : b.writeUInt32BE(v >>> 0, at);
  const u16 = (b: Buffer, v: number, at: number): number =>
    le ? b.writeUInt16LE(v, at) : b.writeUInt16BE(v, at);
  const block = (type: number, body: Uint8Array): Uint8Array => {
    const padded = Math.ceil(body.length / 4) * 4;
    const b = Buffer.alloc(12 + padded);
    u32(b, type, 0);
    u32(b, b.length, 4);
    b.set(body, 8);
    u32(b, b.length, b.length - 4);
    return b;
  };
  const shb = Buffer.alloc(16);
  u32(shb, 0x1a2b3c4d, 0);
  u16(shb, 1, 4);
  u16(shb, 0, 6);
  shb.writeInt32LE(-1, 8);
  shb.writeInt32LE(-1, 12);
  const idbOptions = opts.tsresol === undefined ? Buffer.alloc(0) : Buffer.alloc(12);
  if (opts.tsresol !== undefined) {
    u16(idbOptions, 9, 0);
    u16(idbOptions, 1, 2);
    idbOptions[4] = opts.tsresol;
    // then opt_endofopt (zeros)
  }
  const idb = Buffer.alloc(8 + idbOptions.length);
  u16(idb, opts.linkType ?? 1, 0);
  u32(idb, 262144, 4);
  idb.set(idbOptions, 8);
  const parts: Uint8Array[] = [block(0x0a0d0d0a, shb), block(1, idb)];
  const unitsPerSecond =
    opts.tsresol === undefined
      ? 1e6
      : opts.tsresol & 0x80
        ? 2 ** (opts.tsresol & 0x7f)
        : 10 ** opts.tsresol;
  frames.forEach((f, i) => {
    if (opts.simple) {
      const body = Buffer.alloc(4 + f.data.length);
      u32(body, f.originalLength ?? f.data.length, 0);
      body.set(f.data, 4);
      parts.push(block(3, body));
      return;
    }
    const t =
      (BigInt(Math.round((f.time ?? 1_700_000_000 + i / 1000) * 1000)) * BigInt(unitsPerSecond)) /
      1000n;
    const body = Buffer.alloc(20 + f.data.length);
    u32(body, 0, 0);
    u32(body, Number(t >> 32n), 4);
    u32(body, Number(t & 0xffffffffn), 8);
    u32(body, f.data.length, 12);
    u32(body, f.originalLength ?? f.data.length, 16);
    body.set(f.data, 20);
    parts.push(block(6, body));
  });
  return concat(parts);
}

/** A connection's frames: handshake, then `exchanges` each as one client and one server segment. */
export function conversation(
  exchanges: readonly { call: Uint8Array; reply: Uint8Array }[],
  isn = { client: 1000, server: 5000 },
): Uint8Array[] {
  const frames: Uint8Array[] = [
    tcpFrame({ fromClient: true, seq: isn.client, syn: true }),
    tcpFrame({ fromClient: false, seq: isn.server, syn: true }),
  ];
  let c = isn.client + 1;
  let s = isn.server + 1;
  for (const e of exchanges) {
    frames.push(tcpFrame({ fromClient: true, seq: c, payload: e.call }));
    c += e.call.length;
    frames.push(tcpFrame({ fromClient: false, seq: s, payload: e.reply }));
    s += e.reply.length;
  }
  return frames;
}

export interface Collected {
  readonly records: DecodedRecord[];
  readonly notices: DecodeNotice[];
  readonly summary: DecodeSummary;
}

export function decodeAll(bytes: Uint8Array, settings: Partial<DecodeSettings> = {}): Collected {
  const records: DecodedRecord[] = [];
  const notices: DecodeNotice[] = [];
  const summary = decodeCapture(
    bytes,
    { record: (r) => records.push(r), notice: (n) => notices.push(n) },
    { ...DEFAULT_DECODE_SETTINGS, ...settings },
  );
  return { records, notices, summary };
}

/** A fixture capture, gunzipped. */
export function fixture(name: string): Uint8Array {
  return gunzipSync(readFileSync(new URL(`./fixtures/${name}`, import.meta.url)));
}

/** The ports the fixtures were captured on. */
export const FIXTURE_PORTS: Readonly<Record<string, number>> = {
  "kdeleg41.pcap.gz": 21701,
  "kdeleg42.pcap.gz": 21702,
  "ganesha41.pcap.gz": 21703,
  "ganesha42.pcap.gz": 21705,
  "pynfs.pcap.gz": 21704,
  "pynfs-sll2.pcap.gz": 21707,
};

// The benchmark messages, each built twice from the same raw parameters: once as
// values of the generated codec (generated/nfs4) and once as @stellar/js-xdr
// objects (jsxdr-nfs4.ts). buildMessages() also checks that both encode to the
// same bytes and that each side decodes the other's bytes, and throws if not,
// so every comparison is of the same wire message.
//
//   a      COMPOUND4args  SEQUENCE + PUTFH + WRITE (64 KiB payload)
//   b      COMPOUND4res   SEQUENCE + PUTFH + READDIR (100 entries)
//   c-args COMPOUND4args  SEQUENCE + PUTFH + GETATTR
//   c-res  COMPOUND4res   SEQUENCE + PUTFH + GETATTR (fattr4 of ~100 bytes)

import type { XdrStructValue } from "@stellar/js-xdr";
import type {
  COMPOUND4args,
  COMPOUND4res,
  entry4,
  fattr4,
  nfs_argop4,
  nfs_resop4,
} from "../../generated/nfs4/index.js";
import {
  FATTR4_CHANGE,
  FATTR4_FILEID,
  FATTR4_FSID,
  FATTR4_MODE,
  FATTR4_NUMLINKS,
  FATTR4_OWNER,
  FATTR4_OWNER_GROUP,
  FATTR4_SIZE,
  FATTR4_SPACE_USED,
  FATTR4_TIME_ACCESS,
  FATTR4_TIME_METADATA,
  FATTR4_TIME_MODIFY,
  FATTR4_TYPE,
  decodeCOMPOUND4args,
  decodeCOMPOUND4res,
  encodeCOMPOUND4args,
  encodeCOMPOUND4res,
  nfs_ftype4,
  nfs_opnum4,
  nfsstat4,
  stable_how4,
} from "../../generated/nfs4/index.js";
import { XdrReader, XdrWriter } from "../../src/xdr/index.js";
import { J, jsXdr } from "./jsxdr-nfs4.js";

/** One message and the three ways of processing it that the benchmark compares. */
export interface BenchMessage {
  readonly id: "a" | "b" | "c-args" | "c-res";
  readonly title: string;
  /** The encoded message (identical for both codecs). */
  readonly bytes: Uint8Array;
  /** Generated codec: encode into a reused XdrWriter (reset()), then decode those bytes. */
  readonly generated: () => unknown;
  /** @stellar/js-xdr: encode into a reused output buffer, then decode those bytes. */
  readonly jsxdr: () => unknown;
  /** Floor: copy the message's bytes into a preallocated buffer. */
  readonly copy: () => unknown;
  /** The two halves on their own, for diagnosis (run.ts --split). */
  readonly encodeOnly: { readonly generated: () => unknown; readonly jsxdr: () => unknown };
  readonly decodeOnly: { readonly generated: () => unknown; readonly jsxdr: () => unknown };
}

// ---- Raw parameters shared by both representations ----

/** Deterministic pseudo-random bytes (xorshift32), so runs are reproducible. */
export function pseudoRandomBytes(n: number, seed: number): Buffer {
  const out = Buffer.alloc(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}

const SESSION_ID = pseudoRandomBytes(16, 1);
/** A Linux-knfsd-sized file handle. */
const FILE_HANDLE = pseudoRandomBytes(32, 2);
const STATEID_OTHER = pseudoRandomBytes(12, 4);
const COOKIE_VERF = pseudoRandomBytes(8, 5);
/** Linux clients send an empty COMPOUND tag. */
const TAG = Buffer.alloc(0);
export const WRITE_PAYLOAD_SIZE = 64 * 1024;
/** The generated side's gather threshold: the server's (src/nfs/ops/reply-size.ts) REPLY_GATHER_FROM. */
export const GATHER_FROM = 4096;
const WRITE_PAYLOAD = pseudoRandomBytes(WRITE_PAYLOAD_SIZE, 6);
const WRITE_OFFSET = 7n * 1024n * 1024n;
export const READDIR_ENTRIES = 100;

const SEQ = { sequenceid: 0x2a17, slotid: 3, highestSlotid: 15 };

/** bitmap4 words with the given attribute numbers set. */
function bitmap(attrs: readonly number[]): number[] {
  const words: number[] = [];
  for (const a of attrs) {
    const i = a >>> 5;
    while (words.length <= i) words.push(0);
    words[i] = (words[i]! | (1 << (a & 31))) >>> 0;
  }
  return words;
}

/** READDIR entry attributes: 2-word bitmap, 44 bytes of attr_vals. */
const ENTRY_ATTRS = [
  FATTR4_TYPE,
  FATTR4_CHANGE,
  FATTR4_SIZE,
  FATTR4_FILEID,
  FATTR4_MODE,
  FATTR4_TIME_MODIFY,
];

function entryAttrVals(i: number): Buffer {
  const w = new XdrWriter(64);
  w.writeUint(nfs_ftype4.NF4REG); // type
  w.writeUhyper(1_700_000_000_000_000_000n + BigInt(i)); // change
  w.writeUhyper(BigInt(4096 + i * 977)); // size
  w.writeUhyper(BigInt(1_000_000 + i)); // fileid
  w.writeUint(0o100644); // mode
  w.writeHyper(1_763_900_000n + BigInt(i)); // time_modify.seconds
  w.writeUint((i * 7919) % 1_000_000_000); // time_modify.nseconds
  return Buffer.from(w.toBytes());
}

/** GETATTR result attributes: what `stat` needs, 112 bytes of attr_vals. */
const GETATTR_ATTRS = [
  FATTR4_TYPE,
  FATTR4_CHANGE,
  FATTR4_SIZE,
  FATTR4_FSID,
  FATTR4_FILEID,
  FATTR4_MODE,
  FATTR4_NUMLINKS,
  FATTR4_OWNER,
  FATTR4_OWNER_GROUP,
  FATTR4_SPACE_USED,
  FATTR4_TIME_ACCESS,
  FATTR4_TIME_METADATA,
  FATTR4_TIME_MODIFY,
];

function getattrAttrVals(): Buffer {
  const w = new XdrWriter(128);
  w.writeUint(nfs_ftype4.NF4REG); // type
  w.writeUhyper(1_763_912_345_678_901_234n); // change
  w.writeUhyper(1_048_576n); // size
  w.writeUhyper(0x1234n); // fsid.major
  w.writeUhyper(0x5678n); // fsid.minor
  w.writeUhyper(1_000_042n); // fileid
  w.writeUint(0o100644); // mode
  w.writeUint(1); // numlinks
  w.writeOpaqueVar(Buffer.from("1000"), 0xffffffff); // owner
  w.writeOpaqueVar(Buffer.from("1000"), 0xffffffff); // owner_group
  w.writeUhyper(1_052_672n); // space_used
  for (const [s, ns] of [
    [1_763_900_000n, 1],
    [1_763_900_100n, 2],
    [1_763_900_200n, 3],
  ] as const) {
    w.writeHyper(s); // time_access, time_metadata, time_modify
    w.writeUint(ns * 123_456_789);
  }
  return Buffer.from(w.toBytes());
}

// ---- Generated-codec values ----

function genSequenceArgs(cachethis: boolean): nfs_argop4 {
  return {
    argop: nfs_opnum4.OP_SEQUENCE,
    opsequence: {
      sa_sessionid: SESSION_ID,
      sa_sequenceid: SEQ.sequenceid,
      sa_slotid: SEQ.slotid,
      sa_highest_slotid: SEQ.highestSlotid,
      sa_cachethis: cachethis,
    },
  };
}

function genSequenceRes(): nfs_resop4 {
  return {
    resop: nfs_opnum4.OP_SEQUENCE,
    opsequence: {
      sr_status: nfsstat4.NFS4_OK,
      sr_resok4: {
        sr_sessionid: SESSION_ID,
        sr_sequenceid: SEQ.sequenceid,
        sr_slotid: SEQ.slotid,
        sr_highest_slotid: SEQ.highestSlotid,
        sr_target_highest_slotid: SEQ.highestSlotid,
        sr_status_flags: 0,
      },
    },
  };
}

function genPutfhArgs(fh: Uint8Array): nfs_argop4 {
  return { argop: nfs_opnum4.OP_PUTFH, opputfh: { object: fh } };
}

function genPutfhRes(): nfs_resop4 {
  return { resop: nfs_opnum4.OP_PUTFH, opputfh: { status: nfsstat4.NFS4_OK } };
}

function genWriteArgs(): COMPOUND4args {
  return {
    tag: TAG,
    minorversion: 1,
    argarray: [
      genSequenceArgs(false),
      genPutfhArgs(FILE_HANDLE),
      {
        argop: nfs_opnum4.OP_WRITE,
        opwrite: {
          stateid: { seqid: 1, other: STATEID_OTHER },
          offset: WRITE_OFFSET,
          stable: stable_how4.UNSTABLE4,
          data: WRITE_PAYLOAD,
        },
      },
    ],
  };
}

function entryName(i: number): Buffer {
  return Buffer.from(`file-${String(i).padStart(5, "0")}.txt`);
}

function genReaddirRes(): COMPOUND4res {
  const attrmask = bitmap(ENTRY_ATTRS);
  const entries: entry4[] = [];
  for (let i = 0; i < READDIR_ENTRIES; i++) {
    const attrs: fattr4 = { attrmask: [...attrmask], attr_vals: entryAttrVals(i) };
    // Cookies 0-2 are reserved (RFC 8881 §18.23.4).
    entries.push({ cookie: BigInt(i + 3), name: entryName(i), attrs });
  }
  return {
    status: nfsstat4.NFS4_OK,
    tag: TAG,
    resarray: [
      genSequenceRes(),
      genPutfhRes(),
      {
        resop: nfs_opnum4.OP_READDIR,
        opreaddir: {
          status: nfsstat4.NFS4_OK,
          resok4: { cookieverf: COOKIE_VERF, reply: { entries, eof: true } },
        },
      },
    ],
  };
}

function genGetattrArgs(): COMPOUND4args {
  return {
    tag: TAG,
    minorversion: 1,
    argarray: [
      genSequenceArgs(false),
      genPutfhArgs(FILE_HANDLE),
      { argop: nfs_opnum4.OP_GETATTR, opgetattr: { attr_request: bitmap(GETATTR_ATTRS) } },
    ],
  };
}

function genGetattrRes(): COMPOUND4res {
  return {
    status: nfsstat4.NFS4_OK,
    tag: TAG,
    resarray: [
      genSequenceRes(),
      genPutfhRes(),
      {
        resop: nfs_opnum4.OP_GETATTR,
        opgetattr: {
          status: nfsstat4.NFS4_OK,
          resok4: {
            obj_attributes: { attrmask: bitmap(GETATTR_ATTRS), attr_vals: getattrAttrVals() },
          },
        },
      },
    ],
  };
}

// ---- @stellar/js-xdr values (the same messages) ----

function jsSequenceArgs(cachethis: boolean): unknown {
  return new J.nfs_argop4(
    "OP_SEQUENCE",
    new J.SEQUENCE4args({
      sa_sessionid: SESSION_ID,
      sa_sequenceid: SEQ.sequenceid,
      sa_slotid: SEQ.slotid,
      sa_highest_slotid: SEQ.highestSlotid,
      sa_cachethis: cachethis,
    }),
  );
}

function jsSequenceRes(): unknown {
  return new J.nfs_resop4(
    "OP_SEQUENCE",
    new J.SEQUENCE4res(
      "NFS4_OK",
      new J.SEQUENCE4resok({
        sr_sessionid: SESSION_ID,
        sr_sequenceid: SEQ.sequenceid,
        sr_slotid: SEQ.slotid,
        sr_highest_slotid: SEQ.highestSlotid,
        sr_target_highest_slotid: SEQ.highestSlotid,
        sr_status_flags: 0,
      }),
    ),
  );
}

function jsPutfhArgs(fh: Buffer): unknown {
  return new J.nfs_argop4("OP_PUTFH", new J.PUTFH4args({ object: fh }));
}

function jsPutfhRes(): unknown {
  return new J.nfs_resop4("OP_PUTFH", new J.PUTFH4res({ status: J.nfsstat4.fromName("NFS4_OK") }));
}

function jsWriteArgs(): XdrStructValue {
  return new J.COMPOUND4args({
    tag: TAG,
    minorversion: 1,
    argarray: [
      jsSequenceArgs(false),
      jsPutfhArgs(FILE_HANDLE),
      new J.nfs_argop4(
        "OP_WRITE",
        new J.WRITE4args({
          stateid: new J.stateid4({ seqid: 1, other: STATEID_OTHER }),
          offset: WRITE_OFFSET,
          stable: J.stable_how4.fromName("UNSTABLE4"),
          data: WRITE_PAYLOAD,
        }),
      ),
    ],
  });
}

function jsReaddirRes(): XdrStructValue {
  const attrmask = bitmap(ENTRY_ATTRS);
  // Built back to front: each entry4 points at the next through `nextentry`.
  let next: XdrStructValue | undefined = undefined;
  for (let i = READDIR_ENTRIES - 1; i >= 0; i--) {
    next = new J.entry4({
      cookie: BigInt(i + 3),
      name: entryName(i),
      attrs: new J.fattr4({ attrmask: [...attrmask], attr_vals: entryAttrVals(i) }),
      nextentry: next,
    });
  }
  return new J.COMPOUND4res({
    status: J.nfsstat4.fromName("NFS4_OK"),
    tag: TAG,
    resarray: [
      jsSequenceRes(),
      jsPutfhRes(),
      new J.nfs_resop4(
        "OP_READDIR",
        new J.READDIR4res(
          "NFS4_OK",
          new J.READDIR4resok({
            cookieverf: COOKIE_VERF,
            reply: new J.dirlist4({ entries: next, eof: true }),
          }),
        ),
      ),
    ],
  });
}

function jsGetattrArgs(): XdrStructValue {
  return new J.COMPOUND4args({
    tag: TAG,
    minorversion: 1,
    argarray: [
      jsSequenceArgs(false),
      jsPutfhArgs(FILE_HANDLE),
      new J.nfs_argop4("OP_GETATTR", new J.GETATTR4args({ attr_request: bitmap(GETATTR_ATTRS) })),
    ],
  });
}

function jsGetattrRes(): XdrStructValue {
  return new J.COMPOUND4res({
    status: J.nfsstat4.fromName("NFS4_OK"),
    tag: TAG,
    resarray: [
      jsSequenceRes(),
      jsPutfhRes(),
      new J.nfs_resop4(
        "OP_GETATTR",
        new J.GETATTR4res(
          "NFS4_OK",
          new J.GETATTR4resok({
            obj_attributes: new J.fattr4({
              attrmask: bitmap(GETATTR_ATTRS),
              attr_vals: getattrAttrVals(),
            }),
          }),
        ),
      ),
    ],
  });
}

// ---- Assembly and cross-checks ----

/** The generated-codec value of message (a), for the zero-copy test. */
export const writeArgsMessage = genWriteArgs;
export { FILE_HANDLE, WRITE_PAYLOAD };

type Codec<T> = { encode: (w: XdrWriter, v: T) => void; decode: (r: XdrReader) => T };
const ARGS: Codec<COMPOUND4args> = { encode: encodeCOMPOUND4args, decode: decodeCOMPOUND4args };
const RES: Codec<COMPOUND4res> = { encode: encodeCOMPOUND4res, decode: decodeCOMPOUND4res };

function generatedBytes<T>(codec: Codec<T>, v: T): Uint8Array {
  const w = new XdrWriter();
  codec.encode(w, v);
  return w.toBytes();
}

function firstDifference(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return n;
}

export function assertSameBytes(what: string, ours: Uint8Array, theirs: Uint8Array): void {
  if (ours.length === theirs.length && Buffer.compare(ours, theirs) === 0) return;
  const at = firstDifference(ours, theirs);
  throw new Error(
    `codec benchmark: ${what}: encodings differ (generated ${ours.length} bytes, ` +
      `js-xdr ${theirs.length} bytes, first difference at byte ${at}); ` +
      `the comparison would not be of the same message`,
  );
}

/**
 * Builds one message: checks both codecs produce the same bytes and decode each
 * other's output back to those bytes, then returns the benchmark closures.
 */
function makeMessage<T>(
  id: BenchMessage["id"],
  title: string,
  codec: Codec<T>,
  genValue: T,
  jsType: typeof J.COMPOUND4args,
  jsValue: XdrStructValue,
): BenchMessage {
  const bytes = generatedBytes(codec, genValue);
  const jsBytes = jsType.toXDR(jsValue);
  assertSameBytes(`${id} encode`, bytes, jsBytes);
  // Each side decodes the other's encoding, and re-encoding gives the same bytes.
  const r = new XdrReader(jsBytes);
  const decoded = codec.decode(r);
  r.assertDone();
  assertSameBytes(`${id} generated decode of js-xdr bytes`, generatedBytes(codec, decoded), bytes);
  const jsDecoded = jsType.fromXDR(Buffer.from(bytes));
  assertSameBytes(`${id} js-xdr decode of generated bytes`, bytes, jsType.toXDR(jsDecoded));

  // Each side encodes the message into what it would hand to the socket, and
  // decodes the message as it arrives from one (`input`, the wire bytes).
  //
  // Generated: one writer per message, reset before each encode, in gather
  // mode as the server uses it: opaque data of GATHER_FROM bytes or more (the
  // WRITE payload) is referenced, not copied, and finishGather() returns the
  // pieces for socket.writev.
  const input = Buffer.from(bytes);
  const w = new XdrWriter(bytes.length, { gatherFrom: GATHER_FROM });
  const generated = (): unknown => {
    w.reset();
    codec.encode(w, genValue);
    const pieces = w.finishGather();
    const rd = new XdrReader(input);
    const v = codec.decode(rd);
    rd.assertDone();
    return pieces.length > 0 ? v : null;
  };

  // js-xdr: its writer over a preallocated buffer (so, like ours, no allocation
  // of the output buffer per message), then fromXDR, which also checks that the
  // input is consumed exactly.
  const out = Buffer.alloc(bytes.length);
  const jsxdr = (): unknown => {
    const jw = new jsXdr.XdrWriter(out);
    jsType.write(jsValue, jw);
    const sent = jw.finalize();
    return sent.length > 0 ? jsType.fromXDR(input) : null;
  };

  const dst = new Uint8Array(bytes.length);
  const copy = (): unknown => {
    dst.set(bytes);
    return dst;
  };

  const encodeOnly = {
    generated: (): unknown => {
      w.reset();
      codec.encode(w, genValue);
      return w.finishGather();
    },
    jsxdr: (): unknown => {
      const jw = new jsXdr.XdrWriter(out);
      jsType.write(jsValue, jw);
      return jw;
    },
  };
  const decodeOnly = {
    generated: (): unknown => {
      const rd = new XdrReader(input);
      const v = codec.decode(rd);
      rd.assertDone();
      return v;
    },
    jsxdr: (): unknown => jsType.fromXDR(input),
  };

  return { id, title, bytes, generated, jsxdr, copy, encodeOnly, decodeOnly };
}

export function buildMessages(): BenchMessage[] {
  return [
    makeMessage(
      "a",
      "COMPOUND4args SEQUENCE+PUTFH+WRITE (64 KiB)",
      ARGS,
      genWriteArgs(),
      J.COMPOUND4args,
      jsWriteArgs(),
    ),
    makeMessage(
      "b",
      "COMPOUND4res SEQUENCE+PUTFH+READDIR (100 entries)",
      RES,
      genReaddirRes(),
      J.COMPOUND4res,
      jsReaddirRes(),
    ),
    makeMessage(
      "c-args",
      "COMPOUND4args SEQUENCE+PUTFH+GETATTR",
      ARGS,
      genGetattrArgs(),
      J.COMPOUND4args,
      jsGetattrArgs(),
    ),
    makeMessage(
      "c-res",
      "COMPOUND4res SEQUENCE+PUTFH+GETATTR (fattr4 112 B)",
      RES,
      genGetattrRes(),
      J.COMPOUND4res,
      jsGetattrRes(),
    ),
  ];
}

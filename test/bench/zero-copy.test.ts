// Decoding message (a) of the codec benchmark (COMPOUND4args SEQUENCE + PUTFH +
// WRITE with a 64 KiB payload) must not copy the payload: WRITE4args.data is a
// view of the input's ArrayBuffer at the payload's offset.

import { describe, expect, it } from "vitest";
import type { WRITE4args } from "../../generated/nfs4/index.js";
import {
  NFS4_OTHER_SIZE,
  NFS4_SESSIONID_SIZE,
  decodeCOMPOUND4args,
  encodeCOMPOUND4args,
  nfs_opnum4,
} from "../../generated/nfs4/index.js";
import { XdrReader, XdrWriter } from "../../src/xdr/index.js";
import { FILE_HANDLE, WRITE_PAYLOAD, WRITE_PAYLOAD_SIZE, writeArgsMessage } from "./messages.js";

function encoded(): Uint8Array {
  const w = new XdrWriter();
  encodeCOMPOUND4args(w, writeArgsMessage());
  return w.toBytes();
}

/** Offset of the WRITE payload in the encoding, counted from the XDR layout. */
const PAYLOAD_OFFSET = [
  4 + 0, // tag: length word, no bytes (empty)
  4, // minorversion
  4, // argarray count
  4 + NFS4_SESSIONID_SIZE + 4 + 4 + 4 + 4, // OP_SEQUENCE, SEQUENCE4args
  4 + 4 + FILE_HANDLE.length, // OP_PUTFH, PUTFH4args (32-byte handle: no padding)
  4 + 4 + NFS4_OTHER_SIZE + 8 + 4, // OP_WRITE, stateid4, offset, stable
  4, // data: length word
].reduce((a, b) => a + b);

function decodeWrite(input: Uint8Array): WRITE4args {
  const r = new XdrReader(input);
  const args = decodeCOMPOUND4args(r);
  r.assertDone();
  expect(args.argarray.map((op) => op.argop)).toEqual([
    nfs_opnum4.OP_SEQUENCE,
    nfs_opnum4.OP_PUTFH,
    nfs_opnum4.OP_WRITE,
  ]);
  const op = args.argarray[2]!;
  if (op.argop !== nfs_opnum4.OP_WRITE) throw new Error("third op is not WRITE");
  return op.opwrite;
}

function expectView(data: Uint8Array, input: Uint8Array): void {
  expect(data.length).toBe(WRITE_PAYLOAD_SIZE);
  expect(data.buffer).toBe(input.buffer);
  expect(data.byteOffset).toBe(input.byteOffset + PAYLOAD_OFFSET);
  expect(Buffer.compare(data, WRITE_PAYLOAD)).toBe(0);
  // Sharing, not equal contents: a change to the input shows through.
  const before = data[0]!;
  input[PAYLOAD_OFFSET] = before ^ 0xff;
  expect(data[0]).toBe(before ^ 0xff);
  input[PAYLOAD_OFFSET] = before;
}

describe("zero-copy decode of WRITE4args.data (benchmark message a)", () => {
  it("the layout puts the payload where the test expects it", () => {
    const bytes = encoded();
    expect(PAYLOAD_OFFSET).toBe(124);
    expect(bytes.length).toBe(PAYLOAD_OFFSET + WRITE_PAYLOAD_SIZE);
    expect(new DataView(bytes.buffer).getUint32(PAYLOAD_OFFSET - 4)).toBe(WRITE_PAYLOAD_SIZE);
  });

  it("shares the input's ArrayBuffer (Uint8Array at offset 0)", () => {
    const input = encoded();
    expect(input.byteOffset).toBe(0);
    expectView(decodeWrite(input).data, input);
  });

  it("shares the input's ArrayBuffer at a nonzero byteOffset (a record inside a larger read buffer)", () => {
    const bytes = encoded();
    const backing = new ArrayBuffer(bytes.length + 1000);
    const input = new Uint8Array(backing, 508, bytes.length);
    input.set(bytes);
    expectView(decodeWrite(input).data, input);
  });

  it("shares the input's ArrayBuffer when the input is a Buffer slice", () => {
    const bytes = encoded();
    const backing = Buffer.alloc(bytes.length + 4096);
    const input = backing.subarray(2048, 2048 + bytes.length);
    input.set(bytes);
    const data = decodeWrite(input).data;
    expectView(data, input);
    expect(data.buffer).toBe(backing.buffer);
  });
});

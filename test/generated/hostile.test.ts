// Hostile input to the generated decoders: random bytes, every truncation of a
// valid message, huge length words and counts, over-limit data. Each must be
// rejected with an XdrError (never another exception) without allocating for
// what the input only claims to hold.

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { COMPOUND4args } from "../../generated/nfs4/index.js";
import {
  decodeCB_COMPOUND4args,
  decodeCOMPOUND4args,
  decodeCOMPOUND4res,
  encodeCOMPOUND4args,
  encodePUTFH4args,
  nfs_opnum4,
} from "../../generated/nfs4/index.js";
import { decoderpc_msg } from "../../generated/rpc/index.js";
import { XdrError, XdrReader, XdrWriter } from "../../src/xdr/index.js";

const decoders: [string, (r: XdrReader) => unknown][] = [
  ["COMPOUND4args", decodeCOMPOUND4args],
  ["COMPOUND4res", decodeCOMPOUND4res],
  ["CB_COMPOUND4args", decodeCB_COMPOUND4args],
  ["rpc_msg", decoderpc_msg],
];

function words(...values: number[]): Uint8Array {
  const w = new XdrWriter();
  for (const v of values) w.writeUint(v);
  return w.toBytes();
}

/** Runs `decode` on `bytes` and returns the XdrError it must throw. */
function rejection(decode: (r: XdrReader) => unknown, bytes: Uint8Array): XdrError {
  try {
    decode(new XdrReader(bytes));
  } catch (e) {
    if (e instanceof XdrError) return e;
    throw e;
  }
  throw new Error("decoded without error");
}

const sample: COMPOUND4args = {
  tag: new TextEncoder().encode("hostile"),
  minorversion: 1,
  argarray: [
    {
      argop: nfs_opnum4.OP_SEQUENCE,
      opsequence: {
        sa_sessionid: new Uint8Array(16).fill(7),
        sa_sequenceid: 1,
        sa_slotid: 0,
        sa_highest_slotid: 0,
        sa_cachethis: false,
      },
    },
    { argop: nfs_opnum4.OP_PUTFH, opputfh: { object: new Uint8Array(28).fill(1) } },
    { argop: nfs_opnum4.OP_GETATTR, opgetattr: { attr_request: [0x0010011a, 0x00b0a23a] } },
  ],
};

describe("generated decoders on hostile input", () => {
  it.each(decoders)(
    "%s: random bytes decode or fail with XdrError, nothing else",
    (_name, decode) => {
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: 256 }), (bytes) => {
          try {
            decode(new XdrReader(bytes));
          } catch (e) {
            expect(e).toBeInstanceOf(XdrError);
          }
        }),
        { numRuns: 2000 },
      );
    },
  );

  it("every truncation of a valid COMPOUND is rejected as truncated", () => {
    const w = new XdrWriter();
    encodeCOMPOUND4args(w, sample);
    const full = w.toBytes();
    expect(decodeCOMPOUND4args(new XdrReader(full))).toEqual(sample);
    for (let n = 0; n < full.length; n++) {
      const err = rejection(decodeCOMPOUND4args, full.subarray(0, n));
      expect(err.code, `prefix of ${n} bytes`).toBe("truncated");
      expect(err.offset).toBeLessThanOrEqual(n);
    }
  });

  it("a length of 2^32-1 is rejected without allocating", () => {
    const before = process.memoryUsage().arrayBuffers;
    // tag: opaque<> announcing 4 GiB - 1 bytes, followed by 8 bytes.
    const err = rejection(decodeCOMPOUND4args, words(0xffffffff, 1, 0));
    expect(err.code).toBe("truncated");
    expect(err.path).toEqual(["tag"]);
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(16 * 1024 * 1024);
  });

  it("an array count larger than the remaining bytes is rejected before allocating", () => {
    const before = process.memoryUsage().arrayBuffers;
    // empty tag, minorversion 1, argarray count 2^32-1, then one PUTROOTFH.
    const err = rejection(decodeCOMPOUND4args, words(0, 1, 0xffffffff, nfs_opnum4.OP_PUTROOTFH));
    expect(err.code).toBe("truncated");
    expect(err.path).toEqual(["argarray"]);
    expect(err.offset).toBe(8);
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(16 * 1024 * 1024);
  });

  it("a file handle longer than NFS4_FHSIZE is over the limit, on decode and on encode", () => {
    // empty tag, minorversion 1, one op: PUTFH with a 129-byte handle.
    const bytes = new Uint8Array([
      ...words(0, 1, 1, nfs_opnum4.OP_PUTFH, 129),
      ...new Uint8Array(132),
    ]);
    const err = rejection(decodeCOMPOUND4args, bytes);
    expect(err.code).toBe("limit");
    expect(err.pathString).toBe("argarray[0].opputfh.object");
    expect(err.offset).toBe(16);
    expect(() => encodePUTFH4args(new XdrWriter(), { object: new Uint8Array(129) })).toThrow(
      expect.objectContaining({ code: "limit", path: ["object"] }),
    );
  });

  it("non-zero padding is garbage", () => {
    // tag "abc" padded with 0xff, minorversion 1, no ops.
    const bytes = new Uint8Array([0, 0, 0, 3, 0x61, 0x62, 0x63, 0xff, ...words(1, 0)]);
    expect(rejection(decodeCOMPOUND4args, bytes)).toMatchObject({ code: "padding", path: ["tag"] });
  });

  it("a bool other than 0 or 1 is garbage", () => {
    const w = new XdrWriter();
    encodeCOMPOUND4args(w, sample);
    const bytes = w.toBytes();
    // sa_cachethis is the last word of SEQUENCE: tag(4+8) minor(4) count(4) op(4) sessionid(16) 3 words.
    const at = 12 + 4 + 4 + 4 + 16 + 12;
    bytes.set([0, 0, 0, 2], at);
    expect(rejection(decodeCOMPOUND4args, bytes)).toMatchObject({
      code: "bool",
      value: 2,
      path: ["argarray", "[0]", "opsequence", "sa_cachethis"],
      offset: at,
    });
  });

  it("encoding a value of the wrong shape names the field", () => {
    const bad = { ...sample, minorversion: -1 };
    expect(() => encodeCOMPOUND4args(new XdrWriter(), bad)).toThrow(
      expect.objectContaining({ code: "range", path: ["minorversion"] }),
    );
  });
});

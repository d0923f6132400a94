// src/protocol/results.ts on the generated arm/status/builder functions: the
// exported API the server and the client use, and issue 7 §6 — a PUTFH whose
// operation number is changed to SETATTR's must get a SETATTR4res error result
// that encodes (it used to lack `attrsset`, and the encoder threw).

import { describe, expect, it } from "vitest";
import type { nfs_resop4 } from "../../generated/nfs4/index.js";
import {
  decodeCOMPOUND4res,
  encodenfs_resop4,
  errorGETFH4res,
  nfs_cb_opnum4,
  nfs_opnum4,
  nfsstat4,
} from "../../generated/nfs4/index.js";
import {
  argsOf,
  cbStatusOf,
  cbStatusResult,
  resultOf,
  statusOf,
  statusResult,
  wrapResult,
} from "../../src/protocol/results.js";
import { joinResult } from "../../src/rpc/types.js";
import { XdrReader, XdrWriter } from "../../src/xdr/index.js";
import { Harness } from "../nfs/harness.js";

function encodes(res: nfs_resop4): boolean {
  encodenfs_resop4(new XdrWriter(), res);
  return true;
}

describe("statusResult and cbStatusResult", () => {
  it("build the operation's complete result", () => {
    const res = statusResult(nfs_opnum4.OP_SETATTR, nfsstat4.NFS4ERR_BADXDR);
    expect(res).toEqual({
      resop: nfs_opnum4.OP_SETATTR,
      opsetattr: { status: nfsstat4.NFS4ERR_BADXDR, attrsset: [] },
    });
    expect(encodes(res)).toBe(true);
    expect(statusOf(res)).toBe(nfsstat4.NFS4ERR_BADXDR);
    const lock = statusResult(nfs_opnum4.OP_LOCK, nfsstat4.NFS4ERR_DENIED);
    expect(encodes(lock)).toBe(true);
    expect(resultOf(lock, nfs_opnum4.OP_LOCK)).toMatchObject({ denied: { offset: 0n } });
  });

  it("answer a number that is not an operation with ILLEGAL's result", () => {
    expect(statusResult(2, nfsstat4.NFS4ERR_OP_ILLEGAL)).toEqual({
      resop: nfs_opnum4.OP_ILLEGAL,
      opillegal: { status: nfsstat4.NFS4ERR_OP_ILLEGAL },
    });
    expect(cbStatusResult(99, nfsstat4.NFS4ERR_OP_ILLEGAL)).toEqual({
      resop: nfs_cb_opnum4.OP_CB_ILLEGAL,
      opcbillegal: { status: nfsstat4.NFS4ERR_OP_ILLEGAL },
    });
    const recall = cbStatusResult(nfs_cb_opnum4.OP_CB_RECALL, nfsstat4.NFS4ERR_BADHANDLE);
    expect(recall.resop).toBe(nfs_cb_opnum4.OP_CB_RECALL);
    expect(cbStatusOf(recall)).toBe(nfsstat4.NFS4ERR_BADHANDLE);
  });
});

describe("resultOf, wrapResult and argsOf", () => {
  it("resultOf reads the arm of its own operation only", () => {
    const getfh = wrapResult(nfs_opnum4.OP_GETFH, errorGETFH4res(nfsstat4.NFS4ERR_STALE));
    expect(resultOf(getfh, nfs_opnum4.OP_GETFH)).toEqual({ status: nfsstat4.NFS4ERR_STALE });
    expect(resultOf(getfh, nfs_opnum4.OP_PUTFH)).toBeUndefined();
    expect(resultOf(undefined, nfs_opnum4.OP_GETFH)).toBeUndefined();
  });

  it("wrapResult takes a handler's untyped value by operation number, and refuses a non-operation", () => {
    const value: unknown = { status: nfsstat4.NFS4_OK };
    expect(wrapResult(nfs_opnum4.OP_PUTFH as number, value)).toEqual({
      resop: nfs_opnum4.OP_PUTFH,
      opputfh: { status: nfsstat4.NFS4_OK },
    });
    expect(() => wrapResult(2, value)).toThrow(/operation 2/);
  });

  it("argsOf gives the arm's arguments, undefined for a void one", () => {
    const fh = new Uint8Array([1, 2, 3]);
    expect(argsOf({ argop: nfs_opnum4.OP_PUTFH, opputfh: { object: fh } })).toEqual({
      object: fh,
    });
    expect(argsOf({ argop: nfs_opnum4.OP_GETFH })).toBeUndefined();
  });
});

describe("issue 7 §6: an operation renumbered to SETATTR", () => {
  it("gets a complete SETATTR4res, and the reply encodes", async () => {
    const h = new Harness();
    // A PUTFH whose 16-byte handle, read as SETATTR4args, leaves fattr4's bitmap a
    // huge count: the arguments do not decode.
    const bytes = Harness.encode([
      { argop: nfs_opnum4.OP_PUTFH, opputfh: { object: new Uint8Array(16).fill(0xff) } },
    ]);
    // tag (4 + 4), minorversion, the array's count, then the first argop.
    expect(new DataView(bytes.buffer, bytes.byteOffset).getUint32(16)).toBe(nfs_opnum4.OP_PUTFH);
    new DataView(bytes.buffer, bytes.byteOffset).setUint32(16, nfs_opnum4.OP_SETATTR);
    const outcome = await h.raw(bytes, h.conn());
    if (outcome.kind !== "success") throw new Error(`COMPOUND outcome ${outcome.kind}`);
    const r = new XdrReader(joinResult(outcome.result));
    const reply = decodeCOMPOUND4res(r);
    r.assertDone();
    expect(reply.status).toBe(nfsstat4.NFS4ERR_BADXDR);
    expect(reply.resarray).toEqual([
      {
        resop: nfs_opnum4.OP_SETATTR,
        opsetattr: { status: nfsstat4.NFS4ERR_BADXDR, attrsset: [] },
      },
    ]);
  });
});

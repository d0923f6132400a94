// The fuzzer's first finding, as a regression test: an error result built by
// statusResult() must be complete for its result type, or the generated
// encoder throws and the whole COMPOUND becomes RPC SYSTEM_ERR. (A PUTFH whose
// operation number was changed to SETATTR's failed with NFS4ERR_BADXDR, and
// SETATTR4res without `attrsset` broke encodebitmap4.)

import { describe, expect, it } from "vitest";
import { encodenfs_resop4, nfs4Types, nfs_opnum4, nfsstat4 } from "../../generated/nfs4/index.js";
import { statusOf, statusResult } from "../../src/protocol/results.js";
import { XdrWriter } from "../../src/xdr/index.js";

const resop = nfs4Types["nfs_resop4"];
if (resop?.kind !== "union") throw new Error("nfs_resop4 metadata missing");
const OPS = resop.arms.flatMap((a) => a.values.map(Number));
const STATUSES = [
  nfsstat4.NFS4ERR_BADXDR,
  nfsstat4.NFS4ERR_SERVERFAULT,
  nfsstat4.NFS4ERR_NOFILEHANDLE,
  nfsstat4.NFS4ERR_DENIED,
  nfsstat4.NFS4ERR_REP_TOO_BIG,
];

describe("statusResult", () => {
  it.each(OPS)("builds an encodable error result for operation %i", (op) => {
    for (const status of STATUSES) {
      const res = statusResult(op, status);
      expect(res.resop).toBe(op);
      expect(statusOf(res)).toBe(status);
      expect(() => encodenfs_resop4(new XdrWriter(), res)).not.toThrow();
    }
  });

  it("gives SETATTR4res an empty attrsset", () => {
    const res = statusResult(nfs_opnum4.OP_SETATTR, nfsstat4.NFS4ERR_BADXDR);
    expect(res).toEqual({
      resop: nfs_opnum4.OP_SETATTR,
      opsetattr: { status: nfsstat4.NFS4ERR_BADXDR, attrsset: [] },
    });
  });

  it("answers an unknown operation number as OP_ILLEGAL", () => {
    const res = statusResult(99, nfsstat4.NFS4ERR_OP_ILLEGAL);
    expect(res.resop).toBe(nfs_opnum4.OP_ILLEGAL);
    expect(() => encodenfs_resop4(new XdrWriter(), res)).not.toThrow();
  });
});

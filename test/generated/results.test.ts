// generated/nfs4/results.ts: arm access, result statuses and complete error
// results for the dispatch unions.
// - every operation's result, for every status (and so every status the RFC
//   tables let it return), is complete: it encodes, decodes to itself, and its
//   status reads back;
// - arm<U>/wrap<U> invert each other on random values of every arm;
// - status<U> agrees with a reading of the metadata tables (an independent
//   derivation of each result's status field);
// - every zero<T> constructor builds a value its encoder accepts.

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { nfs_cb_resop4, nfs_resop4 } from "../../generated/nfs4/index.js";
import * as nfs4 from "../../generated/nfs4/index.js";
import {
  ALLOWED_CB_ERRORS,
  ALLOWED_ERRORS,
  armnfs_argop4,
  armnfs_cb_argop4,
  armnfs_cb_resop4,
  armnfs_resop4,
  decodenfs_argop4,
  decodenfs_cb_argop4,
  decodenfs_cb_resop4,
  decodenfs_resop4,
  encodenfs_cb_resop4,
  encodenfs_resop4,
  errorLOCK4res,
  errornfs_cb_resop4,
  errornfs_resop4,
  nfs4Types,
  nfs_cb_opnum4,
  nfs_opnum4,
  nfs_opnum4_names,
  nfsstat4,
  REQUIRED_BY_TEXT,
  statusnfs_cb_resop4,
  statusnfs_resop4,
  wrapnfs_argop4,
  wrapnfs_cb_argop4,
  wrapnfs_cb_resop4,
  wrapnfs_resop4,
} from "../../generated/nfs4/index.js";
import { XdrInterpreter, XdrReader, XdrWriter } from "../../src/xdr/index.js";
import { Arbitraries } from "../support/arbitrary.js";
import * as rpc from "../../generated/rpc/index.js";

const OPS = Object.values(nfs_opnum4);
const CB_OPS = Object.values(nfs_cb_opnum4);
const STATUSES = Object.values(nfsstat4);
const arbitraries = new Arbitraries(rpc.rpcTypes, nfs4.nfs4Types);
const interpreter = new XdrInterpreter(rpc.rpcTypes, nfs4.nfs4Types);

function bytesOf(encode: (w: XdrWriter) => void): Uint8Array {
  const w = new XdrWriter(64);
  encode(w);
  return w.toBytes();
}

/** Encodes `res`, decodes it again and checks nothing was lost. */
function roundTrip(res: nfs_resop4): nfs_resop4 {
  const r = new XdrReader(bytesOf((w) => encodenfs_resop4(w, res)));
  const back = decodenfs_resop4(r);
  expect(r.remaining).toBe(0);
  expect(back).toEqual(res);
  return back;
}

function cbRoundTrip(res: nfs_cb_resop4): nfs_cb_resop4 {
  const r = new XdrReader(bytesOf((w) => encodenfs_cb_resop4(w, res)));
  const back = decodenfs_cb_resop4(r);
  expect(r.remaining).toBe(0);
  expect(back).toEqual(res);
  return back;
}

/** A typed value of a generated type, drawn through the metadata interpreter's bytes. */
function via<T>(name: string, decode: (r: XdrReader) => T): fc.Arbitrary<T> {
  return arbitraries
    .named(name)
    .map((v) => decode(new XdrReader(bytesOf((w) => interpreter.encode(name, w, v)))));
}

describe("error results are complete for their result type", () => {
  it("every operation's result, for every status the tables let it return, round-trips", () => {
    let pairs = 0;
    for (const op of OPS) {
      const allowed = [
        ...(ALLOWED_ERRORS.get(op) ?? []),
        ...(REQUIRED_BY_TEXT.get(op) ?? []),
        nfsstat4.NFS4_OK,
      ];
      for (const status of allowed) {
        const res = errornfs_resop4(op, status);
        expect(res.resop).toBe(op);
        expect(statusnfs_resop4(roundTrip(res))).toBe(status);
        pairs++;
      }
    }
    // 1070 + 366 + 98 table pairs (see errors-allowed.test.ts), 3 required by text, one NFS4_OK
    // per op.
    expect(pairs).toBe(1070 + 366 + 98 + 3 + OPS.length);
  });

  it("every callback operation's result, for every status the tables let it return, round-trips", () => {
    for (const op of CB_OPS)
      for (const status of [...(ALLOWED_CB_ERRORS.get(op) ?? []), nfsstat4.NFS4_OK]) {
        const res = errornfs_cb_resop4(op, status);
        expect(res.resop).toBe(op);
        expect(statusnfs_cb_resop4(cbRoundTrip(res))).toBe(status);
      }
  });

  it("any operation with any status encodes, not only the listed pairs", () => {
    for (const op of OPS)
      for (const status of STATUSES) {
        const res = errornfs_resop4(op, status);
        const bytes = bytesOf((w) => encodenfs_resop4(w, res));
        expect(statusnfs_resop4(decodenfs_resop4(new XdrReader(bytes))), nfs_opnum4_names[op]).toBe(
          status,
        );
      }
    for (const op of CB_OPS)
      for (const status of STATUSES)
        expect(statusnfs_cb_resop4(cbRoundTrip(errornfs_cb_resop4(op, status)))).toBe(status);
  });

  it("fills a struct result's other fields: SETATTR4res carries its attrsset bitmap", () => {
    // Issue 7 §6: a SETATTR that fails must still encode SETATTR4res's attrsset.
    const res = errornfs_resop4(nfs_opnum4.OP_SETATTR, nfsstat4.NFS4ERR_BADXDR);
    expect(res).toEqual({
      resop: nfs_opnum4.OP_SETATTR,
      opsetattr: { status: nfsstat4.NFS4ERR_BADXDR, attrsset: [] },
    });
    // resop 34, status 10036 (0x2734), then the empty bitmap4's length.
    expect([...bytesOf((w) => encodenfs_resop4(w, res))]).toEqual([
      0, 0, 0, 34, 0, 0, 0x27, 0x34, 0, 0, 0, 0,
    ]);
  });

  it("takes the arm a union result's status selects: LOCK4res's NFS4ERR_DENIED holds a LOCK4denied", () => {
    const denied = errorLOCK4res(nfsstat4.NFS4ERR_DENIED);
    expect(denied).toEqual({
      status: nfsstat4.NFS4ERR_DENIED,
      denied: {
        offset: 0n,
        length: 0n,
        locktype: nfs4.nfs_lock_type4.READ_LT,
        owner: { clientid: 0n, owner: new Uint8Array(0) },
      },
    });
    // Other errors take the void default arm.
    expect(errorLOCK4res(nfsstat4.NFS4ERR_LOCK_RANGE)).toEqual({
      status: nfsstat4.NFS4ERR_LOCK_RANGE,
    });
  });

  it("builds fresh values, so a caller may change one without changing the next", () => {
    const a = errornfs_resop4(nfs_opnum4.OP_SETATTR, nfsstat4.NFS4ERR_INVAL);
    const b = errornfs_resop4(nfs_opnum4.OP_SETATTR, nfsstat4.NFS4ERR_INVAL);
    const attrs = armnfs_resop4(a, nfs_opnum4.OP_SETATTR)?.attrsset;
    attrs?.push(1);
    expect(armnfs_resop4(b, nfs_opnum4.OP_SETATTR)?.attrsset).toEqual([]);
  });
});

describe("arm and wrap", () => {
  it("nfs_argop4: wrap(argop, arm(v)) is v, and arm(v, other op) is undefined", () => {
    fc.assert(
      fc.property(via("nfs_argop4", decodenfs_argop4), (v) => {
        expect(wrapnfs_argop4(v.argop, armnfs_argop4(v))).toEqual(v);
        expect(armnfs_argop4(v, v.argop)).toBe(armnfs_argop4(v));
        const other = v.argop === nfs_opnum4.OP_ACCESS ? nfs_opnum4.OP_CLOSE : nfs_opnum4.OP_ACCESS;
        expect(armnfs_argop4(v, other)).toBeUndefined();
      }),
      { numRuns: 200 },
    );
  });

  it("nfs_resop4 and nfs_cb_*: wrap inverts arm on random values", () => {
    fc.assert(
      fc.property(via("nfs_resop4", decodenfs_resop4), (v) => {
        expect(wrapnfs_resop4(v.resop, armnfs_resop4(v))).toEqual(v);
      }),
      { numRuns: 200 },
    );
    fc.assert(
      fc.property(via("nfs_cb_argop4", decodenfs_cb_argop4), (v) => {
        expect(wrapnfs_cb_argop4(v.argop, armnfs_cb_argop4(v))).toEqual(v);
      }),
      { numRuns: 100 },
    );
    fc.assert(
      fc.property(via("nfs_cb_resop4", decodenfs_cb_resop4), (v) => {
        expect(wrapnfs_cb_resop4(v.resop, armnfs_cb_resop4(v))).toEqual(v);
      }),
      { numRuns: 100 },
    );
  });

  it("types each arm: wrap takes only the result of its own operation", () => {
    const getfh = nfs4.errorGETFH4res(nfsstat4.NFS4ERR_NOFILEHANDLE);
    expect(wrapnfs_resop4(nfs_opnum4.OP_GETFH, getfh).resop).toBe(nfs_opnum4.OP_GETFH);
    // @ts-expect-error GETFH4res is not SETATTR's result
    wrapnfs_resop4(nfs_opnum4.OP_SETATTR, getfh);
  });
});

describe("status<U> agrees with the metadata tables", () => {
  /** The status field of arm `op` of `union`, found by walking the metadata. */
  function statusFromMeta(union: string, op: number, v: object): unknown {
    const meta = nfs4Types[union];
    if (meta?.kind !== "union") throw new Error(`${union} is not a union`);
    const arm = meta.arms.find((a) => a.values.includes(op));
    if (!arm?.name || arm.type.kind !== "ref") throw new Error(`no arm for ${op}`);
    let res = nfs4Types[arm.type.name];
    while (res?.kind === "typedef" && res.type.kind === "ref") res = nfs4Types[res.type.name];
    const field =
      res?.kind === "union"
        ? res.discriminant.name
        : res?.kind === "struct"
          ? res.fields[0]?.name
          : "";
    const value: unknown = Object.getOwnPropertyDescriptor(v, arm.name)?.value;
    return typeof value === "object" && value !== null && field
      ? Object.getOwnPropertyDescriptor(value, field)?.value
      : undefined;
  }

  it("for random nfs_resop4 and nfs_cb_resop4 values", () => {
    fc.assert(
      fc.property(via("nfs_resop4", decodenfs_resop4), (v) => {
        expect(statusnfs_resop4(v)).toBe(statusFromMeta("nfs_resop4", v.resop, v));
      }),
      { numRuns: 300 },
    );
    fc.assert(
      fc.property(via("nfs_cb_resop4", decodenfs_cb_resop4), (v) => {
        expect(statusnfs_cb_resop4(v)).toBe(statusFromMeta("nfs_cb_resop4", v.resop, v));
      }),
      { numRuns: 100 },
    );
  });
});

describe("zero values", () => {
  const zeros = Object.entries(nfs4).filter(
    (e): e is [string, () => unknown] => e[0].startsWith("zero") && typeof e[1] === "function",
  );

  it("exist for the types the builders need", () => {
    expect(zeros.map(([n]) => n)).toContain("zeroLOCK4denied");
    expect(zeros.length).toBeGreaterThan(20);
  });

  it.each(zeros)("%s() encodes and round-trips as its type", (name, zero) => {
    const type = name.slice("zero".length);
    const value = zero();
    const bytes = bytesOf((w) => interpreter.encode(type, w, value));
    const r = new XdrReader(bytes);
    expect(interpreter.decode(type, r)).toEqual(value);
    expect(r.remaining).toBe(0);
  });
});

// COMPOUND enforces each operation's descriptor (op.ts) before its handler
// runs: where a session-less operation may stand, the minor version, the
// current filehandle, the reply-size bound; and it maps a backend failure a
// handler throws to an error the operation may return. The descriptors
// themselves must agree with RFC 8881 §15.2, and each reply bound must be an
// upper bound of what the operation really answers.

import { describe, expect, it } from "vitest";
import {
  FATTR4_RDATTR_ERROR,
  OPEN4_SHARE_ACCESS_BOTH,
  createmode4,
  data_content4,
  decodeCOMPOUND4res,
  encodenfs_resop4,
  nfs_ftype4,
  nfs_opnum4,
  nfsstat4,
  open_claim_type4,
  isAllowedError,
  opentype4,
  type nfs_argop4,
  type nfs_resop4,
} from "../../../generated/nfs4/index.js";
import { FsError } from "../../../src/fs/backend.js";
import { MemoryFileSystem } from "../../../src/fs/memory.js";
import { ATTRS, bitmapOf } from "../../../src/nfs/attrs/index.js";
import type { OpTable } from "../../../src/nfs/op.js";
import { invoke } from "../../../src/nfs/op.js";
import { GETATTR } from "../../../src/nfs/ops/getattr.js";
import { DESCRIPTORS, OPERATIONS } from "../../../src/nfs/ops/index.js";
import { OPEN } from "../../../src/nfs/ops/open.js";
import { READDIR } from "../../../src/nfs/ops/readdir.js";
import { statusOf } from "../../../src/protocol/results.js";
import { joinResult } from "../../../src/rpc/types.js";
import { XdrReader, XdrWriter } from "../../../src/xdr/index.js";
import { Harness } from "../harness.js";
import {
  createSessionOp,
  newClient,
  newSession,
  reclaimCompleteOp,
  sequenceOp,
} from "../session-helpers.js";
import { fattr } from "./fileops-helpers.js";
import { makeEnv, mkdir, mkfile, utf8 } from "./helpers.js";

const putroot: nfs_argop4 = { argop: nfs_opnum4.OP_PUTROOTFH };
const getfh: nfs_argop4 = { argop: nfs_opnum4.OP_GETFH };
const lookup = (name: string): nfs_argop4 => ({
  argop: nfs_opnum4.OP_LOOKUP,
  oplookup: { objname: utf8(name) },
});
const mkdirOp = (name: string): nfs_argop4 => ({
  argop: nfs_opnum4.OP_CREATE,
  opcreate: {
    objtype: { type: nfs_ftype4.NF4DIR },
    objname: utf8(name),
    createattrs: { attrmask: [], attr_vals: new Uint8Array() },
  },
});
const readdirOp = (maxcount: number): nfs_argop4 => ({
  argop: nfs_opnum4.OP_READDIR,
  opreaddir: {
    cookie: 0n,
    cookieverf: new Uint8Array(8),
    dircount: 0,
    maxcount,
    attr_request: [],
  },
});

function encodedSize(res: nfs_resop4): number {
  const w = new XdrWriter(1024);
  encodenfs_resop4(w, res);
  return w.length;
}

async function setup(ops: OpTable = {}) {
  const fs = new MemoryFileSystem({ exportMode: 0o777 });
  const h = new Harness({}, fs, ops);
  const conn = h.conn();
  const { sessionid } = await newSession(h, conn);
  let seqid = 0;
  // Not cached unless asked: these tests are about ca_maxresponsesize.
  const run = (argops: nfs_argop4[], minorversion = 1) =>
    h.run([sequenceOp(sessionid, ++seqid, 0, false), ...argops], conn, { minorversion });
  return { fs, h, conn, run };
}

describe("the descriptor table", () => {
  const entries = Object.entries(DESCRIPTORS).map(([n, d]) => [Number(n), d!] as const);

  it("has one descriptor per implemented operation, keyed by its own number", () => {
    expect(entries.length).toBeGreaterThan(50);
    for (const [n, d] of entries) expect(d.op).toBe(n);
  });

  it("needs a current filehandle only where RFC 8881 §15.2 allows NFS4ERR_NOFILEHANDLE", () => {
    for (const [n, d] of entries)
      if (d.needsCurrentFh)
        expect(isAllowedError(n, nfsstat4.NFS4ERR_NOFILEHANDLE), `op ${n}`).toBe(true);
  });

  it("lets every operation answer REP_TOO_BIG and REP_TOO_BIG_TO_CACHE (§15.2)", () => {
    // §15.2's GETFH row omits them (and DELAY, SERVERFAULT): the table is short there.
    for (const [n] of entries.filter(([op]) => op !== nfs_opnum4.OP_GETFH)) {
      expect(isAllowedError(n, nfsstat4.NFS4ERR_REP_TOO_BIG), `op ${n}`).toBe(true);
      expect(isAllowedError(n, nfsstat4.NFS4ERR_REP_TOO_BIG_TO_CACHE), `op ${n}`).toBe(true);
    }
  });

  it("names the session-less operations of §18.46.3 and the NFSv4.2 ones of RFC 7862", () => {
    const sessionless = entries.filter(([, d]) => d.sessionless).map(([n]) => n);
    expect(sessionless.sort((a, b) => a - b)).toEqual(
      [
        nfs_opnum4.OP_EXCHANGE_ID,
        nfs_opnum4.OP_CREATE_SESSION,
        nfs_opnum4.OP_DESTROY_SESSION,
        nfs_opnum4.OP_BIND_CONN_TO_SESSION,
        nfs_opnum4.OP_DESTROY_CLIENTID,
      ].sort((a, b) => a - b),
    );
    for (const [n, d] of entries)
      expect(d.minMinorVersion, `op ${n}`).toBe(n > nfs_opnum4.OP_RECLAIM_COMPLETE ? 2 : 1);
  });

  it("answers the NFSv4.0-only operations NFS4ERR_NOTSUPP", () => {
    for (const n of [nfs_opnum4.OP_RENEW, nfs_opnum4.OP_SETCLIENTID, nfs_opnum4.OP_OPEN_CONFIRM])
      expect(OPERATIONS[n]).toMatchObject({ v40Only: true });
  });
});

describe("COMPOUND enforces the descriptors", () => {
  it("answers NFS4ERR_NOFILEHANDLE without running an operation that needs a current filehandle", async () => {
    const { h, run } = await setup();
    for (const op of [getfh, lookup("export"), readdirOp(4096), mkdirOp("x")]) {
      const res = await run([op]);
      expect(res.status).toBe(nfsstat4.NFS4ERR_NOFILEHANDLE);
      expect(res.resarray.map((r) => r.resop)).toEqual([nfs_opnum4.OP_SEQUENCE, op.argop]);
      expect(h.processor.executed.get(op.argop)).toBeUndefined();
    }
  });

  it("treats an NFSv4.2 operation in a 4.1 COMPOUND as OP_ILLEGAL, and runs it in 4.2", async () => {
    const { h, run } = await setup();
    const seek: nfs_argop4 = {
      argop: nfs_opnum4.OP_SEEK,
      opseek: {
        sa_stateid: { seqid: 0, other: new Uint8Array(12) },
        sa_offset: 0n,
        sa_what: data_content4.NFS4_CONTENT_DATA,
      },
    };
    const v41 = await run([putroot, seek], 1);
    expect(v41.status).toBe(nfsstat4.NFS4ERR_OP_ILLEGAL);
    expect(v41.resarray[2]!.resop).toBe(nfs_opnum4.OP_ILLEGAL);
    expect(h.processor.executed.get(nfs_opnum4.OP_SEEK)).toBeUndefined();
    const v42 = await run([putroot, seek], 2);
    expect(v42.resarray[2]!.resop).toBe(nfs_opnum4.OP_SEEK);
    // The root is a directory: SEEK ran and said so.
    expect(v42.status).toBe(nfsstat4.NFS4ERR_ISDIR);
    expect(h.processor.executed.get(nfs_opnum4.OP_SEEK)).toBe(1);
  });

  it("places session-less operations alone, and everything else after SEQUENCE", async () => {
    const h = new Harness({}, new MemoryFileSystem());
    const conn = h.conn();
    expect((await h.run([putroot], conn)).status).toBe(nfsstat4.NFS4ERR_OP_NOT_IN_SESSION);
    const { clientid, sequenceid } = await newClient(h, conn);
    const cs = await h.run([createSessionOp(clientid, sequenceid), putroot], conn);
    expect(cs.status).toBe(nfsstat4.NFS4ERR_NOT_ONLY_OP);
    expect(h.processor.executed.get(nfs_opnum4.OP_CREATE_SESSION)).toBeUndefined();
    expect((await h.run([createSessionOp(clientid, sequenceid)], conn)).status).toBe(
      nfsstat4.NFS4_OK,
    );
  });

  it("answers an NFSv4.0-only operation NFS4ERR_NOTSUPP", async () => {
    const { run } = await setup();
    const renew: nfs_argop4 = { argop: nfs_opnum4.OP_RENEW, oprenew: { clientid: 1n } };
    const res = await run([renew]);
    expect(res.status).toBe(nfsstat4.NFS4ERR_NOTSUPP);
  });

  it("maps a backend FsError a handler throws to an error the operation may return", async () => {
    // REMOVE may not answer NFS4ERR_SYMLINK (§15.2): the nearest it may is NOTDIR.
    const { run } = await setup({
      [nfs_opnum4.OP_REMOVE]: () => {
        throw new FsError(nfsstat4.NFS4ERR_SYMLINK);
      },
      [nfs_opnum4.OP_LOOKUP]: () => {
        throw new FsError(nfsstat4.NFS4ERR_NOENT);
      },
    });
    const remove: nfs_argop4 = { argop: nfs_opnum4.OP_REMOVE, opremove: { target: utf8("x") } };
    expect((await run([putroot, remove])).status).toBe(nfsstat4.NFS4ERR_NOTDIR);
    expect((await run([putroot, lookup("x")])).status).toBe(nfsstat4.NFS4ERR_NOENT);
  });

  it("answers anything else a handler throws with NFS4ERR_SERVERFAULT, and goes on serving", async () => {
    const { run } = await setup({
      [nfs_opnum4.OP_LOOKUP]: () => {
        throw new TypeError("a bug");
      },
    });
    const res = await run([putroot, lookup("export"), getfh]);
    expect(res.status).toBe(nfsstat4.NFS4ERR_SERVERFAULT);
    expect(res.resarray).toHaveLength(3);
    expect((await run([putroot, getfh])).status).toBe(nfsstat4.NFS4_OK);
  });

  it("maps what an async handler rejects with as it does what a handler throws", async () => {
    const { run } = await setup({
      [nfs_opnum4.OP_REMOVE]: async () => {
        await Promise.resolve();
        throw new FsError(nfsstat4.NFS4ERR_SYMLINK);
      },
      [nfs_opnum4.OP_LOOKUP]: async () => {
        await Promise.resolve();
        throw new TypeError("a bug");
      },
    });
    const remove: nfs_argop4 = { argop: nfs_opnum4.OP_REMOVE, opremove: { target: utf8("x") } };
    expect((await run([putroot, remove])).status).toBe(nfsstat4.NFS4ERR_NOTDIR);
    const res = await run([putroot, lookup("export"), getfh]);
    expect(res.status).toBe(nfsstat4.NFS4ERR_SERVERFAULT);
    expect(res.resarray).toHaveLength(3);
  });
});

describe("the reply-size check before each operation", () => {
  async function limited(fore: {
    ca_maxresponsesize?: number;
    ca_maxresponsesize_cached?: number;
  }) {
    const fs = new MemoryFileSystem({ exportMode: 0o777 });
    const h = new Harness({}, fs);
    const conn = h.conn();
    const { clientid, sequenceid } = await newClient(h, conn);
    const cs = await h.run([createSessionOp(clientid, sequenceid, { fore })], conn);
    expect(cs.status).toBe(nfsstat4.NFS4_OK);
    const sessionid = (
      cs.resarray[0] as { opcreate_session: { csr_resok4: { csr_sessionid: Uint8Array } } }
    ).opcreate_session.csr_resok4.csr_sessionid;
    let seqid = 0;
    const run = (argops: nfs_argop4[], cachethis = false) =>
      h.run([sequenceOp(sessionid, ++seqid, 0, cachethis), ...argops], conn);
    return { h, fs, run };
  }

  it("stops at the operation whose bound does not fit: it and the later ones do not run", async () => {
    const { h, run } = await limited({ ca_maxresponsesize: 1024, ca_maxresponsesize_cached: 1024 });
    const res = await run([putroot, lookup("export"), readdirOp(4096), mkdirOp("late")]);
    expect(res.status).toBe(nfsstat4.NFS4ERR_REP_TOO_BIG);
    expect(res.resarray.map((r) => r.resop)).toEqual([
      nfs_opnum4.OP_SEQUENCE,
      nfs_opnum4.OP_PUTROOTFH,
      nfs_opnum4.OP_LOOKUP,
      nfs_opnum4.OP_READDIR,
    ]);
    expect(h.processor.executed.get(nfs_opnum4.OP_READDIR)).toBeUndefined();
    expect(h.processor.executed.get(nfs_opnum4.OP_CREATE)).toBeUndefined();
    // The same READDIR asking for what fits runs, and so does the CREATE after it.
    const ok = await run([putroot, lookup("export"), readdirOp(512), mkdirOp("late")]);
    expect(ok.status).toBe(nfsstat4.NFS4_OK);
    expect(h.processor.executed.get(nfs_opnum4.OP_CREATE)).toBe(1);
  });

  it("answers REP_TOO_BIG_TO_CACHE when only the cached limit is passed", async () => {
    const { h, run } = await limited({ ca_maxresponsesize: 8192, ca_maxresponsesize_cached: 1024 });
    const cached = await run([putroot, readdirOp(4096)], true);
    expect(cached.status).toBe(nfsstat4.NFS4ERR_REP_TOO_BIG_TO_CACHE);
    expect(h.processor.executed.get(nfs_opnum4.OP_READDIR)).toBeUndefined();
    const big = await run([putroot, readdirOp(16384)], true);
    expect(big.status).toBe(nfsstat4.NFS4ERR_REP_TOO_BIG);
    expect((await run([putroot, readdirOp(4096)], false)).status).toBe(nfsstat4.NFS4_OK);
  });

  it("keeps room for a later operation's error result", async () => {
    // SEQUENCE alone with tag "t" is 84 bytes with the RPC header; PUTROOTFH adds 8.
    const { h, run } = await limited({ ca_maxresponsesize: 128, ca_maxresponsesize_cached: 128 });
    const four = await run([putroot, putroot, putroot, putroot]);
    expect(four.status).toBe(nfsstat4.NFS4_OK);
    expect(four.bytes.length + 24).toBe(84 + 4 * 8);
    expect(h.processor.executed.get(nfs_opnum4.OP_PUTROOTFH)).toBe(4);
    // The fourth would fit, but not with room for the fifth's error result.
    const five = await run([putroot, putroot, putroot, putroot, putroot]);
    expect(five.status).toBe(nfsstat4.NFS4ERR_REP_TOO_BIG);
    expect(five.resarray).toHaveLength(5);
    expect(h.processor.executed.get(nfs_opnum4.OP_PUTROOTFH)).toBe(4 + 3);
    expect(h.processor.overruns).toBe(0);
  });
});

describe("the final reply-size check (a safety net)", () => {
  it("cuts a reply an operation made larger than its bound, and says so", async () => {
    // A GETATTR that answers far more than GETATTR's bound for what was asked.
    const fs = new MemoryFileSystem({ exportMode: 0o777 });
    const h = new Harness({}, fs, {
      [nfs_opnum4.OP_GETATTR]: () => ({
        status: nfsstat4.NFS4_OK,
        resok4: { obj_attributes: { attrmask: [1], attr_vals: new Uint8Array(64) } },
      }),
    });
    const conn = h.conn();
    const { clientid, sequenceid } = await newClient(h, conn);
    const fore = { ca_maxresponsesize: 130, ca_maxresponsesize_cached: 130 };
    const cs = await h.run([createSessionOp(clientid, sequenceid, { fore })], conn);
    const sessionid = (
      cs.resarray[0] as { opcreate_session: { csr_resok4: { csr_sessionid: Uint8Array } } }
    ).opcreate_session.csr_resok4.csr_sessionid;
    const getattr: nfs_argop4 = { argop: nfs_opnum4.OP_GETATTR, opgetattr: { attr_request: [] } };
    const bytes = Harness.encode([sequenceOp(sessionid, 1, 0, false), putroot, getattr]);
    const outcome = await h.raw(bytes, conn);
    if (outcome.kind !== "success") throw new Error(outcome.kind);
    const reply = joinResult(outcome.result);
    const res = decodeCOMPOUND4res(new XdrReader(reply));
    expect(res.status).toBe(nfsstat4.NFS4ERR_REP_TOO_BIG);
    expect(res.resarray.map((r) => r.resop)).toEqual([
      nfs_opnum4.OP_SEQUENCE,
      nfs_opnum4.OP_PUTROOTFH,
      nfs_opnum4.OP_GETATTR,
    ]);
    expect(reply.length + 24).toBeLessThanOrEqual(130);
    expect(h.processor.boundViolations).toBe(1);
    expect(h.processor.overruns).toBe(1);
  });
});

describe("reply bounds are upper bounds", () => {
  const readable = ATTRS.filter((a) => a.write !== null).map((a) => a.bit);

  it("GETATTR of every supported attribute, on each kind of object", async () => {
    const env = await makeEnv();
    // The largest ids make the longest numeric owner and owner_group.
    const file = await mkfile(env.fs, env.exp, "f", { data: "data", uid: 4294967295 });
    const dir = await mkdir(env.fs, env.exp, "d", { gid: 4294967295 });
    const link = (await env.fs.symlink(env.exp, "l", utf8("f"), { mode: 0o777, uid: 0, gid: 0 }))
      .handle;
    const args = { attr_request: bitmapOf(readable) };
    for (const fh of [env.root, env.exp, file, dir, link]) {
      const state = env.state();
      state.currentFh = fh;
      const res = await invoke(GETATTR, args, state);
      expect(statusOf(res)).toBe(nfsstat4.NFS4_OK);
      expect(encodedSize(res)).toBeLessThanOrEqual(GETATTR.replyBound(args, state));
    }
  });

  it("READDIR with every attribute, long names and rdattr_error, for any maxcount", async () => {
    const env = await makeEnv();
    const dir = await mkdir(env.fs, env.exp, "d");
    for (let i = 0; i < 40; i++) await mkfile(env.fs, dir, `${"n".repeat(200)}${i}`);
    const attr_request = bitmapOf([...readable, FATTR4_RDATTR_ERROR]);
    for (const maxcount of [100, 1000, 8192, 1 << 20]) {
      const state = env.state();
      state.currentFh = dir;
      const args = {
        cookie: 0n,
        cookieverf: new Uint8Array(8),
        dircount: 0,
        maxcount,
        attr_request,
      };
      const res = await invoke(READDIR, args, state);
      expect(encodedSize(res)).toBeLessThanOrEqual(READDIR.replyBound(args, state));
    }
    // A small maxcount bounds the reply by itself.
    const state = env.state();
    const small = {
      cookie: 0n,
      cookieverf: new Uint8Array(8),
      dircount: 0,
      maxcount: 100,
      attr_request,
    };
    expect(READDIR.replyBound(small, state)).toBe(4 + 4 + 100);
  });

  it("OPEN that creates a file with attributes", async () => {
    const { run } = await setup();
    await run([reclaimCompleteOp]);
    const args = {
      seqid: 0,
      share_access: OPEN4_SHARE_ACCESS_BOTH,
      share_deny: 0,
      owner: { clientid: 0n, owner: utf8("o") },
      openhow: {
        opentype: opentype4.OPEN4_CREATE,
        how: { mode: createmode4.UNCHECKED4, createattrs: fattr({ mode: 0o600, size: 0n }) },
      },
      claim: { claim: open_claim_type4.CLAIM_NULL, file: utf8("o") },
    } as const;
    const res = await run([putroot, lookup("export"), { argop: nfs_opnum4.OP_OPEN, opopen: args }]);
    expect(res.status).toBe(nfsstat4.NFS4_OK);
    const env = await makeEnv();
    expect(encodedSize(res.resarray[3]!)).toBeLessThanOrEqual(OPEN.replyBound(args, env.state()));
  });
});

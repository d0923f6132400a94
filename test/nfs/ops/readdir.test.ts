import { describe, expect, it } from "vitest";
import {
  FATTR4_FILEHANDLE,
  FATTR4_FILEID,
  FATTR4_MOUNTED_ON_FILEID,
  FATTR4_RDATTR_ERROR,
  FATTR4_SPACE_FREE,
  FATTR4_TIME_MODIFY_SET,
  FATTR4_TYPE,
  decodefattr4_filehandle,
  decodefattr4_fileid,
  decodefattr4_mounted_on_fileid,
  decodefattr4_rdattr_error,
  decodefattr4_type,
  encodeREADDIR4resok,
  encodenfs_resop4,
  nfs_ftype4,
  nfs_opnum4,
  nfsstat4,
  type READDIR4args,
  type READDIR4res,
  type READDIR4resok,
} from "../../../generated/nfs4/index.js";
import type { FileHandle, ReaddirLimits, ReaddirResult } from "../../../src/fs/backend.js";
import { MemoryFileSystem } from "../../../src/fs/memory.js";
import { bitmapOf, bitsOf } from "../../../src/nfs/attrs/index.js";
import type { CompoundState } from "../../../src/nfs/context.js";
import { operation } from "../../../src/nfs/op.js";
import { READDIR } from "../../../src/nfs/ops/readdir.js";
import { XdrReader, XdrWriter } from "../../../src/xdr/index.js";
import { ioBuffers } from "../../../src/xdr/io-buffers.js";
import { EncodedDirlist } from "../../../src/nfs/ops/readdir-entries.js";
import { USER, expectStatus, makeEnv, mkdir, mkfile, type TestEnv, call } from "./helpers.js";

const ZERO_VERF = new Uint8Array(8);
const dec = new TextDecoder();

function args(over: Partial<READDIR4args> = {}): READDIR4args {
  return {
    cookie: 0n,
    cookieverf: ZERO_VERF,
    dircount: 0,
    maxcount: 64 * 1024,
    attr_request: bitmapOf([FATTR4_TYPE, FATTR4_FILEID]),
    ...over,
  };
}

async function ok(state: CompoundState, a: READDIR4args): Promise<READDIR4resok> {
  const res = await call(READDIR, a, state);
  expectStatus(res, nfsstat4.NFS4_OK);
  if (res.status !== nfsstat4.NFS4_OK) throw new Error("unreachable");
  return res.resok4;
}

function wireSize(resok: READDIR4resok): number {
  const w = new XdrWriter();
  encodeREADDIR4resok(w, resok);
  return w.length;
}

/**
 * The result as COMPOUND sends it (READDIR's own encoder, entries written by
 * the handler), and as the generated encoder writes the same result rebuilt
 * from plain objects: they must be the same bytes.
 */
function wireForms(res: READDIR4res): { sent: string; generated: string } {
  const hex = (w: XdrWriter): string => Buffer.from(w.finish()).toString("hex");
  const sent = new XdrWriter();
  operation(READDIR).encode(sent, { resop: nfs_opnum4.OP_READDIR, opreaddir: res });
  const plain: READDIR4res =
    res.status === nfsstat4.NFS4_OK
      ? {
          status: res.status,
          resok4: {
            cookieverf: res.resok4.cookieverf,
            reply: {
              entries: res.resok4.reply.entries.map((e) => ({
                cookie: e.cookie,
                name: e.name,
                attrs: { attrmask: [...e.attrs.attrmask], attr_vals: e.attrs.attr_vals },
              })),
              eof: res.resok4.reply.eof,
            },
          },
        }
      : res;
  const generated = new XdrWriter();
  encodenfs_resop4(generated, { resop: nfs_opnum4.OP_READDIR, opreaddir: plain });
  return { sent: hex(sent), generated: hex(generated) };
}

async function populate(env: TestEnv, n: number): Promise<FileHandle> {
  const d = await mkdir(env.fs, env.exp, "d", { mode: 0o755 });
  for (let i = 0; i < n; i++) await mkfile(env.fs, d, `file-${String(i).padStart(3, "0")}`);
  return d;
}

/** A memory backend whose readdir() pages pass through `hook` (to watch or alter them). */
function withListingHook(
  hook: (page: ReaddirResult, limits: ReaddirLimits) => ReaddirResult,
): MemoryFileSystem {
  return new (class extends MemoryFileSystem {
    override async readdir(
      dir: FileHandle,
      cookie: bigint,
      verifier: Uint8Array,
      limits: ReaddirLimits,
    ): Promise<ReaddirResult> {
      return hook(await super.readdir(dir, cookie, verifier, limits), limits);
    }
  })();
}

/** Pages through the whole directory, returning [name, cookie] pairs. */
async function listAll(
  state: CompoundState,
  over: Partial<READDIR4args>,
): Promise<[string, bigint][]> {
  const out: [string, bigint][] = [];
  let cookie = 0n;
  let cookieverf: Uint8Array = ZERO_VERF;
  for (let guard = 0; guard < 1000; guard++) {
    const r = await ok(state, args({ ...over, cookie, cookieverf }));
    for (const e of r.reply.entries) out.push([dec.decode(e.name), e.cookie]);
    if (r.reply.eof) return out;
    expect(r.reply.entries.length).toBeGreaterThan(0);
    cookie = r.reply.entries[r.reply.entries.length - 1]!.cookie;
    cookieverf = r.cookieverf;
  }
  throw new Error("no eof");
}

describe("READDIR", () => {
  it("lists entries with their attributes, without . and .., at eof", async () => {
    const env = await makeEnv();
    const d = await populate(env, 3);
    await mkdir(env.fs, d, "sub");
    const state = env.state();
    state.currentFh = d;
    const r = await ok(
      state,
      args({
        attr_request: bitmapOf([
          FATTR4_TYPE,
          FATTR4_RDATTR_ERROR,
          FATTR4_FILEHANDLE,
          FATTR4_FILEID,
          FATTR4_MOUNTED_ON_FILEID,
        ]),
      }),
    );
    expect(r.reply.eof).toBe(true);
    expect(r.cookieverf.length).toBe(8);
    const names = r.reply.entries.map((e) => dec.decode(e.name));
    expect(names).toEqual(["file-000", "file-001", "file-002", "sub"]);
    for (const e of r.reply.entries) {
      expect(e.cookie).toBeGreaterThanOrEqual(3n);
      expect(bitsOf(e.attrs.attrmask)).toEqual([
        FATTR4_TYPE,
        FATTR4_RDATTR_ERROR,
        FATTR4_FILEHANDLE,
        FATTR4_FILEID,
        FATTR4_MOUNTED_ON_FILEID,
      ]);
      const rd = new XdrReader(e.attrs.attr_vals);
      const type = decodefattr4_type(rd);
      expect(decodefattr4_rdattr_error(rd)).toBe(nfsstat4.NFS4_OK);
      const fh = decodefattr4_filehandle(rd);
      const fileid = decodefattr4_fileid(rd);
      expect(decodefattr4_mounted_on_fileid(rd)).toBe(fileid);
      rd.assertDone();
      const found = await env.fs.lookup(d, dec.decode(e.name));
      expect(fh).toEqual(found.handle);
      expect(fileid).toBe(found.attrs.fileid);
      expect(type).toBe(dec.decode(e.name) === "sub" ? nfs_ftype4.NF4DIR : nfs_ftype4.NF4REG);
    }
  });

  it("an empty directory is an empty list at eof, even with the smallest maxcount", async () => {
    const env = await makeEnv();
    const state = env.state();
    state.currentFh = await mkdir(env.fs, env.exp, "empty");
    const r = await ok(state, args({ maxcount: 16 }));
    expect(r.reply.entries).toEqual([]);
    expect(r.reply.eof).toBe(true);
  });

  it("cookies are stable across calls and page sizes", async () => {
    const env = await makeEnv();
    const state = env.state();
    state.currentFh = await populate(env, 40);
    const big = await listAll(state, {});
    const small = await listAll(state, { maxcount: 200 });
    const tiny = await listAll(state, { dircount: 30 });
    expect(big.length).toBe(40);
    expect(small).toEqual(big);
    expect(tiny).toEqual(big);
  });

  it("resumes after a cookie with its verifier, also after that entry is removed", async () => {
    const env = await makeEnv();
    const d = await populate(env, 5);
    const state = env.state();
    state.currentFh = d;
    const first = await ok(state, args());
    const third = first.reply.entries[2]!;
    await env.fs.remove(d, dec.decode(third.name));
    const rest = await ok(state, args({ cookie: third.cookie, cookieverf: first.cookieverf }));
    expect(rest.reply.entries.map((e) => dec.decode(e.name))).toEqual(["file-003", "file-004"]);
    expect(rest.reply.entries.map((e) => e.cookie)).toEqual(
      first.reply.entries.slice(3).map((e) => e.cookie),
    );
  });

  it("NOT_SAME for a stale verifier, BAD_COOKIE for reserved or unknown cookies", async () => {
    const env = await makeEnv();
    const d = await populate(env, 3);
    const state = env.state();
    state.currentFh = d;
    const first = await ok(state, args());
    const c = first.reply.entries[0]!.cookie;
    // The verifier is zero (backend.ts: cookies never go stale); any other is not ours.
    expect(first.cookieverf).toEqual(ZERO_VERF);
    expectStatus(
      await call(READDIR, args({ cookie: c, cookieverf: new Uint8Array(8).fill(0xa5) }), state),
      nfsstat4.NFS4ERR_NOT_SAME,
    );
    expect(
      (await ok(state, args({ cookie: c, cookieverf: ZERO_VERF }))).reply.entries,
    ).toHaveLength(2);
    for (const cookie of [1n, 2n]) {
      expectStatus(
        await call(READDIR, args({ cookie, cookieverf: first.cookieverf }), state),
        nfsstat4.NFS4ERR_BAD_COOKIE,
      );
    }
    expectStatus(
      await call(READDIR, args({ cookie: 99_999n, cookieverf: first.cookieverf }), state),
      nfsstat4.NFS4ERR_BAD_COOKIE,
    );
    // Cookie 0 ignores the verifier.
    await ok(state, args({ cookie: 0n, cookieverf: new Uint8Array(8).fill(0xa5) }));
  });

  it("stays within maxcount, and TOOSMALL when not one entry fits", async () => {
    const env = await makeEnv();
    const state = env.state();
    state.currentFh = await populate(env, 20);
    // One entry: 16 fixed + 8 name + fattr4 (4 + 4 mask + 4 + 12 values) = 48, plus 16.
    for (const maxcount of [64, 100, 333, 700]) {
      const r = await ok(state, args({ maxcount }));
      expect(r.reply.entries.length).toBeGreaterThan(0);
      expect(wireSize(r)).toBeLessThanOrEqual(maxcount);
      expect(r.reply.eof).toBe(false);
    }
    const all = await ok(state, args());
    const exact = wireSize(all);
    const tight = await ok(state, args({ maxcount: exact }));
    expect(tight.reply).toEqual(all.reply);
    const short = await ok(state, args({ maxcount: exact - 1 }));
    expect(short.reply.entries.length).toBe(19);
    expect(short.reply.eof).toBe(false);
    expect((await ok(state, args({ maxcount: 64 }))).reply.entries.length).toBe(1);
    expectStatus(await call(READDIR, args({ maxcount: 63 }), state), nfsstat4.NFS4ERR_TOOSMALL);
    expectStatus(await call(READDIR, args({ maxcount: 15 }), state), nfsstat4.NFS4ERR_TOOSMALL);
  });

  it("dircount limits names and cookies but lets the first entry through; 0 is no limit", async () => {
    const env = await makeEnv();
    const state = env.state();
    state.currentFh = await populate(env, 10);
    // Each entry costs 8 (cookie) + 8 (padded "file-nnn") = 16.
    expect((await ok(state, args({ dircount: 1 }))).reply.entries.length).toBe(1);
    expect((await ok(state, args({ dircount: 48 }))).reply.entries.length).toBe(3);
    expect((await ok(state, args({ dircount: 0 }))).reply.entries.length).toBe(10);
  });

  it("fills one reply from several backend pages, asking for about what fits", async () => {
    const env = await makeEnv();
    const asked: number[] = [];
    const fs = withListingHook((page, limits) => {
      asked.push(limits.maxEntries);
      return page;
    });
    const exp = (await fs.lookup(await fs.root(), "export")).handle;
    const d = await mkdir(fs, exp, "d", { mode: 0o755 });
    for (let i = 0; i < 300; i++) await mkfile(fs, d, `file-${String(i).padStart(3, "0")}`);
    const state = { ...env.state(), server: { ...env.state().server, fs } };
    state.currentFh = d;
    // All 300 fit in 64 KiB: one reply, every entry once, in cookie order, at eof.
    const all = await ok(state, args());
    expect(all.reply.eof).toBe(true);
    const names = all.reply.entries.map((e) => dec.decode(e.name));
    expect(names).toEqual([...Array(300).keys()].map((i) => `file-${String(i).padStart(3, "0")}`));
    const cookies = all.reply.entries.map((e) => e.cookie);
    expect([...cookies].sort((a, b) => (a < b ? -1 : 1))).toEqual(cookies);
    expect(asked.length).toBeGreaterThan(1);
    // A reply with room for about 20 entries asks for a first page, not maxcount / 28 of them.
    asked.length = 0;
    const some = await ok(state, args({ maxcount: 800 }));
    expect(some.reply.eof).toBe(false);
    expect(asked.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(64);
    expect(wireSize(some)).toBeLessThanOrEqual(800);
  });

  it("maxReaddirEntries caps one reply", async () => {
    const env = await makeEnv({ settings: { maxReaddirEntries: 4 } });
    const state = env.state();
    state.currentFh = await populate(env, 10);
    const r = await ok(state, args());
    expect(r.reply.entries.length).toBe(4);
    expect(r.reply.eof).toBe(false);
    expect((await listAll(state, {})).length).toBe(10);
  });

  it("fetches statfs figures for the entries when asked", async () => {
    const env = await makeEnv();
    const state = env.state();
    state.currentFh = await populate(env, 2);
    const r = await ok(state, args({ attr_request: bitmapOf([FATTR4_SPACE_FREE]) }));
    for (const e of r.reply.entries) expect(bitsOf(e.attrs.attrmask)).toEqual([FATTR4_SPACE_FREE]);
  });

  it("NOFILEHANDLE, NOTDIR, ACCESS, INVAL", async () => {
    const env = await makeEnv();
    expectStatus(await call(READDIR, args(), env.state()), nfsstat4.NFS4ERR_NOFILEHANDLE);
    const state = env.state();
    state.currentFh = await mkfile(env.fs, env.exp, "f");
    expectStatus(await call(READDIR, args(), state), nfsstat4.NFS4ERR_NOTDIR);
    const user = env.state(USER);
    user.currentFh = await mkdir(env.fs, env.exp, "noread", { mode: 0o711 });
    expectStatus(await call(READDIR, args(), user), nfsstat4.NFS4ERR_ACCESS);
    state.currentFh = env.exp;
    expectStatus(
      await call(READDIR, args({ attr_request: bitmapOf([FATTR4_TIME_MODIFY_SET]) }), state),
      nfsstat4.NFS4ERR_INVAL,
    );
  });

  it("goes on the wire as the generated encoder writes its entries, whole or cut short", async () => {
    const env = await makeEnv();
    const state = env.state();
    state.currentFh = await populate(env, 40);
    const attr_request = bitmapOf([FATTR4_TYPE, FATTR4_FILEHANDLE, FATTR4_FILEID]);
    for (const maxcount of [64 * 1024, 700]) {
      const res = await call(READDIR, args({ maxcount, attr_request }), state);
      expectStatus(res, nfsstat4.NFS4_OK);
      if (res.status !== nfsstat4.NFS4_OK) throw new Error("unreachable");
      expect(res.resok4.reply.eof).toBe(maxcount > 700);
      const n = res.resok4.reply.entries.length;
      if (maxcount > 700) expect(n).toBe(40);
      else expect(n).toBeGreaterThan(0);
      const { sent, generated } = wireForms(res);
      expect(sent).toBe(generated);
    }
  });

  it("writes a listing with a large maxcount into a buffer lent by the I/O pool, kept by the reply when long, given back at once when short", async () => {
    const env = await makeEnv();
    const state = env.state();
    state.currentFh = await populate(env, 200);
    const attr_request = bitmapOf([FATTR4_TYPE, FATTR4_FILEID]);
    const free = ioBuffers.freeCount;
    // A maxcount as large as the pool's buffers (a client's rsize) is what borrows one.
    const maxcount = ioBuffers.bufferSize;
    const takenBefore = ioBuffers.stats.taken;
    expect(
      (await ok(state, args({ attr_request, maxcount: maxcount / 4 }))).reply.entries.length,
    ).toBe(200);
    expect(ioBuffers.stats.taken).toBe(takenBefore);
    const long = await ok(state, args({ attr_request, maxcount }));
    if (!(long.reply instanceof EncodedDirlist)) throw new Error("not written in place");
    expect(long.reply.encoded.length).toBeGreaterThan(4096);
    // The reply holds the lent buffer: the connection gives it back once written.
    expect(long.reply.encoded.buffer.byteLength).toBe(ioBuffers.bufferSize);
    expect(ioBuffers.freeCount).toBe(Math.max(0, free - 1));
    ioBuffers.release(long.reply.encoded);
    expect(ioBuffers.freeCount).toBe(Math.max(free, 1));
    // A short listing is copied out of the lent buffer, which goes back before the reply.
    state.currentFh = await mkdir(env.fs, env.exp, "short");
    await mkfile(env.fs, state.currentFh, "only");
    const taken = ioBuffers.stats.taken;
    const short = await ok(state, args({ attr_request, maxcount }));
    expect(ioBuffers.stats.taken).toBe(taken + 1);
    expect(ioBuffers.freeCount).toBe(Math.max(free, 1));
    if (!(short.reply instanceof EncodedDirlist)) throw new Error("not written in place");
    expect(short.reply.encoded.buffer.byteLength).not.toBe(ioBuffers.bufferSize);
    expect(short.reply.entries.map((e) => dec.decode(e.name))).toEqual(["only"]);
  });

  describe("entries whose attributes cannot be read", () => {
    /** A backend whose listing reports "broken" as unreadable (e.g. removed mid-listing). */
    const flaky = (): MemoryFileSystem =>
      withListingHook((r) => ({
        ...r,
        entries: r.entries.map((e) =>
          e.name === "broken"
            ? { name: e.name, cookie: e.cookie, ok: false, error: nfsstat4.NFS4ERR_STALE }
            : e,
        ),
      }));

    async function flakyEnv(): Promise<CompoundState> {
      const env = await makeEnv();
      const fs = flaky();
      const exp = (await fs.lookup(await fs.root(), "export")).handle;
      await mkfile(fs, exp, "broken");
      await mkfile(fs, exp, "fine");
      const state = env.state();
      const withFs = { ...state, server: { ...state.server, fs } };
      withFs.currentFh = exp;
      return withFs;
    }

    it("carry only rdattr_error when it was requested", async () => {
      const state = await flakyEnv();
      const r = await ok(
        state,
        args({ attr_request: bitmapOf([FATTR4_TYPE, FATTR4_RDATTR_ERROR]) }),
      );
      const [broken, fine] = r.reply.entries;
      expect(bitsOf(broken!.attrs.attrmask)).toEqual([FATTR4_RDATTR_ERROR]);
      expect(decodefattr4_rdattr_error(new XdrReader(broken!.attrs.attr_vals))).toBe(
        nfsstat4.NFS4ERR_STALE,
      );
      expect(bitsOf(fine!.attrs.attrmask)).toEqual([FATTR4_TYPE, FATTR4_RDATTR_ERROR]);
      const res = await call(
        READDIR,
        args({ attr_request: bitmapOf([FATTR4_TYPE, FATTR4_RDATTR_ERROR]) }),
        state,
      );
      const { sent, generated } = wireForms(res);
      expect(sent).toBe(generated);
    });

    it("fail the READDIR otherwise", async () => {
      const state = await flakyEnv();
      expectStatus(await call(READDIR, args(), state), nfsstat4.NFS4ERR_STALE);
    });
  });
});

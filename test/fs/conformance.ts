// The behaviour every FileSystem backend must show, as a reusable suite:
// `describeBackendConformance("memory", () => new MemoryFileSystem())` here,
// and the local-directory backend with its own factory next. Each test works
// in a fresh directory under the backend's root, so backends whose root is
// not empty (the memory tree holds "export") are fine.

import { beforeEach, describe, expect, it } from "vitest";
import { nfs_ftype4, nfsstat4 } from "../../generated/nfs4/index.js";
import {
  FIRST_COOKIE,
  FsError,
  type CreateAttributes,
  type DirEntry,
  type FileHandle,
  type FileSystem,
  type FsChange,
} from "../../src/fs/backend.js";

export interface ConformanceOptions {
  /**
   * Simulates a server restart: returns a new instance over the same storage
   * (persistent backends) or a fresh one (volatile backends).
   */
  readonly restart: (old: FileSystem) => Promise<FileSystem>;
  /** True when handles from before restart() stay valid (persistent backends). */
  readonly handlesSurviveRestart: boolean;
}

const enc = new TextEncoder();
const ATTRS: CreateAttributes = { mode: 0o644, uid: 1000, gid: 100 };
const DIR_ATTRS: CreateAttributes = { mode: 0o755, uid: 1000, gid: 100 };
const FILE_SYNC = 2;

/** Runs `fn` and returns the nfsstat4 of the FsError it throws (fails if it does not). */
async function statusOf(fn: () => Promise<unknown>): Promise<number> {
  try {
    await fn();
  } catch (e) {
    if (e instanceof FsError) return e.status;
    throw e;
  }
  throw new Error("expected an FsError");
}

function names(entries: readonly DirEntry[]): string[] {
  return entries.map((e) => e.name);
}

async function listAll(fs: FileSystem, dir: FileHandle, pageSize = 1000): Promise<DirEntry[]> {
  const out: DirEntry[] = [];
  let cookie = 0n;
  let verifier: Uint8Array = new Uint8Array(8);
  for (;;) {
    const page = await fs.readdir(dir, cookie, verifier, { maxEntries: pageSize });
    out.push(...page.entries);
    verifier = page.verifier;
    if (page.eof) return out;
    expect(page.entries.length).toBeGreaterThan(0);
    cookie = page.entries[page.entries.length - 1]!.cookie;
  }
}

export function describeBackendConformance(
  name: string,
  makeBackend: () => FileSystem | Promise<FileSystem>,
  options: ConformanceOptions,
): void {
  describe(`FileSystem conformance: ${name}`, () => {
    let fs: FileSystem;
    let root: FileHandle;
    let dir: FileHandle;
    let seq = 0;

    beforeEach(async () => {
      fs = await makeBackend();
      root = await fs.root();
      dir = (await fs.mkdir(root, `t${++seq}`, DIR_ATTRS)).handle;
    });

    const file = async (n: string, data?: string): Promise<FileHandle> => {
      const { handle } = await fs.create(dir, n, { kind: "guarded" }, ATTRS);
      if (data !== undefined) await fs.write(handle, 0n, enc.encode(data), FILE_SYNC);
      return handle;
    };

    describe("handles", () => {
      it("the root is a directory without a parent", async () => {
        expect((await fs.getattr(root)).type).toBe(nfs_ftype4.NF4DIR);
        expect(await statusOf(() => fs.lookupParent(root))).toBe(nfsstat4.NFS4ERR_NOENT);
      });

      it("handles are at most NFS4_FHSIZE bytes and unique per object", async () => {
        const a = await file("a");
        const b = await file("b");
        expect(a.length).toBeLessThanOrEqual(128);
        expect(a.length).toBeGreaterThan(0);
        expect(Buffer.from(a).equals(Buffer.from(b))).toBe(false);
        const again = await fs.lookup(dir, "a");
        expect(Buffer.from(again.handle).equals(Buffer.from(a))).toBe(true);
      });

      it("rejects garbled handles with BADHANDLE (or STALE when they parse)", async () => {
        expect(await statusOf(() => fs.getattr(new Uint8Array(0)))).toBe(
          nfsstat4.NFS4ERR_BADHANDLE,
        );
        const h = await file("x");
        const shorter = h.subarray(0, h.length - 1);
        expect([nfsstat4.NFS4ERR_BADHANDLE, nfsstat4.NFS4ERR_STALE]).toContain(
          await statusOf(() => fs.getattr(shorter)),
        );
        const flipped = h.slice();
        flipped[flipped.length - 1]! ^= 0xff;
        expect([nfsstat4.NFS4ERR_BADHANDLE, nfsstat4.NFS4ERR_STALE]).toContain(
          await statusOf(() => fs.getattr(flipped)),
        );
      });

      it("a removed object's handle is STALE", async () => {
        const h = await file("gone");
        await fs.remove(dir, "gone");
        expect(await statusOf(() => fs.getattr(h))).toBe(nfsstat4.NFS4ERR_STALE);
      });

      it(`handles ${options.handlesSurviveRestart ? "survive" : "do not survive"} a restart`, async () => {
        const h = await file("keep", "data");
        const fs2 = await options.restart(fs);
        if (options.handlesSurviveRestart) {
          expect((await fs2.getattr(h)).size).toBe(4n);
        } else {
          expect(await statusOf(() => fs2.getattr(h))).toBe(nfsstat4.NFS4ERR_STALE);
        }
      });
    });

    describe("attributes", () => {
      it("a new file has the requested mode and owner and one link", async () => {
        const a = await fs.getattr(await file("f"));
        expect(a.type).toBe(nfs_ftype4.NF4REG);
        expect(a.mode).toBe(0o644);
        expect(a.uid).toBe(1000);
        expect(a.gid).toBe(100);
        expect(a.nlink).toBe(1);
        expect(a.size).toBe(0n);
        expect(a.fsid).toEqual((await fs.getattr(root)).fsid);
      });

      it("fileids are distinct", async () => {
        const ids = new Set<bigint>();
        for (const n of ["a", "b", "c"]) ids.add((await fs.getattr(await file(n))).fileid);
        ids.add((await fs.getattr(dir)).fileid);
        expect(ids.size).toBe(4);
      });

      it("change moves on data, attribute and directory modifications", async () => {
        const h = await file("c");
        const c0 = (await fs.getattr(h)).change;
        await fs.write(h, 0n, enc.encode("x"), FILE_SYNC);
        const c1 = (await fs.getattr(h)).change;
        expect(c1).not.toBe(c0);
        await fs.setattr(h, { mode: 0o600 });
        const c2 = (await fs.getattr(h)).change;
        expect(c2).not.toBe(c1);
        const d0 = (await fs.getattr(dir)).change;
        await file("another");
        expect((await fs.getattr(dir)).change).not.toBe(d0);
      });

      it("setattr sets mode, owner, size and times", async () => {
        const h = await file("s", "hello world");
        const mtime = { seconds: 1_000_000n, nseconds: 5 };
        const a = await fs.setattr(h, {
          mode: 0o4750,
          uid: 7,
          gid: 8,
          size: 5n,
          mtime,
          atime: "now",
        });
        expect(a.mode).toBe(0o4750);
        expect(a.uid).toBe(7);
        expect(a.gid).toBe(8);
        expect(a.size).toBe(5n);
        expect(a.mtime).toEqual(mtime);
        expect((await fs.read(h, 0n, 100)).data).toEqual(enc.encode("hello"));
        await fs.setattr(h, { size: 8n });
        expect((await fs.read(h, 0n, 100)).data).toEqual(enc.encode("hello\0\0\0"));
      });

      it("setattr of a directory's size is ISDIR", async () => {
        expect(await statusOf(() => fs.setattr(dir, { size: 0n }))).toBe(nfsstat4.NFS4ERR_ISDIR);
      });
    });

    describe("lookup", () => {
      it("finds entries and reports missing ones as NOENT", async () => {
        const h = await file("here");
        expect((await fs.lookup(dir, "here")).handle).toEqual(h);
        expect(await statusOf(() => fs.lookup(dir, "nothere"))).toBe(nfsstat4.NFS4ERR_NOENT);
      });

      it("NOTDIR when looking up in, or the parent of, a non-directory", async () => {
        const h = await file("f");
        expect(await statusOf(() => fs.lookup(h, "x"))).toBe(nfsstat4.NFS4ERR_NOTDIR);
        expect(await statusOf(() => fs.lookupParent(h))).toBe(nfsstat4.NFS4ERR_NOTDIR);
      });

      it("lookupParent of a directory is its parent", async () => {
        const sub = (await fs.mkdir(dir, "sub", DIR_ATTRS)).handle;
        expect((await fs.lookupParent(sub)).handle).toEqual(dir);
      });

      it("refuses invalid names", async () => {
        expect(await statusOf(() => fs.lookup(dir, ""))).toBe(nfsstat4.NFS4ERR_INVAL);
        expect(await statusOf(() => fs.lookup(dir, "."))).toBe(nfsstat4.NFS4ERR_BADNAME);
        expect(await statusOf(() => fs.lookup(dir, ".."))).toBe(nfsstat4.NFS4ERR_BADNAME);
        expect(await statusOf(() => fs.lookup(dir, "a/b"))).toBe(nfsstat4.NFS4ERR_BADNAME);
        const long = "x".repeat(fs.capabilities.maxNameBytes + 1);
        expect(await statusOf(() => fs.create(dir, long, { kind: "guarded" }, ATTRS))).toBe(
          nfsstat4.NFS4ERR_NAMETOOLONG,
        );
      });
    });

    describe("readdir", () => {
      it("an empty directory lists nothing, at eof", async () => {
        const page = await fs.readdir(dir, 0n, new Uint8Array(8), { maxEntries: 10 });
        expect(page.entries).toEqual([]);
        expect(page.eof).toBe(true);
        // Zero: cookies never go stale (backend.ts stableCookieVerifier).
        expect(page.verifier).toEqual(new Uint8Array(8));
      });

      it("lists every entry once, never . or .., with cookies from 3 up", async () => {
        for (let i = 0; i < 10; i++) await file(`f${i}`);
        await fs.mkdir(dir, "d", DIR_ATTRS);
        const all = await listAll(fs, dir, 3);
        expect(names(all).sort()).toEqual(
          ["d", ...Array.from({ length: 10 }, (_, i) => `f${i}`)].sort(),
        );
        for (const e of all) {
          expect(e.cookie).toBeGreaterThanOrEqual(FIRST_COOKIE);
          expect(e.ok).toBe(true);
          if (e.ok) {
            expect((await fs.lookup(dir, e.name)).handle).toEqual(e.handle);
            expect(e.attrs.fileid).toBe((await fs.getattr(e.handle)).fileid);
          }
        }
        expect(new Set(all.map((e) => e.cookie)).size).toBe(all.length);
      });

      it("cookies are stable across calls and survive removals", async () => {
        for (let i = 0; i < 6; i++) await file(`f${i}`);
        const first = await listAll(fs, dir, 2);
        const second = await listAll(fs, dir, 4);
        expect(second.map((e) => [e.name, e.cookie])).toEqual(first.map((e) => [e.name, e.cookie]));
        // Resume after an entry that has since been removed.
        const page = await fs.readdir(dir, 0n, new Uint8Array(8), { maxEntries: 2 });
        const resumeAt = page.entries[1]!;
        await fs.remove(dir, resumeAt.name);
        const rest = await fs.readdir(dir, resumeAt.cookie, page.verifier, { maxEntries: 100 });
        const before = first.findIndex((e) => e.name === resumeAt.name);
        expect(names(rest.entries)).toEqual(names(first.slice(before + 1)));
        expect(rest.eof).toBe(true);
      });

      it("reserved cookies are BAD_COOKIE, a wrong verifier NOT_SAME", async () => {
        await file("a");
        await file("b");
        const page = await fs.readdir(dir, 0n, new Uint8Array(8), { maxEntries: 1 });
        const c = page.entries[0]!.cookie;
        for (const reserved of [1n, 2n]) {
          expect(
            await statusOf(() => fs.readdir(dir, reserved, page.verifier, { maxEntries: 5 })),
          ).toBe(nfsstat4.NFS4ERR_BAD_COOKIE);
        }
        const wrong = page.verifier.map((b) => b ^ 0xff);
        expect(await statusOf(() => fs.readdir(dir, c, wrong, { maxEntries: 5 }))).toBe(
          nfsstat4.NFS4ERR_NOT_SAME,
        );
      });

      it("readdir of a file is NOTDIR", async () => {
        const h = await file("f");
        expect(await statusOf(() => fs.readdir(h, 0n, new Uint8Array(8), { maxEntries: 5 }))).toBe(
          nfsstat4.NFS4ERR_NOTDIR,
        );
      });
    });

    describe("data", () => {
      it("reads back what was written, with eof", async () => {
        const h = await file("d", "hello");
        const w = await fs.write(h, 5n, enc.encode(" world"), FILE_SYNC);
        expect(w.count).toBe(6);
        expect(w.committed).toBeGreaterThanOrEqual(FILE_SYNC);
        expect(w.verifier.length).toBe(8);
        expect(await fs.read(h, 0n, 100)).toEqual({ data: enc.encode("hello world"), eof: true });
        expect(await fs.read(h, 0n, 5)).toEqual({ data: enc.encode("hello"), eof: false });
        expect(await fs.read(h, 100n, 5)).toEqual({ data: new Uint8Array(0), eof: true });
        expect((await fs.getattr(h)).size).toBe(11n);
      });

      it("a write past the end leaves a hole of zeros", async () => {
        const h = await file("hole");
        await fs.write(h, 4n, enc.encode("x"), FILE_SYNC);
        expect((await fs.read(h, 0n, 10)).data).toEqual(new Uint8Array([0, 0, 0, 0, 0x78]));
      });

      it("reading a directory is ISDIR, a symlink SYMLINK", async () => {
        expect(await statusOf(() => fs.read(dir, 0n, 1))).toBe(nfsstat4.NFS4ERR_ISDIR);
        const l = (await fs.symlink(dir, "l", enc.encode("target"), ATTRS)).handle;
        expect(await statusOf(() => fs.read(l, 0n, 1))).toBe(nfsstat4.NFS4ERR_SYMLINK);
        expect(await statusOf(() => fs.write(dir, 0n, enc.encode("x"), FILE_SYNC))).toBe(
          nfsstat4.NFS4ERR_ISDIR,
        );
      });

      it("commit returns the write verifier", async () => {
        const h = await file("c", "x");
        const w = await fs.write(h, 0n, enc.encode("y"), 0);
        expect((await fs.commit(h, 0n, 0)).verifier).toEqual(w.verifier);
      });
    });

    describe("creation", () => {
      it("guarded create of an existing name is EXIST", async () => {
        await file("e");
        expect(await statusOf(() => fs.create(dir, "e", { kind: "guarded" }, ATTRS))).toBe(
          nfsstat4.NFS4ERR_EXIST,
        );
      });

      it("unchecked create finds an existing file, truncating only for size 0", async () => {
        const h = await file("u", "content");
        const kept = await fs.create(dir, "u", { kind: "unchecked" }, ATTRS);
        expect(kept.created).toBe(false);
        expect(kept.handle).toEqual(h);
        expect(kept.attrs.size).toBe(7n);
        const cut = await fs.create(dir, "u", { kind: "unchecked" }, { ...ATTRS, size: 0n });
        expect(cut.attrs.size).toBe(0n);
      });

      it("creating a file over a directory or symlink names the type", async () => {
        await fs.mkdir(dir, "d", DIR_ATTRS);
        await fs.symlink(dir, "l", enc.encode("t"), ATTRS);
        expect(await statusOf(() => fs.create(dir, "d", { kind: "unchecked" }, ATTRS))).toBe(
          nfsstat4.NFS4ERR_ISDIR,
        );
        expect(await statusOf(() => fs.create(dir, "l", { kind: "unchecked" }, ATTRS))).toBe(
          nfsstat4.NFS4ERR_SYMLINK,
        );
      });

      it("exclusive create recognises its own retry", async () => {
        const v1 = new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]);
        const v2 = new Uint8Array([8, 7, 6, 5, 4, 3, 2, 1]);
        const made = await fs.create(dir, "x", { kind: "exclusive", verifier: v1 }, ATTRS);
        expect(made.created).toBe(true);
        const retry = await fs.create(dir, "x", { kind: "exclusive", verifier: v1 }, ATTRS);
        expect(retry.handle).toEqual(made.handle);
        expect(
          await statusOf(() => fs.create(dir, "x", { kind: "exclusive", verifier: v2 }, ATTRS)),
        ).toBe(nfsstat4.NFS4ERR_EXIST);
      });

      it("create reports the directory's change", async () => {
        const r = await fs.create(dir, "ci", { kind: "guarded" }, ATTRS);
        expect(r.dirChange.before).not.toBe(r.dirChange.after);
        expect(r.dirChange.after).toBe((await fs.getattr(dir)).change);
      });

      it("mkdir links the new directory into its parent", async () => {
        const n0 = (await fs.getattr(dir)).nlink;
        const sub = await fs.mkdir(dir, "sub", DIR_ATTRS);
        expect(sub.attrs.type).toBe(nfs_ftype4.NF4DIR);
        expect(sub.attrs.nlink).toBe(2);
        expect((await fs.getattr(dir)).nlink).toBe(n0 + 1);
      });

      it("symlinks keep their target bytes", async () => {
        const target = new Uint8Array([0x2e, 0x2e, 0x2f, 0xc3, 0xa9]);
        const l = await fs.symlink(dir, "l", target, ATTRS);
        expect(l.attrs.type).toBe(nfs_ftype4.NF4LNK);
        expect(await fs.readlink(l.handle)).toEqual(target);
        expect(await statusOf(async () => fs.readlink(await file("f")))).toBe(
          nfsstat4.NFS4ERR_INVAL,
        );
      });

      it("new directories, symlinks and special files take the requested times", async () => {
        const atime = { seconds: 1_000n, nseconds: 1 };
        const mtime = { seconds: 2_000n, nseconds: 2 };
        const timed = { ...ATTRS, atime, mtime };
        const made = [
          await fs.mkdir(dir, "d", { ...DIR_ATTRS, atime, mtime }),
          await fs.symlink(dir, "l", enc.encode("t"), timed),
          await fs.mknod(dir, "p", nfs_ftype4.NF4FIFO, { major: 0, minor: 0 }, timed),
          await fs.mknod(dir, "b", nfs_ftype4.NF4BLK, { major: 8, minor: 1 }, timed),
        ];
        for (const m of made) {
          const a = await fs.getattr(m.handle);
          expect(a.atime).toEqual(atime);
          expect(a.mtime).toEqual(mtime);
          expect(a.mode).toBe(m.attrs.type === nfs_ftype4.NF4DIR ? 0o755 : 0o644);
          expect(a.uid).toBe(1000);
          expect(a.gid).toBe(100);
        }
      });

      it("a size for a non-file fails the creation and leaves nothing behind", async () => {
        const sized = { ...ATTRS, size: 0n };
        expect(await statusOf(() => fs.mkdir(dir, "d", { ...DIR_ATTRS, size: 0n }))).toBe(
          nfsstat4.NFS4ERR_ISDIR,
        );
        expect(await statusOf(() => fs.symlink(dir, "l", enc.encode("t"), sized))).toBe(
          nfsstat4.NFS4ERR_INVAL,
        );
        expect(
          await statusOf(() =>
            fs.mknod(dir, "p", nfs_ftype4.NF4FIFO, { major: 0, minor: 0 }, sized),
          ),
        ).toBe(nfsstat4.NFS4ERR_INVAL);
        expect((await listAll(fs, dir)).length).toBe(0);
      });

      it("creating over an existing name is EXIST for every kind", async () => {
        await file("taken");
        expect(await statusOf(() => fs.mkdir(dir, "taken", DIR_ATTRS))).toBe(
          nfsstat4.NFS4ERR_EXIST,
        );
        expect(await statusOf(() => fs.symlink(dir, "taken", enc.encode("t"), ATTRS))).toBe(
          nfsstat4.NFS4ERR_EXIST,
        );
        expect(
          await statusOf(() =>
            fs.mknod(dir, "taken", nfs_ftype4.NF4SOCK, { major: 0, minor: 0 }, ATTRS),
          ),
        ).toBe(nfsstat4.NFS4ERR_EXIST);
      });

      it("mknod makes FIFOs and devices", async () => {
        const fifo = await fs.mknod(dir, "p", nfs_ftype4.NF4FIFO, { major: 0, minor: 0 }, ATTRS);
        expect(fifo.attrs.type).toBe(nfs_ftype4.NF4FIFO);
        const chr = await fs.mknod(dir, "c", nfs_ftype4.NF4CHR, { major: 1, minor: 3 }, ATTRS);
        expect(chr.attrs.type).toBe(nfs_ftype4.NF4CHR);
        expect(chr.attrs.rdev).toEqual({ major: 1, minor: 3 });
      });
    });

    describe("namespace changes", () => {
      it("remove drops a name and reports the directory change", async () => {
        await file("r");
        const ci = await fs.remove(dir, "r");
        expect(ci.before).not.toBe(ci.after);
        expect(await statusOf(() => fs.lookup(dir, "r"))).toBe(nfsstat4.NFS4ERR_NOENT);
        expect(await statusOf(() => fs.remove(dir, "r"))).toBe(nfsstat4.NFS4ERR_NOENT);
      });

      it("a non-empty directory cannot be removed", async () => {
        const sub = (await fs.mkdir(dir, "sub", DIR_ATTRS)).handle;
        await fs.create(sub, "f", { kind: "guarded" }, ATTRS);
        expect(await statusOf(() => fs.remove(dir, "sub"))).toBe(nfsstat4.NFS4ERR_NOTEMPTY);
        await fs.remove(sub, "f");
        await fs.remove(dir, "sub");
      });

      it("link adds a name; removing one leaves the other", async () => {
        const h = await file("a", "shared");
        await fs.link(h, dir, "b");
        expect((await fs.getattr(h)).nlink).toBe(2);
        expect((await fs.lookup(dir, "b")).handle).toEqual(h);
        await fs.remove(dir, "a");
        expect((await fs.getattr(h)).nlink).toBe(1);
        expect((await fs.read(h, 0n, 10)).data).toEqual(enc.encode("shared"));
        expect(await statusOf(() => fs.link(h, dir, "b"))).toBe(nfsstat4.NFS4ERR_EXIST);
        const sub = (await fs.mkdir(dir, "sub", DIR_ATTRS)).handle;
        expect(await statusOf(() => fs.link(sub, dir, "c"))).toBe(nfsstat4.NFS4ERR_ISDIR);
      });

      it("rename moves and replaces", async () => {
        const a = await file("a", "A");
        await file("b", "B");
        const r = await fs.rename(dir, "a", dir, "b");
        expect(r.source.after).toBe((await fs.getattr(dir)).change);
        expect((await fs.lookup(dir, "b")).handle).toEqual(a);
        expect(await statusOf(() => fs.lookup(dir, "a"))).toBe(nfsstat4.NFS4ERR_NOENT);
        const sub = (await fs.mkdir(dir, "sub", DIR_ATTRS)).handle;
        await fs.rename(dir, "b", sub, "moved");
        expect((await fs.lookup(sub, "moved")).handle).toEqual(a);
      });

      it("rename of a directory re-parents it", async () => {
        const one = (await fs.mkdir(dir, "one", DIR_ATTRS)).handle;
        const two = (await fs.mkdir(dir, "two", DIR_ATTRS)).handle;
        const inner = (await fs.mkdir(one, "inner", DIR_ATTRS)).handle;
        await fs.rename(one, "inner", two, "inner");
        expect((await fs.lookupParent(inner)).handle).toEqual(two);
        expect((await fs.getattr(one)).nlink).toBe(2);
        expect((await fs.getattr(two)).nlink).toBe(3);
      });

      it("rename refuses incompatible targets and moving a directory into itself", async () => {
        await file("f");
        const d = (await fs.mkdir(dir, "d", DIR_ATTRS)).handle;
        await fs.mkdir(dir, "full", DIR_ATTRS).then((r) => fs.mkdir(r.handle, "x", DIR_ATTRS));
        expect(await statusOf(() => fs.rename(dir, "f", dir, "d"))).toBe(nfsstat4.NFS4ERR_EXIST);
        expect(await statusOf(() => fs.rename(dir, "d", dir, "f"))).toBe(nfsstat4.NFS4ERR_EXIST);
        expect(await statusOf(() => fs.rename(dir, "d", dir, "full"))).toBe(nfsstat4.NFS4ERR_EXIST);
        await fs.mkdir(d, "child", DIR_ATTRS);
        const child = (await fs.lookup(d, "child")).handle;
        expect(await statusOf(() => fs.rename(dir, "d", child, "loop"))).toBe(
          nfsstat4.NFS4ERR_INVAL,
        );
        expect(await statusOf(() => fs.rename(dir, "missing", dir, "x"))).toBe(
          nfsstat4.NFS4ERR_NOENT,
        );
      });

      it("rename onto the same name changes nothing, not even the directory", async () => {
        const h = await file("same");
        const before = (await fs.getattr(dir)).change;
        const r = await fs.rename(dir, "same", dir, "same");
        expect(r.source.before).toBe(r.source.after);
        expect(r.target.before).toBe(r.target.after);
        expect((await fs.getattr(dir)).change).toBe(before);
        expect((await fs.lookup(dir, "same")).handle).toEqual(h);
      });

      it("rename of a directory onto an empty directory replaces it", async () => {
        const a = (await fs.mkdir(dir, "a", DIR_ATTRS)).handle;
        const b = (await fs.mkdir(dir, "b", DIR_ATTRS)).handle;
        const n0 = (await fs.getattr(dir)).nlink;
        await fs.rename(dir, "a", dir, "b");
        expect((await fs.lookup(dir, "b")).handle).toEqual(a);
        expect(await statusOf(() => fs.getattr(b))).toBe(nfsstat4.NFS4ERR_STALE);
        expect((await fs.getattr(dir)).nlink).toBe(n0 - 1);
      });

      it("rename across directories reports both directories' changes", async () => {
        const other = (await fs.mkdir(dir, "other", DIR_ATTRS)).handle;
        await file("f");
        const r = await fs.rename(dir, "f", other, "g");
        expect(r.source.before).not.toBe(r.source.after);
        expect(r.target.before).not.toBe(r.target.after);
        expect(r.source.after).toBe((await fs.getattr(dir)).change);
        expect(r.target.after).toBe((await fs.getattr(other)).change);
      });

      it("remove and link report the directory change; link moves the file's change", async () => {
        const h = await file("a");
        const c0 = (await fs.getattr(h)).change;
        const ci = await fs.link(h, dir, "b");
        expect(ci.after).toBe((await fs.getattr(dir)).change);
        expect(ci.before).not.toBe(ci.after);
        expect((await fs.getattr(h)).change).not.toBe(c0);
        const ri = await fs.remove(dir, "b");
        expect(ri.after).toBe((await fs.getattr(dir)).change);
      });

      it("renaming onto another link of the same file does nothing", async () => {
        const h = await file("a");
        await fs.link(h, dir, "b");
        await fs.rename(dir, "a", dir, "b");
        expect((await fs.lookup(dir, "a")).handle).toEqual(h);
        expect((await fs.lookup(dir, "b")).handle).toEqual(h);
      });
    });

    describe("pins (open files)", () => {
      it("a pinned file outlives its last name until unpinned", async () => {
        const h = await file("open", "still here");
        await fs.pin(h);
        await fs.remove(dir, "open");
        expect(await statusOf(() => fs.lookup(dir, "open"))).toBe(nfsstat4.NFS4ERR_NOENT);
        const a = await fs.getattr(h);
        expect(a.nlink).toBe(0);
        expect((await fs.read(h, 0n, 100)).data).toEqual(enc.encode("still here"));
        await fs.write(h, 10n, enc.encode("!"), FILE_SYNC);
        expect((await fs.getattr(h)).size).toBe(11n);
        await fs.unpin(h);
        expect(await statusOf(() => fs.getattr(h))).toBe(nfsstat4.NFS4ERR_STALE);
      });

      it("pins are counted, and unpinning a named file changes nothing", async () => {
        const h = await file("twice", "x");
        await fs.pin(h);
        await fs.pin(h);
        await fs.unpin(h);
        await fs.remove(dir, "twice");
        expect((await fs.getattr(h)).nlink).toBe(0);
        await fs.unpin(h);
        expect(await statusOf(() => fs.getattr(h))).toBe(nfsstat4.NFS4ERR_STALE);
        const kept = await file("kept");
        await fs.pin(kept);
        await fs.unpin(kept);
        expect((await fs.getattr(kept)).nlink).toBe(1);
      });

      it("a file replaced by rename survives while pinned", async () => {
        const victim = await file("victim", "old");
        await file("newer", "new");
        await fs.pin(victim);
        await fs.rename(dir, "newer", dir, "victim");
        expect((await fs.read(victim, 0n, 10)).data).toEqual(enc.encode("old"));
        expect((await fs.getattr(victim)).nlink).toBe(0);
        await fs.unpin(victim);
        expect(await statusOf(() => fs.getattr(victim))).toBe(nfsstat4.NFS4ERR_STALE);
      });

      it("unpin never fails: not pinned, stale or garbled handles", async () => {
        const h = await file("gone");
        await fs.remove(dir, "gone");
        await fs.unpin(h);
        await fs.unpin(new Uint8Array(0));
        await fs.unpin(await file("never-pinned"));
      });

      it("an orphaned file cannot be linked again, nor a removed directory filled", async () => {
        const h = await file("orphan");
        await fs.pin(h);
        await fs.remove(dir, "orphan");
        expect(await statusOf(() => fs.link(h, dir, "again"))).toBe(nfsstat4.NFS4ERR_STALE);
        const sub = (await fs.mkdir(dir, "sub", DIR_ATTRS)).handle;
        await fs.pin(sub);
        await fs.remove(dir, "sub");
        expect(await statusOf(() => fs.create(sub, "f", { kind: "guarded" }, ATTRS))).toBe(
          nfsstat4.NFS4ERR_STALE,
        );
        expect(await statusOf(() => fs.mkdir(sub, "d", DIR_ATTRS))).toBe(nfsstat4.NFS4ERR_STALE);
        await file("mv");
        expect(await statusOf(() => fs.rename(dir, "mv", sub, "mv"))).toBe(nfsstat4.NFS4ERR_STALE);
        await fs.unpin(sub);
        await fs.unpin(h);
      });
    });

    describe("change records (observe)", () => {
      const ORIGIN = { who: "client A" };
      let seen: FsChange[];
      let stop: () => void;
      beforeEach(() => {
        seen = [];
        stop = fs.observe((c) => seen.push(c));
      });

      const same = (a: Uint8Array, b: Uint8Array): boolean => Buffer.from(a).equals(Buffer.from(b));
      /** The entry records seen (attribute records left out), as [kind, name…]. */
      const entryRecords = (): string[][] =>
        seen.flatMap((c) =>
          c.kind === "added"
            ? [["added", c.entry.name]]
            : c.kind === "removed"
              ? [["removed", c.entry.name]]
              : c.kind === "renamed"
                ? [["renamed", c.from.name, c.to.name, c.replaced?.name ?? ""]]
                : [],
        );

      it("an added entry: its cookie (as READDIR lists it), its attributes, the entry before it, the origin", async () => {
        await file("first");
        seen.length = 0;
        const made = await fs.create(dir, "second", { kind: "guarded" }, ATTRS, ORIGIN);
        const add = seen.find((c) => c.kind === "added");
        if (add?.kind !== "added") throw new Error("no added record");
        expect(add.origin).toBe(ORIGIN);
        expect(same(add.dir, dir)).toBe(true);
        expect(add.entry.name).toBe("second");
        expect(same(add.entry.handle, made.handle)).toBe(true);
        expect(add.entry.attrs.fileid).toBe(made.attrs.fileid);
        const listed = await listAll(fs, dir);
        expect(add.entry.cookie).toBe(listed.find((e) => e.name === "second")!.cookie);
        expect(add.place.previous?.name).toBe("first");
        expect(add.place.previous?.cookie).toBe(listed.find((e) => e.name === "first")!.cookie);
        expect(add.place.last).toBe(true);
        // The directory's own attributes changed too (mtime, change).
        const dirRecord = seen.find((c) => c.kind === "attributes" && same(c.handle, dir));
        if (dirRecord?.kind !== "attributes")
          throw new Error("no attributes record of the directory");
        expect(dirRecord.after.change).not.toBe(dirRecord.before.change);
      });

      it("mkdir, symlink, mknod and link each report one added entry", async () => {
        const f = await file("f");
        seen.length = 0;
        await fs.mkdir(dir, "d", DIR_ATTRS);
        await fs.symlink(dir, "s", enc.encode("f"), ATTRS);
        await fs.mknod(dir, "p", nfs_ftype4.NF4FIFO, { major: 0, minor: 0 }, ATTRS);
        await fs.link(f, dir, "l");
        expect(entryRecords()).toEqual([
          ["added", "d"],
          ["added", "s"],
          ["added", "p"],
          ["added", "l"],
        ]);
      });

      it("a removed entry with its cookie; a rename within a directory and across, naming what it replaced", async () => {
        await file("a");
        await file("b");
        await file("c");
        const other = (await fs.mkdir(dir, "other", DIR_ATTRS)).handle;
        const cookieOfA = (await listAll(fs, dir)).find((e) => e.name === "a")!.cookie;
        seen.length = 0;
        await fs.remove(dir, "a", ORIGIN);
        await fs.rename(dir, "b", dir, "c");
        await fs.rename(dir, "c", other, "moved");
        expect(entryRecords()).toEqual([
          ["removed", "a"],
          ["renamed", "b", "c", "c"],
          ["renamed", "c", "moved", ""],
        ]);
        const removed = seen.find((c) => c.kind === "removed");
        if (removed?.kind !== "removed") throw new Error("no removed record");
        expect(removed.entry.cookie).toBe(cookieOfA);
        expect(removed.origin).toBe(ORIGIN);
        const across = seen.filter((c) => c.kind === "renamed")[1];
        if (across?.kind !== "renamed") throw new Error("no second rename");
        expect(same(across.fromDir, dir)).toBe(true);
        expect(same(across.toDir, other)).toBe(true);
        expect(across.to.cookie).toBe((await listAll(fs, other))[0]!.cookie);
      });

      it("an object's attributes: before and after, and every name that names it", async () => {
        const f = await file("f", "data");
        const other = (await fs.mkdir(dir, "other", DIR_ATTRS)).handle;
        await fs.link(f, other, "alias");
        seen.length = 0;
        await fs.setattr(f, { mode: 0o600 }, ORIGIN);
        await fs.write(f, 4n, enc.encode("more"), FILE_SYNC, ORIGIN);
        const records = seen.filter((c) => c.kind === "attributes" && same(c.handle, f));
        expect(records).toHaveLength(2);
        const [chmod, write] = records;
        if (chmod?.kind !== "attributes" || write?.kind !== "attributes")
          throw new Error("records");
        expect([chmod.before.mode, chmod.after.mode]).toEqual([0o644, 0o600]);
        expect([write.before.size, write.after.size]).toEqual([4n, 8n]);
        expect(chmod.origin).toBe(ORIGIN);
        expect(chmod.names.map((n) => n.name).sort()).toEqual(["alias", "f"]);
        const listed = await listAll(fs, other);
        const alias = chmod.names.find((n) => n.name === "alias")!;
        expect(same(alias.dir, other)).toBe(true);
        expect(alias.cookie).toBe(listed[0]!.cookie);
      });

      it("nothing is reported of a failed change, nor after the listener is gone", async () => {
        await file("f");
        seen.length = 0;
        await statusOf(() => fs.create(dir, "f", { kind: "guarded" }, ATTRS));
        await statusOf(() => fs.remove(dir, "nothing"));
        expect(seen).toEqual([]);
        stop();
        await file("g");
        expect(seen).toEqual([]);
      });
    });

    describe("extended attributes (RFC 8276)", () => {
      const value = (s: string): Uint8Array => enc.encode(s);

      it("declares its limits when it has xattrs", () => {
        const x = fs.capabilities.xattrs;
        if (x === null) return;
        expect(x.maxNameBytes).toBeGreaterThan(0);
        expect(x.maxValueBytes).toBeGreaterThan(0);
        expect(x.maxBytesPerObject).toBeGreaterThanOrEqual(x.maxValueBytes);
      });

      it("sets, gets, replaces and removes a value, on files and directories", async () => {
        if (fs.capabilities.xattrs === null) return;
        for (const h of [await file("f"), dir]) {
          await fs.setxattr(h, "user.a", value("one"), "either");
          expect(await fs.getxattr(h, "user.a")).toEqual(value("one"));
          await fs.setxattr(h, "user.a", value("two"), "either");
          expect(await fs.getxattr(h, "user.a")).toEqual(value("two"));
          await fs.setxattr(h, "user.a", new Uint8Array(0), "replace");
          expect(await fs.getxattr(h, "user.a")).toEqual(new Uint8Array(0));
          await fs.removexattr(h, "user.a");
          expect(await statusOf(() => fs.getxattr(h, "user.a"))).toBe(nfsstat4.NFS4ERR_NOXATTR);
        }
      });

      it("create fails with EXIST on a set key, replace with NOXATTR on a missing one", async () => {
        if (fs.capabilities.xattrs === null) return;
        const h = await file("f");
        expect(await statusOf(() => fs.setxattr(h, "user.k", value("v"), "replace"))).toBe(
          nfsstat4.NFS4ERR_NOXATTR,
        );
        await fs.setxattr(h, "user.k", value("v"), "create");
        expect(await statusOf(() => fs.setxattr(h, "user.k", value("w"), "create"))).toBe(
          nfsstat4.NFS4ERR_EXIST,
        );
        expect(await fs.getxattr(h, "user.k")).toEqual(value("v"));
        expect(await statusOf(() => fs.removexattr(h, "user.nope"))).toBe(nfsstat4.NFS4ERR_NOXATTR);
      });

      it("stores a copy of the value, and hands out copies", async () => {
        if (fs.capabilities.xattrs === null) return;
        const h = await file("f");
        const v = value("abc");
        await fs.setxattr(h, "user.k", v, "either");
        v[0] = 0x7a;
        const got = await fs.getxattr(h, "user.k");
        expect(got).toEqual(value("abc"));
        got[0] = 0x7a;
        expect(await fs.getxattr(h, "user.k")).toEqual(value("abc"));
      });

      it("enforces its limits: NAMETOOLONG, XATTR2BIG, NOSPC for a full object", async () => {
        const x = fs.capabilities.xattrs;
        if (x === null) return;
        const h = await file("f");
        expect(
          await statusOf(() => fs.setxattr(h, "k".repeat(x.maxNameBytes + 1), value(""), "either")),
        ).toBe(nfsstat4.NFS4ERR_NAMETOOLONG);
        expect(
          await statusOf(() =>
            fs.setxattr(h, "user.big", new Uint8Array(x.maxValueBytes + 1), "either"),
          ),
        ).toBe(nfsstat4.NFS4ERR_XATTR2BIG);
        await fs.setxattr(h, "user.max", new Uint8Array(x.maxValueBytes), "either");
        let i = 0;
        let status: number | null = null;
        while (status === null && i < 1000) {
          try {
            await fs.setxattr(h, `user.fill${i++}`, new Uint8Array(x.maxValueBytes), "either");
          } catch (e) {
            status = e instanceof FsError ? e.status : null;
            if (status === null) throw e;
          }
        }
        expect(status).toBe(nfsstat4.NFS4ERR_NOSPC);
        // Removing one makes room again.
        await fs.removexattr(h, "user.max");
        await fs.setxattr(h, "user.again", new Uint8Array(x.maxValueBytes), "either");
      });

      it("lists keys in pages whose cookies stay valid across changes", async () => {
        if (fs.capabilities.xattrs === null) return;
        const h = await file("f");
        expect(await fs.listxattrs(h, 0n, 10)).toEqual({ entries: [], eof: true });
        const keys = ["user.a", "user.b", "user.c", "user.d", "user.e"];
        for (const k of keys) await fs.setxattr(h, k, value(k), "create");
        const seen: string[] = [];
        let cookie = 0n;
        for (;;) {
          const page = await fs.listxattrs(h, cookie, 2);
          expect(page.entries.length).toBeLessThanOrEqual(2);
          for (const e of page.entries) expect(e.cookie).not.toBe(0n);
          seen.push(...page.entries.map((e) => e.name));
          if (page.eof) break;
          cookie = page.entries[page.entries.length - 1]!.cookie;
          // A key removed behind the cursor, and one replaced ahead of it, disturb nothing.
          if (seen.length === 2) {
            await fs.removexattr(h, "user.a");
            await fs.setxattr(h, "user.e", value("new"), "replace");
          }
        }
        expect(seen).toEqual(keys);
        const all = await fs.listxattrs(h, 0n, 100);
        expect(all.entries.map((e) => e.name).sort()).toEqual(keys.slice(1));
        expect(all.eof).toBe(true);
      });

      it("a cookie never handed out for the object is BAD_COOKIE", async () => {
        if (fs.capabilities.xattrs === null) return;
        const h = await file("f");
        await fs.setxattr(h, "user.a", value("1"), "create");
        const last = (await fs.listxattrs(h, 0n, 10)).entries[0]!.cookie;
        expect(await statusOf(() => fs.listxattrs(h, last + 1000n, 10))).toBe(
          nfsstat4.NFS4ERR_BAD_COOKIE,
        );
      });

      it("a change moves the change attribute and ctime, returns change_info and is reported", async () => {
        if (fs.capabilities.xattrs === null) return;
        const h = await file("f");
        const origin = {};
        const seen: FsChange[] = [];
        const stop = fs.observe((c) => seen.push(c));
        const a0 = await fs.getattr(h);
        const set = await fs.setxattr(h, "user.k", value("v"), "either", origin);
        const a1 = await fs.getattr(h);
        expect(set).toEqual({ atomic: true, before: a0.change, after: a1.change });
        expect(a1.change).not.toBe(a0.change);
        const t = (x: typeof a0.ctime) => x.seconds * 1_000_000_000n + BigInt(x.nseconds);
        expect(t(a1.ctime)).toBeGreaterThanOrEqual(t(a0.ctime));
        const removed = await fs.removexattr(h, "user.k", origin);
        const a2 = await fs.getattr(h);
        expect(removed).toEqual({ atomic: true, before: a1.change, after: a2.change });
        stop();
        const records = seen.filter((c) => c.kind === "attributes");
        expect(records).toHaveLength(2);
        for (const c of records) {
          expect(c.origin).toBe(origin);
          if (c.kind === "attributes") {
            expect(Buffer.from(c.handle).equals(Buffer.from(h))).toBe(true);
            expect(c.after.change).not.toBe(c.before.change);
            expect(c.names.map((n) => n.name)).toEqual(["f"]);
          }
        }
        // A failed change changes nothing and reports nothing.
        const stop2 = fs.observe((c) => seen.push(c));
        seen.length = 0;
        await statusOf(() => fs.removexattr(h, "user.k"));
        stop2();
        expect(seen).toEqual([]);
        expect((await fs.getattr(h)).change).toBe(a2.change);
      });

      it("a removed object's xattrs go with it (the handle is STALE)", async () => {
        if (fs.capabilities.xattrs === null) return;
        const h = await file("gone");
        await fs.setxattr(h, "user.k", value("v"), "either");
        await fs.remove(dir, "gone");
        expect(await statusOf(() => fs.getxattr(h, "user.k"))).toBe(nfsstat4.NFS4ERR_STALE);
      });
    });

    describe("statfs", () => {
      // Only consistency: on a shared disk other processes move the figures.
      it("reports consistent figures", async () => {
        const s = await fs.statfs(dir);
        expect(s.spaceTotal).toBeGreaterThan(0n);
        expect(s.spaceFree).toBeLessThanOrEqual(s.spaceTotal);
        expect(s.spaceAvail).toBeLessThanOrEqual(s.spaceFree);
        expect(s.filesFree).toBeLessThanOrEqual(s.filesTotal);
        expect(s.filesAvail).toBeLessThanOrEqual(s.filesFree);
      });
    });
  });
}

import { describe, expect, it } from "vitest";
import { nfs_ftype4, nfsstat4 } from "../../generated/nfs4/index.js";
import { FsError, type CreateAttributes } from "../../src/fs/backend.js";
import { MemoryFileSystem } from "../../src/fs/memory.js";
import { DirListing } from "../../src/fs/memory-dir.js";
import { describeBackendConformance } from "./conformance.js";

describeBackendConformance("memory", () => new MemoryFileSystem(), {
  // A memory tree does not outlive its instance.
  restart: async () => new MemoryFileSystem(),
  handlesSurviveRestart: false,
});

const ATTRS: CreateAttributes = { mode: 0o644, uid: 0, gid: 0 };

async function statusOf(fn: () => Promise<unknown>): Promise<number> {
  try {
    await fn();
  } catch (e) {
    if (e instanceof FsError) return e.status;
    throw e;
  }
  throw new Error("expected an FsError");
}

describe("MemoryFileSystem", () => {
  it("holds the export directory under the root, with deterministic fileids", async () => {
    const fs = new MemoryFileSystem();
    const root = await fs.root();
    const exp = await fs.lookup(root, "export");
    expect(exp.attrs.type).toBe(nfs_ftype4.NF4DIR);
    expect((await fs.getattr(root)).fileid).toBe(1n);
    expect(exp.attrs.fileid).toBe(2n);
    const f = await fs.create(exp.handle, "f", { kind: "guarded" }, ATTRS);
    expect(f.attrs.fileid).toBe(3n);
    expect((await fs.lookupParent(exp.handle)).handle).toEqual(root);
    const page = await fs.readdir(root, 0n, new Uint8Array(8), { maxEntries: 10 });
    expect(page.entries.map((e) => e.name)).toEqual(["export"]);
  });

  it("the export directory's name, mode and owner are options", async () => {
    const fs = new MemoryFileSystem({
      exportName: "data",
      exportMode: 0o1777,
      exportUid: 5,
      exportGid: 6,
    });
    const exp = await fs.lookup(await fs.root(), "data");
    expect(exp.attrs).toMatchObject({ mode: 0o1777, uid: 5, gid: 6 });
  });

  it("handles are 16 bytes: fileid then the instance generation", async () => {
    const fs = new MemoryFileSystem();
    const root = await fs.root();
    expect(root.length).toBe(16);
    expect(Buffer.from(root.subarray(0, 8)).readBigUInt64BE()).toBe(1n);
    const other = await new MemoryFileSystem().root();
    expect(Buffer.from(other.subarray(8)).equals(Buffer.from(root.subarray(8)))).toBe(false);
    expect(await statusOf(() => fs.getattr(other))).toBe(nfsstat4.NFS4ERR_STALE);
    expect(await statusOf(() => fs.getattr(new Uint8Array(17)))).toBe(nfsstat4.NFS4ERR_BADHANDLE);
    const unknown = root.slice();
    unknown[7] = 99;
    expect(await statusOf(() => fs.getattr(unknown))).toBe(nfsstat4.NFS4ERR_STALE);
  });

  it("a cookie it never handed out is BAD_COOKIE", async () => {
    const fs = new MemoryFileSystem();
    const root = await fs.root();
    const page = await fs.readdir(root, 0n, new Uint8Array(8), { maxEntries: 10 });
    expect(await statusOf(() => fs.readdir(root, 1000n, page.verifier, { maxEntries: 1 }))).toBe(
      nfsstat4.NFS4ERR_BAD_COOKIE,
    );
  });

  it("one verifier, zero, serves every directory of every instance (cookies never go stale)", async () => {
    const fs = new MemoryFileSystem();
    const root = await fs.root();
    const exp = (await fs.lookup(root, "export")).handle;
    await fs.create(exp, "a", { kind: "guarded" }, ATTRS);
    const v1 = (await fs.readdir(root, 0n, new Uint8Array(8), { maxEntries: 1 })).verifier;
    const v2 = (await fs.readdir(exp, 0n, new Uint8Array(8), { maxEntries: 1 })).verifier;
    expect(v1).toEqual(new Uint8Array(8));
    expect(v2).toEqual(v1);
    // Another instance's handles are STALE before any cookie is looked at.
    const other = new MemoryFileSystem();
    await expect(other.readdir(exp, 3n, v1, { maxEntries: 1 })).rejects.toMatchObject({
      status: nfsstat4.NFS4ERR_STALE,
    });
  });

  it("space: file data in whole blocks, NOSPC beyond capacity, freed on remove", async () => {
    const fs = new MemoryFileSystem({ capacityBytes: 64 * 1024, blockSize: 1024 });
    const root = await fs.root();
    const s0 = await fs.statfs(root);
    expect(s0.spaceTotal).toBe(65536n);
    // Root and export take a block each.
    expect(s0.spaceFree).toBe(65536n - 2048n);
    const f = await fs.create(root, "f", { kind: "guarded" }, ATTRS);
    await fs.write(f.handle, 0n, new Uint8Array(1500), 2);
    expect((await fs.getattr(f.handle)).spaceUsed).toBe(2048n);
    expect((await fs.statfs(root)).spaceFree).toBe(65536n - 4096n);
    expect(await statusOf(() => fs.write(f.handle, 0n, new Uint8Array(70 * 1024), 2))).toBe(
      nfsstat4.NFS4ERR_FBIG,
    );
    expect(await statusOf(() => fs.write(f.handle, 0n, new Uint8Array(63 * 1024), 2))).toBe(
      nfsstat4.NFS4ERR_NOSPC,
    );
    await fs.remove(root, "f");
    expect((await fs.statfs(root)).spaceFree).toBe(65536n - 2048n);
  });

  it("a pinned orphan keeps its space and its file slot until the last unpin", async () => {
    const fs = new MemoryFileSystem({ capacityBytes: 64 * 1024, blockSize: 1024 });
    const root = await fs.root();
    const s0 = await fs.statfs(root);
    const f = await fs.create(root, "f", { kind: "guarded" }, ATTRS);
    await fs.write(f.handle, 0n, new Uint8Array(3000), 2);
    await fs.pin(f.handle);
    await fs.remove(root, "f");
    const s1 = await fs.statfs(root);
    expect(s1.spaceFree).toBe(s0.spaceFree - 3072n);
    expect(s1.filesFree).toBe(s0.filesFree - 1n);
    await fs.unpin(f.handle);
    const s2 = await fs.statfs(root);
    expect(s2.spaceFree).toBe(s0.spaceFree);
    expect(s2.filesFree).toBe(s0.filesFree);
  });

  it("files: NOSPC when every file slot is used", async () => {
    const fs = new MemoryFileSystem({ maxFiles: 3 });
    const root = await fs.root();
    await fs.create(root, "a", { kind: "guarded" }, ATTRS);
    expect((await fs.statfs(root)).filesFree).toBe(0n);
    expect(await statusOf(() => fs.create(root, "b", { kind: "guarded" }, ATTRS))).toBe(
      nfsstat4.NFS4ERR_NOSPC,
    );
  });

  it("timestamps come from the clock option; writes move mtime and ctime", async () => {
    let t = 100n;
    const fs = new MemoryFileSystem({ clock: () => ({ seconds: t, nseconds: 0 }) });
    const root = await fs.root();
    const f = await fs.create(root, "f", { kind: "guarded" }, ATTRS);
    expect(f.attrs.birthtime).toEqual({ seconds: 100n, nseconds: 0 });
    t = 200n;
    await fs.write(f.handle, 0n, new Uint8Array([1]), 2);
    const a = await fs.getattr(f.handle);
    expect(a.mtime.seconds).toBe(200n);
    expect(a.ctime.seconds).toBe(200n);
    expect(a.birthtime.seconds).toBe(100n);
  });

  it("MLINK at maxLink", async () => {
    // The root's own link count reaches 3 with the export directory.
    const fs = new MemoryFileSystem({ maxLink: 3 });
    const root = await fs.root();
    const f = await fs.create(root, "f", { kind: "guarded" }, ATTRS);
    await fs.link(f.handle, root, "g");
    await fs.link(f.handle, root, "h");
    expect(await statusOf(() => fs.link(f.handle, root, "i"))).toBe(nfsstat4.NFS4ERR_MLINK);
    expect(await statusOf(() => fs.mkdir(root, "d", { mode: 0o755, uid: 0, gid: 0 }))).toBe(
      nfsstat4.NFS4ERR_MLINK,
    );
  });

  it("a create whose attributes fail leaves no file behind", async () => {
    const fs = new MemoryFileSystem({ capacityBytes: 64 * 1024 });
    const root = await fs.root();
    const huge = { ...ATTRS, size: 1n << 40n };
    expect(await statusOf(() => fs.create(root, "f", { kind: "guarded" }, huge))).toBe(
      nfsstat4.NFS4ERR_FBIG,
    );
    const tooBig = { ...ATTRS, size: 60n * 1024n };
    expect(await statusOf(() => fs.create(root, "f", { kind: "guarded" }, tooBig))).toBe(
      nfsstat4.NFS4ERR_NOSPC,
    );
    expect(await statusOf(() => fs.lookup(root, "f"))).toBe(nfsstat4.NFS4ERR_NOENT);
  });

  it("a zero-length write changes nothing", async () => {
    const fs = new MemoryFileSystem();
    const root = await fs.root();
    const f = await fs.create(root, "f", { kind: "guarded" }, ATTRS);
    const w = await fs.write(f.handle, 10n, new Uint8Array(0), 2);
    expect(w.count).toBe(0);
    expect(await fs.getattr(f.handle)).toEqual(f.attrs);
  });

  it("a failing setattr changes nothing", async () => {
    const fs = new MemoryFileSystem();
    const root = await fs.root();
    const d = await fs.mkdir(root, "d", { mode: 0o755, uid: 0, gid: 0 });
    expect(await statusOf(() => fs.setattr(d.handle, { mode: 0o700, size: 0n }))).toBe(
      nfsstat4.NFS4ERR_ISDIR,
    );
    expect((await fs.getattr(d.handle)).mode).toBe(0o755);
  });
});

describe("DirListing", () => {
  it("keeps cookies across removals and compaction", () => {
    const l = new DirListing<number>();
    const cookies = new Map<string, bigint>();
    for (let i = 0; i < 100; i++) cookies.set(`n${i}`, l.add(`n${i}`, i));
    expect(cookies.get("n0")).toBe(3n);
    for (let i = 0; i < 90; i++) l.remove(`n${i}`);
    const rest = [...l.after(0n)];
    expect(rest.map((e) => e.name)).toEqual(Array.from({ length: 10 }, (_, i) => `n${90 + i}`));
    expect(rest.map((e) => e.cookie)).toEqual(rest.map((e) => cookies.get(e.name)));
    expect([...l.after(cookies.get("n50")!)].length).toBe(10);
    expect([...l.after(cookies.get("n95")!)].map((e) => e.name)).toEqual([
      "n96",
      "n97",
      "n98",
      "n99",
    ]);
    expect(l.issued(cookies.get("n0")!)).toBe(true);
    expect(l.issued(1000n)).toBe(false);
    // A name re-added gets a new cookie, after everything else.
    const again = l.add("n0", 0);
    expect(again).toBe(103n);
    expect(l.size).toBe(11);
  });
});

describe("MemoryFileSystem extended attributes", () => {
  it("charges keys and values against capacity and refunds them on removal and on free", async () => {
    const fs = new MemoryFileSystem();
    const exp = (await fs.lookup(await fs.root(), "export")).handle;
    const { handle } = await fs.create(exp, "f", { kind: "guarded" }, ATTRS);
    const free0 = (await fs.statfs(exp)).spaceFree;
    await fs.setxattr(handle, "user.k", new Uint8Array(1000), "either");
    expect((await fs.statfs(exp)).spaceFree).toBe(free0 - 1006n);
    await fs.setxattr(handle, "user.k", new Uint8Array(10), "replace");
    expect((await fs.statfs(exp)).spaceFree).toBe(free0 - 16n);
    await fs.removexattr(handle, "user.k");
    expect((await fs.statfs(exp)).spaceFree).toBe(free0);
    await fs.setxattr(handle, "user.k", new Uint8Array(100), "either");
    // The empty file itself takes no blocks: what is left after freeing it is what it began with.
    await fs.remove(exp, "f");
    expect((await fs.statfs(exp)).spaceFree).toBe(free0);
  });

  it("refuses what capacity cannot hold (NOSPC) and the per-object total, with named limits", async () => {
    const fs = new MemoryFileSystem({
      maxXattrValueBytes: 100,
      maxXattrBytesPerObject: 150,
      maxXattrNameBytes: 8,
    });
    const exp = (await fs.lookup(await fs.root(), "export")).handle;
    expect(fs.capabilities.xattrs).toEqual({
      maxNameBytes: 8,
      maxValueBytes: 100,
      maxBytesPerObject: 150,
    });
    const { handle } = await fs.create(exp, "f", { kind: "guarded" }, ATTRS);
    await fs.setxattr(handle, "a", new Uint8Array(100), "either");
    expect(await statusOf(() => fs.setxattr(handle, "b", new Uint8Array(50), "either"))).toBe(
      nfsstat4.NFS4ERR_NOSPC,
    );
    await fs.setxattr(handle, "b", new Uint8Array(48), "either");
    expect(
      await statusOf(() => fs.setxattr(handle, "123456789", new Uint8Array(0), "either")),
    ).toBe(nfsstat4.NFS4ERR_NAMETOOLONG);
    expect(await statusOf(() => fs.getxattr(handle, ""))).toBe(nfsstat4.NFS4ERR_INVAL);
  });
});

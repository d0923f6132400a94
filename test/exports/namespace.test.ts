import { describe, expect, it } from "vitest";
import { nfsstat4 } from "../../generated/nfs4/index.js";
import { Namespace, type ExportDefinition } from "../../src/exports/namespace.js";
import { DEFAULT_EXPORT_RULES } from "../../src/exports/rules.js";
import { FsError, statusOfError } from "../../src/fs/backend.js";
import { MemoryFileSystem } from "../../src/fs/memory.js";

const def = (path: string, id: number, over: Partial<ExportDefinition> = {}): ExportDefinition => ({
  path,
  id,
  fs: new MemoryFileSystem(),
  rules: DEFAULT_EXPORT_RULES,
  ...over,
});

async function status(p: Promise<unknown>): Promise<nfsstat4 | "ok"> {
  try {
    await p;
    return "ok";
  } catch (e) {
    if (!(e instanceof FsError)) throw e;
    return statusOfError(e);
  }
}

describe("Namespace", () => {
  it("refuses exports that overlap, share an id, or sit on the root", () => {
    expect(() => new Namespace([def("/a", 1), def("/a/b", 2)])).toThrow(/inside|overlaps/);
    expect(() => new Namespace([def("/a/b", 1), def("/a", 2)])).toThrow(/overlaps/);
    expect(() => new Namespace([def("/a", 1), def("/b", 1)])).toThrow(/unique/);
    expect(() => new Namespace([def("/", 1)])).toThrow(/pseudo root/);
    expect(() => new Namespace([def("/a", 1, { bareHandles: true }), def("/b", 2)])).toThrow(
      /lone/,
    );
  });

  it("answers BADHANDLE for bytes it never made and STALE for an export that is gone", async () => {
    const ns = new Namespace([def("/a", 1), def("/b/c", 2)]);
    expect(await status(ns.getattr(new Uint8Array([1, 2, 3])))).toBe(nfsstat4.NFS4ERR_BADHANDLE);
    const inA = (await ns.lookup(await ns.root(), "a")).handle;
    const other = new Namespace([def("/b/c", 2)]);
    expect(await status(other.getattr(inA))).toBe(nfsstat4.NFS4ERR_STALE);
    // The pseudo directory /b exists in both, with the same handle.
    const b = (await ns.lookup(await ns.root(), "b")).handle;
    expect(await status(other.getattr(b))).toBe("ok");
    // A pseudo directory the new configuration lacks is STALE.
    const gone = new Namespace([def("/x", 3)]);
    expect(await status(gone.getattr(b))).toBe(nfsstat4.NFS4ERR_STALE);
  });

  it("says which directories hold only their own export's entries (READDIR asks once for them)", async () => {
    const ns = new Namespace([def("/a", 1), def("/b/c", 2)]);
    const root = await ns.root();
    const a = (await ns.lookup(root, "a")).handle;
    const b = (await ns.lookup(root, "b")).handle;
    const sub = (await ns.mkdir(a, "sub", { mode: 0o755, uid: 0, gid: 0 })).handle;
    // Pseudo directories list exports, each with its own client list and backend.
    expect(ns.entriesShareExport(root)).toBe(false);
    expect(ns.entriesShareExport(b)).toBe(false);
    // Exports do not nest: everything below an export's root is that export's.
    expect(ns.entriesShareExport(a)).toBe(true);
    expect(ns.entriesShareExport(sub)).toBe(true);
    expect(ns.entriesShareExport(new Uint8Array([1, 2, 3]))).toBe(false);
  });

  it("refuses every change of the pseudo-filesystem with ROFS", async () => {
    const ns = new Namespace([def("/a/b", 1)]);
    const root = await ns.root();
    const attrs = { mode: 0o755, uid: 0, gid: 0 };
    expect(await status(ns.mkdir(root, "x", attrs))).toBe(nfsstat4.NFS4ERR_ROFS);
    expect(await status(ns.remove(root, "a"))).toBe(nfsstat4.NFS4ERR_ROFS);
    expect(await status(ns.setattr(root, { mode: 0o777 }))).toBe(nfsstat4.NFS4ERR_ROFS);
    expect(await status(ns.create(root, "f", { kind: "guarded" }, attrs))).toBe(
      nfsstat4.NFS4ERR_ROFS,
    );
  });

  it("reports changes of an export with the namespace's handles", async () => {
    const fs = new MemoryFileSystem();
    const ns = new Namespace([def("/a", 5, { fs })]);
    const dir = (await ns.lookup(await ns.root(), "a")).handle;
    const seen: Uint8Array[] = [];
    ns.observe((c) => {
      if (c.kind === "added") seen.push(c.dir, c.entry.handle);
    });
    const made = await ns.mkdir(dir, "d", { mode: 0o755, uid: 0, gid: 0 });
    expect(seen).toEqual([dir, made.handle]);
    expect(made.attrs.fsid).toEqual({ major: 5n, minor: 0n });
  });

  it("reports an export's root with the backend's attributes, the export's fsid and its mount point's fileid", async () => {
    const fs = new MemoryFileSystem();
    const ns = new Namespace([def("/a/b", 7, { fs })]);
    const a = (await ns.lookup(await ns.root(), "a")).handle;
    const root = (await ns.lookup(a, "b")).handle;
    const inner = await fs.getattr((await fs.lookup(await fs.root(), "export")).handle);
    const got = await ns.getattr(root);
    // The mount point is the pseudo directory /a/b the export hides: its own fileid.
    expect(typeof got.mountedOnFileid).toBe("bigint");
    expect(got.mountedOnFileid).not.toBe(inner.fileid);
    const expected = {
      ...inner,
      fsid: { major: 7n, minor: 0n },
      mountedOnFileid: got.mountedOnFileid,
    };
    // Every field, and no other (rootAttrs writes them out one by one).
    expect(got).toStrictEqual(expected);
    expect((await ns.lookup(a, "b")).attrs).toStrictEqual(expected);
  });
});

import Database from "better-sqlite3";
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { nfsstat4 } from "../../generated/nfs4/index.js";
import { FsError, type CreateAttributes, type FileSystem } from "../../src/fs/backend.js";
import { NfsClient } from "../../src/client/index.js";
import { NfsServer } from "../../src/nfs/server.js";
import { DataDirError, openDataDir, type OpenedStore } from "../../src/store/data-dir.js";
import { LIST_ENTRIES_SQL, LIST_PAGE_SQL } from "../../src/store/sqlite-metadata.js";
import { describeBackendConformance } from "../fs/conformance.js";

const root = mkdtempSync(join(tmpdir(), "dfs-sqlite-test-"));
let seq = 0;
/** Every store opened, by its FileSystem, with its directory (restart reopens it). */
const opened = new Map<FileSystem, { store: OpenedStore; dir: string }>();

async function openAt(dir: string): Promise<FileSystem> {
  const store = await openDataDir(dir);
  opened.set(store.fs, { store, dir });
  return store.fs;
}

afterAll(async () => {
  for (const { store } of opened.values()) await store.close().catch(() => undefined);
  rmSync(root, { recursive: true, force: true });
});

describeBackendConformance("sqlite", () => openAt(join(root, `d${++seq}`)), {
  restart: async (old) => {
    const o = opened.get(old);
    if (o === undefined) throw new Error("not a store of this test");
    await o.store.close();
    opened.delete(old);
    return openAt(o.dir);
  },
  handlesSurviveRestart: true,
});

const ATTRS: CreateAttributes = { mode: 0o644, uid: 0, gid: 0 };
const enc = new TextEncoder();

async function statusOf(fn: () => Promise<unknown>): Promise<number> {
  try {
    await fn();
  } catch (e) {
    if (e instanceof FsError) return e.status;
    throw e;
  }
  throw new Error("expected an FsError");
}

describe("SQLite store", () => {
  it("keeps names, data, cookies and change counters across a restart", async () => {
    const dir = join(root, `r${++seq}`);
    let fs = await openAt(dir);
    const exp = (await fs.lookup(await fs.root(), "export")).handle;
    const names = ["a", "b", "c", "d"];
    for (const n of names) {
      const f = await fs.create(exp, n, { kind: "guarded" }, ATTRS);
      await fs.write(f.handle, 0n, enc.encode(`data ${n}`), 2);
    }
    await fs.remove(exp, "b");
    const page = await fs.readdir(exp, 0n, new Uint8Array(8), { maxEntries: 1 });
    const changeBefore = (await fs.getattr(exp)).change;
    const opened1 = opened.get(fs)!;
    await opened1.store.close();
    opened.delete(fs);
    fs = await openAt(dir);
    // Resume the listing with the cookie and verifier from before the restart.
    const rest = await fs.readdir(exp, page.entries[0]!.cookie, page.verifier, {
      maxEntries: 10,
    });
    expect(rest.entries.map((e) => e.name)).toEqual(["c", "d"]);
    const c = await fs.lookup(exp, "c");
    expect(new TextDecoder().decode((await fs.read(c.handle, 0n, 100)).data)).toBe("data c");
    // Change attributes never repeat, even across restarts.
    await fs.create(exp, "e", { kind: "guarded" }, ATTRS);
    expect((await fs.getattr(exp)).change).toBeGreaterThan(changeBefore);
  });

  it("a file cut and extended again reads zeros where its old data was", async () => {
    const fs = await openAt(join(root, `z${++seq}`));
    const exp = (await fs.lookup(await fs.root(), "export")).handle;
    const f = (await fs.create(exp, "z", { kind: "guarded" }, ATTRS)).handle;
    await fs.write(f, 0n, enc.encode("abcdef"), 2);
    await fs.setattr(f, { size: 2n });
    await fs.setattr(f, { size: 4n });
    await fs.write(f, 6n, enc.encode("g"), 2);
    expect(Buffer.from((await fs.read(f, 0n, 100)).data).toString("latin1")).toBe("ab\0\0\0\0g");
  });

  it("cuts a shrunk file's payload once the new size is committed", async () => {
    const dir = join(root, `s${++seq}`);
    const fs = await openAt(dir);
    const exp = (await fs.lookup(await fs.root(), "export")).handle;
    const f = (await fs.create(exp, "s", { kind: "guarded" }, ATTRS)).handle;
    await fs.write(f, 0n, new Uint8Array(10_000).fill(7), 2);
    await fs.setattr(f, { size: 3n });
    const payload = join(dir, "payload", `f${(await fs.getattr(f)).fileid}`);
    expect(statSync(payload).size).toBe(3);
    expect((await fs.read(f, 0n, 100)).data).toEqual(new Uint8Array(3).fill(7));
  });

  it("frees at restart a file only a pin kept", async () => {
    const dir = join(root, `p${++seq}`);
    const fs = await openAt(dir);
    const exp = (await fs.lookup(await fs.root(), "export")).handle;
    const f = await fs.create(exp, "open", { kind: "guarded" }, ATTRS);
    await fs.pin(f.handle);
    await fs.remove(exp, "open");
    expect((await fs.getattr(f.handle)).nlink).toBe(0);
    const o = opened.get(fs)!;
    await o.store.close();
    opened.delete(fs);
    const fs2 = await openAt(dir);
    expect(await statusOf(() => fs2.getattr(f.handle))).toBe(nfsstat4.NFS4ERR_STALE);
  });

  it("UNSTABLE4 writes are reported unstable; the write verifier changes at restart", async () => {
    const dir = join(root, `u${++seq}`);
    const fs = await openAt(dir);
    const exp = (await fs.lookup(await fs.root(), "export")).handle;
    const f = await fs.create(exp, "u", { kind: "guarded" }, ATTRS);
    const w = await fs.write(f.handle, 0n, enc.encode("x"), 0);
    expect(w.committed).toBe(0);
    const o = opened.get(fs)!;
    await o.store.close();
    opened.delete(fs);
    const fs2 = await openAt(dir);
    expect((await fs2.commit(f.handle, 0n, 0)).verifier).not.toEqual(w.verifier);
  });

  it("gives the server the same identity across restarts, another for another store; EXCHANGE_ID says so", async () => {
    const dir = join(root, `i${++seq}`);
    const first = await openDataDir(dir);
    const owner = first.serverOwner;
    const server = new NfsServer({ fs: first.fs, serverOwner: owner });
    const [bound] = await server.listen([{ host: "127.0.0.1", port: 0 }]);
    const client = await NfsClient.connect({ host: "127.0.0.1", port: bound!.port });
    try {
      const reply = await client.exchangeId(`identity-${seq}`);
      expect(reply.eir_server_owner.so_major_id).toEqual(owner);
      expect(reply.eir_server_scope).toEqual(owner);
    } finally {
      client.destroy();
      await server.close();
      await first.close();
    }
    const again = await openDataDir(dir);
    const other = await openDataDir(join(root, `i${++seq}`));
    try {
      expect(again.serverOwner).toEqual(owner);
      expect(other.serverOwner).not.toEqual(owner);
    } finally {
      await again.close();
      await other.close();
    }
  });

  /** Closes the store behind `fs` and opens the same directory again. */
  async function reopen(fs: FileSystem): Promise<FileSystem> {
    const o = opened.get(fs)!;
    await o.store.close();
    opened.delete(fs);
    return openAt(o.dir);
  }

  it("keeps extended attributes and their LISTXATTRS cookies across a restart", async () => {
    const dir = join(root, `x${++seq}`);
    let fs = await openAt(dir);
    const exp = (await fs.lookup(await fs.root(), "export")).handle;
    const f = (await fs.create(exp, "x", { kind: "guarded" }, ATTRS)).handle;
    for (const k of ["user.a", "user.b", "user.c"])
      await fs.setxattr(f, k, enc.encode(k), "create");
    const page = await fs.listxattrs(f, 0n, 1);
    expect(page.entries.map((e) => e.name)).toEqual(["user.a"]);
    fs = await reopen(fs);
    const rest = await fs.listxattrs(f, page.entries[0]!.cookie, 10);
    expect(rest).toEqual({
      entries: [
        expect.objectContaining({ name: "user.b" }),
        expect.objectContaining({ name: "user.c" }),
      ],
      eof: true,
    });
    expect(await fs.getxattr(f, "user.c")).toEqual(enc.encode("user.c"));
    // A cookie of a removed key is never handed out again, even after a restart.
    await fs.removexattr(f, "user.c");
    fs = await reopen(fs);
    await fs.setxattr(f, "user.d", enc.encode("d"), "create");
    const all = await fs.listxattrs(f, 0n, 10);
    expect(all.entries.map((e) => e.name)).toEqual(["user.a", "user.b", "user.d"]);
    expect(all.entries[2]!.cookie).toBeGreaterThan(rest.entries[1]!.cookie);
  });

  it("deletes an object's extended attributes with it", async () => {
    const dir = join(root, `y${++seq}`);
    let fs = await openAt(dir);
    const exp = (await fs.lookup(await fs.root(), "export")).handle;
    const f = (await fs.create(exp, "y", { kind: "guarded" }, ATTRS)).handle;
    await fs.setxattr(f, "user.k", new Uint8Array(1000), "create");
    await fs.pin(f);
    await fs.remove(exp, "y");
    // Still open: its attributes stay until the last pin goes (here: the restart).
    expect((await fs.getxattr(f, "user.k")).length).toBe(1000);
    fs = await reopen(fs);
    const o = opened.get(fs)!;
    await o.store.close();
    opened.delete(fs);
    const db = new Database(join(dir, "metadata.sqlite"), { readonly: true });
    try {
      expect(db.prepare("SELECT count(*) AS n FROM xattrs").get()).toEqual({ n: 0 });
      expect(db.prepare("SELECT count(*) AS n FROM xattr_cookies").get()).toEqual({ n: 0 });
    } finally {
      db.close();
    }
  });

  it("upgrades a data directory from before extended attributes in place", async () => {
    const dir = join(root, `m${++seq}`);
    let fs = await openAt(dir);
    const exp = (await fs.lookup(await fs.root(), "export")).handle;
    const f = (await fs.create(exp, "old", { kind: "guarded" }, ATTRS)).handle;
    await fs.write(f, 0n, enc.encode("kept"), 2);
    const o = opened.get(fs)!;
    await o.store.close();
    opened.delete(fs);
    // Back to schema version 1: what a server before xattrs (and client records) left on disk.
    const db = new Database(join(dir, "metadata.sqlite"));
    db.exec(
      "DROP TABLE xattrs; DROP TABLE xattr_cookies; DROP TABLE clients; PRAGMA user_version = 1;",
    );
    db.close();
    fs = await openAt(dir);
    expect(new TextDecoder().decode((await fs.read(f, 0n, 10)).data)).toBe("kept");
    await fs.setxattr(f, "user.new", enc.encode("v"), "create");
    expect(await fs.getxattr(f, "user.new")).toEqual(enc.encode("v"));
  });

  it("reads a READDIR page from the cookie index alone, also in a store made before that index covered it", async () => {
    const dir = join(root, `c${++seq}`);
    let fs = await openAt(dir);
    const exp = (await fs.lookup(await fs.root(), "export")).handle;
    for (const name of ["a", "b", "c"]) await fs.create(exp, name, { kind: "guarded" }, ATTRS);
    let o = opened.get(fs)!;
    await o.store.close();
    opened.delete(fs);
    const file = join(dir, "metadata.sqlite");
    // Both the entries' listing and READDIR's (listEntriesWithObjects), each once per plan.
    const plan = (): string => {
      const db = new Database(file, { readonly: true });
      try {
        return [LIST_ENTRIES_SQL, LIST_PAGE_SQL]
          .map((sql) => {
            const rows = db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(1, 0, 10);
            return rows.map((r) => (r as { detail: string }).detail).join("; ");
          })
          .join(" | ");
      } finally {
        db.close();
      }
    };
    expect(plan()).toMatch(
      /COVERING INDEX entries_by_cookie.*\|.*COVERING INDEX entries_by_cookie/,
    );
    // Back to schema version 3: the index on (dir, cookie) alone.
    const db = new Database(file);
    db.exec(
      "DROP INDEX entries_by_cookie; CREATE UNIQUE INDEX entries_by_cookie ON entries (dir, cookie); PRAGMA user_version = 3;",
    );
    db.close();
    expect(plan()).not.toContain("COVERING");
    fs = await openAt(dir);
    o = opened.get(fs)!;
    const page = await fs.readdir(exp, 0n, new Uint8Array(8), { maxEntries: 10 });
    expect(page.entries.map((e) => e.name)).toEqual(["a", "b", "c"]);
    await o.store.close();
    opened.delete(fs);
    expect(plan()).toMatch(
      /COVERING INDEX entries_by_cookie.*\|.*COVERING INDEX entries_by_cookie/,
    );
  });

  it("deletes at open the payload files no object names (left by a crash after a removal)", async () => {
    const dir = join(root, `o${++seq}`);
    const fs = await openAt(dir);
    const exp = (await fs.lookup(await fs.root(), "export")).handle;
    const kept = (await fs.create(exp, "kept", { kind: "guarded" }, ATTRS)).handle;
    await fs.write(kept, 0n, enc.encode("data"), 2);
    const keptId = (await fs.getattr(kept)).fileid;
    const expId = (await fs.getattr(exp)).fileid;
    const o = opened.get(fs)!;
    await o.store.close();
    opened.delete(fs);
    const payload = join(dir, "payload");
    // A removed file's payload, a "payload" of a directory, and a name this store never makes.
    for (const stray of ["f999", `f${expId}`, "notours"]) writeFileSync(join(payload, stray), "x");
    const fs2 = await openAt(dir);
    expect(readdirSync(payload).sort()).toEqual([`f${keptId}`, "notours"]);
    expect(new TextDecoder().decode((await fs2.read(kept, 0n, 10)).data)).toBe("data");
  });

  it("refuses a data directory another live process holds", async () => {
    const dir = join(root, `l${++seq}`);
    await openAt(dir);
    await expect(openDataDir(dir)).rejects.toThrow(DataDirError);
    await expect(openDataDir(dir)).rejects.toThrow(/in use by process/);
  });

  it("refuses an unusable data directory with a clear error", async () => {
    // A path through a regular file (permission bits would not stop root).
    const file = join(root, `f${++seq}`);
    writeFileSync(file, "");
    await expect(openDataDir(join(file, "data"))).rejects.toThrow(/not usable/);
  });
});

import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { nfsstat4 } from "../../generated/nfs4/index.js";
import { FsError, type CreateAttributes, type FileSystem } from "../../src/fs/backend.js";
import { NfsClient } from "../../src/client/index.js";
import { NfsServer } from "../../src/nfs/server.js";
import { DataDirError, openDataDir, type OpenedStore } from "../../src/store/data-dir.js";
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

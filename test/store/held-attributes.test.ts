// The size, times and change attribute of UNSTABLE4 WRITEs held in memory
// (held-attributes.ts) instead of a metadata transaction per WRITE: every
// view shows them, every transaction on the file stores them, COMMIT makes
// them durable, the age limit and close() store them, and a WRITE that meets
// a transaction on its file takes one itself, ordered after it.

import { copyFileSync, existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { nfs_ftype4, nfsstat4, stable_how4 } from "../../generated/nfs4/index.js";
import { stableCookieVerifier, type FileHandle } from "../../src/fs/backend.js";
import { openDataDir } from "../../src/store/data-dir.js";
import { HeldAttributes } from "../../src/store/held-attributes.js";
import { LocalPayloadStore } from "../../src/store/local-payload.js";
import type { PayloadStore } from "../../src/store/payload.js";
import { COUNTER_BLOCK, StoreCounters } from "../../src/store/sqlite-counters.js";
import { SqliteMetadataStore } from "../../src/store/sqlite-metadata.js";
import { StoreFileSystem, type StoreFsOptions } from "../../src/store/store-fs.js";
import { parseStoreHandle } from "../../src/store/store-handles.js";
import { objectRecord } from "./records.js";

const root = mkdtempSync(join(tmpdir(), "dfs-held-test-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let seq = 0;

const T = (seconds: bigint) => ({ seconds, nseconds: 0 });
const ATTRS = { mode: 0o644, uid: 0, gid: 0 };
const U = stable_how4.UNSTABLE4;

/** A payload store whose writes wait at `gate` while it is set (to interleave a transaction). */
class GatedPayloads {
  private gate: Promise<void> | null = null;
  private arrive = (): void => undefined;
  constructor(readonly inner: PayloadStore) {}

  /**
   * Starts `write` and resolves once its data waits at the gate; open() lets
   * it through, and `writing` is its outcome.
   */
  async stopped<T>(write: () => Promise<T>): Promise<{ writing: Promise<T>; open: () => void }> {
    let open = (): void => undefined;
    this.gate = new Promise<void>((r) => (open = r));
    const arrived = new Promise<void>((r) => (this.arrive = r));
    const writing = write();
    await arrived;
    return {
      writing,
      open: () => {
        this.gate = null;
        open();
      },
    };
  }

  store(): PayloadStore {
    const inner = this.inner;
    return {
      kind: "gated",
      read: (id, offset, count) => inner.read(id, offset, count),
      write: async (id, offset, data) => {
        const gate = this.gate;
        if (gate !== null) {
          this.arrive();
          await gate;
        }
        await inner.write(id, offset, data);
      },
      truncate: (id, size) => inner.truncate(id, size),
      commit: (id) => inner.commit(id),
      delete: (id) => inner.delete(id),
      ids: () => inner.ids(),
      space: () => inner.space(),
      close: () => inner.close(),
    };
  }
}

interface Opened {
  fs: StoreFileSystem;
  meta: SqliteMetadataStore;
  gated: GatedPayloads;
  file: string;
  payloadDir: string;
}

async function open(options: Partial<StoreFsOptions> = {}, at = `s${++seq}`): Promise<Opened> {
  const file = join(root, `${at}.sqlite`);
  const payloadDir = join(root, `${at}-payload`);
  const meta = SqliteMetadataStore.open(file);
  const gated = new GatedPayloads(new LocalPayloadStore(payloadDir, 8));
  const fs = await StoreFileSystem.open(meta, gated.store(), options);
  return { fs, meta, gated, file, payloadDir };
}

/** Runs `body` on a store of its own, closed after it whatever happens. */
async function withStore(
  body: (s: Opened) => Promise<void>,
  options: Partial<StoreFsOptions> = {},
): Promise<void> {
  const s = await open(options);
  try {
    await body(s);
  } finally {
    await s.fs.close();
  }
}

/** The record as the store holds it, without anything held in memory. */
function stored(s: Opened, handle: FileHandle) {
  const id = parseStoreHandle(s.meta.identity.storeId, handle);
  return s.meta.view(async (tx) => (await tx.getObject(id))!);
}

async function newFile(fs: StoreFileSystem, name: string): Promise<FileHandle> {
  return (await fs.create(await fs.root(), name, { kind: "guarded" }, ATTRS)).handle;
}

const bytes = (n: number, fill: number) => new Uint8Array(n).fill(fill);

describe("HeldAttributes", () => {
  const file = (change: bigint, size = 0n) => objectRecord(7n, { change, size });

  it("applies held attributes only while their change is above the record's", () => {
    const held = new HeldAttributes(8);
    const t = held.begin(7n)!;
    expect(held.hold(t, file(5n, 10n), 4n, T(9n), 6n)).toBe(true);
    held.release(t);
    const seen = held.overlay(file(5n, 10n));
    // A write inside the file keeps its size; the times and change move.
    expect([seen.size, seen.mtime, seen.ctime, seen.change]).toEqual([10n, T(9n), T(9n), 6n]);
    // Once a transaction stored them with a change of its own, they are stale.
    expect(held.overlay(file(8n, 0n))).toEqual(file(8n, 0n));
    const t2 = held.begin(7n)!;
    expect(held.hold(t2, seen, 30n, T(10n), 9n)).toBe(true);
    held.release(t2);
    expect(held.overlay(file(5n, 10n)).size).toBe(30n);
  });

  it("voids the tickets of WRITEs under way when a transaction reads the file, and issues none until it ends", () => {
    const held = new HeldAttributes(8);
    const t = held.begin(7n)!;
    held.read(7n);
    expect(held.begin(7n)).toBeNull();
    expect(held.begin(8n)).not.toBeNull();
    expect(held.hold(t, file(1n), 4n, T(1n), 2n)).toBe(false);
    held.release(t);
    held.ended([7n], [], false);
    const t2 = held.begin(7n)!;
    expect(held.hold(t2, file(1n), 4n, T(1n), 3n)).toBe(true);
    held.release(t2);
    // A rolled-back transaction leaves them held; a committed one that wrote the file drops them.
    held.read(7n);
    held.ended([7n], [7n], false);
    expect(held.has(7n)).toBe(true);
    held.read(7n);
    held.ended([7n], [7n], true);
    expect(held.has(7n)).toBe(false);
    expect(held.files).toBe(0);
  });

  it("holds for at most maxFiles files", () => {
    const held = new HeldAttributes(1);
    const t = held.begin(1n)!;
    held.hold(t, objectRecord(1n), 1n, T(1n), 2n);
    held.release(t);
    expect(held.begin(2n)).toBeNull();
    // The file already held may go on.
    expect(held.begin(1n)).not.toBeNull();
  });
});

describe("StoreCounters outside a transaction", () => {
  it("hand out only values under a durable ceiling, and never again after a rollback", () => {
    const raised: bigint[] = [];
    const c = new StoreCounters({ last_id: 1n, change: 100n }, 1n, (_k, ceiling) => {
      raised.push(ceiling);
    });
    // The stored ceiling is durable, but every value up to it may have been used.
    expect(c.takeOutside("change")).toBeNull();
    c.begin();
    expect(c.take("change")).toBe(101n);
    c.commit();
    expect(raised).toEqual([100n + COUNTER_BLOCK]);
    // Raised but not yet on stable storage: none outside a transaction.
    expect(c.takeOutside("change")).toBeNull();
    c.ceilingsDurable(c.ceilings());
    c.begin();
    expect(c.take("change")).toBe(102n);
    expect(c.takeOutside("change")).toBe(103n);
    c.rollback();
    // 102 may go out again (its transaction never showed it); 103 never.
    c.begin();
    expect(c.take("change")).toBe(104n);
    c.commit();
  });
});

describe("UNSTABLE4 WRITEs on the SQLite store", () => {
  it("commit no transaction, and GETATTR, LOOKUP, READDIR and READ see their size, times and change", async () => {
    await withStore(async (s) => {
      const f = await newFile(s.fs, "a");
      const created = await s.fs.getattr(f);
      const commits = s.meta.commits;
      const changes: bigint[] = [];
      for (let i = 0; i < 4; i++) {
        await s.fs.write(f, BigInt(i * 100), bytes(100, i + 1), U);
        changes.push((await s.fs.getattr(f)).change);
      }
      expect(s.meta.commits).toBe(commits);
      expect(s.fs.heldAttributeFiles).toBe(1);
      expect((await stored(s, f)).size).toBe(0n);
      const a = await s.fs.getattr(f);
      expect(a.size).toBe(400n);
      expect(a.change).toBeGreaterThan(created.change);
      // Every WRITE moved the change attribute.
      expect(new Set(changes).size).toBe(4);
      expect([...changes].sort((x, y) => (x < y ? -1 : 1))).toEqual(changes);
      expect(a.mtime).not.toEqual(created.mtime);
      expect((await s.fs.lookup(await s.fs.root(), "a")).attrs).toEqual(a);
      const listed = await s.fs.readdir(await s.fs.root(), 0n, stableCookieVerifier(), {
        maxEntries: 10,
      });
      const entry = listed.entries.find((e) => e.name === "a");
      expect(entry?.ok === true ? entry.attrs : null).toEqual(a);
      const r = await s.fs.read(f, 0n, 1000);
      expect(r.data.length).toBe(400);
      expect(r.data[399]).toBe(4);
      expect(r.eof).toBe(true);
    });
  });

  it("are stored by the next transaction on the file, which a later truncate is not undone by", async () => {
    await withStore(async (s) => {
      const f = await newFile(s.fs, "b");
      await s.fs.write(f, 0n, bytes(50, 1), U);
      const held = await s.fs.getattr(f);
      await s.fs.setattr(f, { mode: 0o600 });
      expect(s.fs.heldAttributeFiles).toBe(0);
      const afterChmod = await stored(s, f);
      expect(afterChmod.size).toBe(50n);
      expect(afterChmod.change).toBeGreaterThan(held.change);
      await s.fs.write(f, 50n, bytes(50, 2), U);
      await s.fs.setattr(f, { size: 10n });
      const cut = await s.fs.getattr(f);
      expect(cut.size).toBe(10n);
      expect((await stored(s, f)).size).toBe(10n);
      // Held again after the truncate: on top of it.
      await s.fs.write(f, 10n, bytes(5, 3), U);
      expect((await s.fs.getattr(f)).size).toBe(15n);
      expect((await s.fs.read(f, 0n, 100)).data).toEqual(
        new Uint8Array([...bytes(10, 1), ...bytes(5, 3)]),
      );
    });
  });

  it("are on stable storage once the file's COMMIT returns, and not before", async () => {
    const s = await open();
    const copy = (to: string): void => {
      copyFileSync(s.file, to);
      if (existsSync(`${s.file}-wal`)) copyFileSync(`${s.file}-wal`, `${to}-wal`);
    };
    try {
      const f = await newFile(s.fs, "c");
      await s.fs.write(f, 0n, bytes(64, 1), U);
      // What a crash now would leave: the create, not the WRITE's size.
      const before = join(root, `crash-before-${seq}.sqlite`);
      copy(before);
      await s.fs.commit(f, 0n, 0);
      expect(s.fs.heldAttributeFiles).toBe(0);
      const after = join(root, `crash-after-${seq}.sqlite`);
      copy(after);
      const id = parseStoreHandle(s.meta.identity.storeId, f);
      for (const [file, size] of [
        [before, 0n],
        [after, 64n],
      ] as const) {
        const crashed = SqliteMetadataStore.open(file);
        try {
          expect((await crashed.view(async (tx) => tx.getObject(id)))?.size).toBe(size);
        } finally {
          await crashed.close();
        }
      }
    } finally {
      await s.fs.close();
    }
  });

  it("go into the store at the age limit, and at close()", async () => {
    const s = await open({ heldAttributesMaxAgeMs: 20 });
    const f = await newFile(s.fs, "d");
    await s.fs.write(f, 0n, bytes(8, 1), U);
    expect((await stored(s, f)).size).toBe(0n);
    for (let i = 0; i < 100 && s.fs.heldAttributeFiles > 0; i++)
      await new Promise((r) => setTimeout(r, 10));
    expect(s.fs.heldAttributeFiles).toBe(0);
    expect((await stored(s, f)).size).toBe(8n);
    await s.fs.write(f, 8n, bytes(8, 2), U);
    await s.fs.close();
    const again = await open({}, `s${seq}`);
    try {
      expect((await again.fs.getattr(f)).size).toBe(16n);
    } finally {
      await again.fs.close();
    }
  });

  it("hold at most heldAttributesFiles files; 0 holds none", async () => {
    for (const max of [2, 0]) {
      await withStore(
        async (s) => {
          const files = [
            await newFile(s.fs, "e1"),
            await newFile(s.fs, "e2"),
            await newFile(s.fs, "e3"),
          ];
          const commits = s.meta.commits;
          for (const f of files) await s.fs.write(f, 0n, bytes(4, 1), U);
          expect(s.fs.heldAttributeFiles).toBe(max);
          expect(s.meta.commits).toBe(commits + files.length - max);
          for (const f of files) expect((await s.fs.getattr(f)).size).toBe(4n);
        },
        { heldAttributesFiles: max },
      );
    }
  });

  it("a transaction on the file while a WRITE's data is on the way orders the WRITE after it", async () => {
    await withStore(async (s) => {
      const f = await newFile(s.fs, "g");
      await s.fs.write(f, 0n, bytes(100, 1), U);
      const { writing, open } = await s.gated.stopped(() => s.fs.write(f, 0n, bytes(20, 2), U));
      // Cut to nothing while the WRITE's data waits: the WRITE then comes after it.
      await s.fs.setattr(f, { size: 0n });
      open();
      await writing;
      const a = await s.fs.getattr(f);
      expect(a.size).toBe(20n);
      expect((await stored(s, f)).size).toBe(20n);
      expect((await s.fs.read(f, 0n, 100)).data).toEqual(bytes(20, 2));
    });
  });

  it("a COMMIT while a WRITE's data is on the way stores what is held, and the WRITE still holds its own", async () => {
    await withStore(async (s) => {
      const f = await newFile(s.fs, "l");
      await s.fs.write(f, 0n, bytes(10, 1), U);
      const { writing, open } = await s.gated.stopped(() => s.fs.write(f, 10n, bytes(10, 2), U));
      await s.fs.commit(f, 0n, 0);
      expect((await stored(s, f)).size).toBe(10n);
      const commits = s.meta.commits;
      open();
      await writing;
      // No transaction for the WRITE: held on top of what the COMMIT stored.
      expect(s.meta.commits).toBe(commits);
      expect(s.fs.heldAttributeFiles).toBe(1);
      const a = await s.fs.getattr(f);
      expect(a.size).toBe(20n);
      expect(a.change).toBeGreaterThan((await stored(s, f)).change);
      expect((await s.fs.read(f, 0n, 100)).data).toEqual(
        new Uint8Array([...bytes(10, 1), ...bytes(10, 2)]),
      );
    });
  });

  it("a failure to store them is the COMMIT's error, and they stay held", async () => {
    await withStore(async (s) => {
      const f = await newFile(s.fs, "n");
      await s.fs.write(f, 0n, bytes(4, 1), U);
      const transact = s.meta.transact.bind(s.meta);
      s.meta.transact = () =>
        Promise.reject(Object.assign(new Error("disk gone"), { code: "SQLITE_IOERR" }));
      await expect(s.fs.commit(f, 0n, 0)).rejects.toMatchObject({ status: nfsstat4.NFS4ERR_IO });
      s.meta.transact = transact;
      expect(s.fs.heldAttributeFiles).toBe(1);
      expect((await s.fs.getattr(f)).size).toBe(4n);
      await s.fs.commit(f, 0n, 0);
      expect((await stored(s, f)).size).toBe(4n);
    });
  });

  it("a file removed while a WRITE's data is on the way: STALE, and no payload left behind", async () => {
    await withStore(async (s) => {
      const f = await newFile(s.fs, "h");
      const { writing, open } = await s.gated.stopped(() => s.fs.write(f, 0n, bytes(70_000, 2), U));
      await s.fs.remove(await s.fs.root(), "h");
      open();
      await expect(writing).rejects.toMatchObject({ status: nfsstat4.NFS4ERR_STALE });
    });
    const left: string[] = [];
    const payloads = new LocalPayloadStore(join(root, `s${seq}-payload`), 8);
    for await (const id of payloads.ids()) left.push(id);
    await payloads.close();
    expect(left).toEqual([]);
  });

  it("a REMOVE drops what was held for the file", async () => {
    await withStore(async (s) => {
      const f = await newFile(s.fs, "i");
      await s.fs.write(f, 0n, bytes(4, 1), U);
      expect(s.fs.heldAttributeFiles).toBe(1);
      await s.fs.remove(await s.fs.root(), "i");
      expect(s.fs.heldAttributeFiles).toBe(0);
      await expect(s.fs.getattr(f)).rejects.toMatchObject({ status: nfsstat4.NFS4ERR_STALE });
      const listed = await s.fs.readdir(await s.fs.root(), 0n, stableCookieVerifier(), {
        maxEntries: 9,
      });
      expect(listed.entries.map((e) => e.name)).not.toContain("i");
    });
  });

  it("a write past the end of the file (a hole) takes a transaction and reads zeros in the hole", async () => {
    await withStore(async (s) => {
      const f = await newFile(s.fs, "j");
      await s.fs.write(f, 0n, bytes(10, 1), U);
      await s.fs.setattr(f, { size: 4n });
      const commits = s.meta.commits;
      await s.fs.write(f, 8n, bytes(2, 3), U);
      expect(s.meta.commits).toBeGreaterThan(commits);
      expect((await s.fs.read(f, 0n, 100)).data).toEqual(
        new Uint8Array([1, 1, 1, 1, 0, 0, 0, 0, 3, 3]),
      );
      expect((await s.fs.getattr(f)).type).toBe(nfs_ftype4.NF4REG);
    });
  });

  it("a data directory holds them unless store.heldAttributesFiles is 0", async () => {
    for (const heldAttributesFiles of [4096, 0]) {
      const store = await openDataDir(join(root, `dd${++seq}`), {}, { heldAttributesFiles });
      try {
        const fs = store.fs;
        if (!(fs instanceof StoreFileSystem)) throw new Error("not a store");
        const f = await newFile(fs, "k");
        await fs.write(f, 0n, bytes(4, 1), U);
        expect(fs.heldAttributeFiles).toBe(heldAttributesFiles === 0 ? 0 : 1);
        expect((await fs.getattr(f)).size).toBe(4n);
      } finally {
        await store.close();
      }
    }
  });

  it("read back as a flat model says, with the change moving at every change, whatever the order of WRITEs, truncates, COMMITs and restarts", async () => {
    type Step =
      | { kind: "write"; at: number; length: number; fill: number; stable: boolean }
      | { kind: "truncate"; size: number }
      | { kind: "commit" }
      | { kind: "restart" };
    const step: fc.Arbitrary<Step> = fc.oneof(
      {
        weight: 6,
        arbitrary: fc.record({
          kind: fc.constant("write" as const),
          // Mostly inside or at the end of the file; sometimes past it (a hole).
          at: fc.nat(600),
          length: fc.integer({ min: 1, max: 200 }),
          fill: fc.integer({ min: 1, max: 255 }),
          stable: fc.boolean(),
        }),
      },
      {
        weight: 2,
        arbitrary: fc.record({ kind: fc.constant("truncate" as const), size: fc.nat(500) }),
      },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant("commit" as const) }) },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant("restart" as const) }) },
    );
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 30 }), async (steps) => {
        const at = `p${++seq}`;
        let s = await open({}, at);
        try {
          const f = await newFile(s.fs, "m");
          let model = new Uint8Array(0);
          let change = (await s.fs.getattr(f)).change;
          for (const st of steps) {
            if (st.kind === "write") {
              const end = st.at + st.length;
              if (end > model.length) {
                const grown = new Uint8Array(end);
                grown.set(model);
                model = grown;
              }
              model.fill(st.fill, st.at, end);
              await s.fs.write(
                f,
                BigInt(st.at),
                bytes(st.length, st.fill),
                st.stable ? stable_how4.FILE_SYNC4 : U,
              );
            } else if (st.kind === "truncate") {
              const cut = new Uint8Array(st.size);
              cut.set(model.subarray(0, Math.min(st.size, model.length)));
              if (st.size === model.length) {
                model = cut;
                continue;
              }
              model = cut;
              await s.fs.setattr(f, { size: BigInt(st.size) });
            } else if (st.kind === "commit") {
              await s.fs.commit(f, 0n, 0);
            } else {
              // A clean restart: what is held goes into the store at close().
              await s.fs.close();
              s = await open({}, at);
            }
            const a = await s.fs.getattr(f);
            expect(a.size).toBe(BigInt(model.length));
            if (st.kind === "commit" || st.kind === "restart") expect(a.change).toBe(change);
            else expect(a.change).toBeGreaterThan(change);
            change = a.change;
            const r = await s.fs.read(f, 0n, 1000);
            expect(r.data).toEqual(model);
          }
          await s.fs.commit(f, 0n, 0);
          expect((await stored(s, f)).size).toBe(BigInt(model.length));
        } finally {
          await s.fs.close();
        }
      }),
      { numRuns: 40 },
    );
  });
});

// A WRITE that makes a file longer cuts the file's payload to the old size
// first unless the payload is known to hold nothing past it (clean-tails.ts):
// a kill -9 may keep an UNSTABLE4 WRITE's committed size and lose its data,
// held by write-behind, and the file must then read zeros past the old size,
// never what a truncation cut. What a kill -9 leaves is read here straight
// from the disk: the committed record (the SQLite database) and the payload
// file (below write-behind).

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { stable_how4 } from "../../generated/nfs4/index.js";
import type { FileHandle } from "../../src/fs/backend.js";
import { CleanTails } from "../../src/store/clean-tails.js";
import { LocalPayloadStore } from "../../src/store/local-payload.js";
import type { PayloadStore } from "../../src/store/payload.js";
import { SqliteMetadataStore } from "../../src/store/sqlite-metadata.js";
import { StoreFileSystem, type StoreFsOptions } from "../../src/store/store-fs.js";
import { parseStoreHandle } from "../../src/store/store-handles.js";
import { WriteBehindPayloadStore } from "../../src/store/write-behind.js";

const root = mkdtempSync(join(tmpdir(), "dfs-clean-tails-test-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let seq = 0;

const ATTRS = { mode: 0o644, uid: 0, gid: 0 };
const bytes = (n: number, fill: number) => new Uint8Array(n).fill(fill);

/** One store's files: the database and the payload directory. */
interface Place {
  readonly file: string;
  readonly payloadDir: string;
}

interface Opened {
  readonly fs: StoreFileSystem;
  readonly meta: SqliteMetadataStore;
  /** The payload files as a crash leaves them (below write-behind). */
  readonly disk: LocalPayloadStore;
  /** Payload ids truncate() was called with, in order (above write-behind). */
  readonly truncated: string[];
}

/** Opens the store at `place`: write-behind over payload files, as a data directory has. */
async function open(place: Place, options: Partial<StoreFsOptions>): Promise<Opened> {
  const meta = SqliteMetadataStore.open(place.file);
  const disk = new LocalPayloadStore(place.payloadDir, 8);
  const behind = new WriteBehindPayloadStore(disk, {
    fileMaxBytes: 64 * 1024,
    maxBytes: 1024 * 1024,
    // Long enough to outlast each test: the data stays in memory.
    maxAgeMs: 60_000,
  });
  const truncated: string[] = [];
  const payloads: PayloadStore = {
    read: (id, offset, count) => behind.read(id, offset, count),
    write: (id, offset, data) => behind.write(id, offset, data),
    truncate: (id, size) => {
      truncated.push(id);
      return behind.truncate(id, size);
    },
    commit: (id) => behind.commit(id),
    delete: (id) => behind.delete(id),
    ids: () => behind.ids(),
    space: () => behind.space(),
    close: () => behind.close(),
  };
  const fs = await StoreFileSystem.open(meta, payloads, options);
  return { fs, meta, disk, truncated };
}

function place(): Place {
  const at = `s${++seq}`;
  return { file: join(root, `${at}.sqlite`), payloadDir: join(root, `${at}-payload`) };
}

/** The size the database holds for `handle` (without attributes held in memory). */
async function committedSize(s: Opened, handle: FileHandle): Promise<bigint> {
  const id = parseStoreHandle(s.meta.identity.storeId, handle);
  return s.meta.view(async (tx) => (await tx.getObject(id))!.size);
}

async function payloadOf(s: Opened, handle: FileHandle): Promise<string> {
  return `f${(await s.fs.getattr(handle)).fileid}`;
}

async function until(condition: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 2000 && !(await condition()); i++) await new Promise((r) => setTimeout(r, 5));
  expect(await condition()).toBe(true);
}

describe("an extending WRITE and the bytes past a file's old size", () => {
  // heldAttributesFiles 0: the size goes into the database with the WRITE, as
  // on PostgreSQL; with held attributes it goes in at the age limit (here at
  // once), while write-behind still holds the data.
  for (const [label, options] of [
    ["its size committed by its transaction", { heldAttributesFiles: 0 }],
    ["its held size folded into the store", { heldAttributesMaxAgeMs: 1 }],
  ] as const) {
    it(`a crash that keeps the new size (${label}) but not the data shows zeros there, never bytes a shrink cut`, async () => {
      const at = place();
      let s = await open(at, options);
      const exp = (await s.fs.lookup(await s.fs.root(), "export")).handle;
      const f = (await s.fs.create(exp, "f", { kind: "guarded" }, ATTRS)).handle;
      await s.fs.write(f, 0n, bytes(10_000, 7), stable_how4.FILE_SYNC4);
      await s.fs.setattr(f, { size: 3000n });
      const payload = await payloadOf(s, f);
      await s.fs.close();
      // A crash between the shrink's commit and the cut of its payload
      // (trimPayload) leaves the cut bytes in the payload file.
      await s.disk.write(payload, 3000, bytes(7000, 7));
      await s.disk.close();

      s = await open(at, options);
      try {
        const w = await s.fs.write(f, 2000n, bytes(4000, 9), stable_how4.UNSTABLE4);
        expect(w.committed).toBe(stable_how4.UNSTABLE4);
        await until(async () => (await committedSize(s, f)) === 6000n);
        // What a kill -9 now leaves: size 6000 committed; past 3000 the payload
        // file holds zeros or the WRITE's data, never the bytes the shrink cut.
        const onDisk = await s.disk.read(payload, 0, 6000);
        const past = Array.from(onDisk.subarray(3000));
        expect(past.filter((b) => b !== 0 && b !== 9)).toEqual([]);
        expect(Array.from(onDisk.subarray(0, 3000)).every((b) => b === 7)).toBe(true);
        // And the file as the server reads it now.
        const read = (await s.fs.read(f, 0n, 10_000)).data;
        expect(Buffer.from(read)).toEqual(Buffer.concat([bytes(2000, 7), bytes(4000, 9)]));
      } finally {
        await s.fs.close();
        await s.disk.close();
      }
    });
  }

  it("cuts a payload once per run before extending it, and never one this run made", async () => {
    const at = place();
    let s = await open(at, {});
    const exp = (await s.fs.lookup(await s.fs.root(), "export")).handle;
    const f = (await s.fs.create(exp, "f", { kind: "guarded" }, ATTRS)).handle;
    const append = async (n: number): Promise<void> => {
      for (let i = 0; i < n; i++) {
        const size = (await s.fs.getattr(f)).size;
        await s.fs.write(f, size, bytes(4096, 1 + i), stable_how4.UNSTABLE4);
      }
      await s.fs.commit(f, 0n, 0);
    };
    try {
      await append(3);
      expect(s.truncated).toEqual([]);
    } finally {
      await s.fs.close();
    }
    // A new run does not know what the payload holds past the size: one cut, at the first extension.
    s = await open(at, {});
    try {
      await append(3);
      expect(s.truncated).toEqual([await payloadOf(s, f)]);
      expect((await s.fs.getattr(f)).size).toBe(6n * 4096n);
    } finally {
      await s.fs.close();
    }
    // Remembering none: every extension cuts first.
    s = await open(at, { cleanTailFiles: 0 });
    try {
      await append(2);
      expect(s.truncated).toHaveLength(2);
    } finally {
      await s.fs.close();
    }
  });

  it("growing by SETATTR leaves a payload clean; a shrink forgets it until its cut", async () => {
    const s = await open(place(), { heldAttributesFiles: 0 });
    try {
      const exp = (await s.fs.lookup(await s.fs.root(), "export")).handle;
      const f = (await s.fs.create(exp, "f", { kind: "guarded" }, ATTRS)).handle;
      await s.fs.write(f, 0n, bytes(100, 1), stable_how4.UNSTABLE4);
      expect(s.truncated).toHaveLength(0);
      // Growing drops what lies past the old size, then extends: two cuts, and clean after.
      await s.fs.setattr(f, { size: 200n });
      expect(s.truncated).toHaveLength(2);
      await s.fs.write(f, 200n, bytes(10, 2), stable_how4.UNSTABLE4);
      expect(s.truncated).toHaveLength(2);
      // Shrinking cuts after its commit (one cut), and so is clean again after it.
      await s.fs.setattr(f, { size: 50n });
      expect(s.truncated).toHaveLength(3);
      await s.fs.write(f, 50n, bytes(100, 3), stable_how4.UNSTABLE4);
      expect(s.truncated).toHaveLength(3);
      expect(Array.from((await s.fs.read(f, 0n, 300)).data)).toEqual([
        ...bytes(50, 1),
        ...bytes(100, 3),
      ]);
    } finally {
      await s.fs.close();
    }
  });
});

describe("CleanTails", () => {
  it("remembers at most max payloads, forgetting the oldest first; 0 remembers none", () => {
    const t = new CleanTails(2);
    t.add("a");
    t.add("b");
    t.add("a");
    t.add("c");
    expect([t.has("a"), t.has("b"), t.has("c")]).toEqual([true, false, true]);
    t.forget("a");
    expect(t.has("a")).toBe(false);
    expect(t.size).toBe(1);
    const none = new CleanTails(0);
    none.add("a");
    expect(none.has("a")).toBe(false);
  });
});

// WriteBehindPayloadStore (src/store/write-behind.ts): small writes are held
// in memory and reach the store behind it in order, before its commit, before
// any other use of the payload, past the byte limits and after maxAgeMs; a
// payload deleted meanwhile never reaches it; a lost hand-on fails the commit.

import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, describe, expect, it, vi } from "vitest";
import { nfs_ftype4, stable_how4 } from "../../generated/nfs4/index.js";
import { openDataDir } from "../../src/store/data-dir.js";
import { LocalPayloadStore } from "../../src/store/local-payload.js";
import type { PayloadSpace, PayloadStore } from "../../src/store/payload.js";
import { WriteBehindPayloadStore, type WriteBehindLimits } from "../../src/store/write-behind.js";

const root = mkdtempSync(join(tmpdir(), "dfs-write-behind-test-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));
afterEach(() => {
  vi.useRealTimers();
});

const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);
const text = (b: Uint8Array): string => Buffer.from(b).toString("latin1");

/** An in-memory payload store that records each call it gets. */
class RecordingStore implements PayloadStore {
  readonly calls: string[] = [];
  readonly data = new Map<string, Buffer>();
  /** Each write waits for this before it lands (to hold a hand-on in progress). */
  gate: Promise<void> = Promise.resolve();
  /** The next write fails with this. */
  failNext: Error | null = null;

  async write(id: string, offset: number, data: Uint8Array): Promise<void> {
    this.calls.push(`write ${id} ${offset} ${text(data)}`);
    await this.gate;
    if (this.failNext !== null) {
      const e = this.failNext;
      this.failNext = null;
      throw e;
    }
    const old = this.data.get(id) ?? Buffer.alloc(0);
    const next = Buffer.alloc(Math.max(old.length, offset + data.length));
    old.copy(next);
    next.set(data, offset);
    this.data.set(id, next);
  }
  async read(id: string, offset: number, count: number): Promise<Uint8Array> {
    this.calls.push(`read ${id}`);
    return (this.data.get(id) ?? Buffer.alloc(0)).subarray(offset, offset + count);
  }
  async truncate(id: string, size: number): Promise<void> {
    this.calls.push(`truncate ${id} ${size}`);
    const old = this.data.get(id) ?? Buffer.alloc(0);
    const next = Buffer.alloc(size);
    old.copy(next, 0, 0, Math.min(size, old.length));
    this.data.set(id, next);
  }
  async commit(id: string): Promise<void> {
    this.calls.push(`commit ${id}`);
  }
  async delete(id: string): Promise<void> {
    this.calls.push(`delete ${id}`);
    this.data.delete(id);
  }
  async *ids(): AsyncIterable<string> {
    yield* this.data.keys();
  }
  async space(): Promise<PayloadSpace> {
    return { totalBytes: 0n, freeBytes: 0n, availBytes: 0n };
  }
  async close(): Promise<void> {
    this.calls.push("close");
  }
}

const LIMITS: WriteBehindLimits = { fileMaxBytes: 16, maxBytes: 1 << 20, maxAgeMs: 60_000 };

function stores(limits: Partial<WriteBehindLimits> = {}): {
  inner: RecordingStore;
  wb: WriteBehindPayloadStore;
} {
  const inner = new RecordingStore();
  return { inner, wb: new WriteBehindPayloadStore(inner, { ...LIMITS, ...limits }) };
}

describe("WriteBehindPayloadStore", () => {
  it("holds small writes until the commit, then hands them on as one write before committing", async () => {
    const { inner, wb } = stores();
    await wb.write("p", 0, bytes("abc"));
    await wb.write("p", 3, bytes("def"));
    // Overwrites inside the extent land in place.
    await wb.write("p", 1, bytes("B"));
    expect(inner.calls).toEqual([]);
    expect(wb.bytesHeld).toBeGreaterThan(0);
    await wb.commit("p");
    expect(inner.calls).toEqual(["write p 0 aBcdef", "commit p"]);
    expect(wb.bytesHeld).toBe(0);
    await wb.close();
  });

  it("copies what it holds: the caller may reuse its buffer at once", async () => {
    const { inner, wb } = stores();
    const buf = bytes("xyz");
    await wb.write("p", 0, buf);
    buf.fill(0);
    await wb.commit("p");
    expect(text(inner.data.get("p") ?? Buffer.alloc(0))).toBe("xyz");
  });

  it("never hands on the writes of a payload deleted first", async () => {
    const { inner, wb } = stores();
    await wb.write("p", 0, bytes("temp"));
    await wb.delete("p");
    await wb.close();
    expect(inner.calls).toEqual(["delete p", "close"]);
    expect(wb.bytesHeld).toBe(0);
  });

  it("hands the held writes on before a read, a truncate and a write it cannot join, in order", async () => {
    const { inner, wb } = stores();
    await wb.write("p", 0, bytes("0123"));
    expect(text(await wb.read("p", 0, 10))).toBe("0123");
    await wb.write("p", 2, bytes("ab"));
    await wb.truncate("p", 3);
    // A gap after the extent: the held bytes go first, then the new write is held.
    await wb.write("p", 0, bytes("x"));
    await wb.write("p", 5, bytes("y"));
    await wb.commit("p");
    expect(inner.calls).toEqual([
      "write p 0 0123",
      "read p",
      "write p 2 ab",
      "truncate p 3",
      "write p 0 x",
      "write p 5 y",
      "commit p",
    ]);
    expect(text(inner.data.get("p") ?? Buffer.alloc(0))).toBe("x1a\0\0y");
  });

  it("sends a write bigger than fileMaxBytes straight on, after the held writes it may overwrite", async () => {
    const { inner, wb } = stores({ fileMaxBytes: 4 });
    await wb.write("p", 0, bytes("old"));
    await wb.write("p", 0, bytes("newer!"));
    expect(inner.calls).toEqual(["write p 0 old", "write p 0 newer!"]);
    // An extent may not grow past fileMaxBytes either.
    await wb.write("q", 0, bytes("abc"));
    await wb.write("q", 3, bytes("de"));
    expect(inner.calls.slice(2)).toEqual(["write q 0 abc"]);
    await wb.close();
    expect(inner.calls.slice(3)).toEqual(["write q 3 de", "close"]);
  });

  it("hands on the oldest payloads' writes once maxBytes is passed", async () => {
    // Each payload counts at least 4 KiB: the third passes 8 KiB.
    const { inner, wb } = stores({ maxBytes: 8192 });
    await wb.write("a", 0, bytes("1"));
    await wb.write("b", 0, bytes("2"));
    expect(inner.calls).toEqual([]);
    await wb.write("c", 0, bytes("3"));
    expect(inner.calls).toEqual(["write a 0 1"]);
    expect(wb.bytesHeld).toBe(8192);
    await wb.close();
  });

  it("hands writes on once the first of them has been held maxAgeMs", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "performance"] });
    const { inner, wb } = stores({ maxAgeMs: 1000 });
    await wb.write("a", 0, bytes("1"));
    await vi.advanceTimersByTimeAsync(600);
    await wb.write("b", 0, bytes("2"));
    await wb.write("a", 1, bytes("1"));
    await vi.advanceTimersByTimeAsync(399);
    expect(inner.calls).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(inner.calls).toEqual(["write a 0 11"]);
    await vi.advanceTimersByTimeAsync(600);
    expect(inner.calls).toEqual(["write a 0 11", "write b 0 2"]);
    expect(wb.bytesHeld).toBe(0);
    await wb.close();
  });

  it("waits for a hand-on in progress before deleting, so the payload does not come back", async () => {
    const { inner, wb } = stores({ maxBytes: 0 });
    let open!: () => void;
    inner.gate = new Promise((r) => (open = r));
    // maxBytes 0: handed on at once, and that write is held at the gate.
    const writing = wb.write("p", 0, bytes("data"));
    await Promise.resolve();
    const deleting = wb.delete("p");
    let deleted = false;
    void deleting.then(() => (deleted = true));
    await new Promise((r) => setImmediate(r));
    expect(deleted).toBe(false);
    open();
    await Promise.all([writing, deleting]);
    expect(inner.calls).toEqual(["write p 0 data", "delete p"]);
    expect(inner.data.has("p")).toBe(false);
  });

  it("closes the store behind only after every hand-on in progress", async () => {
    const { inner, wb } = stores({ maxBytes: 0 });
    let open!: () => void;
    inner.gate = new Promise((r) => (open = r));
    const writing = wb.write("p", 0, bytes("data"));
    const closing = wb.close();
    await new Promise((r) => setImmediate(r));
    expect(inner.calls).toEqual(["write p 0 data"]);
    open();
    await Promise.all([writing, closing]);
    expect(inner.calls).toEqual(["write p 0 data", "close"]);
  });

  it("fails the next commit of a payload whose held writes were lost, once", async () => {
    const { inner, wb } = stores({ maxBytes: 4096 });
    inner.failNext = Object.assign(new Error("no space"), { code: "ENOSPC" });
    await wb.write("p", 0, bytes("lost"));
    // Pushes p out; its hand-on fails, and the write of q is not the one to hear of it.
    await wb.write("q", 0, bytes("kept"));
    await expect(wb.commit("p")).rejects.toThrow("no space");
    await wb.commit("p");
    await wb.commit("q");
    expect(text(inner.data.get("q") ?? Buffer.alloc(0))).toBe("kept");
  });

  it("lists held payloads with the stored ones, each once", async () => {
    const { wb } = stores();
    await wb.write("held", 0, bytes("1"));
    await wb.write("both", 0, bytes("1"));
    await wb.commit("both");
    await wb.write("both", 1, bytes("2"));
    const ids: string[] = [];
    for await (const id of wb.ids()) ids.push(id);
    expect(ids.sort()).toEqual(["both", "held"]);
  });

  it("in front of LocalPayloadStore: a small payload written and deleted before a commit never becomes a file", async () => {
    const dir = join(root, "local");
    const wb = new WriteBehindPayloadStore(new LocalPayloadStore(dir, 4), LIMITS);
    await wb.write("tmp", 0, bytes("scratch"));
    expect(readdirSync(dir)).toEqual([]);
    await wb.delete("tmp");
    await wb.write("kept", 0, bytes("data"));
    await wb.commit("kept");
    expect(readdirSync(dir)).toEqual(["kept"]);
    expect(text(await wb.read("kept", 0, 10))).toBe("data");
    await wb.close();
  });
});

describe("write-behind in a data directory", () => {
  it("is on by default: an UNSTABLE4 write reaches its payload file at COMMIT, and a file removed before one leaves none", async () => {
    const dir = join(root, "data");
    const store = await openDataDir(dir);
    const payloadDir = join(dir, "payload");
    const files = (): string[] => (existsSync(payloadDir) ? readdirSync(payloadDir) : []);
    try {
      const { fs } = store;
      const top = await fs.root();
      const make = (name: string) =>
        fs.create(top, name, { kind: "unchecked" }, { mode: 0o644, uid: 0, gid: 0 });
      const a = await make("a");
      await fs.write(a.handle, 0n, bytes("unstable"), stable_how4.UNSTABLE4);
      expect(files()).toEqual([]);
      expect(text((await fs.read(a.handle, 0n, 100)).data)).toBe("unstable");
      expect(files().length).toBe(1);
      const b = await make("b");
      await fs.write(b.handle, 0n, bytes("committed"), stable_how4.UNSTABLE4);
      await fs.commit(b.handle, 0n, 0);
      expect(files().length).toBe(2);
      const c = await make("c");
      await fs.write(c.handle, 0n, bytes("gone"), stable_how4.UNSTABLE4);
      await fs.remove(top, "c");
      expect((await fs.getattr(b.handle)).type).toBe(nfs_ftype4.NF4REG);
    } finally {
      await store.close();
    }
    // Closing hands on whatever is still held: c was removed, so it never became a file.
    expect(files().length).toBe(2);
  });
});

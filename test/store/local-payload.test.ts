import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { LocalPayloadStore } from "../../src/store/local-payload.js";

const root = mkdtempSync(join(tmpdir(), "dfs-payload-test-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);
const text = (b: Uint8Array): string => Buffer.from(b).toString("latin1");

/** Requests of this process libuv's thread pool holds now. */
const poolRequests = (): number =>
  process.getActiveResourcesInfo().filter((r) => r === "FSReqCallback" || r === "FSReqPromise")
    .length;

const SMALL_IN_PLACE = 64 * 1024;

// Every case runs twice: small work in place (the default), and everything on the thread pool.
describe.each([
  { mode: "small work in place", inlineIoMaxBytes: SMALL_IN_PLACE },
  { mode: "everything on the thread pool", inlineIoMaxBytes: 0 },
])("LocalPayloadStore, $mode", ({ inlineIoMaxBytes }) => {
  /** A store in a directory of this mode's own. */
  const store = (name: string, maxOpenFiles: number): { p: LocalPayloadStore; dir: string } => {
    const dir = join(root, `${name}-${inlineIoMaxBytes}`);
    return { p: new LocalPayloadStore(dir, maxOpenFiles, inlineIoMaxBytes), dir };
  };

  it("writes at offsets, leaving holes of zeros, and reads short at the end", async () => {
    const { p } = store("a", 4);
    await p.write("f1", 4, bytes("xy"));
    expect(text(await p.read("f1", 0, 10))).toBe("\0\0\0\0xy");
    await p.close();
  });

  it("truncates down and up (with zeros), and deletes", async () => {
    const { p, dir } = store("b", 4);
    await p.write("f1", 0, bytes("abcdef"));
    await p.truncate("f1", 2);
    await p.truncate("f1", 4);
    expect(text(await p.read("f1", 0, 10))).toBe("ab\0\0");
    await p.commit("f1");
    await p.delete("f1");
    await p.delete("f1");
    expect(() => statSync(join(dir, "f1"))).toThrow();
    await p.close();
  });

  it("deletes a payload bigger than what runs in place", async () => {
    const { p, dir } = store("big-delete", 4);
    const data = new Uint8Array(4 * SMALL_IN_PLACE).fill(3);
    await p.write("big", 0, data);
    expect((await p.read("big", 0, data.length)).length).toBe(data.length);
    await p.delete("big");
    expect(() => statSync(join(dir, "big"))).toThrow();
    expect((await p.read("big", 0, 10)).length).toBe(0);
    await p.close();
  });

  it("keeps working when it closes files beyond maxOpenFiles, and keeps what was written", async () => {
    const { p } = store("c", 1);
    for (let i = 0; i < 5; i++) await p.write(`f${i}`, 0, bytes(`data ${i}`));
    for (let i = 0; i < 5; i++) expect(text(await p.read(`f${i}`, 0, 100))).toBe(`data ${i}`);
    await p.close();
  });

  it("reads and commits never create a payload: one that is not there reads as nothing", async () => {
    const { p, dir } = store("e", 4);
    expect((await p.read("f1", 0, 10)).length).toBe(0);
    await p.commit("f1");
    expect(() => statSync(join(dir, "f1"))).toThrow();
    // A write after such a read creates it.
    await p.write("f1", 0, bytes("abc"));
    expect(text(await p.read("f1", 0, 10))).toBe("abc");
    await p.delete("f1");
    expect((await p.read("f1", 0, 10)).length).toBe(0);
    expect(() => statSync(join(dir, "f1"))).toThrow();
    await p.close();
  });

  it("closes a file evicted while operations use it only after they are done", async () => {
    const { p } = store("g", 1);
    const data = new Uint8Array(1 << 20).fill(7);
    await p.write("big", 0, data);
    // Reads of "big" in flight while other payloads push it out of the cache.
    const reads = Array.from({ length: 8 }, () => p.read("big", 0, data.length));
    const others = Array.from({ length: 8 }, (_, i) => p.write(`o${i}`, 0, bytes(`x${i}`)));
    await Promise.all(others);
    for (const r of await Promise.all(reads)) expect(r.length).toBe(data.length);
    await p.close();
  });

  it("refuses payload ids that could name another path", async () => {
    const { p } = store("d", 1);
    await expect(p.write("../x", 0, bytes("no"))).rejects.toThrow(/bad payload id/);
    await p.close();
  });

  it(`does small work ${inlineIoMaxBytes > 0 ? "without" : "on"} the thread pool, and big transfers on it`, async () => {
    const { p } = store("pool", 4);
    const small = new Uint8Array(SMALL_IN_PLACE).fill(1);
    const big = new Uint8Array(SMALL_IN_PLACE + 1).fill(2);
    // Each call is looked at before its promise settles: work in place is done by then.
    // Counted against the requests in flight just before the call (not at the start:
    // other requests of this process may still be in flight then, and end meanwhile);
    // none can end between the two counts, which no turn of the event loop separates.
    const steps: Array<() => Promise<unknown>> = [
      () => p.write("s", 0, small), // opens (creates) the file, then writes
      () => p.read("s", 0, small.length),
      () => p.delete("s"), // closes, then unlinks
    ];
    for (const step of steps) {
      const before = poolRequests();
      const done = step();
      if (inlineIoMaxBytes > 0) expect(poolRequests()).toBe(before);
      else expect(poolRequests()).toBeGreaterThan(before);
      await done;
    }
    await p.write("b", 0, small);
    const before = poolRequests();
    const bigWrite = p.write("b", 0, big);
    await Promise.resolve(); // the file is open: the write itself is what is handed off
    expect(poolRequests()).toBe(before + 1);
    await bigWrite;
    await p.close();
  });
});

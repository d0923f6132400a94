// A truncated file gives its buffer back (found by the fuzzer: files grown with
// SETATTR size and truncated again held their largest buffer while the space
// charged against capacityBytes followed the size).

import { describe, expect, it } from "vitest";
import type { FileData } from "../../src/fs/memory-file-data.js";
import { MemoryFileSystem } from "../../src/fs/memory.js";

/** The byte length of every file buffer the filesystem holds (its private node table). */
function buffers(fs: MemoryFileSystem): number[] {
  const nodes = (
    fs as unknown as {
      nodes: Map<bigint, { content: { kind: string; data?: FileData } }>;
    }
  ).nodes;
  return [...nodes.values()].flatMap((n) => (n.content.data ? [n.content.data.capacity] : []));
}

describe("MemoryFileSystem buffers", () => {
  it("shrinks a file's buffer when the file is truncated far below it", async () => {
    const fs = new MemoryFileSystem();
    const root = await fs.root();
    const attrs = { mode: 0o644, uid: 0, gid: 0 };
    const { handle } = await fs.create(root, "big", { kind: "unchecked" }, attrs);
    // Growing by SETATTR leaves a hole, which holds no memory; writing fills it.
    await fs.setattr(handle, { size: 8n * 1024n * 1024n });
    expect(Math.max(...buffers(fs))).toBe(0);
    await fs.write(handle, 0n, new Uint8Array(8 * 1024 * 1024).fill(9), 2);
    expect(Math.max(...buffers(fs))).toBeGreaterThanOrEqual(8 * 1024 * 1024);
    await fs.write(handle, 0n, new Uint8Array([1, 2, 3]), 2);
    await fs.setattr(handle, { size: 3n });
    expect(Math.max(...buffers(fs))).toBeLessThan(128 * 1024);
    // The data before the cut survives; growing again reads zeros after it.
    await fs.setattr(handle, { size: 6n });
    const r = await fs.read(handle, 0n, 6);
    expect([...r.data]).toEqual([1, 2, 3, 0, 0, 0]);
  });
});

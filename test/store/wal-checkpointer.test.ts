// Checkpoints on a worker thread (wal-checkpointer.ts): the log stays bounded
// while the store's own connection never checkpoints, and a worker that fails
// hands checkpoints back to that connection.

import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { SqliteMetadataStore } from "../../src/store/sqlite-metadata.js";
import { objectRecord } from "./records.js";
import { RESTART_FRAMES, WalCheckpointer } from "../../src/store/wal-checkpointer.js";

const root = mkdtempSync(join(tmpdir(), "dfs-checkpointer-test-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe("WalCheckpointer", () => {
  it("keeps the log bounded however many commits come back to back", async () => {
    const file = join(root, "a.sqlite");
    const store = SqliteMetadataStore.open(file);
    // RESTART_FRAMES frames, and as many again written while the worker copies (4 KiB pages).
    const bound = 2 * RESTART_FRAMES * (4096 + 24);
    try {
      // Each commit adds an object and an entry (several pages): 3000 of them
      // grow a log that never restarts to about 75 MiB.
      for (let i = 0; i < 3000; i++)
        await store.transact(async (tx) => {
          const id = await tx.newObjectId();
          await tx.createObject(objectRecord(id, { payload: `f${id}` }));
          await tx.addEntry(1n, `f${i}`, id);
        });
      expect(store.checkpointFallback).toBeNull();
      expect(statSync(`${file}-wal`).size).toBeLessThanOrEqual(bound);
      expect(await store.view((tx) => tx.objectCount())).toBe(3000n);
    } finally {
      await store.close();
    }
  });

  it("lets a process with nothing else to do finish closing the store", () => {
    // The worker is unreferenced while the store is open; close() must still be waited for.
    const file = join(root, "c.sqlite");
    const script = `
      import { SqliteMetadataStore } from ${JSON.stringify(join(process.cwd(), "src/store/sqlite-metadata.ts"))};
      const s = SqliteMetadataStore.open(${JSON.stringify(file)});
      await s.close();
      console.log("closed");
    `;
    const out = execFileSync(
      process.execPath,
      ["--import", "tsx", "--input-type=module", "-e", script],
      {
        encoding: "utf8",
      },
    );
    expect(out.trim()).toBe("closed");
  });

  it("calls back once when its worker fails (here: no database to open)", async () => {
    const reasons: string[] = [];
    const failed = new Promise<void>((resolve) => {
      const c = new WalCheckpointer(join(root, "missing", "dir", "x.sqlite"), (reason) => {
        reasons.push(reason);
        resolve();
      });
      c.committed();
    });
    await failed;
    expect(reasons).toHaveLength(1);
    expect(reasons[0]).toMatch(/checkpoint worker/);
  });
});

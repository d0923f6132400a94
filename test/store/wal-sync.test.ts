import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { WalSync } from "../../src/store/wal-sync.js";

const root = mkdtempSync(join(tmpdir(), "dfs-walsync-test-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe("WalSync", () => {
  it("resolves every waiter once its commit is synced; nothing to sync resolves at once", async () => {
    const wal = join(root, "ok-wal");
    writeFileSync(wal, "frames");
    const s = new WalSync(wal, 0);
    await s.durable(s.lastCommit);
    const commits = [s.committedOne(), s.committedOne(), s.committedOne()];
    await Promise.all(commits.map((c) => s.durable(c)));
    expect(s.lastCommit).toBe(3);
    await s.close();
  });

  it("is fail-stop: after a failed sync every later wait fails too", async () => {
    const s = new WalSync(join(root, "missing-wal"), 0);
    const first = s.committedOne();
    await expect(s.durable(first)).rejects.toMatchObject({ code: "ENOENT" });
    writeFileSync(join(root, "missing-wal"), "frames");
    const second = s.committedOne();
    await expect(s.durable(second)).rejects.toMatchObject({ code: "ENOENT" });
    await s.close();
  });

  it("syncs a commit nobody waits behind in place, once the log is open; others on the pool", async () => {
    const wal = join(root, "inplace-wal");
    writeFileSync(wal, "frames");
    const s = new WalSync(wal, 1000);
    // The first sync opens the log, on the pool.
    await s.durable(s.committedOne(), true);
    expect(s.syncs).toEqual({ inPlace: 0, pool: 1 });
    await s.durable(s.committedOne(), true);
    expect(s.syncs).toEqual({ inPlace: 1, pool: 1 });
    // Another commit waits: the pool's sync serves both.
    await s.durable(s.committedOne(), false);
    expect(s.syncs).toEqual({ inPlace: 1, pool: 2 });
    // Nothing new since the last sync: nothing to do.
    await s.durable(s.lastCommit, true);
    expect(s.syncs).toEqual({ inPlace: 1, pool: 2 });
    await s.close();
  });

  it("goes back to the pool while in-place syncs are slower than the limit, and never syncs in place at 0", async () => {
    const wal = join(root, "slow-wal");
    writeFileSync(wal, "frames");
    // No fdatasync is this quick: after the first in-place one the average is over the limit.
    const s = new WalSync(wal, 1e-9);
    await s.durable(s.committedOne(), true);
    await s.durable(s.committedOne(), true);
    await s.durable(s.committedOne(), true);
    expect(s.syncs).toEqual({ inPlace: 1, pool: 2 });
    await s.close();
    const never = new WalSync(wal, 0);
    for (let i = 0; i < 3; i++) await never.durable(never.committedOne(), true);
    expect(never.syncs).toEqual({ inPlace: 0, pool: 3 });
    await never.close();
  });
});

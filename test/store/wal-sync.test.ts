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
    const s = new WalSync(wal);
    await s.durable(s.lastCommit);
    const commits = [s.committedOne(), s.committedOne(), s.committedOne()];
    await Promise.all(commits.map((c) => s.durable(c)));
    expect(s.lastCommit).toBe(3);
    await s.close();
  });

  it("is fail-stop: after a failed sync every later wait fails too", async () => {
    const s = new WalSync(join(root, "missing-wal"));
    const first = s.committedOne();
    await expect(s.durable(first)).rejects.toMatchObject({ code: "ENOENT" });
    writeFileSync(join(root, "missing-wal"), "frames");
    const second = s.committedOne();
    await expect(s.durable(second)).rejects.toMatchObject({ code: "ENOENT" });
    await s.close();
  });
});

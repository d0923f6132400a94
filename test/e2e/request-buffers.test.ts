// Large requests (1 MiB WRITEs) are joined into buffers the RPC server's pool
// lends (rpc/record.ts) and given back once their call is answered: a buffer
// reused while a WRITE still needed it, or a store that kept a view of it,
// would put one WRITE's bytes into another's file. Several clients write
// 1 MiB chunks of different files at once, on the memory store and the
// SQLite store; every byte must read back as written.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { OPEN4_SHARE_ACCESS_BOTH, stable_how4 } from "../../generated/nfs4/index.js";
import { closeFile, openFile, ops } from "../../src/client/index.js";
import { MemoryFileSystem } from "../../src/fs/memory.js";
import type { FileSystem } from "../../src/fs/backend.js";
import { openDataDir } from "../../src/store/data-dir.js";
import { ST, establishReady, expectReadBack, startServer } from "./support.js";

const MIB = 1024 * 1024;
const CLIENTS = 3;
const CHUNKS = 4;

/** The byte at `offset` of file `f`: every chunk of every file differs. */
const byteOf = (f: number, offset: number): number =>
  (f * 89 + (offset >> 20) * 29 + offset * 7) & 0xff;

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function sqlite(): Promise<{ fs: FileSystem; close: () => Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), "dfs-reqbuf-"));
  dirs.push(dir);
  const store = await openDataDir(dir);
  return { fs: store.fs, close: () => store.close() };
}

describe.each([
  ["memory", async () => ({ fs: new MemoryFileSystem() as FileSystem, close: async () => {} })],
  ["sqlite", sqlite],
])("request buffers on the %s store", (_name, open) => {
  it("are reused across WRITEs, and every file holds exactly its own bytes", async () => {
    const store = await open();
    const running = await startServer({ fs: store.fs });
    try {
      await Promise.all(
        Array.from({ length: CLIENTS }, async (_, f) => {
          const { session } = await establishReady(running.port);
          const file = await openFile(session, `/export/wb-${f}`, {
            access: OPEN4_SHARE_ACCESS_BOTH,
            create: true,
          });
          // Two passes: the second overwrites every chunk with the same bytes
          // in reverse order, from buffers the first pass gave back.
          for (const order of [
            [0, 1, 2, 3],
            [3, 2, 1, 0],
          ])
            for (const c of order) {
              const data = Uint8Array.from({ length: MIB }, (_, i) => byteOf(f, c * MIB + i));
              const w = await session.compound([
                ops.putfh(file.fh),
                ops.write(file.stateid, BigInt(c * MIB), data, stable_how4.UNSTABLE4),
              ]);
              expect(w.status).toBe(ST.NFS4_OK);
            }
          for (let c = 0; c < CHUNKS; c++)
            await expectReadBack(
              session,
              file,
              c * MIB,
              MIB,
              (at) => byteOf(f, at),
              `file ${f} chunk ${c}`,
            );
          await closeFile(session, file);
        }),
      );
      const pool = running.server.rpc.stats().requestBuffers;
      expect(pool.taken).toBe(CLIENTS * CHUNKS * 2);
      // At most one WRITE per client is in flight: all but the first few reuse a buffer.
      expect(pool.reused).toBeGreaterThanOrEqual(pool.taken - CLIENTS);
    } finally {
      await running.server.close();
      await store.close();
    }
  });
});

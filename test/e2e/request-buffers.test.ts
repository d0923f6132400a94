// Large requests (1 MiB WRITEs) are joined into buffers the RPC server's pool
// lends (rpc/record.ts) and given back once their call is answered: a buffer
// reused while a WRITE still needed it, or a store that kept a view of it,
// would put one WRITE's bytes into another's file. The memory store keeps a
// whole-chunk WRITE's bytes in the buffer they arrived in (it adopts it) and
// gives back the buffer of the chunk that WRITE replaced: one given back while
// still a file's, or while its own call was being answered, would be
// overwritten by the next request. Several clients write 1 MiB chunks of
// different files at once, then overwrite them, then write scratch files (new
// requests arriving in the buffers given back), on the memory store and the
// SQLite store; every byte must read back as last written.

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

/** The byte at `offset` of file `f` in pass `p`: every chunk of every file in every pass differs. */
const byteOf = (f: number, offset: number, p: number): number =>
  (f * 89 + (offset >> 20) * 29 + offset * 7 + p * 53) & 0xff;

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
])("request buffers on the %s store", (name, open) => {
  it("are reused across WRITEs, and every file holds exactly its own bytes", async () => {
    const store = await open();
    const running = await startServer({ fs: store.fs });
    try {
      const sessions = await Promise.all(
        Array.from({ length: CLIENTS }, async () => (await establishReady(running.port)).session),
      );
      /** Client `f` writes file `path` chunk by chunk, in each pass's order, with that pass's bytes. */
      const writeChunks = async (
        f: number,
        path: string,
        passes: readonly (readonly number[])[],
      ) => {
        const session = sessions[f]!;
        const file = await openFile(session, path, {
          access: OPEN4_SHARE_ACCESS_BOTH,
          create: true,
        });
        for (const [p, order] of passes.entries())
          for (const c of order) {
            const data = Uint8Array.from({ length: MIB }, (_, i) => byteOf(f, c * MIB + i, p));
            const w = await session.compound([
              ops.putfh(file.fh),
              ops.write(file.stateid, BigInt(c * MIB), data, stable_how4.UNSTABLE4),
            ]);
            expect(w.status).toBe(ST.NFS4_OK);
          }
        return file;
      };
      // Two passes: the second overwrites every chunk with other bytes, in
      // reverse order, in buffers the first pass (or, on the memory store,
      // the chunks it replaces) gave back.
      const files = await Promise.all(
        Array.from({ length: CLIENTS }, (_, f) =>
          writeChunks(f, `/export/wb-${f}`, [
            [0, 1, 2, 3],
            [3, 2, 1, 0],
          ]),
        ),
      );
      // New requests arrive in whatever buffers came back; the files above must not change.
      const scratch = await Promise.all(
        Array.from({ length: CLIENTS }, (_, f) =>
          writeChunks(f, `/export/scratch-${f}`, [[0, 1, 2, 3]]),
        ),
      );
      await Promise.all(
        files.map(async (file, f) => {
          for (let c = 0; c < CHUNKS; c++)
            await expectReadBack(
              sessions[f]!,
              file,
              c * MIB,
              MIB,
              (at) => byteOf(f, at, 1),
              `file ${f} chunk ${c}`,
            );
          await closeFile(sessions[f]!, file);
          await closeFile(sessions[f]!, scratch[f]!);
        }),
      );
      const pool = running.server.rpc.stats().requestBuffers;
      const writes = CLIENTS * CHUNKS * 3;
      expect(pool.taken).toBe(writes);
      if (name === "memory") {
        // Every WRITE is a whole chunk: its file keeps the buffer it arrived in.
        expect(pool.adopted).toBe(writes);
        // In the second pass each WRITE but a client's first arrives in the
        // buffer of the chunk its previous WRITE replaced.
        expect(pool.reused).toBeGreaterThanOrEqual(CLIENTS * (CHUNKS - 1));
      } else {
        expect(pool.adopted).toBe(0);
        // At most one WRITE per client is in flight: all but the first few reuse a buffer.
        expect(pool.reused).toBeGreaterThanOrEqual(pool.taken - CLIENTS);
      }
    } finally {
      await running.server.close();
      await store.close();
    }
  });
});

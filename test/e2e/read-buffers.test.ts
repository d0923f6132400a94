// READ data buffers are lent by xdr/io-buffers.ts's pool to the SQLite
// store's payload reads and given back by the connection once the reply is
// written: a buffer reused too early would show one READ's data in another's
// reply. Several clients read 1 MiB chunks of different files at once, over
// and over, and every reply must hold its own file's bytes.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  OPEN4_SHARE_ACCESS_BOTH,
  OPEN4_SHARE_ACCESS_READ,
  stable_how4,
} from "../../generated/nfs4/index.js";
import type { ClientSession } from "../../src/client/index.js";
import { closeFile, openFile, ops } from "../../src/client/index.js";
import { openDataDir, type OpenedStore } from "../../src/store/data-dir.js";
import { ioBuffers } from "../../src/xdr/io-buffers.js";
import { ST, establishReady, expectReadBack, startServer, type Running } from "./support.js";

const MIB = 1024 * 1024;
const FILES = 3;
const CHUNKS = 4;

/** The byte at `offset` of file `f`: every chunk of every file differs. */
const byteOf = (f: number, offset: number): number =>
  (f * 71 + (offset >> 20) * 13 + offset) & 0xff;

describe("READ data buffers", () => {
  let dir: string;
  let store: OpenedStore;
  let running: Running;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "dfs-readbuf-"));
    store = await openDataDir(dir);
    running = await startServer({ fs: store.fs });
  });
  afterAll(async () => {
    await running.server.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function ready(): Promise<ClientSession> {
    return (await establishReady(running.port)).session;
  }

  it("come back once a reply is written, and no reply shows another READ's data", async () => {
    const writer = await ready();
    const files: Awaited<ReturnType<typeof openFile>>[] = [];
    for (let f = 0; f < FILES; f++) {
      const file = await openFile(writer, `/export/rb-${f}`, {
        access: OPEN4_SHARE_ACCESS_BOTH,
        create: true,
      });
      for (let c = 0; c < CHUNKS; c++) {
        const data = Uint8Array.from({ length: MIB }, (_, i) => byteOf(f, c * MIB + i));
        const w = await writer.compound([
          ops.putfh(file.fh),
          ops.write(file.stateid, BigInt(c * MIB), data, stable_how4.FILE_SYNC4),
        ]);
        expect(w.status).toBe(ST.NFS4_OK);
      }
      files.push(file);
    }
    const before = { ...ioBuffers.stats };
    // Each reader (a client of its own) reads its file's chunks three times
    // over, all readers at once.
    await Promise.all(
      files.map(async (_, f) => {
        const session = await ready();
        const mine = await openFile(session, `/export/rb-${f}`, {
          access: OPEN4_SHARE_ACCESS_READ,
        });
        for (let pass = 0; pass < 3; pass++)
          for (let c = 0; c < CHUNKS; c++)
            await expectReadBack(
              session,
              mine,
              c * MIB,
              MIB,
              (at) => byteOf(f, at),
              `file ${f} chunk ${c} pass ${pass}`,
            );
        await closeFile(session, mine);
      }),
    );
    const taken = ioBuffers.stats.taken - before.taken;
    const reused = ioBuffers.stats.reused - before.reused;
    expect(taken).toBe(FILES * CHUNKS * 3);
    // At most one buffer per reader is ever out at once: all but the first few come back.
    expect(reused).toBeGreaterThanOrEqual(taken - 2 * FILES);
    for (const f of files) await closeFile(writer, f);
  });
});

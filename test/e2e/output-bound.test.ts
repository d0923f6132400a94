// NFS READ replies against the transport's output bounds, over TCP: a peer
// that pipelines 1 MiB READs and never reads its socket holds at most
// rpc.maxConnectionOutputBytes of replies queued or being built on the server
// (COMPOUND reserves a READ's reply bound before the backend reads anything),
// other clients are still served, and closing the non-readers releases it all.
// Figures are sampled from the server's stats; nothing asserts on time or RSS.

import type { Socket } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import type { COMPOUND4args, nfs_argop4 } from "../../generated/nfs4/index.js";
import { encodeCOMPOUND4args } from "../../generated/nfs4/index.js";
import { ops } from "../../src/client/index.js";
import type { FileHandle } from "../../src/fs/backend.js";
import { XdrWriter } from "../../src/xdr/index.js";
import { nfsCall } from "./raw-peer.js";
import {
  CountingFileSystem,
  OP,
  ST,
  establish,
  expectAlive,
  rawSocket,
  until,
  useServer,
} from "./support.js";

const MiB = 1024 * 1024;
const BOUND = 4 * MiB;
const PIPELINED = 32;

const fs = new CountingFileSystem({ exportMode: 0o777 });
const running = useServer(() => ({
  fs,
  rpc: { maxConnectionOutputBytes: BOUND, maxTotalOutputBytes: 64 * MiB },
}));

const sockets: Socket[] = [];
afterEach(() => {
  for (const s of sockets.splice(0)) s.destroy();
});

/** /export/big: 1 MiB, readable by anyone; its filehandle. */
async function bigFile(): Promise<FileHandle> {
  const exp = (await fs.lookup(await fs.root(), "export")).handle;
  const { handle } = await fs.create(
    exp,
    "big",
    { kind: "guarded" },
    { mode: 0o644, uid: 0, gid: 0 },
  );
  await fs.write(handle, 0n, new Uint8Array(MiB).fill(7), 2);
  return handle;
}

function readMiB(fh: FileHandle): nfs_argop4[] {
  const stateid = { seqid: 0, other: new Uint8Array(12) };
  return [ops.putfh(fh), { argop: OP.OP_READ, opread: { stateid, offset: 0n, count: MiB } }];
}

describe("READ replies within the connection's output bound", () => {
  it("a non-reading peer holds at most maxConnectionOutputBytes; others are served", async () => {
    const fh = await bigFile();
    const { session } = await establish(running.port);
    const { session: other } = await establish(running.port);
    const peer = await rawSocket(running.port);
    sockets.push(peer);
    peer.pause(); // never read: replies pile up on the server's side
    const records: Buffer[] = [];
    for (let slot = 0; slot < PIPELINED; slot++) {
      const args: COMPOUND4args = {
        tag: new Uint8Array(0),
        minorversion: 1,
        argarray: [
          ops.sequence({
            sa_sessionid: session.id,
            sa_sequenceid: 1,
            sa_slotid: slot,
            sa_highest_slotid: PIPELINED - 1,
            sa_cachethis: false,
          }),
          ...readMiB(fh),
        ],
      };
      const w = new XdrWriter(256);
      encodeCOMPOUND4args(w, args);
      records.push(nfsCall(slot + 1, w.finish()));
    }
    peer.write(Buffer.concat(records));

    let peak = 0;
    let sawWaiting = false;
    const sampler = setInterval(() => {
      for (const c of running.server.rpc.stats().connections) {
        peak = Math.max(peak, c.reserved + c.buffered);
        if (c.waiting > 0) sawWaiting = true;
      }
    }, 2);
    try {
      // The bound is reached: READs wait for room instead of reading.
      await until(() => sawWaiting, "a READ waiting for output room");
      // Another client, on its own connection, is answered meanwhile.
      await expectAlive(other);
      const r = await other.compound(readMiB(fh));
      expect(r.status).toBe(ST.NFS4_OK);
    } finally {
      clearInterval(sampler);
    }
    // One reply may exceed what is left (it is granted whole), never the bound
    // by more than one READ reply.
    expect(peak).toBeGreaterThan(0);
    expect(peak).toBeLessThanOrEqual(BOUND + MiB + 4096);
    // The backend read only what the budget let through, not all 32 MiB.
    expect(fs.bytesRead).toBeLessThan((PIPELINED - 4) * MiB);

    peer.destroy();
    await until(
      () => running.server.rpc.stats().output.used === 0,
      "the non-reader's bytes released",
    );
  });
});

// The client receives large replies (1 MiB READs) into buffers it reuses once
// the caller gives a reply back (ClientConnection.releaseReply). A buffer
// reused while someone still holds the reply would show one READ's data in
// another's result: replies held are never reused, replies released are, and
// every result holds its own bytes either way.

import { describe, expect, it } from "vitest";
import { nfs_opnum4, OPEN4_SHARE_ACCESS_BOTH, stable_how4 } from "../../generated/nfs4/index.js";
import type { ClientSession, SessionReply } from "../../src/client/index.js";
import { closeFile, openFile, ops, resultOf } from "../../src/client/index.js";
import { CLIENT_REPLY_BUFFER_BYTES } from "../../src/client/transport.js";
import { ST, establishReady, useServer } from "../e2e/support.js";

const running = useServer();
const MIB = 1024 * 1024;
const CHUNKS = 3;

/** The byte at `offset` of the test file: every 1 MiB chunk differs. */
const byteOf = (offset: number): number => ((offset >> 20) * 37 + offset) & 0xff;

async function fileOfChunks(
  session: ClientSession,
  name: string,
): Promise<Awaited<ReturnType<typeof openFile>>> {
  const file = await openFile(session, `/export/${name}`, {
    access: OPEN4_SHARE_ACCESS_BOTH,
    create: true,
  });
  for (let c = 0; c < CHUNKS; c++) {
    const data = Uint8Array.from({ length: MIB }, (_, i) => byteOf(c * MIB + i));
    const w = await session.compound([
      ops.putfh(file.fh),
      ops.write(file.stateid, BigInt(c * MIB), data, stable_how4.FILE_SYNC4),
    ]);
    expect(w.status).toBe(ST.NFS4_OK);
  }
  return file;
}

function readOf(
  session: ClientSession,
  file: Awaited<ReturnType<typeof openFile>>,
  chunk: number,
): Promise<SessionReply> {
  return session.compound([ops.putfh(file.fh), ops.read(file.stateid, BigInt(chunk * MIB), MIB)]);
}

/** The READ result's data, checked against chunk `chunk` of the file. */
function expectChunk(reply: SessionReply, chunk: number): Uint8Array {
  const r = resultOf(reply.resarray[1], nfs_opnum4.OP_READ);
  if (r?.status !== ST.NFS4_OK) throw new Error(`READ of chunk ${chunk} failed`);
  const data = r.resok4.data;
  expect(data.length).toBe(MIB);
  let wrong = -1;
  for (let i = 0; i < MIB && wrong < 0; i++) if (data[i] !== byteOf(chunk * MIB + i)) wrong = i;
  expect(wrong, `chunk ${chunk}: first wrong byte`).toBe(-1);
  return data;
}

describe("the client's large reply buffers", () => {
  it("a 1 MiB READ reply fits one", () => {
    // Record mark, RPC header and COMPOUND/SEQUENCE/PUTFH/READ results come to
    // well under 4 KiB around the data.
    expect(CLIENT_REPLY_BUFFER_BYTES).toBeGreaterThanOrEqual(MIB + 1024);
  });

  it("a reply the caller holds is never reused: each keeps its own bytes", async () => {
    const { session } = await establishReady(running.port);
    const file = await fileOfChunks(session, "rb-held");
    const held: SessionReply[] = [];
    for (let pass = 0; pass < 2; pass++)
      for (let c = 0; c < CHUNKS; c++) held.push(await readOf(session, file, c));
    const buffers = new Set(held.map((r) => r.bytes.buffer));
    expect(buffers.size).toBe(held.length);
    held.forEach((r, i) => expectChunk(r, i % CHUNKS));
    for (const r of held) r.conn.releaseReply(r.bytes);
    await closeFile(session, file);
  });

  it("a released reply's buffer receives a later reply, which holds that reply's own bytes", async () => {
    const { session } = await establishReady(running.port);
    const file = await fileOfChunks(session, "rb-released");
    const first = await readOf(session, file, 0);
    const data = expectChunk(first, 0);
    const buffer = first.bytes.buffer;
    expect(data.buffer).toBe(buffer);
    first.conn.releaseReply(first.bytes);
    // Released twice: ignored (the buffer is not lent out twice).
    first.conn.releaseReply(first.bytes);
    const second = await readOf(session, file, 1);
    expect(second.bytes.buffer).toBe(buffer);
    expectChunk(second, 1);
    // While the second is held, a third reply gets another buffer.
    const third = await readOf(session, file, 2);
    expect(third.bytes.buffer).not.toBe(buffer);
    expectChunk(third, 2);
    expectChunk(second, 1);
    second.conn.releaseReply(second.bytes);
    third.conn.releaseReply(third.bytes);
    await closeFile(session, file);
  });

  it("a small reply is a copy of its own, and releasing it changes nothing", async () => {
    const { session } = await establishReady(running.port);
    const reply = await session.compound([ops.putrootfh(), ops.getfh()]);
    expect(reply.bytes.buffer.byteLength).toBe(reply.bytes.byteLength);
    reply.conn.releaseReply(reply.bytes);
    expect(resultOf(reply.resarray[1], nfs_opnum4.OP_GETFH)?.status).toBe(ST.NFS4_OK);
  });
});

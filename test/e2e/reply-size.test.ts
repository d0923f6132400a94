// Reply size is decided before an operation runs (RFC 8881 §2.10.6.4,
// §18.46.3), over TCP through the client library: the operation whose reply
// bound no longer fits ca_maxresponsesize(_cached) is answered
// NFS4ERR_REP_TOO_BIG(_TO_CACHE) without running, and nothing after it runs —
// checked by side effects: the backend's read bytes, and a CREATE that did
// not create.

import { describe, expect, it } from "vitest";
import type { nfs_argop4 } from "../../generated/nfs4/index.js";
import { nfs_ftype4 } from "../../generated/nfs4/index.js";
import { ops } from "../../src/client/index.js";
import { CountingFileSystem, OP, ST, establish, executed, useServer } from "./support.js";

const MiB = 1024 * 1024;

const fs = new CountingFileSystem({ exportMode: 0o777 });
const running = useServer(() => ({ fs }));

/** /export/big: 2 MiB, readable by anyone. */
async function bigFile(): Promise<void> {
  const exp = (await fs.lookup(await fs.root(), "export")).handle;
  const found = await fs.lookup(exp, "big").catch(() => null);
  if (found) return;
  const { handle } = await fs.create(
    exp,
    "big",
    { kind: "guarded" },
    { mode: 0o644, uid: 0, gid: 0 },
  );
  await fs.write(handle, 0n, new Uint8Array(2 * MiB).fill(7), 2);
}

const toBig: nfs_argop4[] = [ops.putrootfh(), ops.lookup("export"), ops.lookup("big")];

function read(offset: number, count: number): nfs_argop4 {
  // The anonymous stateid: the caller's own permissions decide.
  const stateid = { seqid: 0, other: new Uint8Array(12) };
  return { argop: OP.OP_READ, opread: { stateid, offset: BigInt(offset), count } };
}

function mkdirOp(name: string): nfs_argop4 {
  return {
    argop: OP.OP_CREATE,
    opcreate: {
      objtype: { type: nfs_ftype4.NF4DIR },
      objname: new TextEncoder().encode(name),
      createattrs: { attrmask: [], attr_vals: new Uint8Array() },
    },
  };
}

describe("reply size over TCP", () => {
  it("stops before a READ that would not fit: it reads nothing, and a later CREATE does not run", async () => {
    await bigFile();
    const { session } = await establish(running.port);
    const readsBefore = fs.bytesRead;
    const createsBefore = executed(running.server, OP.OP_CREATE);
    const res = await session.compound([
      ...toBig,
      read(0, MiB),
      read(MiB, MiB),
      ops.putrootfh(),
      ops.lookup("export"),
      mkdirOp("after-too-big"),
    ]);
    expect(res.status).toBe(ST.NFS4ERR_REP_TOO_BIG);
    expect(res.resarray.map((r) => r.resop)).toEqual([
      OP.OP_PUTROOTFH,
      OP.OP_LOOKUP,
      OP.OP_LOOKUP,
      OP.OP_READ,
      OP.OP_READ,
    ]);
    // The first READ ran and fitted; the second never reached the backend.
    expect(fs.bytesRead - readsBefore).toBe(MiB);
    expect(executed(running.server, OP.OP_CREATE)).toBe(createsBefore);
    const look = await session.compound([...toBig.slice(0, 2), ops.lookup("after-too-big")]);
    expect(look.status).toBe(ST.NFS4ERR_NOENT);
  });

  it("SEQUENCE + 60 × READ 1 MiB reads at most what the reply may hold", async () => {
    await bigFile();
    const { client } = await establish(running.port);
    // Room for 64 operations (the server's nfs.maxOperations default).
    const s = await client.createSession({ fore: { ca_maxoperations: 64 } });
    const readsBefore = fs.bytesRead;
    const reads = Array.from({ length: 60 }, () => read(0, MiB));
    const res = await s.compound([...toBig, ...reads]);
    expect(res.status).toBe(ST.NFS4ERR_REP_TOO_BIG);
    const limit = running.server.settings.maxResponseSize;
    expect(fs.bytesRead - readsBefore).toBeLessThanOrEqual(limit);
    expect(fs.bytesRead - readsBefore).toBe(MiB);
    // The check before each operation did it all: no result outgrew its bound.
    expect(running.server.compound.boundViolations).toBe(0);
    expect(running.server.compound.overruns).toBe(0);
  });

  it("answers REP_TOO_BIG_TO_CACHE, before running it, for a READ whose reply cannot be cached", async () => {
    await bigFile();
    const { client } = await establish(running.port);
    const small = await client.createSession({ fore: { ca_maxresponsesize_cached: 4096 } });
    const readsBefore = fs.bytesRead;
    const res = await small.compound([...toBig, read(0, 8192)], { cachethis: true });
    expect(res.status).toBe(ST.NFS4ERR_REP_TOO_BIG_TO_CACHE);
    expect(fs.bytesRead).toBe(readsBefore);
    // Without caching the same request fits.
    const ok = await small.compound([...toBig, read(0, 8192)]);
    expect(ok.status).toBe(ST.NFS4_OK);
    expect(fs.bytesRead - readsBefore).toBe(8192);
  });
});

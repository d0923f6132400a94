// Open and lock state through the COMPOUND path: share reservations and
// NFS4ERR_SHARE_DENIED, the stateid seqid rules (RFC 8881 §8.2.2), the special
// and current stateids (§8.2.3, §16.2.3.1.2), byte-range locks with conflicts,
// upgrades, downgrades and splitting, TEST_STATEID and FREE_STATEID.

import { beforeEach, describe, expect, it } from "vitest";
import type { COMPOUND4res, nfs_argop4, stateid4 } from "../../generated/nfs4/index.js";
import {
  OPEN4_SHARE_ACCESS_BOTH,
  OPEN4_SHARE_ACCESS_READ,
  OPEN4_SHARE_ACCESS_WRITE,
  OPEN4_SHARE_DENY_NONE,
  OPEN4_SHARE_DENY_WRITE,
  FATTR4_MODE,
  FATTR4_OWNER,
  FATTR4_SIZE,
  createmode4,
  encodefattr4_mode,
  encodefattr4_owner,
  encodefattr4_size,
  nfs_lock_type4,
  nfs_opnum4,
  nfsstat4,
  open_claim_type4,
  opentype4,
  stable_how4,
} from "../../generated/nfs4/index.js";
import { pino } from "pino";
import { MemoryFileSystem } from "../../src/fs/memory.js";
import { DEFAULT_NFS_SETTINGS } from "../../src/nfs/settings.js";
import { ClientRecord } from "../../src/state/client.js";
import { StateManager } from "../../src/state/manager.js";
import { bitmapOf } from "../../src/nfs/attrs/index.js";
import { XdrWriter } from "../../src/xdr/index.js";
import type { RpcConnection } from "../../src/rpc/types.js";
import { Harness, sysCred } from "./harness.js";
import { arm, newSession, reclaimCompleteOp, sequenceOp, utf8 } from "./session-helpers.js";

const ALL = 0xffffffffffffffffn;
const CURRENT: stateid4 = { seqid: 1, other: new Uint8Array(12) };
const ANONYMOUS: stateid4 = { seqid: 0, other: new Uint8Array(12) };

const putroot: nfs_argop4 = { argop: nfs_opnum4.OP_PUTROOTFH };
const lookup = (name: string): nfs_argop4 => ({
  argop: nfs_opnum4.OP_LOOKUP,
  oplookup: { objname: utf8(name) },
});

function openOp(
  name: string,
  owner: string,
  access = OPEN4_SHARE_ACCESS_BOTH,
  deny = OPEN4_SHARE_DENY_NONE,
): nfs_argop4 {
  return {
    argop: nfs_opnum4.OP_OPEN,
    opopen: {
      seqid: 0,
      share_access: access,
      share_deny: deny,
      owner: { clientid: 0n, owner: utf8(owner) },
      openhow: {
        opentype: opentype4.OPEN4_CREATE,
        how: {
          mode: createmode4.UNCHECKED4,
          createattrs: { attrmask: [], attr_vals: new Uint8Array() },
        },
      },
      claim: { claim: open_claim_type4.CLAIM_NULL, file: utf8(name) },
    },
  };
}

const closeOp = (s: stateid4): nfs_argop4 => ({
  argop: nfs_opnum4.OP_CLOSE,
  opclose: { seqid: 0, open_stateid: s },
});
const writeOp = (s: stateid4, data: string, offset = 0n): nfs_argop4 => ({
  argop: nfs_opnum4.OP_WRITE,
  opwrite: { stateid: s, offset, stable: stable_how4.FILE_SYNC4, data: utf8(data) },
});
const readOp = (s: stateid4, count = 100): nfs_argop4 => ({
  argop: nfs_opnum4.OP_READ,
  opread: { stateid: s, offset: 0n, count },
});

function lockNew(
  open: stateid4,
  owner: string,
  type: number,
  offset: bigint,
  length: bigint,
): nfs_argop4 {
  return {
    argop: nfs_opnum4.OP_LOCK,
    oplock: {
      locktype: type as 1,
      reclaim: false,
      offset,
      length,
      locker: {
        new_lock_owner: true,
        open_owner: {
          open_seqid: 0,
          open_stateid: open,
          lock_seqid: 0,
          lock_owner: { clientid: 0n, owner: utf8(owner) },
        },
      },
    },
  };
}
function lockExisting(
  lockStateid: stateid4,
  type: number,
  offset: bigint,
  length: bigint,
): nfs_argop4 {
  return {
    argop: nfs_opnum4.OP_LOCK,
    oplock: {
      locktype: type as 1,
      reclaim: false,
      offset,
      length,
      locker: { new_lock_owner: false, lock_owner: { lock_stateid: lockStateid, lock_seqid: 0 } },
    },
  };
}
const locku = (s: stateid4, offset: bigint, length: bigint): nfs_argop4 => ({
  argop: nfs_opnum4.OP_LOCKU,
  oplocku: { locktype: nfs_lock_type4.WRITE_LT, seqid: 0, lock_stateid: s, offset, length },
});
const lockt = (owner: string, type: number, offset: bigint, length: bigint): nfs_argop4 => ({
  argop: nfs_opnum4.OP_LOCKT,
  oplockt: { locktype: type as 1, offset, length, owner: { clientid: 0n, owner: utf8(owner) } },
});

/** A client with a session that has done RECLAIM_COMPLETE, and a way to run COMPOUNDs in it. */
async function client(h: Harness, name: string, uid = 0, minorversion = 1) {
  const conn: RpcConnection = h.conn();
  const cred = sysCred(uid, uid);
  const { sessionid } = await newSession(h, conn, name, cred);
  let seq = 1;
  const run = (ops: nfs_argop4[]): Promise<COMPOUND4res> =>
    h.run([sequenceOp(sessionid, seq++), ...ops], conn, { cred, minorversion });
  expect((await run([reclaimCompleteOp])).status).toBe(nfsstat4.NFS4_OK);
  return run;
}

function last<T = Record<string, unknown>>(res: COMPOUND4res, name: string): T {
  return arm<T>(res.resarray.at(-1), name);
}
const openStateid = (res: COMPOUND4res): stateid4 =>
  arm<{ resok4: { stateid: stateid4 } }>(
    res.resarray.find((r) => r.resop === nfs_opnum4.OP_OPEN),
    "opopen",
  ).resok4.stateid;

let h: Harness;
beforeEach(() => {
  // These tests are about opens and locks: no delegation gets in their way
  // (test/nfs/delegations.test.ts has those).
  h = new Harness({ delegationPolicy: "none" }, new MemoryFileSystem({ exportMode: 0o777 }));
});

describe("OPEN, CLOSE and share reservations", () => {
  it("answers NFS4ERR_GRACE to an OPEN before RECLAIM_COMPLETE", async () => {
    const conn = h.conn();
    const { sessionid } = await newSession(h, conn);
    const res = await h.run(
      [sequenceOp(sessionid, 1), putroot, lookup("export"), openOp("f", "o")],
      conn,
    );
    expect(res.status).toBe(nfsstat4.NFS4ERR_GRACE);
  });

  it("creates, writes, reads back and closes, returning the invalid stateid", async () => {
    const run = await client(h, "a");
    const opened = await run([putroot, lookup("export"), openOp("f", "o")]);
    expect(opened.status).toBe(nfsstat4.NFS4_OK);
    const sid = openStateid(opened);
    expect(sid.seqid).toBe(1);
    // The current stateid carries the open to WRITE and READ in the same COMPOUND.
    const io = await run([
      putroot,
      lookup("export"),
      lookup("f"),
      writeOp(sid, "hello"),
      readOp(CURRENT),
    ]);
    expect(io.status).toBe(nfsstat4.NFS4ERR_BAD_STATEID); // LOOKUP cleared the current stateid
    const io2 = await run([
      putroot,
      lookup("export"),
      openOp("f", "o"),
      writeOp(CURRENT, "hello"),
      readOp(CURRENT),
    ]);
    expect(io2.status).toBe(nfsstat4.NFS4_OK);
    expect(
      new TextDecoder().decode(last<{ resok4: { data: Uint8Array } }>(io2, "opread").resok4.data),
    ).toBe("hello");
    const upgraded = arm<{ resok4: { stateid: stateid4 } }>(io2.resarray[3], "opopen").resok4
      .stateid;
    expect(upgraded.other).toEqual(sid.other);
    expect(upgraded.seqid).toBe(2);
    const closed = await run([putroot, lookup("export"), lookup("f"), closeOp(upgraded)]);
    expect(last(closed, "opclose")).toEqual({
      status: 0,
      open_stateid: { seqid: 0xffffffff, other: new Uint8Array(12) },
    });
  });

  it("answers NFS4ERR_SHARE_DENIED when another owner's deny conflicts, both ways", async () => {
    const run = await client(h, "a");
    expect(
      (
        await run([
          putroot,
          lookup("export"),
          openOp("f", "o1", OPEN4_SHARE_ACCESS_READ, OPEN4_SHARE_DENY_WRITE),
        ])
      ).status,
    ).toBe(nfsstat4.NFS4_OK);
    expect(
      (await run([putroot, lookup("export"), openOp("f", "o2", OPEN4_SHARE_ACCESS_WRITE)])).status,
    ).toBe(nfsstat4.NFS4ERR_SHARE_DENIED);
    expect(
      (await run([putroot, lookup("export"), openOp("f", "o2", OPEN4_SHARE_ACCESS_READ)])).status,
    ).toBe(nfsstat4.NFS4_OK);
    // o3 wants to deny writing while o1 only reads: fine; denying reading is not.
    expect(
      (await run([putroot, lookup("export"), openOp("f", "o3", OPEN4_SHARE_ACCESS_READ, 1)]))
        .status,
    ).toBe(nfsstat4.NFS4ERR_SHARE_DENIED);
  });

  it("refuses WRITE through a read-only open with NFS4ERR_OPENMODE", async () => {
    const run = await client(h, "a");
    const sid = openStateid(
      await run([putroot, lookup("export"), openOp("f", "o", OPEN4_SHARE_ACCESS_READ)]),
    );
    expect((await run([putroot, lookup("export"), lookup("f"), writeOp(sid, "x")])).status).toBe(
      nfsstat4.NFS4ERR_OPENMODE,
    );
  });

  it("downgrades only to modes an OPEN granted", async () => {
    const run = await client(h, "a");
    await run([putroot, lookup("export"), openOp("f", "o", OPEN4_SHARE_ACCESS_READ)]);
    const both = openStateid(
      await run([putroot, lookup("export"), openOp("f", "o", OPEN4_SHARE_ACCESS_WRITE)]),
    );
    const down = (access: number): nfs_argop4 => ({
      argop: nfs_opnum4.OP_OPEN_DOWNGRADE,
      opopen_downgrade: { open_stateid: both, seqid: 0, share_access: access, share_deny: 0 },
    });
    const ok = await run([putroot, lookup("export"), lookup("f"), down(OPEN4_SHARE_ACCESS_READ)]);
    expect(ok.status).toBe(nfsstat4.NFS4_OK);
    expect(
      last<{ resok4: { open_stateid: stateid4 } }>(ok, "opopen_downgrade").resok4.open_stateid
        .seqid,
    ).toBe(3);
    expect(
      (await run([putroot, lookup("export"), lookup("f"), down(OPEN4_SHARE_ACCESS_WRITE)])).status,
    ).toBe(nfsstat4.NFS4ERR_OLD_STATEID);
  });
});

describe("stateid rules (RFC 8881 §8.2)", () => {
  it("seqid 0 means current; older is OLD_STATEID, newer BAD_STATEID; another client's is BAD_STATEID", async () => {
    const run = await client(h, "a");
    await run([putroot, lookup("export"), openOp("f", "o")]);
    const sid2 = openStateid(await run([putroot, lookup("export"), openOp("f", "o")]));
    const at = (seqid: number): stateid4 => ({ seqid, other: sid2.other });
    const readWith = async (s: stateid4) =>
      (await run([putroot, lookup("export"), lookup("f"), readOp(s)])).status;
    expect(await readWith(at(0))).toBe(nfsstat4.NFS4_OK);
    expect(await readWith(at(2))).toBe(nfsstat4.NFS4_OK);
    expect(await readWith(at(1))).toBe(nfsstat4.NFS4ERR_OLD_STATEID);
    expect(await readWith(at(3))).toBe(nfsstat4.NFS4ERR_BAD_STATEID);
    const other = await client(h, "b");
    expect((await other([putroot, lookup("export"), lookup("f"), readOp(sid2)])).status).toBe(
      nfsstat4.NFS4ERR_BAD_STATEID,
    );
  });

  it("saves and restores the current stateid with the filehandle (§16.2.3.1.2)", async () => {
    const run = await client(h, "a");
    const res = await run([
      putroot,
      lookup("export"),
      openOp("f", "o"),
      { argop: nfs_opnum4.OP_SAVEFH },
      putroot,
      { argop: nfs_opnum4.OP_RESTOREFH },
      writeOp(CURRENT, "saved"),
    ]);
    expect(res.status).toBe(nfsstat4.NFS4_OK);
    // PUTROOTFH alone leaves no current stateid.
    expect(
      (await run([putroot, lookup("export"), lookup("f"), writeOp(CURRENT, "x")])).status,
    ).toBe(nfsstat4.NFS4ERR_BAD_STATEID);
  });

  it("uses the anonymous stateid with the caller's permissions", async () => {
    const run = await client(h, "a");
    expect((await run([putroot, lookup("export"), openOp("f", "o")])).status).toBe(
      nfsstat4.NFS4_OK,
    );
    expect(
      (await run([putroot, lookup("export"), lookup("f"), writeOp(ANONYMOUS, "abc")])).status,
    ).toBe(nfsstat4.NFS4_OK);
    const user = await client(h, "u", 1000);
    expect(
      (await user([putroot, lookup("export"), lookup("f"), writeOp(ANONYMOUS, "x")])).status,
    ).toBe(nfsstat4.NFS4ERR_ACCESS);
  });

  it("an O_TRUNC open of an existing file checks write permission and share denials before truncating", async () => {
    const run = await client(h, "a");
    const sid = openStateid(await run([putroot, lookup("export"), openOp("t", "o")]));
    expect((await run([putroot, lookup("export"), lookup("t"), writeOp(sid, "abc")])).status).toBe(
      nfsstat4.NFS4_OK,
    );
    const truncating = (owner: string): nfs_argop4 => {
      const op = openOp("t", owner);
      if (op.argop !== nfs_opnum4.OP_OPEN || op.opopen.openhow.opentype !== opentype4.OPEN4_CREATE)
        throw new Error("not an OPEN4_CREATE");
      // UNCHECKED4 with size 0: how O_TRUNC arrives.
      op.opopen.openhow.how = {
        mode: createmode4.UNCHECKED4,
        createattrs: { attrmask: [1 << FATTR4_SIZE], attr_vals: new Uint8Array(8) },
      };
      return op;
    };
    const size = async () => {
      const r = await run([putroot, lookup("export"), lookup("t"), readOp(ANONYMOUS)]);
      return last<{ resok4: { data: Uint8Array } }>(r, "opread").resok4.data.length;
    };
    // The file is the root's, mode 0644 or narrower: another user may not write it.
    const user = await client(h, "u", 1000);
    expect((await user([putroot, lookup("export"), truncating("u")])).status).toBe(
      nfsstat4.NFS4ERR_ACCESS,
    );
    expect(await size()).toBe(3);
    // An open denying writes keeps another client from truncating it too.
    expect((await run([putroot, lookup("export"), lookup("t"), closeOp(sid)])).status).toBe(
      nfsstat4.NFS4_OK,
    );
    const denier = await client(h, "d");
    expect(
      (await denier([putroot, lookup("export"), openOp("t", "d", OPEN4_SHARE_ACCESS_READ, 2)]))
        .status,
    ).toBe(nfsstat4.NFS4_OK);
    const other = await client(h, "b");
    expect((await other([putroot, lookup("export"), truncating("b")])).status).toBe(
      nfsstat4.NFS4ERR_SHARE_DENIED,
    );
    expect(await size()).toBe(3);
  });

  it("answers TEST_STATEID per stateid and frees only idle lock stateids", async () => {
    const run = await client(h, "a");
    const sid = openStateid(await run([putroot, lookup("export"), openOp("f", "o")]));
    const test = await run([
      {
        argop: nfs_opnum4.OP_TEST_STATEID,
        optest_stateid: {
          ts_stateids: [sid, { seqid: 1, other: new Uint8Array(12).fill(7) }, ANONYMOUS],
        },
      },
    ]);
    expect(
      last<{ tsr_resok4: { tsr_status_codes: number[] } }>(test, "optest_stateid").tsr_resok4
        .tsr_status_codes,
    ).toEqual([nfsstat4.NFS4_OK, nfsstat4.NFS4ERR_BAD_STATEID, nfsstat4.NFS4ERR_BAD_STATEID]);
    const free = (s: stateid4): nfs_argop4 => ({
      argop: nfs_opnum4.OP_FREE_STATEID,
      opfree_stateid: { fsa_stateid: s },
    });
    expect((await run([free(sid)])).status).toBe(nfsstat4.NFS4ERR_LOCKS_HELD);
    const locked = await run([
      putroot,
      lookup("export"),
      lookup("f"),
      lockNew(sid, "lo", nfs_lock_type4.WRITE_LT, 0n, 10n),
    ]);
    const lsid = last<{ resok4: { lock_stateid: stateid4 } }>(locked, "oplock").resok4.lock_stateid;
    expect((await run([free(lsid)])).status).toBe(nfsstat4.NFS4ERR_LOCKS_HELD);
    const unlocked = await run([putroot, lookup("export"), lookup("f"), locku(lsid, 0n, 10n)]);
    expect(
      (await run([free(last<{ lock_stateid: stateid4 }>(unlocked, "oplocku").lock_stateid)]))
        .status,
    ).toBe(nfsstat4.NFS4_OK);
  });
});

describe("byte-range locks (RFC 8881 §9.3-§9.5)", () => {
  async function twoOpens() {
    const run = await client(h, "a");
    const s1 = openStateid(await run([putroot, lookup("export"), openOp("f", "o1")]));
    const s2 = openStateid(await run([putroot, lookup("export"), openOp("f", "o2")]));
    return { run, s1, s2 };
  }

  it("denies a conflicting lock naming the owner and range, allows shared reads", async () => {
    const { run, s1, s2 } = await twoOpens();
    expect(
      (
        await run([
          putroot,
          lookup("export"),
          lookup("f"),
          lockNew(s1, "L1", nfs_lock_type4.WRITE_LT, 100n, 50n),
        ])
      ).status,
    ).toBe(nfsstat4.NFS4_OK);
    const denied = await run([
      putroot,
      lookup("export"),
      lookup("f"),
      lockNew(s2, "L2", nfs_lock_type4.READ_LT, 120n, 10n),
    ]);
    expect(denied.status).toBe(nfsstat4.NFS4ERR_DENIED);
    expect(last<{ denied: Record<string, unknown> }>(denied, "oplock").denied).toMatchObject({
      offset: 100n,
      length: 50n,
      locktype: nfs_lock_type4.WRITE_LT,
      owner: { owner: utf8("L1") },
    });
    expect(
      (
        await run([
          putroot,
          lookup("export"),
          lookup("f"),
          lockNew(s2, "L2", nfs_lock_type4.READ_LT, 150n, ALL),
        ])
      ).status,
    ).toBe(nfsstat4.NFS4_OK);
    expect(
      (
        await run([
          putroot,
          lookup("export"),
          lookup("f"),
          lockt("L3", nfs_lock_type4.READ_LT, 0n, 100n),
        ])
      ).status,
    ).toBe(nfsstat4.NFS4_OK);
    expect(
      (
        await run([
          putroot,
          lookup("export"),
          lookup("f"),
          lockt("L3", nfs_lock_type4.WRITE_LT, 200n, 1n),
        ])
      ).status,
    ).toBe(nfsstat4.NFS4ERR_DENIED);
    expect(
      (
        await run([
          putroot,
          lookup("export"),
          lookup("f"),
          lockt("L2", nfs_lock_type4.WRITE_LT, 200n, 1n),
        ])
      ).status,
    ).toBe(nfsstat4.NFS4_OK);
  });

  it("splits a lock on partial unlock and bumps the lock stateid's seqid", async () => {
    const { run, s1, s2 } = await twoOpens();
    const l = await run([
      putroot,
      lookup("export"),
      lookup("f"),
      lockNew(s1, "L1", nfs_lock_type4.WRITE_LT, 0n, 100n),
    ]);
    const lsid = last<{ resok4: { lock_stateid: stateid4 } }>(l, "oplock").resok4.lock_stateid;
    expect(lsid.seqid).toBe(1);
    const u = await run([putroot, lookup("export"), lookup("f"), locku(lsid, 40n, 20n)]);
    expect(last<{ lock_stateid: stateid4 }>(u, "oplocku").lock_stateid.seqid).toBe(2);
    // [40, 59] is free now; [0, 39] and [60, 99] are still held.
    expect(
      (
        await run([
          putroot,
          lookup("export"),
          lookup("f"),
          lockNew(s2, "L2", nfs_lock_type4.WRITE_LT, 40n, 20n),
        ])
      ).status,
    ).toBe(nfsstat4.NFS4_OK);
    expect(
      (
        await run([
          putroot,
          lookup("export"),
          lookup("f"),
          lockt("L3", nfs_lock_type4.READ_LT, 39n, 1n),
        ])
      ).status,
    ).toBe(nfsstat4.NFS4ERR_DENIED);
    expect(
      (
        await run([
          putroot,
          lookup("export"),
          lookup("f"),
          lockt("L3", nfs_lock_type4.READ_LT, 60n, 1n),
        ])
      ).status,
    ).toBe(nfsstat4.NFS4ERR_DENIED);
  });

  it("upgrades and downgrades an owner's own lock", async () => {
    const { run, s1, s2 } = await twoOpens();
    const l = await run([
      putroot,
      lookup("export"),
      lookup("f"),
      lockNew(s1, "L1", nfs_lock_type4.READ_LT, 0n, 10n),
    ]);
    const lsid = last<{ resok4: { lock_stateid: stateid4 } }>(l, "oplock").resok4.lock_stateid;
    const up = await run([
      putroot,
      lookup("export"),
      lookup("f"),
      lockExisting(lsid, nfs_lock_type4.WRITE_LT, 0n, 10n),
    ]);
    expect(up.status).toBe(nfsstat4.NFS4_OK);
    expect(
      (
        await run([
          putroot,
          lookup("export"),
          lookup("f"),
          lockNew(s2, "L2", nfs_lock_type4.READ_LT, 5n, 1n),
        ])
      ).status,
    ).toBe(nfsstat4.NFS4ERR_DENIED);
    const upSid = last<{ resok4: { lock_stateid: stateid4 } }>(up, "oplock").resok4.lock_stateid;
    expect(
      (
        await run([
          putroot,
          lookup("export"),
          lookup("f"),
          lockExisting(upSid, nfs_lock_type4.READ_LT, 0n, 10n),
        ])
      ).status,
    ).toBe(nfsstat4.NFS4_OK);
    expect(
      (
        await run([
          putroot,
          lookup("export"),
          lookup("f"),
          lockNew(s2, "L2", nfs_lock_type4.READ_LT, 5n, 1n),
        ])
      ).status,
    ).toBe(nfsstat4.NFS4_OK);
  });

  it("answers CLOSE with locks held NFS4ERR_LOCKS_HELD, and bad ranges NFS4ERR_INVAL", async () => {
    const { run, s1 } = await twoOpens();
    expect(
      (
        await run([
          putroot,
          lookup("export"),
          lookup("f"),
          lockNew(s1, "L1", nfs_lock_type4.WRITE_LT, 0n, 0n),
        ])
      ).status,
    ).toBe(nfsstat4.NFS4ERR_INVAL);
    expect(
      (
        await run([
          putroot,
          lookup("export"),
          lookup("f"),
          lockNew(s1, "L1", nfs_lock_type4.WRITE_LT, 10n, ALL - 5n),
        ])
      ).status,
    ).toBe(nfsstat4.NFS4ERR_INVAL);
    await run([
      putroot,
      lookup("export"),
      lookup("f"),
      lockNew(s1, "L1", nfs_lock_type4.WRITE_LT, 0n, 1n),
    ]);
    expect((await run([putroot, lookup("export"), lookup("f"), closeOp(s1)])).status).toBe(
      nfsstat4.NFS4ERR_LOCKS_HELD,
    );
  });

  it("keeps an expired client's locks courteously until another client conflicts", async () => {
    const { run, s1 } = await twoOpens();
    await run([
      putroot,
      lookup("export"),
      lookup("f"),
      lockNew(s1, "L1", nfs_lock_type4.WRITE_LT, 0n, 1n),
    ]);
    h.clock.now += (h.ctx.settings.leaseTimeSec + 1) * 1000;
    expect(h.state.expireLeases()).toBe(0);
    const other = await client(h, "b");
    const s = openStateid(await other([putroot, lookup("export"), openOp("f", "x")]));
    // The courtesy client's lock gives way, and the client with it.
    expect(
      (
        await other([
          putroot,
          lookup("export"),
          lookup("f"),
          lockNew(s, "X", nfs_lock_type4.WRITE_LT, 0n, 1n),
        ])
      ).status,
    ).toBe(nfsstat4.NFS4_OK);
    expect(h.state.stats().clients).toBe(1);
  });

  it("lets a courtesy client that comes back keep its locks", async () => {
    const { run, s1 } = await twoOpens();
    const l = await run([
      putroot,
      lookup("export"),
      lookup("f"),
      lockNew(s1, "L1", nfs_lock_type4.WRITE_LT, 0n, ALL),
    ]);
    const lsid = last<{ resok4: { lock_stateid: stateid4 } }>(l, "oplock").resok4.lock_stateid;
    h.clock.now += 2 * h.ctx.settings.leaseTimeSec * 1000;
    h.state.expireLeases();
    expect((await run([putroot, lookup("export"), lookup("f"), locku(lsid, 0n, ALL)])).status).toBe(
      nfsstat4.NFS4_OK,
    );
  });

  it("expires a courtesy client after courtesyTimeSec even without a conflict", async () => {
    const { run, s1 } = await twoOpens();
    await run([
      putroot,
      lookup("export"),
      lookup("f"),
      lockNew(s1, "L1", nfs_lock_type4.WRITE_LT, 0n, 1n),
    ]);
    h.clock.now += (h.ctx.settings.leaseTimeSec + h.ctx.settings.courtesyTimeSec + 1) * 1000;
    expect(h.state.expireLeases()).toBe(1);
  });
});

describe("NFSv4.2 data operations (RFC 7862)", () => {
  async function withFile(content: string) {
    const run = await client(h, "a", 0, 2);
    const opened = await run([
      putroot,
      lookup("export"),
      openOp("f", "o"),
      writeOp(CURRENT, content),
    ]);
    expect(opened.status).toBe(nfsstat4.NFS4_OK);
    const sid = last<{ resok4: { stateid: stateid4 } }>(
      { ...opened, resarray: opened.resarray.slice(0, -1) },
      "opopen",
    ).resok4.stateid;
    return { session: run, sid };
  }

  it("READ_PLUS returns the data as one segment, and eof", async () => {
    const { session, sid } = await withFile("hello world");
    const res = await session([
      putroot,
      lookup("export"),
      lookup("f"),
      {
        argop: nfs_opnum4.OP_READ_PLUS,
        opread_plus: { rpa_stateid: sid, rpa_offset: 6n, rpa_count: 100 },
      },
    ]);
    expect(res.status).toBe(nfsstat4.NFS4_OK);
    const ok = last<{
      rp_resok4: {
        rpr_eof: boolean;
        rpr_contents: { rpc_content: number; rpc_data: { d_offset: bigint; d_data: Uint8Array } }[];
      };
    }>(res, "opread_plus").rp_resok4;
    expect(ok.rpr_eof).toBe(true);
    expect(ok.rpr_contents).toHaveLength(1);
    expect(ok.rpr_contents[0]!.rpc_data.d_offset).toBe(6n);
    expect(new TextDecoder().decode(ok.rpr_contents[0]!.rpc_data.d_data)).toBe("world");
  });

  it("SEEK finds data at the offset and the hole at the end; past the end is NXIO", async () => {
    const { session, sid } = await withFile("0123456789");
    const seekOp = (offset: bigint, what: number): nfs_argop4 => ({
      argop: nfs_opnum4.OP_SEEK,
      opseek: { sa_stateid: sid, sa_offset: offset, sa_what: what as 0 },
    });
    const data = await session([putroot, lookup("export"), lookup("f"), seekOp(3n, 0)]);
    expect(last(data, "opseek")).toEqual({
      sa_status: 0,
      resok4: { sr_eof: false, sr_offset: 3n },
    });
    const hole = await session([putroot, lookup("export"), lookup("f"), seekOp(3n, 1)]);
    expect(last(hole, "opseek")).toEqual({
      sa_status: 0,
      resok4: { sr_eof: true, sr_offset: 10n },
    });
    expect((await session([putroot, lookup("export"), lookup("f"), seekOp(10n, 0)])).status).toBe(
      nfsstat4.NFS4ERR_NXIO,
    );
  });

  it("ALLOCATE extends the file; DEALLOCATE zeroes a range without changing the size", async () => {
    const { session, sid } = await withFile("abcdefgh");
    const alloc: nfs_argop4 = {
      argop: nfs_opnum4.OP_ALLOCATE,
      opallocate: { aa_stateid: sid, aa_offset: 0n, aa_length: 16n },
    };
    const dealloc: nfs_argop4 = {
      argop: nfs_opnum4.OP_DEALLOCATE,
      opdeallocate: { da_stateid: sid, da_offset: 2n, da_length: 3n },
    };
    expect((await session([putroot, lookup("export"), lookup("f"), alloc, dealloc])).status).toBe(
      nfsstat4.NFS4_OK,
    );
    const back = await session([putroot, lookup("export"), lookup("f"), readOp(sid, 100)]);
    const data = last<{ resok4: { data: Uint8Array } }>(back, "opread").resok4.data;
    expect(data.length).toBe(16);
    expect([...data.subarray(0, 8)]).toEqual([0x61, 0x62, 0, 0, 0, 0x66, 0x67, 0x68]);
    const bad: nfs_argop4 = {
      argop: nfs_opnum4.OP_DEALLOCATE,
      opdeallocate: { da_stateid: sid, da_offset: 0n, da_length: 0n },
    };
    expect((await session([putroot, lookup("export"), lookup("f"), bad])).status).toBe(
      nfsstat4.NFS4ERR_INVAL,
    );
  });
});

describe("SETATTR (RFC 8881 §18.30)", () => {
  const fattr = (build: (w: XdrWriter) => void, bits: number[]) => {
    const w = new XdrWriter();
    build(w);
    return { attrmask: bitmapOf(bits), attr_vals: w.toBytes() };
  };
  const setattrOp = (
    stateid: stateid4,
    f: { attrmask: number[]; attr_vals: Uint8Array },
  ): nfs_argop4 => ({
    argop: nfs_opnum4.OP_SETATTR,
    opsetattr: { stateid, obj_attributes: f },
  });
  const mode = (m: number) => fattr((w) => encodefattr4_mode(w, m), [FATTR4_MODE]);
  const size = (n: bigint) => fattr((w) => encodefattr4_size(w, n), [FATTR4_SIZE]);
  const owner = (o: string) => fattr((w) => encodefattr4_owner(w, utf8(o)), [FATTR4_OWNER]);

  it("lets the owner change the mode and refuses others with NFS4ERR_PERM", async () => {
    const run = await client(h, "a", 1000);
    expect((await run([putroot, lookup("export"), openOp("f", "o")])).status).toBe(
      nfsstat4.NFS4_OK,
    );
    const ok = await run([
      putroot,
      lookup("export"),
      lookup("f"),
      setattrOp(ANONYMOUS, mode(0o600)),
    ]);
    expect(last(ok, "opsetattr")).toEqual({ status: 0, attrsset: bitmapOf([FATTR4_MODE]) });
    const other = await client(h, "b", 2000);
    expect(
      (await other([putroot, lookup("export"), lookup("f"), setattrOp(ANONYMOUS, mode(0o777))]))
        .status,
    ).toBe(nfsstat4.NFS4ERR_PERM);
    expect(
      (await other([putroot, lookup("export"), lookup("f"), setattrOp(ANONYMOUS, owner("2000"))]))
        .status,
    ).toBe(nfsstat4.NFS4ERR_PERM);
    expect(
      (await run([putroot, lookup("export"), lookup("f"), setattrOp(ANONYMOUS, owner("bob"))]))
        .status,
    ).toBe(nfsstat4.NFS4ERR_BADOWNER);
  });

  it("changes the size through an open for writing, not through a read-only one", async () => {
    const run = await client(h, "a");
    const rw = openStateid(
      await run([putroot, lookup("export"), openOp("f", "o"), writeOp(CURRENT, "0123456789")]),
    );
    const ro = openStateid(
      await run([putroot, lookup("export"), openOp("f", "r", OPEN4_SHARE_ACCESS_READ)]),
    );
    expect(
      (await run([putroot, lookup("export"), lookup("f"), setattrOp(ro, size(3n))])).status,
    ).toBe(nfsstat4.NFS4ERR_OPENMODE);
    expect(
      (await run([putroot, lookup("export"), lookup("f"), setattrOp(rw, size(3n))])).status,
    ).toBe(nfsstat4.NFS4_OK);
    const back = await run([putroot, lookup("export"), lookup("f"), readOp(rw)]);
    expect(
      new TextDecoder().decode(last<{ resok4: { data: Uint8Array } }>(back, "opread").resok4.data),
    ).toBe("012");
    expect((await run([putroot, lookup("export"), setattrOp(ANONYMOUS, size(0n))])).status).toBe(
      nfsstat4.NFS4ERR_INVAL,
    );
  });
});

describe("state bookkeeping", () => {
  it("forgets open-owners and lock-owners that hold nothing, so they do not pile up", async () => {
    const run = await client(h, "a");
    for (let i = 0; i < 20; i++) {
      const sid = openStateid(
        await run([putroot, lookup("export"), openOp(`f${i}`, `owner-${i}`)]),
      );
      const locked = await run([
        putroot,
        lookup("export"),
        lookup(`f${i}`),
        lockNew(sid, `lock-${i}`, nfs_lock_type4.WRITE_LT, 0n, 1n),
      ]);
      const lsid = last<{ resok4: { lock_stateid: stateid4 } }>(locked, "oplock").resok4
        .lock_stateid;
      await run([putroot, lookup("export"), lookup(`f${i}`), locku(lsid, 0n, 1n)]);
      await run([putroot, lookup("export"), lookup(`f${i}`), closeOp(sid)]);
    }
    expect(h.state.stats()).toMatchObject({
      clients: 1,
      openOwners: 0,
      lockOwners: 0,
      stateids: 0,
    });
  });
});

describe("refused OPENs keep nothing", () => {
  it("does not keep the open-owner of an OPEN refused with NFS4ERR_SHARE_DENIED", async () => {
    const run = await client(h, "a");
    await run([
      putroot,
      lookup("export"),
      openOp("f", "o1", OPEN4_SHARE_ACCESS_BOTH, OPEN4_SHARE_DENY_WRITE),
    ]);
    for (let i = 0; i < 5; i++)
      expect(
        (
          await run([
            putroot,
            lookup("export"),
            openOp("f", `other-${i}`, OPEN4_SHARE_ACCESS_WRITE),
          ])
        ).status,
      ).toBe(nfsstat4.NFS4ERR_SHARE_DENIED);
    expect(h.state.stats()).toMatchObject({ openOwners: 1, stateids: 1 });
  });
});

describe("nfs.maxStateidsPerClient", () => {
  const CAP = 3;
  let fs: MemoryFileSystem;
  beforeEach(() => {
    fs = new MemoryFileSystem({ exportMode: 0o777 });
    h = new Harness({ maxStateidsPerClient: CAP, delegationPolicy: "none" }, fs);
  });

  /** A client (see `client`) with its record, so its count can be read. */
  async function counted(name: string) {
    const run = await client(h, name);
    const record = h.state.byOwnerId(utf8(name)).confirmed;
    if (!record) throw new Error("no confirmed record");
    return { run, count: () => h.state.stateidCount(record), record };
  }
  const exists = async (run: Awaited<ReturnType<typeof client>>, name: string) =>
    (await run([putroot, lookup("export"), lookup(name)])).status;

  it("refuses an OPEN needing a new stateid with NFS4ERR_NOSPC, before creating the file", async () => {
    const { run, count } = await counted("a");
    const sids: stateid4[] = [];
    for (let i = 0; i < CAP; i++)
      sids.push(openStateid(await run([putroot, lookup("export"), openOp(`f${i}`, `o${i}`)])));
    expect(count()).toBe(CAP);

    // A new owner and a new file: refused, and the file is not created.
    const refused = await run([putroot, lookup("export"), openOp("new", "o-new")]);
    expect(refused.status).toBe(nfsstat4.NFS4ERR_NOSPC);
    expect(await exists(run, "new")).toBe(nfsstat4.NFS4ERR_NOENT);
    // A new owner on an existing file needs a stateid too.
    expect((await run([putroot, lookup("export"), openOp("f0", "o-new")])).status).toBe(
      nfsstat4.NFS4ERR_NOSPC,
    );
    // An existing owner on a file it has not open likewise, created or not.
    expect((await run([putroot, lookup("export"), openOp("new", "o0")])).status).toBe(
      nfsstat4.NFS4ERR_NOSPC,
    );
    expect(await exists(run, "new")).toBe(nfsstat4.NFS4ERR_NOENT);
    // Without create (CLAIM_NULL, and CLAIM_FH) the limit is checked once the file is found.
    const noCreate = openOp("f0", "o-new");
    if (noCreate.argop !== nfs_opnum4.OP_OPEN) throw new Error("not an OPEN");
    noCreate.opopen.openhow = { opentype: opentype4.OPEN4_NOCREATE };
    expect((await run([putroot, lookup("export"), noCreate])).status).toBe(nfsstat4.NFS4ERR_NOSPC);
    noCreate.opopen.claim = { claim: open_claim_type4.CLAIM_FH };
    expect((await run([putroot, lookup("export"), lookup("f0"), noCreate])).status).toBe(
      nfsstat4.NFS4ERR_NOSPC,
    );
    // Nothing was kept for the refused OPENs: not even their owners.
    expect(h.state.stats()).toMatchObject({ openOwners: CAP, stateids: CAP });
    expect(count()).toBe(CAP);

    // An upgrade of an open the owner holds needs no new stateid (create or not).
    const up = await run([
      putroot,
      lookup("export"),
      openOp("f0", "o0", OPEN4_SHARE_ACCESS_READ, OPEN4_SHARE_DENY_WRITE),
    ]);
    expect(up.status).toBe(nfsstat4.NFS4_OK);
    expect(openStateid(up)).toEqual({ seqid: sids[0]!.seqid + 1, other: sids[0]!.other });
    expect(count()).toBe(CAP);

    // Closing one makes room again.
    expect((await run([putroot, lookup("export"), lookup("f1"), closeOp(sids[1]!)])).status).toBe(
      nfsstat4.NFS4_OK,
    );
    expect(count()).toBe(CAP - 1);
    expect((await run([putroot, lookup("export"), openOp("new", "o-new")])).status).toBe(
      nfsstat4.NFS4_OK,
    );
    expect(await exists(run, "new")).toBe(nfsstat4.NFS4_OK);
    expect(count()).toBe(CAP);
  });

  it("counts per client: one client at the limit does not limit another", async () => {
    const a = await counted("a");
    for (let i = 0; i < CAP; i++)
      await a.run([putroot, lookup("export"), openOp(`a${i}`, `o${i}`)]);
    expect((await a.run([putroot, lookup("export"), openOp("x", "o9")])).status).toBe(
      nfsstat4.NFS4ERR_NOSPC,
    );
    const b = await counted("b");
    expect((await b.run([putroot, lookup("export"), openOp("x", "o9")])).status).toBe(
      nfsstat4.NFS4_OK,
    );
    expect([a.count(), b.count()]).toEqual([CAP, 1]);
    expect(h.state.stats().mostStateidsOfAClient).toBe(CAP);
  });

  it("refuses a LOCK needing a new lock stateid with NFS4ERR_SERVERFAULT; held ones still lock", async () => {
    const { run, count } = await counted("a");
    const s1 = openStateid(await run([putroot, lookup("export"), openOp("f1", "o1")]));
    const s2 = openStateid(await run([putroot, lookup("export"), openOp("f2", "o2")]));
    const locked = await run([
      putroot,
      lookup("export"),
      lookup("f1"),
      lockNew(s1, "L1", nfs_lock_type4.WRITE_LT, 0n, 10n),
    ]);
    expect(locked.status).toBe(nfsstat4.NFS4_OK);
    const l1 = last<{ resok4: { lock_stateid: stateid4 } }>(locked, "oplock").resok4.lock_stateid;
    expect(count()).toBe(CAP);

    // A new lock-owner: refused, and nothing of it kept.
    const lockF2 = [
      putroot,
      lookup("export"),
      lookup("f2"),
      lockNew(s2, "L2", nfs_lock_type4.WRITE_LT, 0n, 10n),
    ];
    expect((await run(lockF2)).status).toBe(nfsstat4.NFS4ERR_SERVERFAULT);
    // A held lock-owner on another file needs a new lock stateid too.
    expect(
      (
        await run([
          putroot,
          lookup("export"),
          lookup("f2"),
          lockNew(s2, "L1", nfs_lock_type4.WRITE_LT, 0n, 10n),
        ])
      ).status,
    ).toBe(nfsstat4.NFS4ERR_SERVERFAULT);
    expect(h.state.stats()).toMatchObject({ lockOwners: 1, stateids: CAP });

    // Through the lock stateid held, locking goes on.
    const more = await run([
      putroot,
      lookup("export"),
      lookup("f1"),
      lockExisting(l1, nfs_lock_type4.READ_LT, 100n, 10n),
    ]);
    expect(more.status).toBe(nfsstat4.NFS4_OK);
    expect(count()).toBe(CAP);

    // Unlocking and freeing the lock stateid (FREE_STATEID) makes room.
    const l1now = last<{ resok4: { lock_stateid: stateid4 } }>(more, "oplock").resok4.lock_stateid;
    const unlocked = await run([putroot, lookup("export"), lookup("f1"), locku(l1now, 0n, ALL)]);
    const free = await run([
      {
        argop: nfs_opnum4.OP_FREE_STATEID,
        opfree_stateid: {
          fsa_stateid: last<{ lock_stateid: stateid4 }>(unlocked, "oplocku").lock_stateid,
        },
      },
    ]);
    expect(free.status).toBe(nfsstat4.NFS4_OK);
    expect(count()).toBe(CAP - 1);
    const l2res = await run(lockF2);
    expect(l2res.status).toBe(nfsstat4.NFS4_OK);
    expect(count()).toBe(CAP);

    // CLOSE takes the open's (unlocked) lock stateids with it.
    const l2 = last<{ resok4: { lock_stateid: stateid4 } }>(l2res, "oplock").resok4.lock_stateid;
    await run([putroot, lookup("export"), lookup("f2"), locku(l2, 0n, ALL)]);
    const closed = await run([putroot, lookup("export"), lookup("f2"), closeOp(s2)]);
    expect(closed.status).toBe(nfsstat4.NFS4_OK);
    expect(count()).toBe(CAP - 2);
  });

  it("returns the count to 0 when the client goes, on every path", async () => {
    const { run, count, record } = await counted("a");
    const s1 = openStateid(await run([putroot, lookup("export"), openOp("f1", "o1")]));
    await run([
      putroot,
      lookup("export"),
      lookup("f1"),
      lockNew(s1, "L1", nfs_lock_type4.WRITE_LT, 0n, 10n),
    ]);
    await run([putroot, lookup("export"), openOp("f2", "o1")]);
    expect(count()).toBe(CAP);
    h.clock.now += (h.ctx.settings.leaseTimeSec + h.ctx.settings.courtesyTimeSec + 1) * 1000;
    expect(h.state.expireLeases()).toBe(1);
    expect(h.state.stateidCount(record)).toBe(0);
    expect(h.state.stats()).toMatchObject({
      clients: 0,
      openOwners: 0,
      lockOwners: 0,
      stateids: 0,
      mostStateidsOfAClient: 0,
    });
    // The same owner comes back with a new record and the whole allowance.
    const again = await counted("a");
    for (let i = 0; i < CAP; i++)
      expect((await again.run([putroot, lookup("export"), openOp(`g${i}`, "o1")])).status).toBe(
        nfsstat4.NFS4_OK,
      );
    expect(again.count()).toBe(CAP);
  });

  it("logs once per client when it reaches the limit, not once per refusal", () => {
    const lines: string[] = [];
    const log = pino({ level: "warn" }, { write: (line: string) => void lines.push(line) });
    const state = new StateManager({
      settings: { ...DEFAULT_NFS_SETTINGS, maxStateidsPerClient: 1 },
      log,
    });
    const record = (name: string) => {
      const r = new ClientRecord(state.newClientId(), utf8(name), utf8("v"), "sys:0", 0, [], 0, 1, {
        csr_status: nfsstat4.NFS4ERR_SEQ_MISORDERED,
      });
      state.addClient(r);
      return r;
    };
    const a = record("a");
    expect(state.newOpen(a, utf8("o1"), utf8("fh1"))).not.toBeNull();
    expect(lines).toHaveLength(0);
    for (let i = 0; i < 10; i++) expect(state.newOpen(a, utf8(`o${i}`), utf8(`g${i}`))).toBeNull();
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({
      clientid: a.clientid.toString(16),
      maxStateidsPerClient: 1,
    });
    const b = record("b");
    state.newOpen(b, utf8("o1"), utf8("fh1"));
    expect(state.newOpen(b, utf8("o2"), utf8("fh2"))).toBeNull();
    expect(lines).toHaveLength(2);
    expect(state.stateidCount(a)).toBe(1);
  });
});

// Open and lock state over TCP, between two clients of one server: share
// reservations and NFS4ERR_SHARE_DENIED, byte-range locks with LOCK4denied,
// splitting on LOCKU, the stateid seqid rules (RFC 8881 §8.2.2), and the
// courteous server (§8.3): an expired client's locks give way only to a
// conflict, and a client that comes back before one keeps them. No timing
// decides a verdict: lease expiry runs on an injected clock, and the server's
// sweep is awaited by polling.

import { describe, expect, it } from "vitest";
import type {
  nfs_argop4,
  nfs_lock_type4,
  nfs_opnum4,
  stateid4,
} from "../../generated/nfs4/index.js";
import {
  OPEN4_SHARE_ACCESS_BOTH,
  OPEN4_SHARE_ACCESS_READ,
  OPEN4_SHARE_ACCESS_WRITE,
  OPEN4_SHARE_DENY_NONE,
  OPEN4_SHARE_DENY_WRITE,
  createmode4,
  nfs_lock_type4 as LockType,
  open_claim_type4,
  opentype4,
  stable_how4,
} from "../../generated/nfs4/index.js";
import type { ClientSession, ResultOf, SessionReply } from "../../src/client/index.js";
import { ops, resultOf } from "../../src/client/index.js";
import { OP, ST, establish, uniqueOwner, until, useServer } from "./support.js";

const utf8 = new TextEncoder();
// These tests are about share reservations and locks between clients: no
// delegation gets in their way (test/e2e/delegations.test.ts has those).
const NO_DELEGATIONS = { settings: { delegationPolicy: "none" as const } };
const text = new TextDecoder();

/** PUTROOTFH, LOOKUP export (and the file, if named): the usual start of a COMPOUND. */
function at(file?: string): nfs_argop4[] {
  const path = [ops.putrootfh(), ops.lookup("export")];
  return file === undefined ? path : [...path, ops.lookup(file)];
}

function openOp(name: string, owner: string, access: number, deny: number): nfs_argop4 {
  return {
    argop: OP.OP_OPEN,
    opopen: {
      seqid: 0,
      share_access: access,
      share_deny: deny,
      owner: { clientid: 0n, owner: utf8.encode(owner) },
      openhow: {
        opentype: opentype4.OPEN4_CREATE,
        how: {
          mode: createmode4.UNCHECKED4,
          createattrs: { attrmask: [], attr_vals: new Uint8Array() },
        },
      },
      claim: { claim: open_claim_type4.CLAIM_NULL, file: utf8.encode(name) },
    },
  };
}

const closeOp = (s: stateid4): nfs_argop4 => ({
  argop: OP.OP_CLOSE,
  opclose: { seqid: 0, open_stateid: s },
});

const writeOp = (s: stateid4, data: string): nfs_argop4 => ({
  argop: OP.OP_WRITE,
  opwrite: { stateid: s, offset: 0n, stable: stable_how4.FILE_SYNC4, data: utf8.encode(data) },
});

const readOp = (s: stateid4): nfs_argop4 => ({
  argop: OP.OP_READ,
  opread: { stateid: s, offset: 0n, count: 100 },
});

/** LOCK by a new lock-owner, reached through the open stateid. */
function lockNew(
  open: stateid4,
  owner: string,
  locktype: nfs_lock_type4,
  offset: bigint,
  length: bigint,
): nfs_argop4 {
  return {
    argop: OP.OP_LOCK,
    oplock: {
      locktype,
      reclaim: false,
      offset,
      length,
      locker: {
        new_lock_owner: true,
        open_owner: {
          open_seqid: 0,
          open_stateid: open,
          lock_seqid: 0,
          lock_owner: { clientid: 0n, owner: utf8.encode(owner) },
        },
      },
    },
  };
}

const locku = (s: stateid4, offset: bigint, length: bigint): nfs_argop4 => ({
  argop: OP.OP_LOCKU,
  oplocku: { locktype: LockType.WRITE_LT, seqid: 0, lock_stateid: s, offset, length },
});

const lockt = (
  owner: string,
  locktype: nfs_lock_type4,
  offset: bigint,
  length: bigint,
): nfs_argop4 => ({
  argop: OP.OP_LOCKT,
  oplockt: { locktype, offset, length, owner: { clientid: 0n, owner: utf8.encode(owner) } },
});

/** The result of the reply's last operation, which must be `op`. */
function last<N extends nfs_opnum4>(reply: SessionReply, op: N): ResultOf<N> {
  const r = resultOf(reply.resarray.at(-1), op);
  if (r === undefined) throw new Error(`the COMPOUND did not end with operation ${op}`);
  return r;
}

function openStateid(reply: SessionReply): stateid4 {
  const r = last(reply, OP.OP_OPEN);
  if (r.status !== ST.NFS4_OK) throw new Error(`OPEN failed: ${r.status}`);
  return r.resok4.stateid;
}

function lockStateid(reply: SessionReply): stateid4 {
  const r = last(reply, OP.OP_LOCK);
  if (r.status !== ST.NFS4_OK) throw new Error(`LOCK failed: ${r.status}`);
  return r.resok4.lock_stateid;
}

interface Peer {
  readonly session: ClientSession;
  readonly clientid: bigint;
  run(args: nfs_argop4[]): Promise<SessionReply>;
}

/** A client with a session that has sent RECLAIM_COMPLETE, so it may OPEN. */
async function peer(port: number): Promise<Peer> {
  const { session } = await establish(port, { owner: uniqueOwner("state") });
  const rc = await session.compound([ops.reclaimComplete(false)]);
  expect(rc.status).toBe(ST.NFS4_OK);
  return {
    session,
    clientid: session.clientid,
    run: (args) => session.compound(args),
  };
}

describe("share reservations between two clients", () => {
  const running = useServer(NO_DELEGATIONS);

  it("denies another client's conflicting OPEN until the holder CLOSEs", async () => {
    const a = await peer(running.port);
    const b = await peer(running.port);

    const opened = await a.run([
      ...at(),
      openOp("f", "a-open", OPEN4_SHARE_ACCESS_BOTH, OPEN4_SHARE_DENY_WRITE),
    ]);
    expect(opened.status).toBe(ST.NFS4_OK);
    const sid = openStateid(opened);
    expect(sid.seqid).toBe(1);

    const wrote = await a.run([...at("f"), writeOp(sid, "hello")]);
    expect(wrote.status).toBe(ST.NFS4_OK);
    const w = last(wrote, OP.OP_WRITE);
    if (w.status !== ST.NFS4_OK) throw new Error("WRITE failed");
    expect(w.resok4.count).toBe(5);

    const read = await a.run([...at("f"), readOp(sid)]);
    const r = last(read, OP.OP_READ);
    if (r.status !== ST.NFS4_OK) throw new Error(`READ failed: ${r.status}`);
    expect(text.decode(r.resok4.data)).toBe("hello");
    expect(r.resok4.eof).toBe(true);

    // A denies writing: B may not open for WRITE, but may for READ.
    const bWrite = await b.run([
      ...at(),
      openOp("f", "b-writer", OPEN4_SHARE_ACCESS_WRITE, OPEN4_SHARE_DENY_NONE),
    ]);
    expect(bWrite.status).toBe(ST.NFS4ERR_SHARE_DENIED);
    expect(last(bWrite, OP.OP_OPEN).status).toBe(ST.NFS4ERR_SHARE_DENIED);
    const bRead = await b.run([
      ...at(),
      openOp("f", "b-reader", OPEN4_SHARE_ACCESS_READ, OPEN4_SHARE_DENY_NONE),
    ]);
    expect(bRead.status).toBe(ST.NFS4_OK);
    const bReadSid = openStateid(bRead);
    const bSees = await b.run([...at("f"), readOp(bReadSid)]);
    const bs = last(bSees, OP.OP_READ);
    if (bs.status !== ST.NFS4_OK) throw new Error(`B's READ failed: ${bs.status}`);
    expect(text.decode(bs.resok4.data)).toBe("hello");

    // A closes; its deny goes with it.
    const closed = await a.run([...at("f"), closeOp(sid)]);
    expect(closed.status).toBe(ST.NFS4_OK);
    const c = last(closed, OP.OP_CLOSE);
    if (c.status !== ST.NFS4_OK) throw new Error("CLOSE failed");
    expect(c.open_stateid.seqid).toBe(0xffffffff);

    const bAgain = await b.run([
      ...at(),
      openOp("f", "b-writer", OPEN4_SHARE_ACCESS_WRITE, OPEN4_SHARE_DENY_NONE),
    ]);
    expect(bAgain.status).toBe(ST.NFS4_OK);
    const bw = await b.run([...at("f"), writeOp(openStateid(bAgain), "HELLO")]);
    expect(bw.status).toBe(ST.NFS4_OK);
  });
});

describe("byte-range locks between two clients", () => {
  const running = useServer(NO_DELEGATIONS);

  it("denies conflicting locks naming the holder, and splits the lock on a partial LOCKU", async () => {
    const a = await peer(running.port);
    const b = await peer(running.port);
    const aOpen = openStateid(
      await a.run([...at(), openOp("g", "a-open", OPEN4_SHARE_ACCESS_BOTH, OPEN4_SHARE_DENY_NONE)]),
    );
    const bOpen = openStateid(
      await b.run([...at(), openOp("g", "b-open", OPEN4_SHARE_ACCESS_BOTH, OPEN4_SHARE_DENY_NONE)]),
    );

    const locked = await a.run([
      ...at("g"),
      lockNew(aOpen, "a-locker", LockType.WRITE_LT, 0n, 100n),
    ]);
    expect(locked.status).toBe(ST.NFS4_OK);
    const aLock = lockStateid(locked);
    expect(aLock.seqid).toBe(1);
    expect(aLock.other).not.toEqual(aOpen.other);

    const holder = {
      offset: 0n,
      length: 100n,
      locktype: LockType.WRITE_LT,
      owner: { clientid: a.clientid, owner: utf8.encode("a-locker") },
    };

    const bLock = await b.run([
      ...at("g"),
      lockNew(bOpen, "b-locker", LockType.WRITE_LT, 50n, 10n),
    ]);
    expect(bLock.status).toBe(ST.NFS4ERR_DENIED);
    const denied = last(bLock, OP.OP_LOCK);
    if (denied.status !== ST.NFS4ERR_DENIED) throw new Error(`LOCK: ${denied.status}`);
    expect(denied.denied).toEqual(holder);

    const bTest = await b.run([...at("g"), lockt("b-locker", LockType.READ_LT, 50n, 10n)]);
    expect(bTest.status).toBe(ST.NFS4ERR_DENIED);
    const tested = last(bTest, OP.OP_LOCKT);
    if (tested.status !== ST.NFS4ERR_DENIED) throw new Error(`LOCKT: ${tested.status}`);
    expect(tested.denied).toEqual(holder);
    // A's own lock-owner is not in its own way.
    expect((await a.run([...at("g"), lockt("a-locker", LockType.WRITE_LT, 0n, 100n)])).status).toBe(
      ST.NFS4_OK,
    );

    // A unlocks [0, 50): [50, 100) is still A's.
    const unlocked = await a.run([...at("g"), locku(aLock, 0n, 50n)]);
    expect(unlocked.status).toBe(ST.NFS4_OK);
    const u = last(unlocked, OP.OP_LOCKU);
    if (u.status !== ST.NFS4_OK) throw new Error(`LOCKU: ${u.status}`);
    expect(u.lock_stateid.seqid).toBe(2);
    expect(u.lock_stateid.other).toEqual(aLock.other);

    const bLow = await b.run([...at("g"), lockNew(bOpen, "b-locker", LockType.WRITE_LT, 10n, 10n)]);
    expect(bLow.status).toBe(ST.NFS4_OK);
    const bLowSid = lockStateid(bLow);

    // B's lock-owner now exists: the next LOCK goes through its lock stateid.
    const bHigh = await b.run([
      ...at("g"),
      {
        argop: OP.OP_LOCK,
        oplock: {
          locktype: LockType.WRITE_LT,
          reclaim: false,
          offset: 60n,
          length: 10n,
          locker: { new_lock_owner: false, lock_owner: { lock_stateid: bLowSid, lock_seqid: 0 } },
        },
      },
    ]);
    expect(bHigh.status).toBe(ST.NFS4ERR_DENIED);
    const high = last(bHigh, OP.OP_LOCK);
    if (high.status !== ST.NFS4ERR_DENIED) throw new Error(`LOCK: ${high.status}`);
    expect(high.denied).toEqual({ ...holder, offset: 50n, length: 50n });

    // And A is now kept out of B's [10, 20).
    const aTest = await a.run([...at("g"), lockt("a-locker", LockType.READ_LT, 15n, 1n)]);
    const at15 = last(aTest, OP.OP_LOCKT);
    if (at15.status !== ST.NFS4ERR_DENIED) throw new Error(`LOCKT: ${at15.status}`);
    expect(at15.denied).toEqual({
      offset: 10n,
      length: 10n,
      locktype: LockType.WRITE_LT,
      owner: { clientid: b.clientid, owner: utf8.encode("b-locker") },
    });
  });
});

describe("stateid seqid rules over the wire (RFC 8881 §8.2.2)", () => {
  const running = useServer(NO_DELEGATIONS);

  it("older is OLD_STATEID, seqid 0 means current, another client's is BAD_STATEID", async () => {
    const a = await peer(running.port);
    const b = await peer(running.port);
    const first = openStateid(
      await a.run([...at(), openOp("h", "a-open", OPEN4_SHARE_ACCESS_READ, OPEN4_SHARE_DENY_NONE)]),
    );
    expect(first.seqid).toBe(1);
    // The same open-owner opens again (for WRITE too): same stateid, seqid 2.
    const second = openStateid(
      await a.run([
        ...at(),
        openOp("h", "a-open", OPEN4_SHARE_ACCESS_WRITE, OPEN4_SHARE_DENY_NONE),
      ]),
    );
    expect(second.other).toEqual(first.other);
    expect(second.seqid).toBe(2);

    const readWith = async (p: Peer, s: stateid4) => (await p.run([...at("h"), readOp(s)])).status;
    expect(await readWith(a, second)).toBe(ST.NFS4_OK);
    expect(await readWith(a, first)).toBe(ST.NFS4ERR_OLD_STATEID);
    expect(await readWith(a, { seqid: 0, other: first.other })).toBe(ST.NFS4_OK);
    expect((await a.run([...at("h"), writeOp({ seqid: 0, other: first.other }, "x")])).status).toBe(
      ST.NFS4_OK,
    );
    expect(await readWith(a, { seqid: 3, other: first.other })).toBe(ST.NFS4ERR_BAD_STATEID);
    expect(await readWith(b, second)).toBe(ST.NFS4ERR_BAD_STATEID);
    expect(await readWith(b, { seqid: 0, other: second.other })).toBe(ST.NFS4ERR_BAD_STATEID);
  });
});

describe("the courteous server, on an injected clock", () => {
  const clock = { now: Date.now() };
  const running = useServer(() => ({
    settings: { leaseTimeSec: 1, delegationPolicy: "none" as const },
    now: () => clock.now,
  }));

  /** A with an open and a WRITE lock on `file`, then silent past its lease until it is a courtesy client. */
  async function courtesyHolder(file: string) {
    const a = await peer(running.port);
    const aOpen = openStateid(
      await a.run([
        ...at(),
        openOp(file, "a-open", OPEN4_SHARE_ACCESS_BOTH, OPEN4_SHARE_DENY_NONE),
      ]),
    );
    const aLock = lockStateid(
      await a.run([...at(file), lockNew(aOpen, "a-locker", LockType.WRITE_LT, 0n, 100n)]),
    );
    clock.now += 1500;
    await until(
      () => running.server.state.client(a.clientid)?.courtesy === true,
      "A's lease to expire into courtesy",
    );
    // Its session is kept with it.
    expect(running.server.state.session(a.session.id)).toBeDefined();
    return { a, aLock };
  }

  it("a conflicting LOCK expires the courtesy client, whose next SEQUENCE gets BADSESSION", async () => {
    const { a } = await courtesyHolder("c1");
    // B arrives after the clock jump, so its own lease is live.
    const b = await peer(running.port);
    const bOpen = openStateid(
      await b.run([
        ...at(),
        openOp("c1", "b-open", OPEN4_SHARE_ACCESS_BOTH, OPEN4_SHARE_DENY_NONE),
      ]),
    );
    const bLock = await b.run([
      ...at("c1"),
      lockNew(bOpen, "b-locker", LockType.WRITE_LT, 50n, 10n),
    ]);
    expect(bLock.status).toBe(ST.NFS4_OK);
    expect(running.server.state.client(a.clientid)).toBeUndefined();
    expect((await a.session.sequenceOnly()).status).toBe(ST.NFS4ERR_BADSESSION);
  });

  it("a courtesy client that returns before any conflict keeps its lock", async () => {
    const { a, aLock } = await courtesyHolder("c2");
    // A comes back first: SEQUENCE renews its lease and it is no longer a courtesy client.
    expect((await a.session.sequenceOnly()).status).toBe(ST.NFS4_OK);
    expect(running.server.state.client(a.clientid)?.courtesy).toBe(false);
    const b = await peer(running.port);
    const bTest = await b.run([...at("c2"), lockt("b-locker", LockType.WRITE_LT, 50n, 10n)]);
    expect(bTest.status).toBe(ST.NFS4ERR_DENIED);
    const unlocked = await a.run([...at("c2"), locku(aLock, 0n, 100n)]);
    expect(unlocked.status).toBe(ST.NFS4_OK);
    const u = last(unlocked, OP.OP_LOCKU);
    if (u.status !== ST.NFS4_OK) throw new Error(`LOCKU: ${u.status}`);
    expect(u.lock_stateid.seqid).toBe(2);
    expect(
      (await b.run([...at("c2"), lockt("b-locker", LockType.WRITE_LT, 50n, 10n)])).status,
    ).toBe(ST.NFS4_OK);
  });

  it("a courtesy client's LOCKU, its first request back, succeeds", async () => {
    const { a, aLock } = await courtesyHolder("c3");
    const unlocked = await a.run([...at("c3"), locku(aLock, 0n, 100n)]);
    expect(unlocked.status).toBe(ST.NFS4_OK);
    expect(running.server.state.client(a.clientid)?.courtesy).toBe(false);
  });
});

describe("nfs.maxStateidsPerClient over TCP", () => {
  const CAP = 4;
  const running = useServer({ settings: { maxStateidsPerClient: CAP, delegationPolicy: "none" } });

  it("answers the OPEN beyond it NFS4ERR_NOSPC without creating the file; CLOSE makes room", async () => {
    const a = await peer(running.port);
    const sids: stateid4[] = [];
    // Ever new open-owners, as the fuzzer found: the client's state stops growing at the cap.
    for (let i = 0; i < 3 * CAP; i++) {
      const r = await a.run([
        ...at(),
        openOp(`f${i}`, `owner-${i}`, OPEN4_SHARE_ACCESS_BOTH, OPEN4_SHARE_DENY_NONE),
      ]);
      if (i < CAP) sids.push(openStateid(r));
      else {
        expect(r.status).toBe(ST.NFS4ERR_NOSPC);
        expect(last(r, OP.OP_OPEN).status).toBe(ST.NFS4ERR_NOSPC);
        expect((await a.run(at(`f${i}`))).status).toBe(ST.NFS4ERR_NOENT);
      }
    }
    const record = running.server.state.client(a.clientid);
    if (!record) throw new Error("no client record");
    expect(running.server.state.stateidCount(record)).toBe(CAP);

    // Upgrading an open the owner holds still works at the cap.
    const up = await a.run([
      ...at(),
      openOp("f0", "owner-0", OPEN4_SHARE_ACCESS_READ, OPEN4_SHARE_DENY_WRITE),
    ]);
    expect(up.status).toBe(ST.NFS4_OK);
    expect(openStateid(up).other).toEqual(sids[0]!.other);

    // Another client has its own allowance.
    const b = await peer(running.port);
    expect(
      (
        await b.run([
          ...at(),
          openOp("g", "owner-0", OPEN4_SHARE_ACCESS_READ, OPEN4_SHARE_DENY_NONE),
        ])
      ).status,
    ).toBe(ST.NFS4_OK);

    expect((await a.run([...at("f1"), closeOp(sids[1]!)])).status).toBe(ST.NFS4_OK);
    const again = await a.run([
      ...at(),
      openOp("late", "owner-late", OPEN4_SHARE_ACCESS_BOTH, OPEN4_SHARE_DENY_NONE),
    ]);
    expect(again.status).toBe(ST.NFS4_OK);
    expect((await a.run(at("late"))).status).toBe(ST.NFS4_OK);
    expect(running.server.state.stateidCount(record)).toBe(CAP);
  });
});

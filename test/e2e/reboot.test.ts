// A server restarted on the same data directory (RFC 8881 §8.4.2): its
// clients find their sessions and client IDs gone (BADSESSION,
// STALE_CLIENTID), establish new ones and reclaim their opens and locks during
// the grace period, while new state waits (NFS4ERR_GRACE); a client the
// server did not record may not reclaim (NFS4ERR_NO_GRACE). Grace ends when
// every recorded client has sent RECLAIM_COMPLETE, or at nfs.graceTimeSec.
// The client recovery records are kept in the metadata store — SQLite, and
// PostgreSQL on a throwaway cluster (test/support/postgres.ts): written at
// RECLAIM_COMPLETE, removed with the client's state (DESTROY_CLIENTID, lease
// expiry, a new incarnation of the client). The server is restarted in
// process: closed with its store, then the data directory is opened again.
// No verdict depends on timing: grace ending is awaited by polling.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { nfs_argop4, stateid4 } from "../../generated/nfs4/index.js";
import {
  EXCHGID4_FLAG_CONFIRMED_R,
  OPEN4_SHARE_ACCESS_BOTH,
  OPEN4_SHARE_DENY_NONE,
  createmode4,
  nfs_lock_type4,
  open_claim_type4,
  open_delegation_type4,
  opentype4,
} from "../../generated/nfs4/index.js";
import type { ClientSession, NfsClient, SessionReply } from "../../src/client/index.js";
import { ops, resultOf } from "../../src/client/index.js";
import type { NfsSettings } from "../../src/nfs/settings.js";
import { NfsServer } from "../../src/nfs/server.js";
import { openDataDir, type MetadataLocation, type OpenedStore } from "../../src/store/data-dir.js";
import { postgresMissing, startPostgres, type PostgresCluster } from "../support/postgres.js";
import { OP, ST, connectClient, uniqueOwner, until } from "./support.js";

const utf8 = new TextEncoder();

interface Booted {
  readonly server: NfsServer;
  readonly store: OpenedStore;
  readonly port: number;
  stop(): Promise<void>;
}

const dirs: string[] = [];
const running: Booted[] = [];
afterEach(async () => {
  for (const b of running.splice(0)) await b.stop();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** Where a server keeps its store: a data directory, and the metadata there or in PostgreSQL. */
interface Place {
  readonly dir: string;
  readonly metadata: MetadataLocation;
}

function dataDir(): string {
  const d = mkdtempSync(join(tmpdir(), "dfs-reboot-"));
  dirs.push(d);
  return d;
}

/** Starts a server on `place` as `dfs serve` does with the sqlite or postgres backend. */
async function boot(
  place: Place,
  settings: Partial<NfsSettings> = {},
  now?: () => number,
): Promise<Booted> {
  const store = await openDataDir(place.dir, {}, {}, place.metadata);
  const server = new NfsServer({
    fs: store.fs,
    serverOwner: store.serverOwner,
    recovery: store.recovery,
    settings: { delegationPolicy: "none", graceTimeSec: 60, ...settings },
    ...(now ? { now } : {}),
  });
  const [bound] = await server.listen([{ host: "127.0.0.1", port: 0 }]);
  let stopped = false;
  const booted: Booted = {
    server,
    store,
    port: bound!.port,
    stop: async () => {
      if (stopped) return;
      stopped = true;
      await server.close();
      await store.close();
    },
  };
  running.push(booted);
  return booted;
}

/** A client incarnation: the same owner and verifier reconnect after the restart. */
interface Incarnation {
  readonly owner: string;
  readonly verifier: Uint8Array;
}

function incarnation(): Incarnation {
  const verifier = new Uint8Array(8);
  crypto.getRandomValues(verifier);
  return { owner: uniqueOwner("reboot"), verifier };
}

/** EXCHANGE_ID and CREATE_SESSION for the incarnation on the server at `port`. */
async function connect(
  port: number,
  who: Incarnation,
): Promise<{ client: NfsClient; session: ClientSession; flags: number }> {
  const client = await connectClient(port);
  const ok = await client.exchangeId(who.owner, who.verifier);
  const session = await client.createSession();
  return { client, session, flags: ok.eir_flags };
}

const at = (...names: string[]): nfs_argop4[] => [
  ops.putrootfh(),
  ops.lookup("export"),
  ...names.map((n) => ops.lookup(n)),
];

function openNull(name: string, owner: string): nfs_argop4 {
  return {
    argop: OP.OP_OPEN,
    opopen: {
      seqid: 0,
      share_access: OPEN4_SHARE_ACCESS_BOTH,
      share_deny: OPEN4_SHARE_DENY_NONE,
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

/** OPEN CLAIM_PREVIOUS of the current file (RFC 8881 §18.16.3), reclaiming `held` too. */
function openPrevious(
  owner: string,
  held: open_delegation_type4 = open_delegation_type4.OPEN_DELEGATE_NONE,
): nfs_argop4 {
  return {
    argop: OP.OP_OPEN,
    opopen: {
      seqid: 0,
      share_access: OPEN4_SHARE_ACCESS_BOTH,
      share_deny: OPEN4_SHARE_DENY_NONE,
      owner: { clientid: 0n, owner: utf8.encode(owner) },
      openhow: { opentype: opentype4.OPEN4_NOCREATE },
      claim: {
        claim: open_claim_type4.CLAIM_PREVIOUS,
        delegate_type: held,
      },
    },
  };
}

function lockNew(open: stateid4, owner: string, reclaim: boolean): nfs_argop4 {
  return {
    argop: OP.OP_LOCK,
    oplock: {
      locktype: nfs_lock_type4.WRITE_LT,
      reclaim,
      offset: 0n,
      length: 100n,
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

function lastStatus(reply: SessionReply): number {
  return reply.status;
}

function openedStateid(reply: SessionReply): stateid4 {
  const r = resultOf(
    reply.resarray.find((x) => x.resop === OP.OP_OPEN),
    OP.OP_OPEN,
  );
  if (r?.status !== ST.NFS4_OK) throw new Error(`OPEN failed: ${reply.status}`);
  return r.resok4.stateid;
}

function fhOf(reply: SessionReply): Uint8Array {
  const r = resultOf(reply.resarray.at(-1), OP.OP_GETFH);
  if (r?.status !== ST.NFS4_OK) throw new Error(`GETFH failed: ${reply.status}`);
  return r.resok4.object;
}

async function reclaimComplete(session: ClientSession): Promise<number> {
  return (await session.compound([ops.reclaimComplete(false)])).status;
}

/** The owners the store has recovery records for. */
async function recorded(store: OpenedStore): Promise<string[]> {
  const td = new TextDecoder();
  return (await store.recovery.list()).map((r) => td.decode(r.ownerId)).sort();
}

const missingPostgres = postgresMissing();
if (missingPostgres !== null) {
  if (process.env["DFS_REQUIRE_SERVICES"] === "1")
    throw new Error(`PostgreSQL tests: ${missingPostgres}`);
  console.warn(`\n*** SKIPPING the reboot tests on PostgreSQL: ${missingPostgres} ***\n`);
}

describe.each(["sqlite", "postgres"] as const)("on the %s store", (backend) => {
  let cluster: PostgresCluster | null = null;
  let databases = 0;
  beforeAll(async () => {
    if (backend === "postgres" && missingPostgres === null) cluster = await startPostgres();
  });
  afterAll(() => cluster?.stop());

  /** A new, empty store: a data directory, with a database of its own on PostgreSQL. */
  async function newPlace(): Promise<Place> {
    if (backend === "sqlite") return { dir: dataDir(), metadata: { kind: "sqlite" } };
    if (cluster === null) throw new Error("no PostgreSQL cluster");
    const url = await cluster.createDatabase(`reboot${++databases}`);
    return { dir: dataDir(), metadata: { kind: "postgres", url } };
  }

  const skip = backend === "postgres" && missingPostgres !== null;

  describe.skipIf(skip)("restart, grace and reclaim", () => {
    it("reclaims opens and locks during grace, refuses new state until grace ends", async () => {
      const dir = await newPlace();
      const first = await boot(dir);
      const a = incarnation();
      const b = incarnation();
      const before = await connect(first.port, a);
      expect(await reclaimComplete(before.session)).toBe(ST.NFS4_OK);
      const bBefore = await connect(first.port, b);
      expect(await reclaimComplete(bBefore.session)).toBe(ST.NFS4_OK);
      // RECLAIM_COMPLETE answered: both records are durable.
      expect(await recorded(first.store)).toEqual([a.owner, b.owner].sort());
      const opened = await before.session.compound([
        ...at(),
        openNull("held", "a-open"),
        ops.getfh(),
      ]);
      expect(opened.status).toBe(ST.NFS4_OK);
      const fh = fhOf(opened);
      const locked = await before.session.compound([
        ops.putfh(fh),
        lockNew(openedStateid(opened), "a-lock", false),
      ]);
      expect(locked.status).toBe(ST.NFS4_OK);
      const oldSessionId = before.session.id;
      const oldClientId = before.session.clientid;

      await first.stop();
      before.client.destroy();
      bBefore.client.destroy();
      const second = await boot(dir);
      expect(second.server.recovery.inGrace).toBe(true);

      // The old session and client ID are gone: BADSESSION, then STALE_CLIENTID.
      const raw = await connectClient(second.port);
      const seq = await raw.compound([
        ops.sequence({
          sa_sessionid: oldSessionId,
          sa_sequenceid: 2,
          sa_slotid: 0,
          sa_highest_slotid: 0,
          sa_cachethis: false,
        }),
      ]);
      expect(seq.res.status).toBe(ST.NFS4ERR_BADSESSION);
      const cs = await raw.compound([
        {
          argop: OP.OP_CREATE_SESSION,
          opcreate_session: {
            csa_clientid: oldClientId,
            csa_sequence: 1,
            csa_flags: 0,
            csa_fore_chan_attrs: ops.channelAttrs(),
            csa_back_chan_attrs: ops.backChannelAttrs(),
            csa_cb_program: 0x40000000,
            csa_sec_parms: [{ cb_secflavor: 0 }],
          },
        },
      ]);
      expect(cs.res.status).toBe(ST.NFS4ERR_STALE_CLIENTID);

      // A comes back: a new client record (not CONFIRMED_R: the server has none in memory).
      const after = await connect(second.port, a);
      expect(after.flags & EXCHGID4_FLAG_CONFIRMED_R).toBe(0);
      // Before its RECLAIM_COMPLETE, and during grace, a new open is refused.
      expect(lastStatus(await after.session.compound([...at(), openNull("new", "a-new")]))).toBe(
        ST.NFS4ERR_GRACE,
      );
      const reclaimed = await after.session.compound([ops.putfh(fh), openPrevious("a-open")]);
      expect(reclaimed.status).toBe(ST.NFS4_OK);
      const reopened = resultOf(reclaimed.resarray[1], OP.OP_OPEN);
      if (reopened?.status !== ST.NFS4_OK) throw new Error("no OPEN result");
      expect(reopened.resok4.delegation.delegation_type).toBe(
        open_delegation_type4.OPEN_DELEGATE_NONE,
      );
      const relocked = await after.session.compound([
        ops.putfh(fh),
        lockNew(reopened.resok4.stateid, "a-lock", true),
      ]);
      expect(relocked.status).toBe(ST.NFS4_OK);

      // A client the server never recorded may not reclaim, nor take new state during grace.
      const stranger = await connect(second.port, incarnation());
      expect(
        lastStatus(await stranger.session.compound([ops.putfh(fh), openPrevious("s-open")])),
      ).toBe(ST.NFS4ERR_NO_GRACE);
      expect(await reclaimComplete(stranger.session)).toBe(ST.NFS4_OK);
      expect(
        lastStatus(await stranger.session.compound([...at(), openNull("s-new", "s-open")])),
      ).toBe(ST.NFS4ERR_GRACE);

      // B completes without reclaiming; A has not completed: still in grace,
      // and a name a client might reclaim through may not go.
      const bAfter = await connect(second.port, b);
      expect(await reclaimComplete(bAfter.session)).toBe(ST.NFS4_OK);
      expect(
        lastStatus(await bAfter.session.compound([...at(), openNull("b-new", "b-open")])),
      ).toBe(ST.NFS4ERR_GRACE);
      expect(
        lastStatus(
          await bAfter.session.compound([
            ...at(),
            { argop: OP.OP_REMOVE, opremove: { target: utf8.encode("held") } },
          ]),
        ),
      ).toBe(ST.NFS4ERR_GRACE);
      expect(second.server.recovery.inGrace).toBe(true);

      // A completes: every recorded client has, and grace ends.
      expect(await reclaimComplete(after.session)).toBe(ST.NFS4_OK);
      await until(async () => {
        const r = await bAfter.session.compound([...at(), openNull("b-new", "b-open")]);
        return r.status === ST.NFS4_OK;
      }, "a new open after every recorded client completed");
      expect(second.server.recovery.inGrace).toBe(false);

      // After its RECLAIM_COMPLETE (and after grace) a reclaim is NO_GRACE; a second one COMPLETE_ALREADY.
      expect(
        lastStatus(await after.session.compound([ops.putfh(fh), openPrevious("a-open")])),
      ).toBe(ST.NFS4ERR_NO_GRACE);
      expect(await reclaimComplete(after.session)).toBe(ST.NFS4ERR_COMPLETE_ALREADY);
      // The reclaimed lock holds: B's conflicting lock is denied.
      const bOpen = await bAfter.session.compound([...at(), openNull("held", "b-open2")]);
      expect(bOpen.status).toBe(ST.NFS4_OK);
      const bLock = await bAfter.session.compound([
        ...at("held"),
        lockNew(openedStateid(bOpen), "b-lock", false),
      ]);
      expect(bLock.status).toBe(ST.NFS4ERR_DENIED);
      // Every client that completed is recorded for the next restart.
      expect(await recorded(second.store)).toContain(a.owner);
      expect(await recorded(second.store)).toContain(b.owner);
    });

    it("ends grace at nfs.graceTimeSec; clients that did not reclaim lose their records", async () => {
      const dir = await newPlace();
      const first = await boot(dir);
      const a = incarnation();
      const before = await connect(first.port, a);
      expect(await reclaimComplete(before.session)).toBe(ST.NFS4_OK);
      await first.stop();
      before.client.destroy();

      const second = await boot(dir, { graceTimeSec: 1 });
      expect(second.server.recovery.inGrace).toBe(true);
      // Nobody comes back: grace ends by the clock.
      await until(() => !second.server.recovery.inGrace, "the end of grace", 30_000);
      await until(
        async () => !(await recorded(second.store)).includes(a.owner),
        "the unreclaimed record to go",
      );
      // Now A's reclaim is too late, and new opens are allowed.
      const after = await connect(second.port, a);
      expect(lastStatus(await after.session.compound([...at(), openPrevious("a-open")]))).toBe(
        ST.NFS4ERR_NO_GRACE,
      );
      expect(await reclaimComplete(after.session)).toBe(ST.NFS4_OK);
      expect(lastStatus(await after.session.compound([...at(), openNull("f", "a-open")]))).toBe(
        ST.NFS4_OK,
      );
    });

    it("a reclaimed open gets back the delegation the client held", async () => {
      const dir = await newPlace();
      const first = await boot(dir, { delegationPolicy: "read-write" });
      const a = incarnation();
      const before = await connect(first.port, a);
      expect(await reclaimComplete(before.session)).toBe(ST.NFS4_OK);
      const opened = await before.session.compound([...at(), openNull("d", "a-open"), ops.getfh()]);
      expect(opened.status).toBe(ST.NFS4_OK);
      const fh = fhOf(opened);
      await first.stop();
      before.client.destroy();

      const second = await boot(dir, { delegationPolicy: "read-write" });
      const after = await connect(second.port, a);
      const reclaimed = await after.session.compound([
        ops.putfh(fh),
        openPrevious("a-open", open_delegation_type4.OPEN_DELEGATE_WRITE),
      ]);
      expect(reclaimed.status).toBe(ST.NFS4_OK);
      const r = resultOf(reclaimed.resarray[1], OP.OP_OPEN);
      if (r?.status !== ST.NFS4_OK) throw new Error("no OPEN result");
      expect(r.resok4.delegation.delegation_type).toBe(open_delegation_type4.OPEN_DELEGATE_WRITE);
      expect(second.server.state.delegationCount).toBe(1);
    });

    it("a server with no records starts without grace", async () => {
      const dir = await newPlace();
      const first = await boot(dir);
      const a = incarnation();
      const before = await connect(first.port, a);
      // Never completed, so never recorded.
      await first.stop();
      before.client.destroy();
      const second = await boot(dir);
      expect(second.server.recovery.inGrace).toBe(false);
      const after = await connect(second.port, a);
      expect(lastStatus(await after.session.compound([...at(), openPrevious("a-open")]))).toBe(
        ST.NFS4ERR_NO_GRACE,
      );
    });
  });

  describe.skipIf(skip)("client recovery records", () => {
    it("survive a restart, and go with DESTROY_CLIENTID and a new incarnation", async () => {
      const dir = await newPlace();
      const first = await boot(dir);
      const a = incarnation();
      const b = incarnation();
      const ca = await connect(first.port, a);
      const cb = await connect(first.port, b);
      expect(await reclaimComplete(ca.session)).toBe(ST.NFS4_OK);
      expect(await reclaimComplete(cb.session)).toBe(ST.NFS4_OK);
      await first.stop();
      ca.client.destroy();
      cb.client.destroy();

      const second = await boot(dir);
      expect(await recorded(second.store)).toEqual([a.owner, b.owner].sort());
      const a2 = await connect(second.port, a);
      expect(await reclaimComplete(a2.session)).toBe(ST.NFS4_OK);
      // DESTROY_CLIENTID: A has nothing left to reclaim; its record goes before the reply.
      await a2.session.destroy();
      await a2.client.destroyClientId();
      expect(await recorded(second.store)).toEqual([b.owner]);

      // B completes, then reboots (a new verifier): the new incarnation's
      // CREATE_SESSION drops the old one's state, and its record.
      const b2 = await connect(second.port, b);
      expect(await reclaimComplete(b2.session)).toBe(ST.NFS4_OK);
      expect(await recorded(second.store)).toEqual([b.owner]);
      const rebooted = await connect(second.port, {
        owner: b.owner,
        verifier: new Uint8Array(8),
      });
      expect(await recorded(second.store)).toEqual([]);
      expect(await reclaimComplete(rebooted.session)).toBe(ST.NFS4_OK);
      expect(await recorded(second.store)).toEqual([b.owner]);
    });

    it("go when the lease expires", async () => {
      const dir = await newPlace();
      let offset = 0;
      const server = await boot(dir, { leaseTimeSec: 10 }, () => Date.now() + offset);
      const a = incarnation();
      const ca = await connect(server.port, a);
      expect(await reclaimComplete(ca.session)).toBe(ST.NFS4_OK);
      expect(await recorded(server.store)).toEqual([a.owner]);
      ca.client.destroy();
      offset += 60_000;
      await until(
        async () => (await recorded(server.store)).length === 0,
        "the expired client's record to go",
      );
      expect(server.server.state.clientCount).toBe(0);
    });
  });
});

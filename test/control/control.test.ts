// The control API and dfsctl against a running server with clients from
// src/client connected: every view as a table and as JSON, and every action
// with the effect its client sees (RFC 8881: BADSESSION, STALE_CLIENTID,
// ADMIN_REVOKED with SEQ4_STATUS_ADMIN_STATE_REVOKED, the end of grace), the
// reload of export rules, the debug switch, the TCP token, and bad arguments.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  OPEN4_SHARE_ACCESS_READ,
  OPEN4_SHARE_ACCESS_WANT_READ_DELEG,
  SEQ4_STATUS_ADMIN_STATE_REVOKED,
  SEQ4_STATUS_RECALLABLE_STATE_REVOKED,
  nfs_opnum4,
  nfsstat4,
} from "../../generated/nfs4/index.js";
import { controlCommand, type Output } from "../../src/cli/control-command.js";
import { openFile } from "../../src/client/files.js";
import { ops, resultOf } from "../../src/client/index.js";
import { buildConfig } from "../../src/config/config.js";
import type { ExportConfig } from "../../src/config/exports.js";
import { controlRequest } from "../../src/control/client.js";
import { startControl, type ControlListener } from "../../src/control/listener.js";
import { reloadExports } from "../../src/control/reload.js";
import type {
  ClientView,
  DelegationView,
  SessionView,
  StatusView,
} from "../../src/control/views.js";
import { MemoryFileSystem } from "../../src/fs/memory.js";
import { NfsServer } from "../../src/nfs/server.js";
import { MemoryClientRecoveryStore } from "../../src/store/recovery.js";
import { establishReady, until } from "../e2e/support.js";

const TOKEN = "a-control-token-for-tests";
const utf8 = new TextEncoder();

/** Log lines the server writes, parsed. */
const logged: { msg: string; [key: string]: unknown }[] = [];
const logStream = new Writable({
  write(chunk: Buffer, _enc, done) {
    for (const line of chunk.toString("utf8").split("\n"))
      if (line !== "") logged.push(JSON.parse(line) as { msg: string });
    done();
  },
});

let dir: string;
let server: NfsServer;
let port: number;
let control: ControlListener;
let socket: string;
let reloadConfig = buildConfig(null, "(defaults)", []);

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "dfs-control-"));
  socket = join(dir, "control.sock");
  server = new NfsServer({
    fs: new MemoryFileSystem({ exportMode: 0o777 }),
    logger: pino({ level: "info" }, logStream),
  });
  const [bound] = await server.listen([{ host: "127.0.0.1", port: 0 }]);
  port = bound!.port;
  const started = buildConfig(null, "(defaults)", []);
  control = await startControl(
    {
      server,
      facts: { version: "9.9.9-test", listen: [`127.0.0.1:${port}`] },
      reload: async () => reloadExports(server, started, reloadConfig, null),
    },
    { socket: "", listen: "127.0.0.1:0", token: TOKEN },
    socket,
  );
});

afterAll(async () => {
  await control.close();
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Runs dfsctl with the test socket; returns its exit status and what it printed. */
async function dfsctl(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const io: Output = { out: (t) => (out += `${t}\n`), err: (t) => (err += `${t}\n`) };
  const code = await controlCommand(["--socket", socket, ...args], io);
  return { code, out, err };
}

async function json<T>(...args: string[]): Promise<T> {
  const r = await dfsctl("--json", ...args);
  expect(r.code, r.err).toBe(0);
  return JSON.parse(r.out) as T;
}

/** A client with one session and a file opened with a read delegation. */
async function clientWithDelegation(name: string) {
  const made = await establishReady(port, { owner: `control-${name}-${process.pid}` });
  // The delegation needs a back channel known to answer (the server's CB_NULL probe).
  await until(
    () => server.callbacks.channelReport(server.state.session(made.session.id)!).state === "up",
    "the back channel probe",
  );
  const created = await openFile(made.session, `/export/${name}`, {
    access: OPEN4_SHARE_ACCESS_READ,
    want: OPEN4_SHARE_ACCESS_WANT_READ_DELEG,
    create: true,
  });
  return { ...made, file: created };
}

describe("views", () => {
  it("status, clients, sessions, slots, connections, delegations and exports, as tables and JSON", async () => {
    const { client, session, file } = await clientWithDelegation("views");
    expect(file.delegation.delegation_type).not.toBe(0);
    const clientid = client.clientid!.toString(16).padStart(16, "0");
    const sessionid = Buffer.from(session.id).toString("hex");

    const status = await json<StatusView>("status");
    expect(status.version).toBe("9.9.9-test");
    expect(status.listen).toEqual([`127.0.0.1:${port}`]);
    expect(status.grace.inGrace).toBe(false);
    expect(status.totals.sessions).toBeGreaterThanOrEqual(1);
    expect(status.totals.delegations).toBeGreaterThanOrEqual(1);
    const statusTable = await dfsctl("status");
    expect(statusTable.out).toMatch(/^version: +9\.9\.9-test$/m);
    expect(statusTable.out).toMatch(/^grace: +no$/m);

    const clients = (await json<{ clients: ClientView[] }>("clients")).clients;
    const me = clients.find((c) => c.clientid === clientid)!;
    expect(me).toMatchObject({
      owner: `control-views-${process.pid}`,
      principal: "sys:0",
      confirmed: true,
      courtesy: false,
      sessions: 1,
      opens: 1,
      delegations: 1,
    });
    expect(me.address).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(me.leaseRemainingSec).toBeGreaterThan(0);
    const table = (await dfsctl("clients")).out.split("\n");
    expect(table[0]).toMatch(
      /^CLIENT ID +OWNER +PRINCIPAL +ADDRESS +LEASE +STATE +SESS +OPENS +LOCKS +DELEGS$/,
    );
    expect(table.find((l) => l.startsWith(clientid))).toMatch(
      /control-views-\d+ +sys:0 .* active +1 +1 +0 +1$/,
    );

    const sessions = (await json<{ sessions: SessionView[] }>("sessions")).sessions;
    const mine = sessions.find((s) => s.sessionid === sessionid)!;
    expect(mine.clientid).toBe(clientid);
    expect(mine.connections).toEqual([expect.objectContaining({ fore: true, back: true })]);
    expect(mine.backChannel.state).toBe("up");
    expect(mine.slots.size).toBeGreaterThanOrEqual(1);
    expect(mine.replayCache.reservedBytes).toBe(mine.slots.size * mine.fore.maxResponseSizeCached);
    expect((await dfsctl("sessions")).out).toContain(sessionid);

    // The slot table: slot 0 carried every request of this session so far.
    const slots = (
      await json<{ slots: { slot: number; seqid: number | null; inFlight: boolean }[] }>(
        "slots",
        sessionid,
      )
    ).slots;
    expect(slots[0]).toMatchObject({ slot: 0, inFlight: false });
    expect(slots[0]!.seqid).toBeGreaterThanOrEqual(2);
    expect((await dfsctl("slots", sessionid)).out).toMatch(
      /^SLOT +SEQID +IN FLIGHT +CACHED BYTES +CACHED STATUS$/m,
    );

    const connections = (
      await json<{ connections: { remote: string; sessions: { sessionid: string }[] }[] }>(
        "connections",
      )
    ).connections;
    expect(connections.some((c) => c.sessions.some((s) => s.sessionid === sessionid))).toBe(true);
    expect((await dfsctl("connections")).out).toMatch(/fore\+back/);

    const delegations = (await json<{ delegations: DelegationView[] }>("delegations")).delegations;
    expect(delegations.find((d) => d.clientid === clientid)).toMatchObject({
      type: "read",
      state: "held",
      revokedBy: null,
      filehandle: Buffer.from(file.fh).toString("hex"),
    });
    expect((await dfsctl("delegations")).out).toMatch(/ read +[0-9a-f]{16} +held /);

    const exports = (await dfsctl("exports")).out;
    expect(exports).toMatch(/^\/export +1 +- +rw +\* +none +sys,none$/m);
  });
});

describe("actions", () => {
  it("revoke: the stateid answers ADMIN_REVOKED and SEQUENCE flags ADMIN_STATE_REVOKED until FREE_STATEID", async () => {
    const { client, session, file } = await clientWithDelegation("revoke");
    const clientid = client.clientid!.toString(16).padStart(16, "0");
    const d = (await json<{ delegations: DelegationView[] }>("delegations")).delegations.find(
      (x) => x.clientid === clientid,
    )!;
    const r = await dfsctl("revoke", d.stateid);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toBe(`revoked delegation ${d.stateid} of client ${clientid}\n`);
    await session.sequenceOnly();
    expect(session.statusFlags & SEQ4_STATUS_ADMIN_STATE_REVOKED).not.toBe(0);
    expect(session.statusFlags & SEQ4_STATUS_RECALLABLE_STATE_REVOKED).toBe(0);
    const deleg = file.delegation;
    if (deleg.delegation_type !== 1) throw new Error("expected a read delegation");
    const stateid = deleg.read.stateid;
    const tested = resultOf(
      (await session.compound([ops.testStateid([stateid])])).resarray.at(-1),
      nfs_opnum4.OP_TEST_STATEID,
    );
    if (tested?.tsr_status !== nfsstat4.NFS4_OK) throw new Error("TEST_STATEID failed");
    expect(tested.tsr_resok4.tsr_status_codes).toEqual([nfsstat4.NFS4ERR_ADMIN_REVOKED]);
    const returned = await session.compound([ops.putfh(file.fh), ops.delegreturn(stateid)]);
    expect(returned.status).toBe(nfsstat4.NFS4ERR_ADMIN_REVOKED);
    expect(
      (await json<{ delegations: DelegationView[] }>("delegations")).delegations.find(
        (x) => x.stateid === d.stateid,
      ),
    ).toMatchObject({ state: "revoked", revokedBy: "administrator" });
    expect((await dfsctl("revoke", d.stateid)).code).toBe(1);
    // FREE_STATEID lets it go, and the flag with it.
    expect((await session.compound([ops.freeStateid(stateid)])).status).toBe(nfsstat4.NFS4_OK);
    await session.sequenceOnly();
    expect(session.statusFlags & SEQ4_STATUS_ADMIN_STATE_REVOKED).toBe(0);
  });

  it("destroy-session: the client's next request gets BADSESSION, and it can create another", async () => {
    const { client, session } = await establishReady(port, {
      owner: `control-destroy-${process.pid}`,
    });
    const id = Buffer.from(session.id).toString("hex");
    const r = await dfsctl("destroy-session", id);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toBe(`destroyed session ${id}\n`);
    expect((await session.sequenceOnly()).status).toBe(nfsstat4.NFS4ERR_BADSESSION);
    const again = await client.createSession();
    expect((await again.sequenceOnly()).status).toBe(nfsstat4.NFS4_OK);
    expect((await dfsctl("destroy-session", id)).code).toBe(1);
  });

  it("evict: the client loses its state: BADSESSION, then STALE_CLIENTID", async () => {
    const { client, session } = await clientWithDelegation("evict");
    const clientid = client.clientid!.toString(16).padStart(16, "0");
    const r = await dfsctl("evict", clientid);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toBe(`evicted client ${clientid}: 1 sessions, 1 opens, 0 locks, 1 delegations\n`);
    expect((await session.sequenceOnly()).status).toBe(nfsstat4.NFS4ERR_BADSESSION);
    await expect(client.createSession()).rejects.toThrow(/NFS4ERR_STALE_CLIENTID/);
    expect(
      (await json<{ clients: ClientView[] }>("clients")).clients.some(
        (c) => c.clientid === clientid,
      ),
    ).toBe(false);
    const again = await dfsctl("evict", clientid);
    expect(again).toMatchObject({ code: 1, err: `dfsctl: no client ${clientid}\n` });
  });

  it("end-grace: refused outside grace; in grace, ends it so that new opens are allowed", async () => {
    expect(await dfsctl("end-grace")).toMatchObject({
      code: 1,
      err: "dfsctl: the server is not in its grace period\n",
    });
    // A server with a recovery record from a previous instance starts in grace.
    const records = new MemoryClientRecoveryStore();
    await records.add({ ownerId: utf8.encode("gone"), principal: "sys:0", recordedAt: 0 });
    const graced = new NfsServer({ recovery: records, settings: { graceTimeSec: 3600 } });
    const [bound] = await graced.listen([{ host: "127.0.0.1", port: 0 }]);
    const sock = join(dir, "graced.sock");
    const ctl = await startControl(
      { server: graced, facts: { version: "t", listen: [] } },
      { socket: "", listen: "", token: "" },
      sock,
    );
    try {
      const { session } = await establishReady(bound!.port, {
        owner: `control-grace-${process.pid}`,
      });
      const open = () =>
        session.compound([
          ops.putrootfh(),
          ops.lookup("export"),
          ops.open("g", "o", OPEN4_SHARE_ACCESS_READ, 0, ops.openHow(true)),
        ]);
      expect((await open()).status).toBe(nfsstat4.NFS4ERR_GRACE);
      const before = await controlRequest({ socket: sock }, "GET", "/v1/status");
      expect((before.body as StatusView).grace).toMatchObject({
        inGrace: true,
        recordedClients: 1,
        notYetComplete: 1,
      });
      let out = "";
      const io: Output = { out: (t) => (out += t), err: () => undefined };
      expect(await controlCommand(["--socket", sock, "end-grace"], io)).toBe(0);
      expect(out).toBe("grace period ended");
      expect(graced.recovery.inGrace).toBe(false);
      expect((await open()).status).toBe(nfsstat4.NFS4_OK);
    } finally {
      await ctl.close();
      await graced.close();
    }
  });

  it("reload: a lone /export cannot become an exports list without a restart; nothing changes", async () => {
    const { session } = await establishReady(port, { owner: `control-reload-${process.pid}` });
    const mkdir = (name: string) =>
      session.compound([ops.putrootfh(), ops.lookup("export"), ops.mkdir(name)]);
    expect((await dfsctl("reload")).out).toBe("reloaded: nothing changed\n");
    // The file now makes /export read-only (an "exports" list on the same store).
    reloadConfig = buildConfig(
      JSON.stringify({ exports: [{ path: "/export", id: 1, backend: "sqlite", readOnly: true }] }),
      "reload.json",
      [],
    );
    const moved = await dfsctl("reload");
    expect(moved.code).toBe(1);
    expect(moved.err).toBe(
      "dfsctl: nothing reloaded: the lone export /export would become an exports list (restart the server for that)\n",
    );
    // Same store, new rules: only what an unchanged configuration allows.
    reloadConfig = { ...buildConfig(null, "(defaults)", []) };
    const unchanged = await dfsctl("reload");
    expect(unchanged.code).toBe(0);
    expect((await mkdir(`d-${process.pid}`)).status).toBe(nfsstat4.NFS4_OK);
  });

  it("reload of an exports list: new rules, an export added and one removed, refusals changing nothing", async () => {
    const config = (exports: object[]) =>
      buildConfig(JSON.stringify({ exports }), "exports.json", []);
    const first = config([
      { path: "/a", backend: "memory" },
      { path: "/b/deep", backend: "memory" },
    ]);
    const opened: string[] = [];
    const released: string[] = [];
    const stores = {
      add: async (c: ExportConfig) => {
        if (c.path === "/broken") throw new Error("exports[2].dataDir: cannot open");
        opened.push(c.path);
        return {
          path: c.path,
          id: c.id,
          fs: new MemoryFileSystem({ exportMode: 0o777 }),
          rules: c.rules,
        };
      },
      release: async (path: string) => void released.push(path),
    };
    const multi = new NfsServer({
      exports: first.exports!.map((e) => ({
        path: e.path,
        id: e.id,
        fs: new MemoryFileSystem({ exportMode: 0o777 }),
        rules: e.rules,
      })),
    });
    const [bound] = await multi.listen([{ host: "127.0.0.1", port: 0 }]);
    try {
      const { session } = await establishReady(bound!.port, {
        owner: `control-multi-${process.pid}`,
      });
      const mkdir = (path: string[], name: string) =>
        session.compound([ops.putrootfh(), ...path.map((n) => ops.lookup(n)), ops.mkdir(name)]);
      const rootNames = async () => {
        const r = await session.compound([
          ops.putrootfh(),
          ops.readdir(0n, new Uint8Array(8), [], 8192),
        ]);
        const res = resultOf(r.resarray.at(-1), nfs_opnum4.OP_READDIR);
        if (res?.status !== nfsstat4.NFS4_OK) throw new Error("READDIR failed");
        return res.resok4.reply.entries.map((e) => Buffer.from(e.name).toString());
      };
      expect((await mkdir(["a"], "one")).status).toBe(nfsstat4.NFS4_OK);
      // A handle inside /b/deep, to see it go stale.
      const deep = await session.compound([
        ops.putrootfh(),
        ops.lookup("b"),
        ops.lookup("deep"),
        ops.getfh(),
      ]);
      const deepFh = resultOf(deep.resarray.at(-1), nfs_opnum4.OP_GETFH);
      if (deepFh?.status !== nfsstat4.NFS4_OK) throw new Error("GETFH failed");
      expect(await rootNames()).toEqual(["a", "b"]);

      // New rules for /a, /b/deep removed, /c added.
      const second = config([
        { path: "/a", backend: "memory", readOnly: true },
        { path: "/c", backend: "memory" },
      ]);
      expect(await reloadExports(multi, first, second, stores)).toEqual({
        added: ["/c"],
        removed: ["/b/deep"],
        changed: ["/a"],
        unchanged: [],
      });
      expect(opened).toEqual(["/c"]);
      expect(released).toEqual(["/b/deep"]);
      expect((await mkdir(["a"], "two")).status).toBe(nfsstat4.NFS4ERR_ROFS);
      expect((await mkdir(["c"], "three")).status).toBe(nfsstat4.NFS4_OK);
      expect(await rootNames()).toEqual(["a", "c"]);
      const stale = await session.compound([ops.putfh(deepFh.resok4.object), ops.getattr([])]);
      expect(stale.status).toBe(nfsstat4.NFS4ERR_STALE);

      // Refused whole: a store that does not open; an id another path had.
      const before = multi.fs.exports.map((e) => e.path);
      // /a (its rules back to read-write) and /c as they are, and one more export.
      const withThird = (third: object) =>
        reloadExports(
          multi,
          second,
          config([{ path: "/a", backend: "memory" }, { path: "/c", backend: "memory" }, third]),
          stores,
        );
      await expect(withThird({ path: "/broken", backend: "memory" })).rejects.toThrow(
        "nothing reloaded: exports[2].dataDir: cannot open",
      );
      const bId = first.exports!.find((e) => e.path === "/b/deep")!.id;
      await expect(withThird({ path: "/d", id: bId, backend: "memory" })).rejects.toThrow(
        `id ${bId} was /b/deep's`,
      );
      await expect(
        reloadExports(multi, second, config([{ path: "/a", backend: "memory" }]), null),
      ).rejects.toThrow("this server cannot add or remove exports");
      expect(multi.fs.exports.map((e) => e.path)).toEqual(before);
      expect((await mkdir(["a"], "four")).status).toBe(nfsstat4.NFS4ERR_ROFS);
    } finally {
      await multi.close();
    }
  });

  it("debug: switched on for one client, its COMPOUNDs are logged with their statuses; off, they are not", async () => {
    const { client, session } = await establishReady(port, {
      owner: `control-debug-${process.pid}`,
    });
    const clientid = client.clientid!.toString(16).padStart(16, "0");
    const on = await dfsctl("debug", "on", "--client", clientid);
    expect(on.code, on.err).toBe(0);
    expect(on.out).toBe(`debug log on for: client ${clientid}\n`);
    await session.compound([ops.putrootfh(), ops.lookup("no-such-name")]);
    const line = logged.find((l) => l.msg === "COMPOUND" && l["clientid"] === clientid);
    expect(line).toMatchObject({
      status: "NFS4ERR_NOENT",
      ops: ["OP_SEQUENCE:NFS4_OK", "OP_PUTROOTFH:NFS4_OK", "OP_LOOKUP:NFS4ERR_NOENT"],
    });
    expect((await dfsctl("debug")).out).toBe(`debug log on for: client ${clientid}\n`);
    expect((await dfsctl("debug", "off", "--client", clientid)).out).toBe("debug log: off\n");
    const count = logged.filter((l) => l.msg === "COMPOUND").length;
    await session.sequenceOnly();
    expect(logged.filter((l) => l.msg === "COMPOUND").length).toBe(count);
  });
});

describe("transport and arguments", () => {
  it("over TCP, only with the token", async () => {
    const url = `http://${control.tcp}`;
    const ok = await controlRequest({ url, token: TOKEN }, "GET", "/v1/status");
    expect(ok.status).toBe(200);
    const wrong = await controlRequest({ url, token: "not-the-token-at-all" }, "GET", "/v1/status");
    expect(wrong.status).toBe(401);
    const none = await fetch(`${url}/v1/status`);
    expect(none.status).toBe(401);
    const r = await controlCommand(["--url", url, "--token", TOKEN, "--json", "status"], {
      out: () => undefined,
      err: () => undefined,
    });
    expect(r).toBe(0);
    expect(
      await controlCommand(["--url", url, "status"], {
        out: () => undefined,
        err: () => undefined,
      }),
    ).toBe(2);
  });

  it("bad arguments and paths get clear errors and exit statuses", async () => {
    expect(await dfsctl("evict", "xyz")).toMatchObject({
      code: 2,
      err: "dfsctl: bad client ID 'xyz': expected up to 16 hex digits\n",
    });
    expect(await dfsctl("slots", "00")).toMatchObject({ code: 2 });
    expect((await dfsctl("slots", "ab".repeat(16))).err).toBe(
      `dfsctl: no session ${"ab".repeat(16)}\n`,
    );
    expect(await dfsctl("debug", "on")).toMatchObject({
      code: 2,
      err: "dfsctl: give exactly one of --client and --session\n",
    });
    expect(await dfsctl("debug", "maybe", "--client", "1")).toMatchObject({ code: 2 });
    expect((await dfsctl("evict")).code).toBe(2);
    expect((await dfsctl("status", "extra")).code).toBe(2);
    const gone = await controlCommand(["--socket", join(dir, "none.sock"), "status"], {
      out: () => undefined,
      err: () => undefined,
    });
    expect(gone).toBe(3);
    expect((await controlRequest({ socket }, "GET", "/v2/status")).status).toBe(404);
    expect((await controlRequest({ socket }, "POST", "/v1/status")).status).toBe(405);
    const big = await controlRequest({ socket }, "POST", "/v1/debug", { pad: "x".repeat(70_000) });
    expect(big.status).toBe(413);
    expect((await controlRequest({ socket }, "GET", "/v1/status")).status).toBe(200);
  });

  it("refuses to take over a socket another server is listening on", async () => {
    await expect(
      startControl(
        { server, facts: { version: "t", listen: [] } },
        { socket: "", listen: "", token: "" },
        socket,
      ),
    ).rejects.toThrow(/in use by another server/);
  });
});

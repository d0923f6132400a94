// Memory benchmark (issue 7): the peak resident memory of a `dfs serve`
// process under three hostile loads, each against a fresh server:
//
//   (a) replay caches: 8 anonymous (AUTH_NONE) clients open every session they
//       may, and every slot of every session caches a maximal reply;
//   (b) non-reading connections: 4 connections that never read, each with 128
//       pipelined 1 MiB READs;
//   (c) stored fields: 150 clients whose EXCHANGE_ID and CREATE_SESSION are
//       padded to 1 MiB in fields the server keeps (eia_client_impl_id,
//       csa_sec_parms).
//
// The server runs as a child process, so its RSS is its own (sampled from
// /proc/PID/status, VmHWM at the end). Each figure is held to the bound
// README.md states for it, derived from the default settings; the run exits
// non-zero when one is exceeded. Everything is on loopback, bounded in count
// and time.
//
//   npm run bench:memory [-- --scenario a|b|c] [--json]

import { connect, type Socket } from "node:net";
import { parseArgs } from "node:util";
import {
  OPEN4_SHARE_ACCESS_WANT_NO_DELEG,
  encodeCOMPOUND4args,
  nfs_opnum4,
  nfsstat4,
  nfsstat4_names,
  state_protect_how4,
  type COMPOUND4args,
  type nfs_argop4,
  type stateid4,
} from "../../generated/nfs4/index.js";
import { NfsClient, type ClientSession } from "../../src/client/index.js";
import { DEFAULT_NFS_SETTINGS } from "../../src/nfs/settings.js";
import { DEFAULT_RPC_SETTINGS } from "../../src/rpc/settings.js";
import * as ops from "../../src/client/ops.js";
import { resultOf } from "../../src/protocol/results.js";
import { XdrWriter } from "../../src/xdr/index.js";
import { nfsCall } from "../e2e/raw-peer.js";
import { ServerProcess } from "./server-process.js";

const MiB = 1024 * 1024;
const ANONYMOUS_STATEID: stateid4 = { seqid: 0, other: new Uint8Array(12) };

interface Sample {
  readonly idleRss: number;
  peakRss: number;
}

function fail(what: string, status: number): never {
  throw new Error(`${what} failed: ${nfsstat4_names[status] ?? status}`);
}

/** A root client with one session; creates /export/NAME holding `size` bytes, mode 0644. */
async function makeFile(port: number, name: string, size: number): Promise<Uint8Array> {
  const client = await NfsClient.connect({ host: "127.0.0.1", port });
  await client.exchangeId(`mem-setup-${process.pid}-${name}`);
  const session = await client.createSession();
  const rc = await session.compound([ops.reclaimComplete()]);
  if (rc.status !== nfsstat4.NFS4_OK) fail("RECLAIM_COMPLETE", rc.status);
  const open: nfs_argop4 = {
    argop: nfs_opnum4.OP_OPEN,
    opopen: {
      seqid: 0,
      // No delegation: this client goes away holding nothing that would hold
      // the scenario's readers up (a write delegation of a vanished client is
      // recalled, and its readers answered NFS4ERR_DELAY, until it is revoked).
      share_access: 2 | OPEN4_SHARE_ACCESS_WANT_NO_DELEG,
      share_deny: 0,
      owner: { clientid: session.clientid, owner: ops.bytesOf("setup") },
      openhow: {
        opentype: 1,
        how: {
          mode: 0,
          createattrs: { attrmask: [0, 1 << (33 - 32)], attr_vals: modeAttr(0o644) },
        },
      },
      claim: { claim: 0, file: ops.bytesOf(name) },
    },
  };
  const r = await session.compound([ops.putrootfh(), ops.lookup("export"), open, ops.getfh()]);
  if (r.status !== nfsstat4.NFS4_OK) fail("OPEN", r.status);
  const opened = resultOf(r.resarray[2], nfs_opnum4.OP_OPEN);
  const fh = resultOf(r.resarray[3], nfs_opnum4.OP_GETFH);
  if (opened?.status !== nfsstat4.NFS4_OK || fh?.status !== nfsstat4.NFS4_OK)
    fail("OPEN", r.status);
  const stateid = opened.resok4.stateid;
  const chunk = new Uint8Array(MiB / 2).fill(0x5a);
  for (let off = 0; off < size; off += chunk.length) {
    const w = await session.compound([
      ops.putfh(fh.resok4.object),
      {
        argop: nfs_opnum4.OP_WRITE,
        opwrite: { stateid, offset: BigInt(off), stable: 2, data: chunk },
      },
    ]);
    if (w.status !== nfsstat4.NFS4_OK) fail("WRITE", w.status);
  }
  const c = await session.compound([
    ops.putfh(fh.resok4.object),
    { argop: nfs_opnum4.OP_CLOSE, opclose: { seqid: 0, open_stateid: stateid } },
  ]);
  if (c.status !== nfsstat4.NFS4_OK) fail("CLOSE", c.status);
  await client.close();
  return new Uint8Array(fh.resok4.object);
}

/** The fattr4 value of the mode attribute (bit 33) alone. */
function modeAttr(mode: number): Uint8Array {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(mode);
  return b;
}

function readOp(fh: Uint8Array, count: number): nfs_argop4[] {
  return [
    ops.putfh(fh),
    { argop: nfs_opnum4.OP_READ, opread: { stateid: ANONYMOUS_STATEID, offset: 0n, count } },
  ];
}

/** Samples the server's RSS every 20 ms while `work` runs. */
async function measure(server: ServerProcess, work: () => Promise<void>): Promise<Sample> {
  const sample: Sample = { idleRss: server.memory().rss, peakRss: 0 };
  const timer = setInterval(() => {
    try {
      sample.peakRss = Math.max(sample.peakRss, server.memory().rss);
    } catch {
      // the server exited: reported by the caller
    }
  }, 20);
  try {
    await work();
  } finally {
    clearInterval(timer);
  }
  sample.peakRss = Math.max(sample.peakRss, server.memory().hwm);
  return sample;
}

interface Result {
  readonly scenario: string;
  readonly idleRssMiB: number;
  readonly peakRssMiB: number;
  /** The figure held to the bound: the peak, or for (b) the peak while unread. */
  readonly measuredRssMiB: number;
  readonly boundRssMiB: number;
  readonly detail: string;
}

/** What a scenario reports: what happened, and the RSS its bound applies to if not the peak. */
interface Outcome {
  readonly detail: string;
  readonly measuredRss?: number;
}

/** (a) 8 anonymous clients × every session they may open × every slot caching a maximal reply. */
async function replayCaches(server: ServerProcess): Promise<Outcome> {
  const fh = await makeFile(server.port, "a", MiB);
  let sessions = 0;
  let cached = 0;
  let refused = 0;
  const clients: NfsClient[] = [];
  for (let c = 0; c < 8; c++) {
    const client = await NfsClient.connect({ host: "127.0.0.1", port: server.port, cred: "none" });
    clients.push(client);
    await client.exchangeId(`mem-anon-${process.pid}-${c}`);
    for (;;) {
      let session: ClientSession;
      try {
        session = await client.createSession();
      } catch {
        break; // the client's session limit (or the budget) says no
      }
      sessions++;
      const max = session.fore.ca_maxresponsesize_cached;
      // The reply: RPC header 24, COMPOUND header and tag ~24, SEQUENCE 44, PUTFH 8, READ 16 + data.
      const count = Math.max(0, max - 160);
      const n = session.fore.ca_maxrequests;
      const replies = await Promise.all(
        Array.from({ length: n }, (_, slot) =>
          session.compound(readOp(fh, count), { cachethis: true, slot }),
        ),
      );
      for (const r of replies) {
        if (r.status === nfsstat4.NFS4_OK) cached++;
        else refused++;
      }
    }
  }
  for (const c of clients) c.destroy();
  // A refused READ caches nothing: the scenario would measure less than it claims.
  if (refused > 0 || cached === 0)
    throw new Error(
      `(a): ${refused} of ${cached + refused} READs refused; every one must be cached`,
    );
  return { detail: `${sessions} sessions, ${cached} replies cached, ${refused} refused` };
}

/** An RPC CALL record (AUTH_NONE) carrying `args`. */
function callRecord(xid: number, args: COMPOUND4args): Buffer {
  const w = new XdrWriter(256);
  encodeCOMPOUND4args(w, args);
  return nfsCall(xid, w.finish());
}

function rawSocket(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect({ port, host: "127.0.0.1" });
    s.once("error", reject);
    s.once("connect", () => {
      s.off("error", reject);
      s.on("error", () => {});
      resolve(s);
    });
  });
}

/** (b) 4 connections that never read × 128 pipelined 1 MiB READs. */
async function nonReadingConnections(server: ServerProcess): Promise<Outcome> {
  const fh = await makeFile(server.port, "b", MiB);
  const client = await NfsClient.connect({ host: "127.0.0.1", port: server.port });
  await client.exchangeId(`mem-reader-${process.pid}`);
  const sockets: Socket[] = [];
  let xid = 1;
  for (let c = 0; c < 4; c++) {
    const socket = await rawSocket(server.port);
    socket.pause(); // never read: the server's replies pile up on its side
    sockets.push(socket);
    let sent = 0;
    while (sent < 128) {
      const session = await client.createSession();
      for (let slot = 0; slot < session.fore.ca_maxrequests && sent < 128; slot++, sent++) {
        const args: COMPOUND4args = {
          tag: new Uint8Array(0),
          minorversion: 1,
          argarray: [
            ops.sequence({
              sa_sessionid: session.id,
              sa_sequenceid: 1,
              sa_slotid: slot,
              sa_highest_slotid: slot,
              sa_cachethis: false,
            }),
            ...readOp(fh, MiB),
          ],
        };
        socket.write(callRecord(xid++, args));
      }
    }
  }
  // Give the server time to do all it will do with what it was sent (its RSS
  // sampled meanwhile), then read what it kept for us, to show the READs ran.
  let unreadPeak = 0;
  const sampler = setInterval(() => {
    unreadPeak = Math.max(unreadPeak, server.memory().rss);
  }, 20);
  await new Promise((r) => setTimeout(r, 5000));
  clearInterval(sampler);
  let received = 0;
  for (const s of sockets) {
    s.on("data", (d: Buffer) => (received += d.length));
    s.resume();
  }
  const deadline = Date.now() + 20_000;
  while (received < 4 * 128 * MiB && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 50));
  for (const s of sockets) s.destroy();
  client.destroy();
  return {
    detail:
      `4 connections × 128 READs of 1 MiB: measured while unread for 5 s; ` +
      `then ${Math.round(received / MiB)} MiB of replies read`,
    measuredRss: unreadPeak,
  };
}

/** (c) 150 clients whose EXCHANGE_ID and CREATE_SESSION are padded to 1 MiB in stored fields. */
async function storedFields(server: ServerProcess): Promise<Outcome> {
  const pad = "d".repeat(MiB - 4096);
  const handle = new Uint8Array(MiB - 4096).fill(0x68);
  let confirmed = 0;
  for (let i = 0; i < 150; i++) {
    const client = await NfsClient.connect({ host: "127.0.0.1", port: server.port });
    const owner = ops.bytesOf(`mem-padded-${process.pid}-${i}`);
    const eid = await client.compound([
      {
        argop: nfs_opnum4.OP_EXCHANGE_ID,
        opexchange_id: {
          eia_clientowner: { co_verifier: client.verifier, co_ownerid: owner },
          eia_flags: 0,
          eia_state_protect: { spa_how: state_protect_how4.SP4_NONE },
          eia_client_impl_id: [
            {
              nii_domain: ops.bytesOf(pad),
              nii_name: ops.bytesOf("x"),
              nii_date: { seconds: 0n, nseconds: 0 },
            },
          ],
        },
      },
    ]);
    const ok = resultOf(eid.res.resarray[0], nfs_opnum4.OP_EXCHANGE_ID);
    if (ok?.eir_status !== nfsstat4.NFS4_OK) fail("EXCHANGE_ID", eid.res.status);
    const cs = await client.compound([
      {
        argop: nfs_opnum4.OP_CREATE_SESSION,
        opcreate_session: {
          csa_clientid: ok.eir_resok4.eir_clientid,
          csa_sequence: ok.eir_resok4.eir_sequenceid,
          csa_flags: 0,
          csa_fore_chan_attrs: ops.channelAttrs({ ca_maxrequests: 1 }),
          csa_back_chan_attrs: ops.backChannelAttrs(),
          csa_cb_program: 0x40000000,
          csa_sec_parms: [
            { cb_secflavor: 0 },
            {
              cb_secflavor: 6,
              cbsp_gss_handles: {
                gcbp_service: 1,
                gcbp_handle_from_server: handle,
                gcbp_handle_from_client: new Uint8Array(0),
              },
            },
          ],
        },
      },
    ]);
    const created = resultOf(cs.res.resarray[0], nfs_opnum4.OP_CREATE_SESSION);
    if (created?.csr_status === nfsstat4.NFS4_OK) confirmed++;
    client.destroy();
  }
  return { detail: `150 clients, ${confirmed} sessions created` };
}

// The bounds README.md states ("What bounds the server's memory"), from the
// default settings: what each scenario may add to the idle server's RSS.
const nfs = DEFAULT_NFS_SETTINGS;
const rpc = DEFAULT_RPC_SETTINGS;
const SCENARIOS = {
  a: {
    name: "(a) replay caches",
    run: replayCaches,
    extra: nfs.replayCacheBudget + 32 * MiB,
  },
  b: {
    name: "(b) non-reading connections",
    run: nonReadingConnections,
    extra: 4 * (rpc.maxConnectionOutputBytes + nfs.maxResponseSize),
  },
  c: { name: "(c) stored fields", run: storedFields, extra: 64 * MiB },
} as const;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { scenario: { type: "string" }, json: { type: "boolean" } },
  });
  const keys = values.scenario === undefined ? (["a", "b", "c"] as const) : [values.scenario];
  const results: Result[] = [];
  for (const key of keys) {
    if (!(key in SCENARIOS)) throw new Error(`unknown scenario ${key}: a, b or c`);
    const scenario = SCENARIOS[key as keyof typeof SCENARIOS];
    const server = await ServerProcess.start({});
    try {
      let outcome: Outcome = { detail: "" };
      const s = await measure(server, async () => {
        outcome = await scenario.run(server);
      });
      if (server.child.exitCode !== null) throw new Error(`${scenario.name}: the server died`);
      results.push({
        scenario: scenario.name,
        idleRssMiB: Math.round(s.idleRss / MiB),
        peakRssMiB: Math.round(s.peakRss / MiB),
        measuredRssMiB: Math.round((outcome.measuredRss ?? s.peakRss) / MiB),
        boundRssMiB: Math.round((s.idleRss + scenario.extra) / MiB),
        detail: outcome.detail,
      });
    } finally {
      await server.stop();
    }
  }
  const over = results.filter((r) => r.measuredRssMiB > r.boundRssMiB);
  if (values.json) {
    console.log(JSON.stringify(results, null, 2));
  } else {
    console.log(
      `| scenario | idle RSS (MiB) | peak RSS (MiB) | measured (MiB) | bound (MiB) | what happened |`,
    );
    console.log(`| --- | ---: | ---: | ---: | ---: | --- |`);
    for (const r of results)
      console.log(
        `| ${r.scenario} | ${r.idleRssMiB} | ${r.peakRssMiB} | ${r.measuredRssMiB} | ` +
          `${r.boundRssMiB} | ${r.detail} |`,
      );
  }
  for (const r of over)
    console.error(`${r.scenario}: ${r.measuredRssMiB} MiB exceeds its bound ${r.boundRssMiB} MiB`);
  if (over.length > 0) process.exitCode = 1;
}

await main();

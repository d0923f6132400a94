// dfsctl's commands that talk to a running server's control API: what it
// shows (status, clients, sessions, slots, connections, delegations, exports)
// as tables for people or JSON for scripts, and what an administrator does
// (evict, destroy-session, revoke, end-grace, reload, debug).
//
// Exit status: 0 done; 1 the server refused (no such client, not in grace, …);
// 2 bad usage; 3 the server could not be reached.

import { UsageError } from "./usage.js";
import { Command, CommanderError } from "commander";
import { resolve as absolutePath } from "node:path";
import { controlRequest, ControlUnreachableError, type ControlAddress } from "../control/client.js";
import type {
  ClientView,
  ConnectionView,
  DelegationView,
  ExportView,
  SessionView,
  SlotView,
  StatusView,
} from "../control/views.js";
import { reloadText, type ReloadReport } from "../control/reload.js";
import { formatPairs, formatTable } from "./table.js";

export const EXIT_OK = 0;
export const EXIT_REFUSED = 1;
export const EXIT_USAGE = 2;
export const EXIT_UNREACHABLE = 3;

/** Where dfsctl looks for the socket by default: the server's default data directory's. */
export const DEFAULT_CONTROL_SOCKET = "dfs-data/control.sock";

export interface Output {
  out(text: string): void;
  err(text: string): void;
}

const CONSOLE: Output = {
  out: (t) => console.log(t),
  err: (t) => console.error(t),
};

interface GlobalOptions {
  socket?: string;
  url?: string;
  token?: string;
  json?: boolean;
}

/** An exit status carried out of a command's action. */
class Exit extends Error {
  constructor(readonly code: number) {
    super(`exit ${code}`);
  }
}

function address(o: GlobalOptions): ControlAddress {
  const url = o.url ?? process.env["DFS_CONTROL_URL"];
  if (url !== undefined && url !== "") {
    const token = o.token ?? process.env["DFS_CONTROL_TOKEN"] ?? "";
    if (token === "") throw new UsageError("--url needs --token (or DFS_CONTROL_TOKEN)");
    return { url, token };
  }
  return {
    socket: absolutePath(o.socket ?? process.env["DFS_CONTROL_SOCKET"] ?? DEFAULT_CONTROL_SOCKET),
  };
}

const short = (id: string, n = 8): string => (id.length > n ? `${id.slice(0, n)}…` : id);

function age(sec: number | null): string | null {
  if (sec === null) return null;
  if (sec < 120) return `${sec}s`;
  if (sec < 7200) return `${Math.floor(sec / 60)}m`;
  return `${Math.floor(sec / 3600)}h`;
}

function statusText(s: StatusView): string {
  const t = s.totals;
  const g = s.grace;
  return formatPairs([
    ["version", s.version],
    ["pid", s.pid],
    ["started", `${s.startedAt} (up ${age(s.uptimeSec)})`],
    ["listening", s.listen.join(", ")],
    [
      "grace",
      g.inGrace
        ? `yes, for ${age(Math.round((g.sinceMs ?? 0) / 1000))} of ${g.graceTimeSec}s; ${g.notYetComplete} of ${g.recordedClients} recorded clients not done reclaiming`
        : "no",
    ],
    ["exports", s.exports.join(", ")],
    ["clients", `${t.clients} (${t.confirmedClients} confirmed, ${t.courtesyClients} courtesy)`],
    ["sessions", t.sessions],
    ["connections", t.connections],
    ["opens / locks", `${t.opens} / ${t.locks}`],
    ["delegations", t.delegations],
    [
      "replay cache",
      `${t.replayCacheBytes} bytes used, ${t.replayCacheReserved} reserved of ${t.replayCacheBudget}`,
    ],
    [
      "callbacks",
      `${s.callbacks.sent} sent, ${s.callbacks.answered} answered, ${s.callbacks.timedOut} timed out, ${s.callbacks.unreachable} unreachable, ${s.callbacks.inFlight} in flight`,
    ],
    [
      "delegation events",
      `${s.delegationEvents.granted} granted, ${s.delegationEvents.recalled} recalled, ${s.delegationEvents.returned} returned, ${s.delegationEvents.revoked} revoked`,
    ],
    [
      "debug log",
      [
        ...s.debug.clients.map((c) => `client ${c}`),
        ...s.debug.sessions.map((x) => `session ${x}`),
      ].join(", ") || "off",
    ],
  ]);
}

function clientsText(list: readonly ClientView[]): string {
  return formatTable(
    [
      "CLIENT ID",
      "OWNER",
      "PRINCIPAL",
      "ADDRESS",
      "LEASE",
      "STATE",
      "SESS",
      "OPENS",
      "LOCKS",
      "DELEGS",
    ],
    list.map((c) => [
      c.clientid,
      c.owner.length > 40 ? `${c.owner.slice(0, 39)}…` : c.owner,
      c.principal,
      c.address,
      `${c.leaseRemainingSec}s`,
      !c.confirmed ? "unconfirmed" : c.courtesy ? "courtesy" : "active",
      c.sessions,
      c.opens,
      c.locks,
      c.delegations + c.revokedDelegations,
    ]),
  );
}

function sessionsText(list: readonly SessionView[]): string {
  return formatTable(
    [
      "SESSION",
      "CLIENT ID",
      "SLOTS",
      "IN USE",
      "HIGHEST",
      "TARGET",
      "CACHE",
      "CONNECTIONS",
      "BACK CHANNEL",
    ],
    list.map((s) => [
      s.sessionid,
      s.clientid,
      s.slots.size,
      s.slots.inUse,
      s.slots.highest,
      s.slots.target,
      `${s.replayCache.usedBytes}/${s.replayCache.reservedBytes}`,
      s.connections.map((c) => `${c.id}:${c.fore ? "f" : ""}${c.back ? "b" : ""}`).join(",") || "-",
      backChannelText(s),
    ]),
  );
}

function backChannelText(s: SessionView): string {
  const b = s.backChannel;
  if (!s.flags.includes("conn_back_chan") && s.connections.every((c) => !c.back)) return "none";
  let state: string = b.state;
  if (b.faulted) state += ",faulted";
  if (b.badSession) state += ",badsession";
  return b.lastError === null ? state : `${state} (last error: ${b.lastError.what})`;
}

function slotsText(list: readonly SlotView[]): string {
  return formatTable(
    ["SLOT", "SEQID", "IN FLIGHT", "CACHED BYTES", "CACHED STATUS"],
    list.map((s) => [s.slot, s.seqid, s.inFlight, s.cachedBytes, s.cachedStatus]),
  );
}

function connectionsText(list: readonly ConnectionView[]): string {
  return formatTable(
    ["ID", "REMOTE", "LOCAL", "CALLS", "OUT BYTES", "SESSIONS"],
    list.map((c) => [
      c.id,
      c.remote,
      c.local,
      c.callsInFlight,
      c.outputReserved + c.outputBuffered,
      c.sessions
        .map(
          (s) =>
            `${short(s.sessionid)}:${s.fore ? "fore" : ""}${s.fore && s.back ? "+" : ""}${s.back ? "back" : ""}`,
        )
        .join(" ") || "-",
    ]),
  );
}

function delegationsText(list: readonly DelegationView[]): string {
  return formatTable(
    ["STATEID", "TYPE", "CLIENT ID", "STATE", "AGE", "RECALLED", "FILEHANDLE"],
    list.map((d) => [
      d.stateid,
      d.type,
      d.clientid,
      d.revokedBy === null ? d.state : `revoked by ${d.revokedBy}`,
      age(d.ageSec),
      d.recalledSec === null ? null : `${age(d.recalledSec)} ago`,
      short(d.filehandle, 24),
    ]),
  );
}

function exportsText(list: readonly ExportView[]): string {
  return formatTable(
    ["PATH", "ID", "STORE", "ACCESS", "CLIENTS", "SQUASH", "FLAVORS"],
    list.map((e) => [
      e.path,
      e.id,
      e.store,
      e.readOnly ? "ro" : "rw",
      e.clients === null ? "*" : e.clients.join(","),
      e.squash === "none" ? "none" : `${e.squash} (${e.anonUid}:${e.anonGid})`,
      e.flavors.join(","),
    ]),
  );
}

/** The commander program; actions throw Exit with their status. */
function program(io: Output): Command {
  const p = new Command("dfsctl")
    .description("Control a running DittoFS-TS server (dfs serve) through its control API.")
    .option(
      "--socket <path>",
      `the server's control socket ($DFS_CONTROL_SOCKET, or ./${DEFAULT_CONTROL_SOCKET})`,
    )
    .option("--url <url>", "the control API over TCP, http://HOST:PORT ($DFS_CONTROL_URL)")
    .option("--token <token>", "the token --url needs ($DFS_CONTROL_TOKEN)")
    .option("--json", "print JSON instead of tables")
    .exitOverride()
    .configureOutput({ writeOut: (t) => io.out(t.trimEnd()), writeErr: (t) => io.err(t.trimEnd()) })
    .showHelpAfterError();

  const call = async (
    cmd: Command,
    method: "GET" | "POST",
    path: string,
    render: (body: unknown) => string,
    body?: unknown,
  ): Promise<void> => {
    const opts = cmd.optsWithGlobals<GlobalOptions>();
    const reply = await controlRequest(address(opts), method, path, body);
    if (reply.status !== 200) {
      const why =
        typeof reply.body === "object" && reply.body !== null && "error" in reply.body
          ? String(reply.body.error)
          : JSON.stringify(reply.body);
      io.err(`dfsctl: ${why}`);
      throw new Exit(reply.status === 400 ? EXIT_USAGE : EXIT_REFUSED);
    }
    io.out(opts.json === true ? JSON.stringify(reply.body, null, 2) : render(reply.body));
  };

  const view = (
    name: string,
    description: string,
    path: string,
    render: (body: unknown) => string,
  ) =>
    p
      .command(name)
      .description(description)
      .action(async (_o: unknown, cmd: Command) => call(cmd, "GET", path, render));

  view("status", "version, uptime, listeners, grace, exports and totals", "/v1/status", (b) =>
    statusText(b as StatusView),
  );
  view(
    "clients",
    "client records: owner, principal, address, lease, what they hold",
    "/v1/clients",
    (b) => clientsText((b as { clients: ClientView[] }).clients),
  );
  view(
    "sessions",
    "sessions: slot tables, replay cache, connections, back channel",
    "/v1/sessions",
    (b) => sessionsText((b as { sessions: SessionView[] }).sessions),
  );
  view("connections", "TCP connections and the sessions bound to them", "/v1/connections", (b) =>
    connectionsText((b as { connections: ConnectionView[] }).connections),
  );
  view(
    "delegations",
    "file and directory delegations: holder, age, recall state",
    "/v1/delegations",
    (b) => delegationsText((b as { delegations: DelegationView[] }).delegations),
  );
  view("exports", "exports and their access rules", "/v1/exports", (b) =>
    exportsText((b as { exports: ExportView[] }).exports),
  );
  /** A command about one client, session or delegation, named by the ID it takes. */
  const about = (
    name: string,
    description: string,
    argument: readonly [string, string],
    method: "GET" | "POST",
    pathOf: (id: string) => string,
    render: (body: unknown) => string,
  ) =>
    p
      .command(name)
      .description(description)
      .argument(...argument)
      .action(async (id: string, _o: unknown, cmd: Command) =>
        call(cmd, method, pathOf(encodeURIComponent(id)), render),
      );

  about(
    "slots",
    "one session's slot table: sequence ID, in flight, cached reply per slot",
    ["<session>", "session ID (hex, from dfsctl sessions)"],
    "GET",
    (id) => `/v1/sessions/${id}/slots`,
    (b) => slotsText((b as { slots: SlotView[] }).slots),
  );
  about(
    "evict",
    "remove a client and everything it holds (its next request gets BADSESSION)",
    ["<client>", "client ID (hex)"],
    "POST",
    (id) => `/v1/clients/${id}/evict`,
    (b) => {
      const r = b as {
        clientid: string;
        sessions: number;
        opens: number;
        locks: number;
        delegations: number;
      };
      return `evicted client ${r.clientid}: ${r.sessions} sessions, ${r.opens} opens, ${r.locks} locks, ${r.delegations} delegations`;
    },
  );
  about(
    "destroy-session",
    "destroy a session (the client gets BADSESSION and creates another)",
    ["<session>", "session ID (hex)"],
    "POST",
    (id) => `/v1/sessions/${id}/destroy`,
    (b) => `destroyed session ${(b as { sessionid: string }).sessionid}`,
  );
  about(
    "revoke",
    "revoke a delegation (its holder sees ADMIN_REVOKED and SEQ4_STATUS_ADMIN_STATE_REVOKED)",
    ["<stateid>", "delegation stateid (hex, from dfsctl delegations)"],
    "POST",
    (id) => `/v1/delegations/${id}/revoke`,
    (b) => {
      const r = b as { stateid: string; clientid: string };
      return `revoked delegation ${r.stateid} of client ${r.clientid}`;
    },
  );
  p.command("end-grace")
    .description("end the grace period now (unreclaimed state is lost; new opens allowed)")
    .action(async (_o: unknown, cmd: Command) =>
      call(cmd, "POST", "/v1/grace/end", () => "grace period ended"),
    );
  p.command("reload")
    .description(
      "re-read the configuration file and apply its exports: added, removed, new rules (as SIGHUP)",
    )
    .action(async (_o: unknown, cmd: Command) =>
      call(cmd, "POST", "/v1/exports/reload", (b) => `reloaded: ${reloadText(b as ReloadReport)}`),
    );
  p.command("debug")
    .description("list, or switch on/off, the debug log of one client or session (no restart)")
    .argument("[on|off]", "switch on or off; none: list what is on")
    .option("--client <id>", "a client ID (hex)")
    .option("--session <id>", "a session ID (hex)")
    .action(
      async (state: string | undefined, o: { client?: string; session?: string }, cmd: Command) => {
        const render = (b: unknown): string => {
          const t = b as { clients: string[]; sessions: string[] };
          const all = [
            ...t.clients.map((c) => `client ${c}`),
            ...t.sessions.map((s) => `session ${s}`),
          ];
          return all.length === 0 ? "debug log: off" : `debug log on for: ${all.join(", ")}`;
        };
        if (state === undefined) return call(cmd, "GET", "/v1/debug", render);
        if (state !== "on" && state !== "off")
          throw new UsageError(`expected 'on' or 'off', not '${state}'`);
        if ((o.client === undefined) === (o.session === undefined))
          throw new UsageError("give exactly one of --client and --session");
        return call(cmd, "POST", "/v1/debug", render, {
          ...(o.client === undefined ? { session: o.session } : { client: o.client }),
          on: state === "on",
        });
      },
    );
  return p;
}

/** Control commands' names, so dfsctl knows which arguments are theirs. */
export const CONTROL_COMMANDS: readonly string[] = [
  "status",
  "clients",
  "sessions",
  "connections",
  "delegations",
  "exports",
  "slots",
  "evict",
  "destroy-session",
  "revoke",
  "end-grace",
  "reload",
  "debug",
];

/** Help for the control commands (dfsctl --help prints it). */
export function controlHelp(): string {
  return program(CONSOLE).helpInformation();
}

/** Runs one control command; `args` as after "dfsctl". */
export async function controlCommand(
  args: readonly string[],
  io: Output = CONSOLE,
): Promise<number> {
  try {
    await program(io).parseAsync([...args], { from: "user" });
    return EXIT_OK;
  } catch (e) {
    if (e instanceof Exit) return e.code;
    if (e instanceof CommanderError) return e.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
    if (e instanceof UsageError) {
      io.err(`dfsctl: ${e.message}`);
      return EXIT_USAGE;
    }
    if (e instanceof ControlUnreachableError) {
      io.err(`dfsctl: ${e.message}`);
      return EXIT_UNREACHABLE;
    }
    throw e;
  }
}

// `dfsctl watch HOST[:PORT]:/path`: prints the changes made in a directory of
// any NFSv4.1 server that grants directory delegations with notifications
// (RFC 8881 §10.9), one line per event, until SIGINT; then gives the
// delegation back and exits 0. Exit 3 says the server does not support them.

import { UsageError, integerOption } from "./usage.js";
import { parseArgs } from "node:util";
import type {
  AttributeName,
  Attributes,
  WatchEvent,
  WatchSession,
  WatchType,
} from "../client/index.js";
import {
  ATTRIBUTE_NAMES,
  DEFAULT_WATCH_ATTRIBUTES,
  DEFAULT_WATCH_TYPES,
  DirectoryNotificationsUnavailableError,
  WATCH_TYPES,
  isAttributeName,
  isWatchType,
  openWatchSession,
  watch,
} from "../client/index.js";

export const WATCH_USAGE = `usage: dfsctl watch [options] HOST[:PORT]:/path

Prints the changes made in a directory, as the server notifies them (NFSv4.1
directory delegations with CB_NOTIFY), until interrupted (Ctrl-C).

  --json               one JSON object per line instead of a table
  --types LIST         notification types, comma-separated (default ${DEFAULT_WATCH_TYPES.join(",")}):
                       ${WATCH_TYPES.join(", ")}
  --attributes LIST    attributes reported with adds and attribute changes, comma-separated
                       (default with attribute types: ${DEFAULT_WATCH_ATTRIBUTES.join(",")}):
                       ${ATTRIBUTE_NAMES.join(", ")}
  --delay MS           how long the server may hold attribute changes to batch them (default 0)
  --uid N, --gid N     the AUTH_SYS identity (default 0, 0)

Exit status: 0 after Ctrl-C, 1 on errors, 2 on bad usage, 3 when the server does
not support directory delegations with notifications.`;

/** Exit statuses of `dfsctl watch`. */
export const EXIT_OK = 0;
export const EXIT_ERROR = 1;
export const EXIT_USAGE = 2;
export const EXIT_UNSUPPORTED = 3;

const NFS_PORT = 2049;

/** Where the command writes, and what stops it (default: stdout, stderr, SIGINT/SIGTERM). */
export interface WatchIo {
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
  /** Stops the watch as Ctrl-C does; default: SIGINT or SIGTERM. */
  readonly signal?: AbortSignal;
  /** Told once the watch is armed (tests wait for it). */
  readonly onReady?: () => void;
}

export interface WatchTarget {
  readonly host: string;
  readonly port: number;
  readonly path: string;
}

/** Parses HOST[:PORT]:/path; IPv6 hosts in brackets ([::1]:2049:/export). */
export function parseTarget(s: string): WatchTarget | null {
  const at = s.indexOf(":/");
  if (at <= 0) return null;
  const server = s.slice(0, at);
  const path = s.slice(at + 1);
  const m = /^(?:\[([^\]]+)\]|([^:[\]]+))(?::(\d{1,5}))?$/.exec(server);
  if (m === null) return null;
  const port = m[3] === undefined ? NFS_PORT : Number(m[3]);
  if (port < 1 || port > 65535) return null;
  return { host: m[1] ?? m[2]!, port, path };
}

function list<T extends string>(
  value: string | undefined,
  valid: (s: string) => s is T,
  what: string,
): T[] | undefined {
  if (value === undefined) return undefined;
  const items = value.split(",").filter((x) => x !== "");
  const bad = items.filter((x) => !valid(x));
  if (bad.length > 0) throw new UsageError(`unknown ${what}: ${bad.join(", ")}`);
  return items.filter(valid);
}

const messageOf = (e: unknown): string => (e instanceof Error ? e.message : String(e));

/** A value for JSON: bigints as decimal strings (they may exceed 2^53), times as ISO strings. */
function plainAttrs(a: Attributes): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(a)) {
    if (typeof v === "bigint") out[k] = v.toString();
    else if (typeof v === "object" && v !== null && "nseconds" in v)
      out[k] = new Date(Number(v.seconds) * 1000 + Math.floor(v.nseconds / 1e6)).toISOString();
    else out[k] = v;
  }
  return out;
}

/** One event as a JSON line. */
export function jsonLine(ev: WatchEvent, at: Date): string {
  const fields: Record<string, unknown> = { time: at.toISOString() };
  for (const [k, v] of Object.entries(ev)) {
    if (typeof v === "bigint") fields[k] = v.toString();
    else if (k === "attrs" && v !== null && typeof v === "object") fields[k] = plainAttrs(v);
    else fields[k] = v;
  }
  return JSON.stringify(fields);
}

function attrText(a: Attributes | null): string {
  if (a === null) return "";
  return Object.entries(plainAttrs(a))
    .map(([k, v]) => {
      if (k === "mode" && typeof v === "number") return `mode=0${v.toString(8)}`;
      return `${k}=${Array.isArray(v) ? v.join(",") : String(v)}`;
    })
    .join(" ");
}

/** One event as a table row: time, event, name, details. */
export function tableLine(ev: WatchEvent, at: Date): string {
  const time = at.toISOString().slice(11, 23);
  const row = (event: string, name: string, details = ""): string =>
    `${time}  ${event.padEnd(10)}  ${name.padEnd(24)}  ${details}`.trimEnd();
  switch (ev.type) {
    case "added":
      return row(
        "added",
        ev.name,
        [ev.cookie === null ? "" : `cookie=${ev.cookie}`, attrText(ev.attrs)]
          .concat(ev.replaced ? ["(replaced)"] : [], ev.via === "resync" ? ["(re-read)"] : [])
          .filter((x) => x !== "")
          .join(" "),
      );
    case "removed":
      return row("removed", ev.name, ev.via === "resync" ? "(re-read)" : "");
    case "renamed":
      return row("renamed", ev.from, `-> ${ev.to}${ev.replaced ? " (replaced)" : ""}`);
    case "attributes":
      return row("attrs", ev.target === "directory" ? "." : ev.name, attrText(ev.attrs));
    case "verifier":
      return row("verifier", ".", "cookie verifier changed");
    case "recalled":
      return row("recalled", ".", `${ev.cause}; re-reading the directory`);
    case "ended":
      return row("ended", ".", `${ev.reason}: ${ev.detail}`);
  }
}

const HEADER = `${"TIME".padEnd(12)}  ${"EVENT".padEnd(10)}  ${"NAME".padEnd(24)}  DETAILS`;

function defaultSignal(): AbortSignal {
  const ac = new AbortController();
  process.once("SIGINT", () => ac.abort("interrupted (SIGINT)"));
  process.once("SIGTERM", () => ac.abort("terminated (SIGTERM)"));
  return ac.signal;
}

export async function watchCommand(
  args: readonly string[],
  io: WatchIo = {
    out: (l) => console.log(l),
    err: (l) => console.error(l),
  },
): Promise<number> {
  let target: WatchTarget;
  let json: boolean;
  let types: WatchType[] | undefined;
  let attributes: AttributeName[] | undefined;
  let delay: number | undefined;
  let uid: number;
  let gid: number;
  try {
    const { values, positionals } = parseArgs({
      args: [...args],
      options: {
        json: { type: "boolean" },
        types: { type: "string" },
        attributes: { type: "string" },
        delay: { type: "string" },
        uid: { type: "string" },
        gid: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
      allowPositionals: true,
      strict: true,
    });
    if (values.help === true) {
      io.out(WATCH_USAGE);
      return EXIT_OK;
    }
    if (positionals.length !== 1) throw new UsageError("give exactly one HOST[:PORT]:/path");
    const t = parseTarget(positionals[0]!);
    if (t === null) throw new UsageError(`'${positionals[0]}' is not HOST[:PORT]:/path`);
    target = t;
    json = values.json === true;
    types = list(values.types, isWatchType, "notification type");
    attributes = list(values.attributes, isAttributeName, "attribute");
    delay = integerOption(values.delay, "--delay");
    uid = integerOption(values.uid, "--uid") ?? 0;
    gid = integerOption(values.gid, "--gid") ?? 0;
  } catch (e) {
    io.err(`dfsctl watch: ${messageOf(e)}\n\n${WATCH_USAGE}`);
    return EXIT_USAGE;
  }

  const where = `${target.host.includes(":") ? `[${target.host}]` : target.host}:${target.port}:${target.path}`;
  const signal = io.signal ?? defaultSignal();
  let ws: WatchSession | null = null;
  try {
    ws = await openWatchSession({ host: target.host, port: target.port, cred: { uid, gid } });
    const w = await watch(ws.session, ws.router, target.path, {
      types,
      attributes,
      delay,
      signal,
    });
    io.err(`dfsctl watch: watching ${where} (granted: ${w.granted.join(", ")})`);
    if (w.missingTypes.length > 0)
      io.err(
        `dfsctl watch: not granted: ${w.missingTypes.join(", ")} (such changes show as recalls and re-reads)`,
      );
    io.onReady?.();
    if (!json) io.out(HEADER);
    let status = EXIT_OK;
    for await (const ev of w) {
      io.out(json ? jsonLine(ev, new Date()) : tableLine(ev, new Date()));
      if (ev.type === "ended" && ev.reason !== "aborted" && ev.reason !== "stopped") {
        io.err(`dfsctl watch: the watch ended: ${ev.detail}`);
        status = EXIT_ERROR;
      }
    }
    // Gives the delegation back (the watch has ended; this waits for the DELEGRETURN).
    await w.close();
    return status;
  } catch (e) {
    // Interrupted before the watch started: nothing to report.
    if (signal.aborted) return EXIT_OK;
    if (e instanceof DirectoryNotificationsUnavailableError) {
      io.err(`dfsctl watch: ${e.message}`);
      return EXIT_UNSUPPORTED;
    }
    io.err(`dfsctl watch: ${where}: ${messageOf(e)}`);
    return EXIT_ERROR;
  } finally {
    if (ws !== null) {
      await ws.session.destroy().catch(() => {});
      await ws.client.close();
    }
  }
}

// `dfsctl decode FILE`: prints the NFSv4 calls and replies in a packet capture
// (pcap or pcapng, optionally gzipped), decoded with the generated codecs; see
// src/decode/. Exit 0 when every record decoded, 1 when some did not (or the
// capture is damaged), 2 on bad usage or an unreadable file.

import { UsageError } from "./usage.js";
import { readFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import { gunzipSync } from "node:zlib";
import type { DecodeNotice, DecodeSummary, DecodedRecord } from "../decode/decoder.js";
import { decodeCapture } from "../decode/decoder.js";
import type { RecordFilter } from "../decode/filter.js";
import { isFiltering, matches, normalHex } from "../decode/filter.js";
import {
  noticeJson,
  noticeText,
  recordJson,
  recordText,
  summaryJson,
  summaryText,
} from "../decode/format.js";
import { DEFAULT_DECODE_SETTINGS } from "../decode/settings.js";

export const DECODE_USAGE = `usage: dfsctl decode [options] FILE

Prints the NFSv4 calls and replies in a packet capture (pcap or pcapng, as
written by tcpdump -w or tshark -w; gzipped is fine): every COMPOUND and
CB_COMPOUND with its operations' arguments and results, then a summary.

  --port N          the server's TCP port (default ${DEFAULT_DECODE_SETTINGS.port})
  --client HEX      only records naming this client id (repeatable)
  --session HEX     only records of this session (repeatable)
  --op NAME         only calls with this operation, and their replies (repeatable;
                    e.g. OPEN, CB_RECALL, NULL)
  --json            one JSON object per line instead of text
  --summary         print the summary only

Exit status: 0 when every record decoded, 1 when some did not or bytes are
missing from the capture, 2 on bad usage or an unreadable file.`;

export const EXIT_OK = 0;
export const EXIT_UNDECODED = 1;
export const EXIT_USAGE = 2;

/** The largest capture accepted once gunzipped, bytes (the file is decoded in memory). */
export const MAX_CAPTURE_BYTES = 2 * 1024 * 1024 * 1024 - 1;

export interface DecodeIo {
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
}

const defaultIo: DecodeIo = {
  out: (line) => process.stdout.write(line + "\n"),
  err: (line) => process.stderr.write(line + "\n"),
};

/** `dfsctl decode … | head`: a reader that goes away ends the command quietly, not with EPIPE. */
function quietOnClosedStdout(): void {
  process.stdout.on("error", (e: NodeJS.ErrnoException) => {
    if (e.code === "EPIPE") process.exit(EXIT_OK);
    throw e;
  });
}

export async function decodeCommand(
  args: readonly string[],
  io: DecodeIo = defaultIo,
): Promise<number> {
  let parsed;
  try {
    parsed = parseOptions(args);
  } catch (e) {
    io.err(`dfsctl decode: ${e instanceof Error ? e.message : String(e)}\n\n${DECODE_USAGE}`);
    return EXIT_USAGE;
  }
  if (parsed === "help") {
    io.out(DECODE_USAGE);
    return EXIT_OK;
  }
  let bytes: Uint8Array;
  try {
    bytes = await readCapture(parsed.file);
  } catch (e) {
    io.err(
      `dfsctl decode: cannot read ${parsed.file}: ${e instanceof Error ? e.message : String(e)}`,
    );
    return EXIT_USAGE;
  }
  if (io === defaultIo) quietOnClosedStdout();
  const { filter, json, summaryOnly } = parsed;
  let start: number | null = null;
  const origin = (t: number): number => (start ??= t);
  const quietNotices = isFiltering(filter) || summaryOnly;
  const summary: DecodeSummary = decodeCapture(
    bytes,
    {
      record(r: DecodedRecord): void {
        const t0 = origin(r.time);
        if (summaryOnly || !matches(r, filter)) return;
        if (json) io.out(recordJson(r));
        else for (const line of recordText(r, t0)) io.out(line);
      },
      notice(n: DecodeNotice): void {
        const t0 = n.time === null ? 0 : origin(n.time);
        if (quietNotices) return;
        io.out(json ? noticeJson(n) : noticeText(n, t0));
      },
    },
    { ...DEFAULT_DECODE_SETTINGS, port: parsed.port },
  );
  if (json) io.out(summaryJson(summary));
  else for (const line of summaryText(summary)) io.out(line);
  const damaged = summary.undecoded > 0 || summary.incomplete > 0 || summary.problems.length > 0;
  return damaged ? EXIT_UNDECODED : EXIT_OK;
}

interface Options {
  readonly file: string;
  readonly port: number;
  readonly filter: RecordFilter;
  readonly json: boolean;
  readonly summaryOnly: boolean;
}

function parseOptions(args: readonly string[]): Options | "help" {
  const { values, positionals } = parseArgs({
    args: [...args],
    options: {
      port: { type: "string" },
      client: { type: "string", multiple: true, default: [] },
      session: { type: "string", multiple: true, default: [] },
      op: { type: "string", multiple: true, default: [] },
      json: { type: "boolean", default: false },
      summary: { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
    allowPositionals: true,
    strict: true,
  });
  if (values.help) return "help";
  if (positionals.length !== 1) throw new UsageError("give exactly one capture file");
  let port = DEFAULT_DECODE_SETTINGS.port;
  if (values.port !== undefined) {
    if (!/^\d{1,5}$/.test(values.port) || Number(values.port) < 1 || Number(values.port) > 65535)
      throw new UsageError(`--port must be a TCP port (1-65535), got '${values.port}'`);
    port = Number(values.port);
  }
  for (const id of [...values.client, ...values.session]) {
    if (normalHex(id) === null) throw new UsageError(`'${id}' is not a hex id`);
  }
  for (const op of values.op) {
    if (!/^[A-Za-z_0-9]+$/.test(op)) throw new UsageError(`'${op}' is not an operation name`);
  }
  return {
    file: positionals[0]!,
    port,
    filter: { clients: values.client, sessions: values.session, ops: values.op },
    json: values.json,
    summaryOnly: values.summary,
  };
}

/** The file's bytes, gunzipped when it starts with the gzip magic (RFC 1952 §2.3.1). */
async function readCapture(path: string): Promise<Uint8Array> {
  const raw = await readFile(path);
  if (raw.length >= 2 && raw[0] === 0x1f && raw[1] === 0x8b)
    return gunzipSync(raw, { maxOutputLength: MAX_CAPTURE_BYTES });
  return raw;
}

// `dfsctl decode`: options, output forms, filters and exit statuses.

import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import {
  DECODE_USAGE,
  EXIT_OK,
  EXIT_UNDECODED,
  EXIT_USAGE,
  decodeCommand,
} from "../../src/cli/decode-command.js";
import { main } from "../../src/cli/dfsctl.js";

const FIXTURES = new URL("../decode/fixtures/", import.meta.url);
const KDELEG = new URL("kdeleg41.pcap.gz", FIXTURES).pathname;
const PORT = "21701";

async function run(args: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await decodeCommand(args, { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out, err };
}

describe("dfsctl decode", () => {
  it("prints calls, replies and a summary as text; exit 0 when everything decoded", async () => {
    const { code, out, err } = await run(["--port", PORT, KDELEG]);
    expect(err).toEqual([]);
    expect(code).toBe(EXIT_OK);
    expect(out[0]).toMatch(
      /^0\.000000 #1 127\.0\.0\.1:\d+ -> 127\.0\.0\.1:21701 CALL {2}xid=0x[0-9a-f]{8} COMPOUND v4\.1 tag="kdeleg-host"$/,
    );
    expect(out).toContain("    RECLAIM_COMPLETE rca_one_fs=false");
    expect(
      out.some((l) => /CB_COMPOUND cb_ident=\d+ session=[0-9a-f]{32} slot=0 seqid=1$/.test(l)),
    ).toBe(true);
    expect(out.at(-1)).toMatch(
      /^-- decoded \d+, undecoded 0, rejected 0 .* incomplete 0, unmatched replies 0, unanswered calls 0$/,
    );
  });

  it("prints JSON lines, the summary last", async () => {
    const { code, out } = await run(["--json", "--port", PORT, KDELEG]);
    expect(code).toBe(EXIT_OK);
    const lines = out.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines[0]).toMatchObject({
      type: "call",
      conn: 1,
      channel: "fore",
      procedure: "COMPOUND",
    });
    expect(lines.at(-1)).toMatchObject({ type: "summary", undecoded: 0 });
    const recall = lines.find((l) => JSON.stringify(l).includes('"name":"CB_RECALL"'));
    expect(recall).toMatchObject({ type: "call", channel: "back", procedure: "CB_COMPOUND" });
  });

  it("filters by operation, session and client", async () => {
    const byOp = await run(["--op", "cb_recall", "--port", PORT, KDELEG]);
    const heads = byOp.out.filter((l) => /^\d/.test(l));
    expect(heads.length).toBeGreaterThanOrEqual(6);
    expect(heads.every((l) => / (CALL |REPLY) xid=0x[0-9a-f]+ CB_COMPOUND /.test(l))).toBe(true);

    const all = (await run(["--json", "--port", PORT, KDELEG])).out.map(
      (l) => JSON.parse(l) as { type: string; session?: string; clients?: string[] },
    );
    const session = all.find((l) => l.session !== undefined)!.session!;
    const bySession = (await run(["--json", "--session", session, "--port", PORT, KDELEG])).out
      .map((l) => JSON.parse(l) as { type: string; sessions?: string[] })
      .filter((l) => l.type !== "summary");
    expect(bySession.length).toBeGreaterThan(2);
    expect(bySession.every((l) => l.sessions!.includes(session))).toBe(true);

    const client = all.find((l) => (l.clients ?? []).length > 0)!.clients![0]!;
    const byClient = (
      await run(["--json", "--client", `0x${client.toUpperCase()}`, "--port", PORT, KDELEG])
    ).out
      .map((l) => JSON.parse(l) as { type: string; clients?: string[] })
      .filter((l) => l.type !== "summary");
    expect(byClient.length).toBeGreaterThan(2);
    expect(byClient.length).toBeLessThan(all.length - 1);
    expect(byClient.every((l) => l.clients!.includes(client))).toBe(true);
  });

  it("prints only the summary with --summary", async () => {
    const { out } = await run(["--summary", "--port", PORT, KDELEG]);
    expect(out).toHaveLength(2);
    expect(out[0]).toMatch(
      /^-- 211 frames, 211 TCP segments on 2 connections: 81 calls, 81 replies$/,
    );
  });

  it("exits 1 on a truncated capture, saying what is missing", async () => {
    const dir = mkdtempSync(join(tmpdir(), "decode-cli-"));
    const bytes = gunzipSync(readFileSync(KDELEG));
    const cut = join(dir, "cut.pcap");
    writeFileSync(cut, bytes.subarray(0, Math.floor(bytes.length / 2)));
    const { code, out } = await run(["--port", PORT, cut]);
    expect(code).toBe(EXIT_UNDECODED);
    expect(out.some((l) => l.startsWith("-- capture file: frame "))).toBe(true);
  });

  it("exits 2 on bad usage or an unreadable file", async () => {
    expect((await run([])).code).toBe(EXIT_USAGE);
    expect((await run(["a", "b"])).code).toBe(EXIT_USAGE);
    const badPort = await run(["--port", "70000", KDELEG]);
    expect([badPort.code, badPort.err[0]]).toEqual([
      EXIT_USAGE,
      "dfsctl decode: --port must be a TCP port (1-65535), got '70000'\n\n" + DECODE_USAGE,
    ]);
    expect((await run(["--session", "xyz", KDELEG])).code).toBe(EXIT_USAGE);
    expect((await run(["--frobnicate", KDELEG])).code).toBe(EXIT_USAGE);
    const missing = await run(["/nonexistent/capture.pcap"]);
    expect(missing.code).toBe(EXIT_USAGE);
    expect(missing.err[0]).toMatch(/^dfsctl decode: cannot read \/nonexistent\/capture\.pcap: /);
    expect((await run(["--help"])).out).toEqual([DECODE_USAGE]);
  });

  it("is a dfsctl command, with its own help", async () => {
    const log: string[] = [];
    const original = console.log;
    console.log = (l: string) => log.push(l);
    try {
      expect(await main(["--help"])).toBe(0);
      expect(await main(["help", "decode"])).toBe(0);
    } finally {
      console.log = original;
    }
    expect(log[0]).toMatch(/decode FILE +print the NFSv4 calls and replies in a packet capture/);
    expect(log[1]).toBe(DECODE_USAGE);
  });
});

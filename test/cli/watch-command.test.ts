// `dfsctl watch`'s argument parsing and its two output formats.

import { describe, expect, it } from "vitest";
import {
  EXIT_OK,
  EXIT_USAGE,
  jsonLine,
  parseTarget,
  tableLine,
  watchCommand,
} from "../../src/cli/watch-command.js";
import { main } from "../../src/cli/dfsctl.js";

const AT = new Date("2026-12-02T14:03:04.567Z");

describe("parseTarget", () => {
  it("reads HOST[:PORT]:/path, IPv6 hosts in brackets, port 2049 by default", () => {
    expect(parseTarget("nfs.example:/export/d")).toEqual({
      host: "nfs.example",
      port: 2049,
      path: "/export/d",
    });
    expect(parseTarget("127.0.0.1:20490:/export")).toEqual({
      host: "127.0.0.1",
      port: 20490,
      path: "/export",
    });
    expect(parseTarget("[::1]:2050:/")).toEqual({ host: "::1", port: 2050, path: "/" });
    expect(parseTarget("[fe80::1]:/x")).toEqual({ host: "fe80::1", port: 2049, path: "/x" });
  });

  it("refuses what is not a target", () => {
    for (const bad of ["host", "/export", ":/export", "host:99999:/x", "a:b:c:/x", "host:port:/x"])
      expect(parseTarget(bad), bad).toBeNull();
  });
});

describe("output", () => {
  it("prints table rows", () => {
    expect(
      tableLine(
        {
          type: "added",
          name: "report.txt",
          cookie: 3n,
          attrs: { size: 0n, mode: 0o644 },
          replaced: false,
          via: "notification",
        },
        AT,
      ),
    ).toBe(`14:03:04.567  added       ${"report.txt".padEnd(24)}  cookie=3 size=0 mode=0644`);
    expect(tableLine({ type: "renamed", from: "a", to: "b", replaced: true }, AT)).toBe(
      `14:03:04.567  renamed     ${"a".padEnd(24)}  -> b (replaced)`,
    );
    expect(tableLine({ type: "removed", name: "x", via: "resync" }, AT)).toMatch(
      /removed +x +\(re-read\)$/,
    );
  });

  it("prints JSON lines with bigints as strings and times as ISO strings", () => {
    const line = jsonLine(
      {
        type: "attributes",
        target: "child",
        name: "f",
        attrs: { size: 2n ** 63n, timeModify: { seconds: 1_700_000_000n, nseconds: 5_000_000 } },
      },
      AT,
    );
    expect(JSON.parse(line)).toEqual({
      time: "2026-12-02T14:03:04.567Z",
      type: "attributes",
      target: "child",
      name: "f",
      attrs: { size: "9223372036854775808", timeModify: "2023-11-14T22:13:20.005Z" },
    });
  });
});

describe("arguments", () => {
  const run = async (args: string[]): Promise<{ status: number; text: string }> => {
    const lines: string[] = [];
    const status = await watchCommand(args, {
      out: (l) => lines.push(l),
      err: (l) => lines.push(l),
      signal: new AbortController().signal,
    });
    return { status, text: lines.join("\n") };
  };

  it("refuses unknown types and attributes, bad numbers and missing targets (exit 2)", async () => {
    expect(await run(["--types", "add,bogus", "h:/x"])).toMatchObject({
      status: EXIT_USAGE,
      text: expect.stringMatching(/unknown notification type: bogus/),
    });
    expect((await run(["--attributes", "colour", "h:/x"])).text).toMatch(
      /unknown attribute: colour/,
    );
    expect((await run(["--delay", "-1", "h:/x"])).status).toBe(EXIT_USAGE);
    expect((await run([])).text).toMatch(/exactly one HOST\[:PORT\]:\/path/);
  });

  it("explains itself with --help, and dfsctl names the command", async () => {
    expect(await run(["--help"])).toMatchObject({
      status: EXIT_OK,
      text: expect.stringMatching(/usage: dfsctl watch/),
    });
    const log: string[] = [];
    const original = console.log;
    console.log = (l: string) => log.push(l);
    try {
      expect(await main(["--help"])).toBe(0);
    } finally {
      console.log = original;
    }
    expect(log.join("\n")).toMatch(/watch HOST\[:PORT\]:\/path/);
  });
});

// Truncated and mutated captures: the decoder never throws, and what one
// connection holds stays within the limits (DecodeSettings).

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { DecodeSummary } from "../../src/decode/decoder.js";
import { decodeCapture } from "../../src/decode/decoder.js";
import { recordJson, recordText } from "../../src/decode/format.js";
import type { DecodeSettings } from "../../src/decode/settings.js";
import { DEFAULT_DECODE_SETTINGS } from "../../src/decode/settings.js";
import {
  FIXTURE_PORTS,
  conversation,
  fixture,
  pcapFile,
  pcapngFile,
  sampleExchange,
  tcpFrame,
} from "./support.js";

/** Small limits, so that mutated captures reach them. */
const SETTINGS: DecodeSettings = {
  ...DEFAULT_DECODE_SETTINGS,
  maxRecordBytes: 16 * 1024,
  maxOutOfOrderBytes: 8 * 1024,
  maxOutOfOrderSegments: 8,
  maxResyncBytes: 2 * 1024,
  maxPendingCalls: 4,
  maxConnections: 2,
  maxSessions: 2,
};
/** Per direction: out-of-order bytes, a record in progress, bytes searched; two directions. */
const HELD_BOUND =
  2 * (SETTINGS.maxOutOfOrderBytes + SETTINGS.maxRecordBytes + SETTINGS.maxResyncBytes);

type Mutation =
  | { kind: "truncate"; at: number }
  | { kind: "flip"; at: number; value: number }
  | { kind: "delete"; at: number; length: number }
  | { kind: "duplicate"; at: number; length: number };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant("truncate" as const), at: fc.nat() }),
  fc.record({ kind: fc.constant("flip" as const), at: fc.nat(), value: fc.nat(255) }),
  fc.record({
    kind: fc.constant("delete" as const),
    at: fc.nat(),
    length: fc.integer({ min: 1, max: 300 }),
  }),
  fc.record({
    kind: fc.constant("duplicate" as const),
    at: fc.nat(),
    length: fc.integer({ min: 1, max: 3000 }),
  }),
);

function mutate(input: Uint8Array, mutations: readonly Mutation[]): Uint8Array {
  let b = Buffer.from(input);
  for (const m of mutations) {
    if (b.length === 0) break;
    const at = m.at % b.length;
    switch (m.kind) {
      case "truncate":
        b = b.subarray(0, at);
        break;
      case "flip":
        b[at] = m.value;
        break;
      case "delete":
        b = Buffer.concat([b.subarray(0, at), b.subarray(at + m.length)]);
        break;
      case "duplicate":
        b = Buffer.concat([b.subarray(0, at + m.length), b.subarray(at)]);
    }
  }
  return b;
}

function check(bytes: Uint8Array, port: number): DecodeSummary {
  const summary = decodeCapture(
    bytes,
    {
      record: (r) => {
        recordText(r, 0);
        recordJson(r);
      },
      notice: () => {},
    },
    { ...SETTINGS, port },
  );
  expect(summary.peakHeldBytes).toBeLessThanOrEqual(HELD_BOUND);
  // Every record is counted once: decoded, undecoded (garbage records included) or rejected.
  expect(summary.decoded + summary.rejected).toBeLessThanOrEqual(summary.calls + summary.replies);
  return summary;
}

const samples: [string, Uint8Array, number][] = [
  ["kdeleg41", fixture("kdeleg41.pcap.gz"), FIXTURE_PORTS["kdeleg41.pcap.gz"]!],
  ["ganesha41", fixture("ganesha41.pcap.gz"), FIXTURE_PORTS["ganesha41.pcap.gz"]!],
  [
    "synthetic pcapng",
    pcapngFile(
      conversation([sampleExchange(1), sampleExchange(2), sampleExchange(3)]).map((data) => ({
        data,
      })),
    ),
    2049,
  ],
];

describe("fuzz", () => {
  it.each(samples)(
    "%s: mutated captures never throw and stay within the limits",
    (_name, bytes, port) => {
      fc.assert(
        fc.property(fc.array(mutation, { minLength: 1, maxLength: 8 }), (ms) => {
          check(mutate(bytes, ms), port);
        }),
        { numRuns: 150, seed: 20261203 },
      );
    },
  );

  it("random bytes after a valid file header never throw", () => {
    const header = samples[0]![1].subarray(0, 24);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 4096 }), (tail) => {
        check(Buffer.concat([header, tail]), 2049);
      }),
      { numRuns: 300, seed: 7 },
    );
  });

  it("a segment announcing an endless record, and a flood of early segments, stay bounded", () => {
    // A valid pcap carrying one connection whose client sends a 2 GiB record mark
    // followed by data, and segments far ahead of the stream.
    const mark = Buffer.alloc(4);
    mark.writeUInt32BE(0xfffffff0);
    const frames = [
      tcpFrame({ fromClient: true, seq: 0, syn: true }),
      tcpFrame({
        fromClient: true,
        seq: 1,
        payload: Buffer.concat([mark, Buffer.alloc(60_000, 0x41)]),
      }),
    ];
    for (let i = 0; i < 40; i++)
      frames.push(
        tcpFrame({ fromClient: true, seq: 1_000_000 + i * 1000, payload: Buffer.alloc(1000, 7) }),
      );
    const summary = check(pcapFile(frames.map((data) => ({ data }))), 2049);
    // The limits were reached: early segments were given up as gaps, the bad mark skipped.
    expect(summary.peakHeldBytes).toBeGreaterThanOrEqual(SETTINGS.maxOutOfOrderBytes - 1000);
    expect(summary.lostBytes).toBeGreaterThan(0);
    expect(summary.skippedBytes).toBeGreaterThan(0);
  });
});

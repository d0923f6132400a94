// pcap and pcapng reading: byte orders, timestamp resolutions, block kinds, damage.

import { describe, expect, it } from "vitest";
import { captureFormat, capturePackets } from "../../src/decode/capture-file.js";
import type { CapturedPacket } from "../../src/decode/capture-file.js";
import { pcapFile, pcapngFile } from "./support.js";

const A = new Uint8Array([1, 2, 3, 4, 5]);
const B = new Uint8Array([9, 8, 7]);

function read(bytes: Uint8Array): { packets: CapturedPacket[]; problems: string[] } {
  const problems: string[] = [];
  const packets = [...capturePackets(bytes, (p) => problems.push(p))];
  return { packets, problems };
}

describe("pcap", () => {
  for (const le of [true, false]) {
    for (const nanoseconds of [false, true]) {
      it(`reads ${le ? "little" : "big"}-endian files with ${nanoseconds ? "nano" : "micro"}second times`, () => {
        const file = pcapFile(
          [
            { data: A, time: 1_700_000_000.25 },
            { data: B, time: 1_700_000_001.5, originalLength: 60 },
          ],
          { le, nanoseconds, linkType: 113 },
        );
        expect(captureFormat(file)).toBe("pcap");
        const { packets, problems } = read(file);
        expect(problems).toEqual([]);
        expect(
          packets.map((p) => [p.frame, p.time, p.linkType, [...p.data], p.originalLength]),
        ).toEqual([
          [1, 1_700_000_000.25, 113, [...A], 5],
          [2, 1_700_000_001.5, 113, [...B], 60],
        ]);
      });
    }
  }

  it("stops at a record that runs past the end of the file, keeping the ones before", () => {
    const file = pcapFile([{ data: A }, { data: B }]);
    const { packets, problems } = read(file.subarray(0, file.length - 1));
    expect(packets).toHaveLength(1);
    expect(problems).toEqual(["frame 2: 3 captured bytes run past the end of the file"]);
    expect(read(file.subarray(0, 30)).problems).toEqual([
      "frame 1: record header truncated at byte 24",
    ]);
    expect(read(file.subarray(0, 10)).problems[0]).toMatch(/pcap header truncated/);
  });

  it("refuses what is neither format", () => {
    expect(captureFormat(new Uint8Array([1, 2, 3, 4, 5]))).toBeNull();
    expect(read(new TextEncoder().encode("hello world")).problems).toEqual([
      "not a pcap or pcapng file (unknown magic number)",
    ]);
  });
});

describe("pcapng", () => {
  for (const le of [true, false]) {
    it(`reads ${le ? "little" : "big"}-endian sections with Enhanced Packet Blocks`, () => {
      const file = pcapngFile(
        [
          { data: A, time: 1_700_000_000.5 },
          { data: B, time: 1_700_000_002 },
        ],
        {
          le,
          linkType: 276,
        },
      );
      expect(captureFormat(file)).toBe("pcapng");
      const { packets, problems } = read(file);
      expect(problems).toEqual([]);
      expect(packets.map((p) => [p.frame, p.time, p.linkType, [...p.data]])).toEqual([
        [1, 1_700_000_000.5, 276, [...A]],
        [2, 1_700_000_002, 276, [...B]],
      ]);
    });
  }

  it("honours if_tsresol, in powers of ten and of two", () => {
    const ns = read(pcapngFile([{ data: A, time: 1_700_000_000.125 }], { tsresol: 9 }));
    expect(ns.packets[0]!.time).toBe(1_700_000_000.125);
    const pow2 = read(pcapngFile([{ data: A, time: 1_700_000_000.125 }], { tsresol: 0x80 | 10 }));
    expect(pow2.packets[0]!.time).toBeCloseTo(1_700_000_000.125, 2);
  });

  it("reads Simple Packet Blocks", () => {
    const { packets } = read(pcapngFile([{ data: A }, { data: B }], { simple: true }));
    expect(packets.map((p) => [...p.data])).toEqual([[...A], [...B]]);
    expect(packets[0]!.time).toBe(0);
  });

  it("stops at a block with a bad length", () => {
    const file = pcapngFile([{ data: A }, { data: B }]);
    const cut = read(file.subarray(0, file.length - 4));
    expect(cut.packets).toHaveLength(1);
    expect(cut.problems[0]).toMatch(/has a bad length/);
  });
});

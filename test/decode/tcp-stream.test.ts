// TCP reassembly of one direction: order, duplicates, overlaps, gaps, bounds.

import { describe, expect, it } from "vitest";
import type { StreamSink } from "../../src/decode/tcp-stream.js";
import { TcpDirection } from "../../src/decode/tcp-stream.js";

/** A sink that writes the stream as text, gaps as "<n>" and a desync as "?". */
function recorder(): StreamSink & { text: string } {
  const sink = {
    text: "",
    data(b: Uint8Array) {
      sink.text += Buffer.from(b).toString("latin1");
    },
    gap(n: number) {
      sink.text += `<${n}>`;
    },
    desync() {
      sink.text += "?";
    },
  };
  return sink;
}

const bytes = (s: string): Uint8Array => Buffer.from(s, "latin1");

function direction(maxBytes = 1 << 20, maxSegments = 100) {
  const sink = recorder();
  const dir = new TcpDirection(sink, maxBytes, maxSegments);
  return { sink, dir };
}

describe("TcpDirection", () => {
  it("delivers in-order segments after a SYN", () => {
    const { sink, dir } = direction();
    dir.syn(99);
    dir.segment(100, bytes("hello "), 0);
    dir.segment(106, bytes("world"), 0);
    expect(sink.text).toBe("hello world");
  });

  it("holds early segments until the missing one arrives", () => {
    const { sink, dir } = direction();
    dir.syn(0);
    dir.segment(7, bytes("DE"), 0);
    dir.segment(4, bytes("ABC"), 0);
    expect(sink.text).toBe("");
    expect(dir.held).toBe(5);
    dir.segment(1, bytes("012"), 0);
    expect(sink.text).toBe("012ABCDE");
    expect(dir.held).toBe(0);
  });

  it("drops retransmissions and keeps only the new part of an overlap", () => {
    const { sink, dir } = direction();
    dir.syn(0);
    dir.segment(1, bytes("abcd"), 0);
    dir.segment(1, bytes("abcd"), 0);
    dir.segment(3, bytes("cdef"), 0);
    dir.segment(1, bytes("ab"), 0);
    expect(sink.text).toBe("abcdef");
  });

  it("follows sequence numbers across 2^32", () => {
    const { sink, dir } = direction();
    dir.syn(0xfffffffd);
    dir.segment(0xfffffffe, bytes("ab"), 0);
    dir.segment(0, bytes("cd"), 0);
    expect(sink.text).toBe("abcd");
  });

  it("reports bytes cut off by the snap length as a gap of their length", () => {
    const { sink, dir } = direction();
    dir.syn(0);
    dir.segment(1, bytes("ab"), 3);
    dir.segment(6, bytes("z"), 0);
    expect(sink.text).toBe("ab<3>z");
    expect(dir.lost).toBe(3);
  });

  it("declares a gap when the out-of-order bound is crossed, and at the end", () => {
    const { sink, dir } = direction(4, 100);
    dir.syn(0);
    dir.segment(11, bytes("xyz"), 0);
    expect(sink.text).toBe("");
    dir.segment(14, bytes("uv"), 0); // 5 bytes held > 4
    expect(sink.text).toBe("<10>xyzuv");
    dir.segment(30, bytes("end"), 0);
    dir.finish();
    expect(sink.text).toBe("<10>xyzuv<14>end");
  });

  it("bounds the held segments by count too", () => {
    const { sink, dir } = direction(1 << 20, 2);
    dir.syn(0);
    dir.segment(3, bytes("c"), 0);
    dir.segment(5, bytes("e"), 0);
    dir.segment(7, bytes("g"), 0);
    // Three held > 2: the bytes before the earliest are given up.
    expect(sink.text).toBe("<2>c");
    expect(dir.held).toBe(2);
  });

  it("says when it joined a stream without its SYN", () => {
    const { sink, dir } = direction();
    dir.segment(500, bytes("mid"), 0);
    expect(sink.text).toBe("?mid");
    expect(dir.startedOtherThan(499)).toBe(true);
    const fresh = direction();
    fresh.dir.syn(10);
    expect(fresh.dir.startedOtherThan(10)).toBe(false);
    expect(fresh.dir.startedOtherThan(11)).toBe(true);
  });
});

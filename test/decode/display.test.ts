// The metadata-driven display of decoded values.

import { describe, expect, it } from "vitest";
import { FATTR4_MODE, FATTR4_SIZE, nfs_opnum4 } from "../../generated/nfs4/index.js";
import { Renderer, Utf8Text, bitsOf, emptyIds } from "../../src/decode/display.js";
import { displayText } from "../../src/decode/format.js";
import { XdrWriter } from "../../src/xdr/index.js";

const r = new Renderer(8);

function attrVals(write: (w: XdrWriter) => void): Uint8Array {
  const w = new XdrWriter();
  write(w);
  return w.finish();
}

const mask = (...bits: number[]): number[] => {
  const words: number[] = [];
  for (const b of bits) words[b >> 5] = ((words[b >> 5] ?? 0) | (1 << (b & 31))) >>> 0;
  return Array.from(words, (w) => w ?? 0);
};

describe("Renderer", () => {
  it("names enums, quotes UTF-8 types, shows opaques in hex and long ones cut short", () => {
    const ids = emptyIds();
    const v = r.named(
      "nfs_argop4",
      { argop: nfs_opnum4.OP_LOOKUP, oplookup: { objname: new TextEncoder().encode("a b") } },
      ids,
    );
    expect(v).toEqual({ argop: "OP_LOOKUP", oplookup: { objname: new Utf8Text("a b") } });
    expect(displayText(v)).toBe('{argop=OP_LOOKUP oplookup={objname="a b"}}');
    expect(r.named("nfs_fh4", new Uint8Array([1, 2, 255]), ids)).toBe("0102ff");
    expect(r.named("nfs_fh4", new Uint8Array(20).fill(0xaa), ids)).toBe(
      `${"aa".repeat(8)}...(20 bytes)`,
    );
    // Not UTF-8 (pynfs sends such names on purpose): the bytes, in hex.
    expect(r.named("component4", new Uint8Array([0xff, 0xfe]), ids)).toBe("fffe");
  });

  it("collects session and client ids, clients as 16 hex digits", () => {
    const ids = emptyIds();
    r.named(
      "nfs_argop4",
      { argop: nfs_opnum4.OP_DESTROY_CLIENTID, opdestroy_clientid: { dca_clientid: 0x1234n } },
      ids,
    );
    r.named("sessionid4", new Uint8Array(16).fill(1), ids);
    expect([...ids.clients]).toEqual(["0000000000001234"]);
    expect([...ids.sessions]).toEqual(["01".repeat(16)]);
  });

  it("decodes a fattr4's values by attribute, and shows what it cannot as hex", () => {
    const ids = emptyIds();
    const vals = attrVals((w) => {
      w.writeUhyper(4096n);
      w.writeUint(0o644);
    });
    expect(
      r.named("fattr4", { attrmask: mask(FATTR4_SIZE, FATTR4_MODE), attr_vals: vals }, ids),
    ).toEqual({ attrmask: ["size", "mode"], attr_vals: { size: 4096n, mode: 0o644 } });
    const unknown = r.named(
      "fattr4",
      {
        attrmask: mask(FATTR4_SIZE, 90),
        attr_vals: attrVals((w) => {
          w.writeUhyper(1n);
          w.writeUint(7);
        }),
      },
      ids,
    );
    expect(unknown).toEqual({
      attrmask: ["size", "attr90"],
      attr_vals: { size: 1n, undecoded: "00000007" },
    });
    const short = r.named(
      "fattr4",
      { attrmask: mask(FATTR4_SIZE), attr_vals: new Uint8Array(4) },
      ids,
    );
    expect(displayText(short)).toMatch(
      /^\{attrmask=\[size\] attr_vals=\{undecoded=00000000 \(XDR error.*truncated/,
    );
  });

  it("reads bitmap4 words (RFC 8881 §3.3.7)", () => {
    expect(bitsOf([0b101, 1])).toEqual([0, 2, 32]);
  });
});

// The codec benchmark compares the generated codec with @stellar/js-xdr on the
// same wire messages: building them checks that both encodings are
// byte-identical and that each codec decodes the other's bytes. This test runs
// that check in `npm test`, so a drift in either definition fails here rather
// than only when someone runs the benchmark.

import { describe, expect, it } from "vitest";
import { J } from "./jsxdr-nfs4.js";
import { READDIR_ENTRIES, assertSameBytes, buildMessages } from "./messages.js";

describe("codec benchmark messages", () => {
  const messages = buildMessages();

  it("encode to the same bytes with both codecs (checked by buildMessages)", () => {
    expect(messages.map((m) => [m.id, m.bytes.length])).toEqual([
      ["a", 65_660],
      ["b", 9_288],
      ["c-args", 104],
      ["c-res", 200],
    ]);
  });

  it("run every benchmark closure", () => {
    for (const m of messages) {
      for (const f of [m.generated, m.jsxdr, m.copy, ...Object.values(m.encodeOnly)]) f();
      for (const f of Object.values(m.decodeOnly)) f();
    }
  });

  it("READDIR result decodes to 100 entries through the js-xdr linked list", () => {
    const b = messages.find((m) => m.id === "b")!;
    const res = J.COMPOUND4res.fromXDR(Buffer.from(b.bytes));
    const resarray = res._attributes["resarray"] as { value(): unknown }[];
    const readdir = resarray[2]!.value() as { value(): { _attributes: Record<string, unknown> } };
    const reply = readdir.value()._attributes["reply"] as { _attributes: Record<string, unknown> };
    let n = 0;
    type Entry = { _attributes: Record<string, unknown> } | undefined;
    for (
      let e = reply._attributes["entries"] as Entry;
      e;
      e = e._attributes["nextentry"] as Entry
    ) {
      n++;
    }
    expect(n).toBe(READDIR_ENTRIES);
  });

  it("the identity check fails loudly on a difference", () => {
    const a = new Uint8Array([0, 0, 0, 1]);
    expect(() => assertSameBytes("x", a, new Uint8Array([0, 0, 0, 2]))).toThrow(
      /encodings differ .* first difference at byte 3/,
    );
    expect(() => assertSameBytes("x", a, new Uint8Array([0, 0, 0, 1, 0]))).toThrow(
      /first difference at byte 4/,
    );
    expect(() => assertSameBytes("x", a, new Uint8Array([0, 0, 0, 1]))).not.toThrow();
  });
});

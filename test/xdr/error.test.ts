import { describe, expect, it } from "vitest";
import { XdrError, XdrReader } from "../../src/xdr/index.js";

describe("XdrError", () => {
  it("formats code, detail and offset without a path", () => {
    const e = new XdrError("truncated", "need 4 bytes, 0 remain", 12);
    expect(e).toBeInstanceOf(Error);
    expect(e.name).toBe("XdrError");
    expect(e.code).toBe("truncated");
    expect(e.offset).toBe(12);
    expect(e.path).toEqual([]);
    expect(e.pathString).toBe("");
    expect(e.value).toBeUndefined();
    expect(e.message).toBe("XDR error at byte 12: truncated: need 4 bytes, 0 remain");
  });

  it("keeps the bad value", () => {
    expect(new XdrError("enum", "x", 0, -7).value).toBe(-7);
  });

  it("within() prepends path segments and refreshes the message", () => {
    const e = new XdrError("truncated", "need 65536 bytes, 12 remain", 96);
    // Generated code unwinds innermost first.
    let thrown: unknown = e;
    for (const seg of ["data", "opwrite", "[1]", "argarray"]) {
      thrown = XdrError.within(thrown, seg);
    }
    expect(thrown).toBe(e);
    expect(e.path).toEqual(["argarray", "[1]", "opwrite", "data"]);
    expect(e.pathString).toBe("argarray[1].opwrite.data");
    expect(e.message).toBe(
      "XDR error at argarray[1].opwrite.data (byte 96): truncated: need 65536 bytes, 12 remain",
    );
    expect(e.stack?.split("\n")[0]).toBe(`XdrError: ${e.message}`);
  });

  it("joins index segments without a dot, also at the start and in a row", () => {
    const e = new XdrError("limit", "x", 0);
    for (const seg of ["[3]", "[2]", "m", "[0]"]) XdrError.within(e, seg);
    expect(e.pathString).toBe("[0].m[2][3]");
  });

  it("within() passes other values through unchanged", () => {
    const plain = new Error("boom");
    expect(XdrError.within(plain, "x")).toBe(plain);
    expect(plain.message).toBe("boom");
    expect(XdrError.within("str", "x")).toBe("str");
    expect(XdrError.within(undefined, "x")).toBeUndefined();
    const obj = { path: [] as string[] };
    expect(XdrError.within(obj, "x")).toBe(obj);
    expect(obj.path).toEqual([]);
  });

  it("works as generated code would use it", () => {
    // struct { int a; opaque data<> } inside arg[2]
    const decodeInner = (r: XdrReader): Uint8Array => {
      try {
        r.readInt();
      } catch (e) {
        throw XdrError.within(e, "a");
      }
      try {
        return r.readOpaqueVar(0xffffffff);
      } catch (e) {
        throw XdrError.within(e, "data");
      }
    };
    const bytes = new Uint8Array([0, 0, 0, 1, 0, 0, 0, 8, 1, 2, 3]);
    const r = new XdrReader(bytes);
    let caught: unknown;
    try {
      try {
        decodeInner(r);
      } catch (e) {
        throw XdrError.within(XdrError.within(e, "[2]"), "arg");
      }
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(XdrError);
    const x = caught as XdrError;
    expect(x.code).toBe("truncated");
    expect(x.offset).toBe(4);
    expect(x.message).toBe("XDR error at arg[2].data (byte 4): truncated: need 8 bytes, 3 remain");
  });
});

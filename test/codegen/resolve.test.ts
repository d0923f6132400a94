// The resolver's diagnostics: every semantic error in a specification is
// reported as `file:line:col: message`, all of them at once.

import { describe, expect, it } from "vitest";
import { parseSpec } from "../../codegen/parser.js";
import { resolve, ResolveError } from "../../codegen/resolve.js";

function errorsOf(...sources: string[]): string[] {
  const specs = sources.map((text, i) => parseSpec(text, `spec/t${i}.x`));
  try {
    resolve(specs);
  } catch (e) {
    if (e instanceof ResolveError) return e.errors.map((x) => x.message);
    throw e;
  }
  return [];
}

const cases: [string, string, string][] = [
  ["undefined type", "struct s { foo x; };", "spec/t0.x:1:12: type 'foo' is not defined"],
  [
    "undefined size constant",
    "typedef opaque x<MAXLEN>;",
    "spec/t0.x:1:18: 'MAXLEN' is not defined",
  ],
  [
    "type used as a size",
    "struct a { int x; }; typedef int y<a>;",
    "spec/t0.x:1:36: 'a' is a type, not a constant",
  ],
  [
    "constant used as a type",
    "const N = 3; struct s { N x; };",
    "spec/t0.x:1:25: 'N' is a constant, not a type",
  ],
  [
    "duplicate type",
    "struct a { int x; };\nstruct a { int y; };",
    "spec/t0.x:2:1: 'a' is already defined at spec/t0.x:1:1",
  ],
  [
    "enum member clashes with a constant",
    "const A = 1;\nenum e { A = 2 };",
    "spec/t0.x:2:10: 'A' is already defined at spec/t0.x:1:1",
  ],
  [
    "duplicate field",
    "struct s { int x; hyper x; };",
    "spec/t0.x:1:19: 'x' is already declared at spec/t0.x:1:12",
  ],
  [
    "negative array size",
    "const N = -1; typedef int a[N];",
    "spec/t0.x:1:29: a fixed array length must be between 0 and 4294967295, not -1",
  ],
  [
    "oversized limit",
    "typedef opaque o<0x100000000>;",
    "spec/t0.x:1:18: a length limit must be between 0 and 4294967295, not 4294967296",
  ],
  [
    "float discriminant",
    "union u switch (float f) { case 1: int x; };",
    "spec/t0.x:1:17: the discriminant of union 'u' must be int, unsigned int, bool or an enum, not float",
  ],
  [
    "struct discriminant",
    "struct s { int x; }; union u switch (s d) { case 1: int x; };",
    "spec/t0.x:1:38: the discriminant of union 'u' must be int, unsigned int, bool or an enum, not 's'",
  ],
  [
    "label of another enum",
    "enum a { A1 = 1 }; enum b { B1 = 1 }; union u switch (a d) { case B1: int x; };",
    "spec/t0.x:1:67: case B1 of union 'u' is a member of enum 'b', not of the discriminant's enum 'a'",
  ],
  [
    "literal not in the enum",
    "enum a { A1 = 1 }; union u switch (a d) { case 7: int x; };",
    "spec/t0.x:1:48: case 7 of union 'u' is not a value of enum 'a'",
  ],
  [
    "bool label out of range",
    "union u switch (bool b) { case 2: int x; };",
    "spec/t0.x:1:32: case 2 of union 'u' must be TRUE (1) or FALSE (0) for a bool discriminant",
  ],
  [
    "unsigned label out of range",
    "union u switch (unsigned d) { case -1: int x; };",
    "spec/t0.x:1:36: case -1 of union 'u' is out of range for unsigned int",
  ],
  [
    "repeated case label",
    "union u switch (int d) { case 1: int x; case 1: int y; };",
    "spec/t0.x:1:46: case 1 of union 'u' repeats the case at spec/t0.x:1:31",
  ],
  [
    "arm named like the discriminant",
    "union u switch (int d) { case 1: int d; };",
    "spec/t0.x:1:34: 'd' is already declared at spec/t0.x:1:17",
  ],
  [
    "struct containing itself",
    "struct s { int x; s inner; };",
    "spec/t0.x:1:1: 's' contains itself (s → s); recursion needs an optional '*' or a variable-length array",
  ],
  [
    "mutual recursion",
    "struct a { b x; };\nstruct b { a y; };",
    "spec/t0.x:1:1: 'a' contains itself (a → b → a); recursion needs an optional '*' or a variable-length array",
  ],
  [
    "self-dependent constant values",
    "enum e { A = B, B = A };",
    "spec/t0.x:1:10: the value of 'A' depends on itself",
  ],
  [
    "enum value too large",
    "enum e { A = 0x80000000 };",
    "spec/t0.x:1:14: enum 'e' member 'A' = 2147483648 does not fit in a signed 32-bit int",
  ],
  [
    "inline struct as a procedure argument",
    "program P { version V { void F(struct { int x; }) = 1; } = 1; } = 1;",
    "spec/t0.x:1:32: inline struct types are not supported as procedure arguments or results; name the type (F_arg)",
  ],
  [
    "undefined procedure result",
    "program P { version V { nothing F(void) = 1; } = 1; } = 1;",
    "spec/t0.x:1:25: type 'nothing' is not defined",
  ],
];

describe("resolver diagnostics", () => {
  it.each(cases)("%s", (_name, source, expected) => {
    expect(errorsOf(source)).toEqual([expected]);
  });

  it("reports every error, not just the first", () => {
    expect(errorsOf("struct s { foo x; bar y; };")).toEqual([
      "spec/t0.x:1:12: type 'foo' is not defined",
      "spec/t0.x:1:19: type 'bar' is not defined",
    ]);
  });

  it("reports a duplicate across files at both positions", () => {
    expect(errorsOf("const A = 1;", "\nconst A = 2;")).toEqual([
      "spec/t1.x:2:1: 'A' is already defined at spec/t0.x:1:1",
    ]);
  });
});

describe("resolved model", () => {
  it("resolves names across files and in any order", () => {
    const model = resolve([
      parseSpec("struct s { t x; opaque o<N>; };", "spec/a.x"),
      parseSpec("typedef int t; const N = 5;", "spec/b.x"),
    ]);
    const s = model.types_by_name.get("s");
    expect(s).toMatchObject({
      kind: "struct",
      module: "a",
      fields: [
        { name: "x", type: { kind: "ref", name: "t" } },
        { name: "o", type: { kind: "opaque", fixed: null, max: 5 } },
      ],
      minSize: 8,
      maxSize: 16,
    });
    expect(model.owner.get("N")).toBe("b");
  });

  it("hoists inline types under their parent's name, before the parent", () => {
    const model = resolve([
      parseSpec(
        "struct m { unsigned x; union switch (int k) { case 1: struct { int lo; int hi; } r; default: void; } body; };",
        "spec/m.x",
      ),
    ]);
    expect(model.types.map((t) => t.name)).toEqual(["m_body_r", "m_body", "m"]);
    expect(model.types_by_name.get("m")).toMatchObject({
      fields: [{ name: "x" }, { name: "body", type: { kind: "ref", name: "m_body" } }],
    });
  });

  it("turns a self-linked struct into a list", () => {
    const model = resolve([
      parseSpec("struct e { int v; e *next; }; struct l { e *items; bool eof; };", "spec/l.x"),
    ]);
    expect(model.types_by_name.get("e")).toMatchObject({
      fields: [{ name: "v" }],
      link: "next",
      // The element alone, as encodee writes it; the list carries the links.
      minSize: 4,
      maxSize: 4,
    });
    expect(model.types_by_name.get("l")).toMatchObject({
      fields: [{ name: "items", type: { kind: "list", of: "e" } }, { name: "eof" }],
    });
  });

  it("computes bounded and unbounded sizes", () => {
    const model = resolve([
      parseSpec(
        "union u switch (bool b) { case TRUE: hyper h; case FALSE: void; }; const TRUE = 1; const FALSE = 0; typedef opaque fh<128>; typedef int many<>;",
        "spec/s.x",
      ),
    ]);
    expect(model.types_by_name.get("u")).toMatchObject({ minSize: 4, maxSize: 12 });
    expect(model.types_by_name.get("fh")).toMatchObject({ minSize: 4, maxSize: 132 });
    expect(model.types_by_name.get("many")).toMatchObject({ minSize: 4, maxSize: null });
  });
});

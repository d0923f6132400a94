// Tests for the XDR/RPC-language parser: the project's spec files, every
// construct of the grammar (RFC 4506 §6.3, RFC 5531 §12.2) and the exact
// diagnostics for malformed input.

import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { XdrSpecError } from "../../codegen/ast.js";
import type { Definition, Pos } from "../../codegen/ast.js";
import { parseSpec, parseSpecErrors } from "../../codegen/parser.js";

const FILE = "spec/test.x";

function parse(text: string): readonly Definition[] {
  return parseSpec(text, FILE).definitions;
}

/** The single definition `text` holds. */
function parseOne(text: string): Definition {
  const definitions = parse(text);
  expect(definitions).toHaveLength(1);
  return definitions[0]!;
}

/** The error parseSpec throws for `text`. */
function errorOf(text: string): XdrSpecError {
  try {
    parseSpec(text, FILE);
  } catch (e) {
    if (e instanceof XdrSpecError) return e;
    throw e;
  }
  throw new Error(`expected a syntax error in ${JSON.stringify(text)}`);
}

/** A copy of an AST without its `pos` fields, for comparing shapes. */
function shape(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(shape);
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value).filter(([key]) => key !== "pos");
    return Object.fromEntries(entries.map(([key, v]) => [key, shape(v)]));
  }
  return value;
}

function at(line: number, col: number): Pos {
  return { file: FILE, line, col };
}

// Position-free builders for expected shapes.
const lit = (value: number | bigint) => ({ kind: "literal", value: BigInt(value) });
const nm = (name: string) => ({ kind: "name", name });
const ref = (name: string) => ({ kind: "ref", name });
const INT = { kind: "int", unsigned: false };
const UINT = { kind: "int", unsigned: true };
const HYPER = { kind: "hyper", unsigned: false };
const UHYPER = { kind: "hyper", unsigned: true };
const VOID = { kind: "void" };
const plain = (name: string, type: unknown) => ({ kind: "plain", name, type });
const arm = (labels: unknown[], declaration: unknown) => ({ labels, arm: declaration });

// --- The project's specification files ---------------------------------------

describe("spec/*.x", () => {
  const specDir = fileURLToPath(new URL("../../spec/", import.meta.url));
  const specFiles = existsSync(specDir)
    ? readdirSync(specDir)
        .filter((name) => name.endsWith(".x"))
        .sort()
    : [];

  it("has specification files to parse", () => {
    expect(specFiles, `no .x files in ${specDir}`).not.toHaveLength(0);
  });

  for (const name of specFiles) {
    it(`parses ${name}`, () => {
      const spec = parseSpec(readFileSync(join(specDir, name), "utf8"), `spec/${name}`);
      expect(spec.file).toBe(`spec/${name}`);
      expect(spec.definitions.length).toBeGreaterThan(0);
    });
  }
});

// --- Constructs of the grammar ---------------------------------------------------

describe("constants", () => {
  it.each([
    ["0", 0n],
    ["42", 42n],
    ["-42", -42n],
    ["0x1F", 31n],
    ["0xffffffffffffffff", 0xffffffffffffffffn],
    ["-0x10", -16n],
    ["017", 15n],
    ["-017", -15n],
    ["2147483648", 2147483648n],
  ])("reads %s", (image, value) => {
    expect(shape(parseOne(`const C = ${image};`))).toEqual({
      kind: "const",
      name: "C",
      value: lit(value),
    });
  });

  it("records positions of the definition and its value", () => {
    expect(parseOne("\n  const MAX = 0x10;")).toEqual({
      kind: "const",
      name: "MAX",
      value: { kind: "literal", value: 16n, pos: at(2, 15) },
      pos: at(2, 3),
    });
  });
});

describe("declarations", () => {
  const fields = (body: string): unknown => {
    const def = parseOne(`struct s {\n${body}\n};`);
    return def.kind === "struct" ? shape(def.body.fields) : def;
  };

  it("covers every declaration form", () => {
    const text = [
      "int plainField;",
      "int fixed[4];",
      "int fixedByName[SIZE];",
      "int bounded<10>;",
      "int unbounded<>;",
      "opaque fixedBytes[16];",
      "opaque varBytes<MAXLEN>;",
      "opaque anyBytes<>;",
      "string boundedText<255>;",
      "string anyText<>;",
      "node *next;",
    ].join("\n");
    expect(fields(text)).toEqual([
      plain("plainField", INT),
      { kind: "fixedArray", name: "fixed", type: INT, size: lit(4) },
      { kind: "fixedArray", name: "fixedByName", type: INT, size: nm("SIZE") },
      { kind: "varArray", name: "bounded", type: INT, max: lit(10) },
      { kind: "varArray", name: "unbounded", type: INT, max: null },
      { kind: "opaqueFixed", name: "fixedBytes", size: lit(16) },
      { kind: "opaqueVar", name: "varBytes", max: nm("MAXLEN") },
      { kind: "opaqueVar", name: "anyBytes", max: null },
      { kind: "string", name: "boundedText", max: lit(255) },
      { kind: "string", name: "anyText", max: null },
      { kind: "optional", name: "next", type: ref("node") },
    ]);
  });

  it("covers every type specifier", () => {
    const text = [
      "int a;",
      "unsigned int b;",
      "unsigned c;",
      "hyper d;",
      "unsigned hyper e;",
      "float f;",
      "double g;",
      "quadruple h;",
      "bool i;",
      "other_type j;",
      "unsigned *k;",
    ].join("\n");
    expect(fields(text)).toEqual([
      plain("a", INT),
      plain("b", UINT),
      plain("c", UINT),
      plain("d", HYPER),
      plain("e", UHYPER),
      plain("f", { kind: "float" }),
      plain("g", { kind: "double" }),
      plain("h", { kind: "quadruple" }),
      plain("i", { kind: "bool" }),
      plain("j", ref("other_type")),
      { kind: "optional", name: "k", type: UINT },
    ]);
  });

  it("accepts inline enum, struct and union types, nested", () => {
    const text = [
      "enum { RED = 0, GREEN = 1 } color;",
      "struct { int x; struct { hyper deep; } inner<>; } *point;",
      "union switch (int which) { case 0: void; default: int n; } choice[2];",
    ].join("\n");
    expect(fields(text)).toEqual([
      plain("color", {
        kind: "enum",
        body: {
          members: [
            { name: "RED", value: lit(0) },
            { name: "GREEN", value: lit(1) },
          ],
        },
      }),
      {
        kind: "optional",
        name: "point",
        type: {
          kind: "struct",
          body: {
            fields: [
              plain("x", INT),
              {
                kind: "varArray",
                name: "inner",
                type: { kind: "struct", body: { fields: [plain("deep", HYPER)] } },
                max: null,
              },
            ],
          },
        },
      },
      {
        kind: "fixedArray",
        name: "choice",
        type: {
          kind: "union",
          body: {
            discriminant: plain("which", INT),
            cases: [arm([lit(0)], VOID)],
            defaultArm: plain("n", INT),
          },
        },
        size: lit(2),
      },
    ]);
  });

  it("keeps names that merely start with a keyword as identifiers", () => {
    expect(fields("intx version4;\nvoidness program_id;\nstructure unionized<>;")).toEqual([
      plain("version4", ref("intx")),
      plain("program_id", ref("voidness")),
      { kind: "varArray", name: "unionized", type: ref("structure"), max: null },
    ]);
  });

  it("records positions of declarations, types and sizes", () => {
    expect(parseOne("struct point {\n  int x;\n  unsigned hyper y[2];\n};")).toEqual({
      kind: "struct",
      name: "point",
      body: {
        fields: [
          {
            kind: "plain",
            name: "x",
            type: { kind: "int", unsigned: false, pos: at(2, 3) },
            pos: at(2, 3),
          },
          {
            kind: "fixedArray",
            name: "y",
            type: { kind: "hyper", unsigned: true, pos: at(3, 3) },
            size: { kind: "literal", value: 2n, pos: at(3, 20) },
            pos: at(3, 3),
          },
        ],
      },
      pos: at(1, 1),
    });
  });
});

describe("typedefs", () => {
  it("accepts every declaration form after 'typedef'", () => {
    const text = [
      "typedef unsigned int uint32_t;",
      "typedef opaque verifier[8];",
      "typedef string utf8<>;",
      "typedef entry *entry_list;",
      "typedef int counts<MAX>;",
    ].join("\n");
    expect(shape(parse(text))).toEqual([
      { kind: "typedef", decl: plain("uint32_t", UINT) },
      { kind: "typedef", decl: { kind: "opaqueFixed", name: "verifier", size: lit(8) } },
      { kind: "typedef", decl: { kind: "string", name: "utf8", max: null } },
      { kind: "typedef", decl: { kind: "optional", name: "entry_list", type: ref("entry") } },
      { kind: "typedef", decl: { kind: "varArray", name: "counts", type: INT, max: nm("MAX") } },
    ]);
  });

  it("gives the typedef the position of its keyword and the declaration its type's", () => {
    expect(parseOne("typedef\tbool flag;")).toEqual({
      kind: "typedef",
      decl: { kind: "plain", name: "flag", type: { kind: "bool", pos: at(1, 9) }, pos: at(1, 9) },
      pos: at(1, 1),
    });
  });
});

describe("enums", () => {
  it("reads members with literal and named values", () => {
    expect(shape(parseOne("enum e { A = 1, B = -0x2, C = 010, D = A };"))).toEqual({
      kind: "enum",
      name: "e",
      body: {
        members: [
          { name: "A", value: lit(1) },
          { name: "B", value: lit(-2) },
          { name: "C", value: lit(8) },
          { name: "D", value: nm("A") },
        ],
      },
    });
  });

  it("records member positions", () => {
    const def = parseOne("enum e {\n  A = 1,\n  B = 2\n};");
    expect(def.kind === "enum" && def.body.members.map((m) => m.pos)).toEqual([at(2, 3), at(3, 3)]);
  });
});

describe("unions", () => {
  it("accepts a bool discriminant", () => {
    const def = parseOne(
      "union maybe switch (bool present) { case TRUE: int value; case FALSE: void; };",
    );
    expect(shape(def)).toEqual({
      kind: "union",
      name: "maybe",
      body: {
        discriminant: plain("present", { kind: "bool" }),
        cases: [arm([nm("TRUE")], plain("value", INT)), arm([nm("FALSE")], VOID)],
        defaultArm: null,
      },
    });
  });

  it("accepts an int discriminant, shared arms and a default", () => {
    const text =
      "union r switch (int code) { case -1: case 0x10: case 017: string msg<>; default: void; };";
    expect(shape(parseOne(text))).toEqual({
      kind: "union",
      name: "r",
      body: {
        discriminant: plain("code", INT),
        cases: [arm([lit(-1), lit(16), lit(15)], { kind: "string", name: "msg", max: null })],
        defaultArm: VOID,
      },
    });
  });

  it("accepts enum discriminants, named and inline", () => {
    const text = [
      "union a switch (nfs_opnum4 op) { case OP_READ: read_args read; };",
      "union b switch (enum { X = 0, Y = 1 } which) { case X: void; case Y: hyper y; };",
    ].join("\n");
    expect(shape(parse(text))).toEqual([
      {
        kind: "union",
        name: "a",
        body: {
          discriminant: plain("op", ref("nfs_opnum4")),
          cases: [arm([nm("OP_READ")], plain("read", ref("read_args")))],
          defaultArm: null,
        },
      },
      {
        kind: "union",
        name: "b",
        body: {
          discriminant: plain("which", {
            kind: "enum",
            body: {
              members: [
                { name: "X", value: lit(0) },
                { name: "Y", value: lit(1) },
              ],
            },
          }),
          cases: [arm([nm("X")], VOID), arm([nm("Y")], plain("y", HYPER))],
          defaultArm: null,
        },
      },
    ]);
  });

  it("gives each case the position of its first 'case' keyword", () => {
    const def = parseOne(
      "union u switch (int d) {\ncase 1:\n  case 2:\n    void;\n case 3: int x;\n};",
    );
    expect(def.kind === "union" && def.body.cases.map((c) => c.pos)).toEqual([at(2, 1), at(5, 2)]);
  });
});

describe("programs", () => {
  const text = [
    "program PING_PROG {",
    "   version PING_VERS_PINGBACK {",
    "      void",
    "      PINGPROC_NULL(void) = 0;",
    "      int PINGPROC_PINGBACK(void) = 1;",
    "      unsigned hyper PINGPROC_ADD(hyper, unsigned) = 2;",
    "      result_t PINGPROC_ECHO(echo_args) = 0x3;",
    "   } = 2;",
    "   version PING_VERS_ORIG {",
    "      void PINGPROC_NULL(void) = 0;",
    "   } = ORIG_VERSION;",
    "} = 0x20000001;",
  ].join("\n");

  it("reads versions and procedures with void, one and two arguments", () => {
    expect(shape(parseOne(text))).toEqual({
      kind: "program",
      name: "PING_PROG",
      versions: [
        {
          name: "PING_VERS_PINGBACK",
          procedures: [
            { name: "PINGPROC_NULL", result: null, args: [], number: lit(0) },
            { name: "PINGPROC_PINGBACK", result: INT, args: [], number: lit(1) },
            { name: "PINGPROC_ADD", result: UHYPER, args: [HYPER, UINT], number: lit(2) },
            {
              name: "PINGPROC_ECHO",
              result: ref("result_t"),
              args: [ref("echo_args")],
              number: lit(3),
            },
          ],
          number: lit(2),
        },
        {
          name: "PING_VERS_ORIG",
          procedures: [{ name: "PINGPROC_NULL", result: null, args: [], number: lit(0) }],
          number: nm("ORIG_VERSION"),
        },
      ],
      number: lit(0x20000001),
    });
  });

  it("records program, version and procedure positions", () => {
    const def = parseOne(text);
    if (def.kind !== "program") throw new Error("not a program");
    expect(def.pos).toEqual(at(1, 1));
    expect(def.versions.map((v) => v.pos)).toEqual([at(2, 4), at(9, 4)]);
    expect(def.versions[0]!.procedures.map((p) => p.pos)).toEqual([
      at(3, 7),
      at(5, 7),
      at(6, 7),
      at(7, 7),
    ]);
  });
});

describe("pass-through lines and comments", () => {
  it("turns '%' lines into passthrough definitions, anywhere between definitions", () => {
    const text = [
      "%#include <rpc/rpc.h>",
      "/* a block",
      "   comment */ const A = 1; // a line comment",
      "   %  indented pass-through ",
      "// const HIDDEN = 2;",
      "typedef int t; /* trailing */",
      "%",
    ].join("\n");
    expect(parse(text)).toEqual([
      { kind: "passthrough", text: "#include <rpc/rpc.h>", pos: at(1, 1) },
      {
        kind: "const",
        name: "A",
        value: { kind: "literal", value: 1n, pos: at(3, 25) },
        pos: at(3, 15),
      },
      { kind: "passthrough", text: "  indented pass-through ", pos: at(4, 4) },
      {
        kind: "typedef",
        decl: {
          kind: "plain",
          name: "t",
          type: { kind: "int", unsigned: false, pos: at(6, 9) },
          pos: at(6, 9),
        },
        pos: at(6, 1),
      },
      { kind: "passthrough", text: "", pos: at(7, 1) },
    ]);
  });

  it("handles CRLF line endings", () => {
    expect(parse("%line one\r\nconst A = 1;\r\n")).toEqual([
      { kind: "passthrough", text: "line one", pos: at(1, 1) },
      {
        kind: "const",
        name: "A",
        value: { kind: "literal", value: 1n, pos: at(2, 11) },
        pos: at(2, 1),
      },
    ]);
  });

  it("accepts an empty specification", () => {
    expect(parseSpec("  /* nothing */\n// here\n", FILE)).toEqual({ file: FILE, definitions: [] });
  });
});

// --- Whole specifications from the RFCs ---------------------------------------------

describe("RFC 4506 §7 example", () => {
  const text = `const MAXUSERNAME = 32;     /* max length of a user name */
const MAXFILELEN = 65535;   /* max length of a file      */
const MAXNAMELEN = 255;     /* max length of a file name */

/*
 * Types of files:
 */
enum filekind {
   TEXT = 0,       /* ascii data */
   DATA = 1,       /* raw data   */
   EXEC = 2        /* executable */
};

/*
 * File information, per kind of file:
 */
union filetype switch (filekind kind) {
case TEXT:
   void;                           /* no extra information */
case DATA:
   string creator<MAXNAMELEN>;     /* data creator         */
case EXEC:
   string interpretor<MAXNAMELEN>; /* program interpretor  */
};

/*
 * A complete file:
 */
struct file {
   string filename<MAXNAMELEN>; /* name of file    */
   filetype type;               /* info about file */
   string owner<MAXUSERNAME>;   /* owner of file   */
   opaque data<MAXFILELEN>;     /* file data       */
};
`;

  it("parses to the expected AST", () => {
    expect(shape(parse(text))).toEqual([
      { kind: "const", name: "MAXUSERNAME", value: lit(32) },
      { kind: "const", name: "MAXFILELEN", value: lit(65535) },
      { kind: "const", name: "MAXNAMELEN", value: lit(255) },
      {
        kind: "enum",
        name: "filekind",
        body: {
          members: [
            { name: "TEXT", value: lit(0) },
            { name: "DATA", value: lit(1) },
            { name: "EXEC", value: lit(2) },
          ],
        },
      },
      {
        kind: "union",
        name: "filetype",
        body: {
          discriminant: plain("kind", ref("filekind")),
          cases: [
            arm([nm("TEXT")], VOID),
            arm([nm("DATA")], { kind: "string", name: "creator", max: nm("MAXNAMELEN") }),
            arm([nm("EXEC")], { kind: "string", name: "interpretor", max: nm("MAXNAMELEN") }),
          ],
          defaultArm: null,
        },
      },
      {
        kind: "struct",
        name: "file",
        body: {
          fields: [
            { kind: "string", name: "filename", max: nm("MAXNAMELEN") },
            plain("type", ref("filetype")),
            { kind: "string", name: "owner", max: nm("MAXUSERNAME") },
            { kind: "opaqueVar", name: "data", max: nm("MAXFILELEN") },
          ],
        },
      },
    ]);
  });

  it("records positions", () => {
    const definitions = parse(text);
    expect(definitions.map((d) => d.pos)).toEqual([
      at(1, 1),
      at(2, 1),
      at(3, 1),
      at(8, 1),
      at(17, 1),
      at(29, 1),
    ]);
    const union = definitions[4]!;
    if (union.kind !== "union") throw new Error("not a union");
    expect(union.body.discriminant.pos).toEqual(at(17, 24));
    expect(union.body.cases[1]!.arm).toEqual({
      kind: "string",
      name: "creator",
      max: { kind: "name", name: "MAXNAMELEN", pos: at(21, 19) },
      pos: at(21, 4),
    });
  });
});

describe("RFC 5531 message types", () => {
  // RFC 5531 §9, with `} reply;` after reply_body corrected to `};`.
  const text = `
enum msg_type { CALL = 0, REPLY = 1 };

struct rpc_msg {
   unsigned int xid;
   union switch (msg_type mtype) {
   case CALL:
      call_body cbody;
   case REPLY:
      reply_body rbody;
   } body;
};

union reply_body switch (reply_stat stat) {
case MSG_ACCEPTED:
   accepted_reply areply;
case MSG_DENIED:
   rejected_reply rreply;
};

struct accepted_reply {
   opaque_auth verf;
   union switch (accept_stat stat) {
   case SUCCESS:
      opaque results[0];
      /*
       * procedure-specific results start here
       */
    case PROG_MISMATCH:
       struct {
          unsigned int low;
          unsigned int high;
       } mismatch_info;
    default:
       /*
        * Void.  Cases include PROG_UNAVAIL, PROC_UNAVAIL,
        * GARBAGE_ARGS, and SYSTEM_ERR.
        */
       void;
    } reply_data;
};
`;
  const mismatchInfo = plain("mismatch_info", {
    kind: "struct",
    body: { fields: [plain("low", UINT), plain("high", UINT)] },
  });

  it("parses rpc_msg's inline union", () => {
    expect(shape(parse(text)[1])).toEqual({
      kind: "struct",
      name: "rpc_msg",
      body: {
        fields: [
          plain("xid", UINT),
          plain("body", {
            kind: "union",
            body: {
              discriminant: plain("mtype", ref("msg_type")),
              cases: [
                arm([nm("CALL")], plain("cbody", ref("call_body"))),
                arm([nm("REPLY")], plain("rbody", ref("reply_body"))),
              ],
              defaultArm: null,
            },
          }),
        ],
      },
    });
  });

  it("parses accepted_reply's inline union with its inline struct", () => {
    expect(shape(parse(text)[3])).toEqual({
      kind: "struct",
      name: "accepted_reply",
      body: {
        fields: [
          plain("verf", ref("opaque_auth")),
          plain("reply_data", {
            kind: "union",
            body: {
              discriminant: plain("stat", ref("accept_stat")),
              cases: [
                arm([nm("SUCCESS")], { kind: "opaqueFixed", name: "results", size: lit(0) }),
                arm([nm("PROG_MISMATCH")], mismatchInfo),
              ],
              defaultArm: VOID,
            },
          }),
        ],
      },
    });
  });

  it("records positions inside inline types", () => {
    const def = parse(text)[3]!;
    if (def.kind !== "struct") throw new Error("not a struct");
    const replyData = def.body.fields[1]!;
    expect(replyData.pos).toEqual(at(23, 4));
    if (replyData.kind !== "plain" || replyData.type.kind !== "union")
      throw new Error("not a union");
    const mismatch = replyData.type.body.cases[1]!;
    expect(mismatch.pos).toEqual(at(29, 5));
    expect(mismatch.arm.pos).toEqual(at(30, 8));
  });
});

// --- Malformed input ------------------------------------------------------------------

/** [what is wrong, input, the exact message parseSpec throws]. */
const MALFORMED: readonly (readonly [string, string, string])[] = [
  [
    "missing semicolon after a field",
    "struct s {\n  int foo\n};",
    "spec/test.x:3:1: expected ';' after the declaration of 'foo', found '}'",
  ],
  [
    "missing closing brace of an enum",
    "enum e { A = 1, B = 2;",
    "spec/test.x:1:22: expected ',' or '}' in enum 'e', found ';'",
  ],
  [
    "missing closing brace of a struct at end of file",
    "struct s {\n  int a;\n",
    "spec/test.x:2:9: expected another field or '}' to close struct 's', found end of file",
  ],
  [
    "unterminated comment",
    "const A = 1;\n/* oops\nconst B = 2;\n",
    "spec/test.x:2:1: unterminated comment",
  ],
  ["stray character", "const A = 1 @;", "spec/test.x:1:13: unexpected character '@'"],
  [
    "stray control character",
    "const A = 1;\n\u0007",
    "spec/test.x:2:1: unexpected character U+0007",
  ],
  ["'-' without digits", "const A = - 1;", "spec/test.x:1:11: unexpected character '-'"],
  [
    "'%' in the middle of a line",
    "const A = 1; %foo",
    "spec/test.x:1:14: a '%' pass-through line must start at the beginning of a line",
  ],
  [
    "keyword used as a type name",
    "struct int { int a; };",
    "spec/test.x:1:8: expected a name after 'struct', found keyword 'int'",
  ],
  [
    "keyword used as a field name",
    "struct s { int opaque; };",
    "spec/test.x:1:16: expected a name or '*' after 'int', found keyword 'opaque'",
  ],
  [
    "void field in a struct",
    "struct s { int a; void; };",
    "spec/test.x:1:19: struct 's' cannot have a 'void' field",
  ],
  [
    "void field in an inline struct",
    "typedef struct { void; } t;",
    "spec/test.x:1:18: the inline struct cannot have a 'void' field",
  ],
  ["typedef of void", "typedef void;", "spec/test.x:1:9: a typedef cannot declare 'void'"],
  [
    "union without switch",
    "union u { case 1: int x; };",
    "spec/test.x:1:9: expected 'switch' to begin the body of union 'u', found '{'",
  ],
  [
    "case without colon",
    "union u switch (int d) { case 1 int x; };",
    "spec/test.x:1:33: expected ':' after 'case 1', found keyword 'int'",
  ],
  [
    "union with no case",
    "union u switch (int d) { };",
    "spec/test.x:1:26: expected 'case' in union 'u', found '}'",
  ],
  [
    "union with only a default arm",
    "union u switch (int d) { default: void; };",
    "spec/test.x:1:26: expected 'case' in union 'u', found keyword 'default'",
  ],
  [
    "case after the default arm",
    "union u switch (int d) { case 1: void; default: void; case 2: void; };",
    "spec/test.x:1:55: expected '}' after the default arm of union 'u', found keyword 'case'",
  ],
  [
    "array as union discriminant",
    "union u switch (int d[2]) { case 1: void; };",
    "spec/test.x:1:17: the discriminant of union 'u' must be a single value such as 'int kind'",
  ],
  [
    "RFC 5531's stray name after a union definition",
    "union reply_body switch (reply_stat stat) {\ncase MSG_ACCEPTED:\n  accepted_reply areply;\n} reply;",
    "spec/test.x:4:3: expected ';' after the definition of union 'reply_body', found 'reply'",
  ],
  [
    "bad array bracket",
    "typedef int x[4>;",
    "spec/test.x:1:16: expected ']' after the size of 'x', found '>'",
  ],
  [
    "array without a size",
    "struct s { int a[]; };",
    "spec/test.x:1:18: expected a number or constant name as the size of 'a', found ']'",
  ],
  [
    "unclosed variable-length bound",
    "struct s { int a<3; };",
    "spec/test.x:1:19: expected '>' after the maximum size of 'a', found ';'",
  ],
  [
    "fixed-length string",
    "typedef string x[4];",
    "spec/test.x:1:17: expected '<' after 'string x' (strings are variable-length only), found '['",
  ],
  [
    "optional opaque",
    "typedef opaque *x;",
    "spec/test.x:1:16: expected a name after 'opaque', found '*'",
  ],
  [
    "opaque without a length",
    "typedef opaque x;",
    "spec/test.x:1:17: expected '[' or '<' after 'opaque x', found ';'",
  ],
  [
    "declaration without a name",
    "typedef int;",
    "spec/test.x:1:12: expected a name or '*' after 'int', found ';'",
  ],
  [
    "enum member without '='",
    "enum e { A, B };",
    "spec/test.x:1:11: expected '=' after enum member 'A', found ','",
  ],
  [
    "empty enum body",
    "enum e { };",
    "spec/test.x:1:10: expected a member name in enum 'e', found '}'",
  ],
  [
    "trailing comma in an inline enum",
    "typedef enum { A = 1, } e;",
    "spec/test.x:1:23: expected a member name in the inline enum, found '}'",
  ],
  [
    "empty struct",
    "struct s { };",
    "spec/test.x:1:12: expected a field declaration in struct 's', found '}'",
  ],
  [
    "const with a non-literal value",
    "const A = B;",
    "spec/test.x:1:11: expected an integer constant as the value of 'A', found 'B'",
  ],
  [
    "bad hex literal",
    "const A = 0xZZ;",
    "spec/test.x:1:11: malformed integer constant '0xZZ' (expected a decimal, 0x-hexadecimal or 0-octal number)",
  ],
  [
    "bad octal literal",
    "enum e { A = 089 };",
    "spec/test.x:1:14: malformed integer constant '089' (expected a decimal, 0x-hexadecimal or 0-octal number)",
  ],
  [
    "program without version",
    "program P { } = 1;",
    "spec/test.x:1:13: expected 'version' in program 'P', found '}'",
  ],
  [
    "version without procedure",
    "program P { version V { } = 1; } = 1;",
    "spec/test.x:1:25: expected a procedure definition in version 'V', found '}'",
  ],
  [
    "procedure without '= n'",
    "program P { version V { void NULLPROC(void); } = 1; } = 1;",
    "spec/test.x:1:44: expected '=' and a number after procedure 'NULLPROC', found ';'",
  ],
  [
    "procedure with empty parentheses",
    "program P { version V { int F() = 1; } = 1; } = 1;",
    "spec/test.x:1:31: expected an argument type or 'void' for procedure 'F', found ')'",
  ],
  [
    "procedure with an unclosed argument list",
    "program P { version V { int F(int, int = 1; } = 1; } = 1;",
    "spec/test.x:1:40: expected ',' or ')' in the arguments of procedure 'F', found '='",
  ],
  [
    "version without ';'",
    "program P { version V { int F(int) = 1; } = 1 } ;",
    "spec/test.x:1:47: expected ';' after the number of version 'V', found '}'",
  ],
  [
    "unsigned float",
    "typedef unsigned float x;",
    "spec/test.x:1:18: expected 'int', 'hyper' or a name after 'unsigned', found keyword 'float'",
  ],
  [
    "end of file in the middle of a definition",
    "const A = 1;\ntypedef int",
    "spec/test.x:2:12: expected a name or '*' after 'int', found end of file",
  ],
  [
    "end of file inside an inline union",
    "typedef union switch (int x) { case 1: void; ",
    "spec/test.x:1:45: expected 'case', 'default' or '}' in the inline union, found end of file",
  ],
  [
    "trailing garbage after the last definition",
    "const A = 1;\n}",
    "spec/test.x:2:1: expected a definition (const, typedef, enum, struct, union or program), found '}'",
  ],
  [
    "C-style struct reference",
    "typedef struct foo *next;",
    "spec/test.x:1:16: expected '{' to begin the body of the inline struct, found 'foo'",
  ],
];

describe("malformed input", () => {
  it.each(MALFORMED)("reports %s", (_what, input, message) => {
    expect(errorOf(input).message).toBe(message);
  });

  it("exposes the position and the bare text on the error", () => {
    const error = errorOf("struct s {\n  int foo\n};");
    expect(error).toBeInstanceOf(XdrSpecError);
    expect(error.pos).toEqual(at(3, 1));
    expect(error.text).toBe("expected ';' after the declaration of 'foo', found '}'");
  });

  it("keeps working after an error (the parser instance is reused)", () => {
    errorOf("struct s { void; };");
    expect(shape(parse("const A = 1;"))).toEqual([{ kind: "const", name: "A", value: lit(1) }]);
  });
});

describe("parseSpecErrors", () => {
  it("returns nothing for a valid specification", () => {
    expect(parseSpecErrors("const A = 1;", FILE)).toEqual([]);
  });

  it("returns every lexical error", () => {
    const messages = parseSpecErrors("const A = 1 @;\nconst B = 0xZ;\n#", FILE).map(
      (e) => e.message,
    );
    expect(messages).toEqual([
      "spec/test.x:1:13: unexpected character '@'",
      "spec/test.x:2:11: malformed integer constant '0xZ' (expected a decimal, 0x-hexadecimal or 0-octal number)",
      "spec/test.x:3:1: unexpected character '#'",
    ]);
  });

  it("returns the first syntax error", () => {
    const messages = parseSpecErrors("const A = 1\nconst B = ;", FILE).map((e) => e.message);
    expect(messages).toEqual([
      "spec/test.x:2:1: expected ';' after the definition of constant 'A', found keyword 'const'",
    ]);
  });
});

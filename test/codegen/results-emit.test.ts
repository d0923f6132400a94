// The results.ts emitters on small specs: which unions count as dispatch unions
// (found from the program's procedures, not from names), which get status
// accessors and builders, and the generator's refusals.

import { describe, expect, it } from "vitest";
import type { GeneratedFile } from "../../codegen/emit/module.js";
import { emitModule } from "../../codegen/emit/module.js";
import { parseSpec } from "../../codegen/parser.js";
import { resolve } from "../../codegen/resolve.js";

const COMMON = `
enum stat { OK = 0, ERR_DENIED = 1, ERR_OTHER = 2 };
enum opnum { OP_GET = 1, OP_PUT = 2 };
struct GET4args { int which; };
struct GET4resok { hyper size; opaque tag[4]; int list<>; };
union GET4res switch (stat status) {
  case OK: GET4resok ok;
  case ERR_DENIED: string who<>;
  default: void;
};
struct PUT4res { stat put_status; bool done; };
union argop switch (opnum op) { case OP_GET: GET4args get; case OP_PUT: void; };
struct COMP4args { argop ops<>; };
`;

async function emit(spec: string): Promise<GeneratedFile[]> {
  const model = resolve([parseSpec(spec, "spec/t.x")]);
  return emitModule(model, "t", {});
}

async function results(spec: string): Promise<string> {
  const file = (await emit(spec)).find((f) => f.path === "t/results.ts");
  if (!file) throw new Error("no results.ts emitted");
  return file.text;
}

const exported = (text: string): string[] =>
  [...text.matchAll(/^export (?:function|interface) (\w+)/gm)].map((m) => m[1]!);

describe("dispatch unions", () => {
  it("are the array elements of a procedure's argument and result structs", async () => {
    const text = await results(`${COMMON}
      union resop switch (opnum op) { case OP_GET: GET4res get; case OP_PUT: PUT4res put; };
      struct COMP4res { stat status; resop results<>; };
      program P { version V { COMP4res PROC(COMP4args) = 1; } = 1; } = 99;`);
    expect([...new Set(exported(text))]).toEqual([
      "argop_arms",
      "armargop",
      "wrapargop",
      "resop_arms",
      "armresop",
      "wrapresop",
      // Only the result union, whose arms carry the result struct's status enum.
      "statusresop",
      "errorresop",
      "errorGET4res",
      "errorPUT4res",
      "zeroGET4resok",
    ]);
    // The status each result keeps, under its own name.
    expect(text).toContain("return v.get.status;");
    expect(text).toContain("return v.put.put_status;");
    // A struct result's other fields are zero; a union's arms follow the status.
    expect(text).toContain("return { put_status: status, done: false };");
    expect(text).toMatch(/case 1: \/\/ ERR_DENIED\s+return \{ status, who: "" \};/);
    expect(text).toContain("return { size: 0n, tag: new Uint8Array(4), list: [] };");
  });

  it("are not guessed from names: without a program there are none", async () => {
    const files = await emit(`${COMMON}
      union resop switch (opnum op) { case OP_GET: GET4res get; case OP_PUT: PUT4res put; };`);
    expect(files.map((f) => f.path)).not.toContain("t/results.ts");
    expect(files.find((f) => f.path === "t/index.ts")?.text).not.toContain("results");
  });

  it("a union result without a default arm refuses, as its encoder would, a status it has no arm for", async () => {
    const text = await results(`${COMMON}
      union STRICT4res switch (stat status) { case OK: void; case ERR_DENIED: int x; };
      union resop switch (opnum op) { case OP_GET: GET4res get; case OP_PUT: STRICT4res put; };
      struct COMP4res { stat status; resop results<>; };
      program P { version V { COMP4res PROC(COMP4args) = 1; } = 1; } = 99;`);
    expect(text).toMatch(
      /default:\s+throw new XdrError\(\s*"discriminant",\s*`STRICT4res has no arm for status = \$\{status\}`/,
    );
  });

  it("a result union whose arm carries no status is refused", async () => {
    await expect(
      emit(`${COMMON}
        union resop switch (opnum op) { case OP_GET: GET4res get; case OP_PUT: GET4args put; };
        struct COMP4res { stat status; resop results<>; };
        program P { version V { COMP4res PROC(COMP4args) = 1; } = 1; } = 99;`),
    ).rejects.toThrow("arm 'put' of result union resop carries no stat");
  });

  it("a zero value that would never finish building is refused", async () => {
    await expect(
      emit(`${COMMON}
        struct loop { inner first; };
        union inner switch (int d) { case 0: loop again; case 1: void; };
        union resop switch (opnum op) { case OP_GET: GET4res get; case OP_PUT: res_loop put; };
        union res_loop switch (stat status) { case ERR_OTHER: loop l; default: void; };
        struct COMP4res { stat status; resop results<>; };
        program P { version V { COMP4res PROC(COMP4args) = 1; } = 1; } = 99;`),
    ).rejects.toThrow("codegen: no finite zero value for loop → inner → loop");
  });
});

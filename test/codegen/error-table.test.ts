// The operation/error table reader (codegen/error-table.ts): the project's own
// spec/nfs4-errors.txt, and malformed tables, each reported as file:line:col.

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import type { CheckedErrorTables } from "../../codegen/error-table.js";
import { checkErrorTables, errorTableModule, parseErrorTables } from "../../codegen/error-table.js";
import { specFiles } from "../../codegen/main.js";
import { parseSpec } from "../../codegen/parser.js";
import type { Model } from "../../codegen/resolve.js";
import { resolve, ResolveError } from "../../codegen/resolve.js";

const root = join(fileURLToPath(import.meta.url), "..", "..", "..");
const FILE = "spec/t-errors.txt";

/** A small spec module `t` with the enums the tables name. */
const model: Model = resolve([
  parseSpec(
    `enum stat { OK = 0, ERR_A = 1, ERR_B = 2, ERR_C = 3 };
     enum opnum { OP_ONE = 1, OP_TWO = 2 };
     enum cbop { OP_CB_ONE = 1 };
     struct notenum { int x; };`,
    "spec/t.x",
  ),
]);

function check(text: string): CheckedErrorTables {
  return checkErrorTables(parseErrorTables(text, FILE), model);
}

/** The diagnostics `text` produces, parse or check. */
function errorsOf(text: string): string[] {
  try {
    check(text);
  } catch (e) {
    if (e instanceof ResolveError) return e.errors.map((x) => x.message);
    throw e;
  }
  return [];
}

const HEADER = "table opnum stat ALLOWED isAllowed\n";

describe("a well-formed table", () => {
  it("gives each operation its errors in order, and the required rows apart", () => {
    const checked = check(
      `# comment
table opnum stat ALLOWED isAllowed   # trailing comment
ONE ERR_B, ERR_A,
    ERR_C
TWO ERR_A

required opnum REQUIRED
TWO ERR_C
table cbop stat CB_ALLOWED isCbAllowed
CB_ONE ERR_A ERR_B
`,
    );
    expect(checked.module).toBe("t");
    expect(checked.tables).toEqual([
      {
        opEnum: "opnum",
        statusEnum: "stat",
        ok: "OK",
        mapName: "ALLOWED",
        predicate: "isAllowed",
        rows: [
          { op: "OP_ONE", errors: ["ERR_B", "ERR_A", "ERR_C"] },
          { op: "OP_TWO", errors: ["ERR_A"] },
        ],
        required: { mapName: "REQUIRED", rows: [{ op: "OP_TWO", errors: ["ERR_C"] }] },
        pos: { file: FILE, line: 2, col: 1 },
      },
      {
        opEnum: "cbop",
        statusEnum: "stat",
        ok: "OK",
        mapName: "CB_ALLOWED",
        predicate: "isCbAllowed",
        rows: [{ op: "OP_CB_ONE", errors: ["ERR_A", "ERR_B"] }],
        required: null,
        pos: { file: FILE, line: 9, col: 1 },
      },
    ]);
  });

  it("names its module after the file", () => {
    expect(errorTableModule("spec/nfs4-errors.txt")).toBe("nfs4");
    expect(errorTableModule("spec/nfs4.x")).toBeNull();
  });

  it("reads the project's spec/nfs4-errors.txt against spec/", () => {
    const full = resolve(specFiles().map((f) => parseSpec(readFileSync(join(root, f), "utf8"), f)));
    const file = "spec/nfs4-errors.txt";
    const checked = checkErrorTables(
      parseErrorTables(readFileSync(join(root, file), "utf8"), file),
      full,
    );
    expect(checked.tables.map((t) => [t.opEnum, t.mapName, t.rows.length])).toEqual([
      ["nfs_opnum4", "ALLOWED_ERRORS", 74],
      ["nfs_cb_opnum4", "ALLOWED_CB_ERRORS", 14],
    ]);
  });
});

const cases: [string, string, string[]][] = [
  [
    "bad operation name",
    `${HEADER}ONE ERR_A\nTWO ERR_A\nTHREE ERR_A\n`,
    [`${FILE}:4:1: 'THREE' is not an operation of opnum (it has no OP_THREE)`],
  ],
  [
    "bad error name",
    `${HEADER}ONE ERR_A, ERR_Z\nTWO ERR_A\n`,
    [`${FILE}:2:12: 'ERR_Z' is not a member of stat`],
  ],
  [
    "bad error name on a continuation line",
    `${HEADER}ONE ERR_A,\n  ERR_B, NOPE\nTWO ERR_A\n`,
    [`${FILE}:3:10: 'NOPE' is not a member of stat`],
  ],
  [
    "duplicate row",
    `${HEADER}ONE ERR_A\nTWO ERR_A\nONE ERR_B\n`,
    [`${FILE}:4:1: 'ONE' already has a row at ${FILE}:2:1`],
  ],
  [
    "error listed twice in a row",
    `${HEADER}ONE ERR_A, ERR_B, ERR_A\nTWO ERR_A\n`,
    [`${FILE}:2:19: 'ERR_A' is listed twice in this row`],
  ],
  [
    "success listed as an error",
    `${HEADER}ONE OK\nTWO ERR_A\n`,
    [`${FILE}:2:5: 'OK' is success, allowed to every operation: list only errors`],
  ],
  ["row without errors", `${HEADER}ONE\nTWO ERR_A\n`, [`${FILE}:2:1: 'ONE' lists no errors`]],
  ["missing row", `${HEADER}ONE ERR_A\n`, [`${FILE}:1:1: table opnum has no row for OP_TWO`]],
  [
    "not an enum",
    `table notenum stat A isA\n`,
    [`${FILE}:1:7: 'notenum' is not an enum of the spec`],
  ],
  [
    "unknown status enum",
    `table opnum nostat A isA\nONE ERR_A\nTWO ERR_A\n`,
    [`${FILE}:1:13: 'nostat' is not an enum of the spec`],
  ],
  [
    "malformed header",
    `table opnum stat ALLOWED\nONE ERR_A\n`,
    [`${FILE}:1:1: expected \`table <operation enum> <status enum> <map name> <predicate name>\``],
  ],
  [
    "row before any header",
    `ONE ERR_A\n${HEADER}ONE ERR_A\nTWO ERR_A\n`,
    [`${FILE}:1:1: a row before any \`table\` or \`required\` header`],
  ],
  [
    "continuation with no row",
    `${HEADER}  ERR_A\nONE ERR_A\nTWO ERR_A\n`,
    [`${FILE}:2:3: a continuation line with no row above it`],
  ],
  ["not a name", `${HEADER}ONE ERR_A; ERR_B\nTWO ERR_A\n`, [`${FILE}:2:5: 'ERR_A;' is not a name`]],
  [
    "required before its table",
    `required opnum R\nONE ERR_A\n${HEADER}ONE ERR_A\nTWO ERR_A\n`,
    [`${FILE}:1:1: \`required\` rows for opnum must follow its \`table\``],
  ],
  [
    "required error already in the table",
    `${HEADER}ONE ERR_A\nTWO ERR_A\nrequired opnum R\nONE ERR_B, ERR_A\n`,
    [`${FILE}:5:12: 'ERR_A' is already in ONE's table row`],
  ],
  [
    "second table for one enum",
    `${HEADER}ONE ERR_A\nTWO ERR_A\ntable opnum stat B isB\n`,
    [`${FILE}:4:1: opnum already has a table at ${FILE}:1:1`],
  ],
  [
    "clashing export names",
    `${HEADER}ONE ERR_A\nTWO ERR_A\ntable cbop stat ALLOWED isCb\nCB_ONE ERR_A\n`,
    [`${FILE}:4:17: 'ALLOWED' is already defined at ${FILE}:1:18`],
  ],
  [
    "several problems at once",
    `${HEADER}ONE ERR_Q\nONE ERR_A\nFOUR ERR_A\n`,
    [
      `${FILE}:2:5: 'ERR_Q' is not a member of stat`,
      `${FILE}:3:1: 'ONE' already has a row at ${FILE}:2:1`,
      `${FILE}:4:1: 'FOUR' is not an operation of opnum (it has no OP_FOUR)`,
      `${FILE}:1:1: table opnum has no row for OP_TWO`,
    ],
  ],
];

describe("malformed tables", () => {
  it.each(cases)("%s", (_name, text, expected) => {
    expect(errorsOf(text)).toEqual(expected);
  });

  it("needs the spec module its file name names", () => {
    expect(() =>
      checkErrorTables(
        parseErrorTables(`${HEADER}ONE ERR_A\nTWO ERR_A\n`, "spec/u-errors.txt"),
        model,
      ),
    ).toThrow("spec/u-errors.txt:1:1: no spec/u.x defines the types these tables name");
  });
});

// errors.ts of a module: its operation/error tables (spec/<module>-errors.txt,
// checked by codegen/error-table.ts) as maps from operation to the set of errors
// it may return, and a predicate per table that also allows success and the
// errors an operation's own text requires.

import type { StatementStructures } from "ts-morph";
import { StructureKind, VariableDeclarationKind } from "ts-morph";
import type { CheckedErrorTables, CheckedRow, CheckedTable } from "../error-table.js";
import type { FileContext } from "./context.js";

function map(
  ctx: FileContext,
  t: CheckedTable,
  name: string,
  rows: readonly CheckedRow[],
  doc: string,
): StatementStructures {
  const op = ctx.enumValue(t.opEnum, t.opEnum);
  const status = ctx.enumValue(t.statusEnum, t.statusEnum);
  const type = `ReadonlyMap<${op}, ReadonlySet<${status}>>`;
  const entries = rows.map(
    (r) =>
      `[${op}.${r.op}, new Set<${status}>([${r.errors.map((e) => `${status}.${e}`).join(", ")}])]`,
  );
  return {
    kind: StructureKind.VariableStatement,
    isExported: true,
    declarationKind: VariableDeclarationKind.Const,
    docs: [doc],
    declarations: [
      {
        name,
        type,
        initializer: `new Map<${op}, ReadonlySet<${status}>>([\n${entries.join(",\n")}\n])`,
      },
    ],
  };
}

export function emitErrorTables(
  ctx: FileContext,
  tables: CheckedErrorTables,
): StatementStructures[] {
  const out: StatementStructures[] = [];
  for (const t of tables.tables) {
    const source = `From ${tables.file}:${t.pos.line}.`;
    const status = ctx.enumValue(t.statusEnum, t.statusEnum);
    out.push(
      map(
        ctx,
        t,
        t.mapName,
        t.rows,
        `The errors each ${t.opEnum} operation may return, in the RFCs' order (${t.ok} not included).\n\n${source}`,
      ),
    );
    if (t.required)
      out.push(
        map(
          ctx,
          t,
          t.required.mapName,
          t.required.rows,
          `Errors an operation's own text requires although ${t.mapName} omits them: the text is normative where the two disagree.\n\n${source}`,
        ),
      );
    const isOp = ctx.use(`is${t.opEnum}`, t.opEnum, "codec", false);
    const isStatus = ctx.use(`is${t.statusEnum}`, t.statusEnum, "codec", false);
    const lookups = [`${t.mapName}.get(op)?.has(status)`];
    if (t.required) lookups.push(`${t.required.mapName}.get(op)?.has(status)`);
    out.push({
      kind: StructureKind.Function,
      isExported: true,
      name: t.predicate,
      docs: [
        [
          `Whether ${t.opEnum} operation \`op\` may return \`status\`: ${t.ok} always, an error`,
          `if ${t.mapName}${t.required ? ` or ${t.required.mapName}` : ""} lists it for \`op\`, and nothing else for a`,
          `number that is not an operation.`,
        ].join("\n"),
      ],
      parameters: [
        { name: "op", type: "number" },
        { name: "status", type: "number" },
      ],
      returnType: "boolean",
      statements: [
        `if (status === ${status}.${t.ok}) return true;`,
        `if (!${isOp}(op) || !${isStatus}(status)) return false;`,
        `return (${lookups.join(" || ")}) ?? false;`,
      ],
    });
  }
  return out;
}

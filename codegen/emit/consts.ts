// consts.ts of a module: the spec's constants, its program/version/procedure
// numbers, and the largest encoded size of every bounded type.

import type { StatementStructures } from "ts-morph";
import { StructureKind, VariableDeclarationKind } from "ts-morph";
import type { Model } from "../resolve.js";
import { sourceDoc } from "./emitted.js";

function constant(name: string, value: bigint | number, doc?: string): StatementStructures {
  const big =
    typeof value === "bigint" &&
    (value > BigInt(Number.MAX_SAFE_INTEGER) || value < -BigInt(Number.MAX_SAFE_INTEGER));
  return {
    kind: StructureKind.VariableStatement,
    isExported: true,
    declarationKind: VariableDeclarationKind.Const,
    ...(doc ? { docs: [doc] } : {}),
    declarations: [{ name, initializer: big ? `${value}n` : String(value) }],
  };
}

export function emitConsts(model: Model, module: string): StatementStructures[] {
  const out: StatementStructures[] = [];
  for (const c of model.consts)
    if (c.module === module) out.push(constant(c.name, c.value, sourceDoc(c.pos)));
  for (const p of model.programs) {
    if (p.module !== module) continue;
    out.push(constant(p.name, p.number, sourceDoc(p.pos, `RPC program ${p.name}.`)));
    for (const v of p.versions) {
      out.push(constant(v.name, v.number, `Version ${v.name} of ${p.name}.`));
      for (const proc of v.procedures)
        out.push(
          constant(
            proc.name,
            proc.number,
            `Procedure ${proc.name} of ${p.name} version ${v.name}.`,
          ),
        );
    }
  }
  for (const t of model.types) {
    if (t.module === module && t.maxSize !== null)
      out.push(
        constant(`${t.name}_MAXSIZE`, t.maxSize, `The largest encoding of ${t.name}, in bytes.`),
      );
  }
  return out;
}

// meta.ts of a module: the metadata table of its types and programs (see
// src/xdr/meta.ts), for tools that walk values without static types.

import type { StatementStructures } from "ts-morph";
import { StructureKind, VariableDeclarationKind } from "ts-morph";
import type { Model } from "../resolve.js";
import type { FileContext } from "./context.js";

export function emitMeta(ctx: FileContext, model: Model): StatementStructures[] {
  const module = ctx.module;
  const types: Record<string, unknown> = {};
  for (const t of model.types) {
    if (t.module !== module) continue;
    // Positions are for diagnostics only; the table describes the wire.
    const { module: _m, pos: _p, ...meta } = t;
    types[t.name] = meta;
  }
  const programs = model.programs
    .filter((p) => p.module === module)
    .map(({ module: _m, pos: _p, ...p }) => p);
  const declare = (
    name: string,
    type: string,
    value: unknown,
    doc: string,
  ): StatementStructures => ({
    kind: StructureKind.VariableStatement,
    isExported: true,
    declarationKind: VariableDeclarationKind.Const,
    docs: [doc],
    declarations: [{ name, type, initializer: JSON.stringify(value, null, 2) }],
  });
  return [
    declare(
      `${module}Types`,
      `Readonly<Record<string, ${ctx.runtime("TypeMeta", true)}>>`,
      types,
      `Every type of spec/${module}.x by name.`,
    ),
    declare(
      `${module}Programs`,
      `readonly ${ctx.runtime("ProgramMeta", true)}[]`,
      programs,
      `The RPC programs of spec/${module}.x.`,
    ),
  ];
}

// enum → a const object of its members, a literal-union type of the same name,
// a `<name>_names` value→name table (used for validation and for messages), and
// codec functions that reject values outside the enum.

import { StructureKind, VariableDeclarationKind } from "ts-morph";
import type { ResolvedType } from "../resolve.js";
import type { Emitted, TypeContexts } from "./emitted.js";
import { decoderFunction, encoderFunction, sourceDoc } from "./emitted.js";
import { str } from "./context.js";

export function emitEnum(ctx: TypeContexts, t: Extract<ResolvedType, { kind: "enum" }>): Emitted {
  const members = Object.entries(t.members);
  const names = new Map<number, string>();
  for (const [name, value] of members) if (!names.has(value)) names.set(value, name);
  const key = (v: number): string => (v < 0 ? str(String(v)) : String(v));
  const namesTable = [...names].map(([v, n]) => `${key(v)}: ${str(n)}`).join(", ");
  const c = ctx.codec;
  const table = c.enumValue(t.name, `${t.name}_names`);
  return {
    types: [
      {
        kind: StructureKind.VariableStatement,
        isExported: true,
        declarationKind: VariableDeclarationKind.Const,
        docs: [sourceDoc(t.pos)],
        declarations: [
          {
            name: t.name,
            initializer: `{ ${members.map(([n, v]) => `${n}: ${v}`).join(", ")} } as const`,
          },
        ],
      },
      {
        kind: StructureKind.TypeAlias,
        isExported: true,
        name: t.name,
        type: `(typeof ${t.name})[keyof typeof ${t.name}]`,
      },
      {
        kind: StructureKind.VariableStatement,
        isExported: true,
        declarationKind: VariableDeclarationKind.Const,
        docs: [`The name of each value of ${t.name}.`],
        declarations: [
          {
            name: `${t.name}_names`,
            type: "Readonly<Record<number, string>>",
            initializer: `{ ${namesTable} }`,
          },
        ],
      },
    ],
    codec: [
      decoderFunction(c, t.name, [
        `return r.readEnum(${table}, ${str(t.name)}) as ${c.typeName(t.name)};`,
      ]),
      encoderFunction(c, t.name, [`w.writeEnum(v, ${table}, ${str(t.name)});`]),
    ],
  };
}

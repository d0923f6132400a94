// Typed access to the arms of a dispatch union (nfs_argop4, nfs_resop4, …):
// - `<U>_arms`, an interface from each discriminant value to the type its arm
//   carries (`undefined` for a void arm), so `nfs_resop4_arms[N]` is the result
//   of operation N;
// - `arm<U>(v)`, the value v's arm carries, and `arm<U>(v, d)`, the same if v's
//   discriminant is `d` and undefined otherwise;
// - `wrap<U>(d, value)`, the union value with discriminant d carrying `value`.
// All are switches over the discriminant, so neither the generated code nor
// its callers need a cast (the wrapper's implementation takes its arguments as
// a union of [discriminant, value] pairs, which TypeScript narrows together).

import type { FunctionDeclarationStructure, StatementStructures } from "ts-morph";
import { StructureKind } from "ts-morph";
import type { FileContext } from "./context.js";
import { localName } from "./context.js";
import { tsType } from "./declaration.js";
import type { DispatchUnion } from "./dispatch.js";
import { memberName } from "./dispatch.js";
import { sourceDoc } from "./emitted.js";

/** The discriminant type the arm functions accept: the enum, if every member has an arm. */
export function armKeys(ctx: FileContext, d: DispatchUnion): string {
  const values = new Set(d.union.arms.flatMap((a) => a.values));
  const all = Object.values(d.disc.members).every((v) => values.has(v));
  return all ? ctx.typeName(d.disc.name) : `keyof ${d.union.name}_arms`;
}

/** `case 3: // OP_ACCESS` for each label of an arm. */
export function caseLabels(d: DispatchUnion, values: readonly (number | boolean)[]): string[] {
  return values.map((v) => `case ${String(v)}: // ${memberName(d.disc, Number(v))}`);
}

export function emitArms(ctx: FileContext, d: DispatchUnion): StatementStructures[] {
  const u = d.union;
  const name = u.name;
  const dn = u.discriminant.name;
  // The parameter holding a discriminant value is named after the discriminant.
  const p = localName(dn);
  const field = p === dn ? dn : `${dn}: ${p}`;
  const unionType = ctx.typeName(name);
  const enumValue = ctx.enumValue(d.disc.name, d.disc.name);
  const armsName = `${name}_arms`;
  const keys = armKeys(ctx, d);

  const properties = u.arms.flatMap((a) =>
    a.values.map((v) => ({
      name: `[${enumValue}.${memberName(d.disc, Number(v))}]`,
      type: a.name === null ? "undefined" : tsType(ctx, a.type),
    })),
  );

  const armCases = u.arms.flatMap((a) => [
    ...caseLabels(d, a.values),
    a.name === null ? "return undefined;" : `return v.${a.name};`,
  ]);
  const arm: FunctionDeclarationStructure = {
    kind: StructureKind.Function,
    isExported: true,
    name: `arm${name}`,
    overloads: [
      {
        docs: [`The value the arm of \`v\` carries.`],
        parameters: [{ name: "v", type: unionType }],
        returnType: `${armsName}[${keys}]`,
      },
      {
        docs: [`The value the arm of \`v\` carries if \`v\` is ${dn} \`${p}\`'s, else undefined.`],
        typeParameters: [{ name: "N", constraint: keys }],
        parameters: [
          { name: "v", type: unionType },
          { name: p, type: "N" },
        ],
        returnType: `${armsName}[N] | undefined`,
      },
    ],
    parameters: [
      { name: "v", type: unionType },
      { name: p, type: keys, hasQuestionToken: true },
    ],
    returnType: `${armsName}[${keys}] | undefined`,
    statements: [
      `if (${p} !== undefined && v.${dn} !== ${p}) return undefined;`,
      `switch (v.${dn}) {`,
      ...armCases,
      "}",
    ],
  };

  const wrapCases = u.arms.flatMap((a) => [
    ...caseLabels(d, a.values),
    a.name === null ? `return { ${field} };` : `return { ${field}, ${a.name}: value };`,
  ]);
  const wrap: FunctionDeclarationStructure = {
    kind: StructureKind.Function,
    isExported: true,
    name: `wrap${name}`,
    overloads: [
      {
        docs: [`The ${name} of ${dn} \`${p}\` whose arm carries \`value\`.`],
        typeParameters: [{ name: "N", constraint: keys }],
        parameters: [
          { name: p, type: "N" },
          { name: "value", type: `${armsName}[N]` },
        ],
        returnType: unionType,
      },
    ],
    parameters: [
      {
        name: `[${p}, value]`,
        isRestParameter: true,
        type: `{ [N in ${keys}]: [N, ${armsName}[N]] }[${keys}]`,
      },
    ],
    returnType: unionType,
    statements: [`switch (${p}) {`, ...wrapCases, "}"],
  };

  return [
    {
      kind: StructureKind.Interface,
      isExported: true,
      name: armsName,
      docs: [sourceDoc(u.pos, `What each arm of ${name} carries, by ${dn}.`)],
      properties,
    },
    arm,
    wrap,
  ];
}

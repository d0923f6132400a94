// What each construct emitter contributes to the generated files of its module.

import type { FunctionDeclarationStructure, StatementStructures } from "ts-morph";
import { StructureKind } from "ts-morph";
import type { FileContext } from "./context.js";

export interface Emitted {
  readonly types: StatementStructures[];
  readonly codec: StatementStructures[];
}

/** The contexts of the two files a type's emitter writes into. */
export interface TypeContexts {
  readonly types: FileContext;
  readonly codec: FileContext;
}

/** `export function decodeX(r: XdrReader): X { … }` */
export function decoderFunction(
  ctx: FileContext,
  name: string,
  statements: string[],
): FunctionDeclarationStructure {
  return {
    kind: StructureKind.Function,
    isExported: true,
    name: `decode${name}`,
    parameters: [{ name: "r", type: ctx.runtime("XdrReader", true) }],
    returnType: ctx.typeName(name),
    statements,
  };
}

/** `export function encodeX(w: XdrWriter, v: X): void { … }` */
export function encoderFunction(
  ctx: FileContext,
  name: string,
  statements: string[],
): FunctionDeclarationStructure {
  return {
    kind: StructureKind.Function,
    isExported: true,
    name: `encode${name}`,
    parameters: [
      { name: "w", type: ctx.runtime("XdrWriter", true) },
      { name: "v", type: ctx.typeName(name) },
    ],
    returnType: "void",
    statements,
  };
}

/**
 * Wraps statements that decode or encode several named parts so that an XdrError
 * thrown inside names the part it was in: `at` is updated before each part.
 */
export function tracked(ctx: FileContext, first: string, body: string[]): string[] {
  const err = ctx.runtime("XdrError", false);
  return [
    `let at = ${JSON.stringify(first)};`,
    "try {",
    ...body,
    `} catch (e) {`,
    `  throw ${err}.within(e, at);`,
    "}",
  ];
}

export function sourceDoc(pos: { file: string; line: number }, text?: string): string {
  return text ? `${text}\n\nFrom ${pos.file}:${pos.line}.` : `From ${pos.file}:${pos.line}.`;
}

// The typed AST of an XDR specification (RFC 4506 §6) extended with the RPC
// language's program definitions (RFC 5531 §12). The parser builds it; the
// resolver checks it and the emitters read it. Every node that can be the
// subject of an error message carries the position where it starts.

/** A 1-based source position. */
export interface Pos {
  readonly file: string;
  readonly line: number;
  readonly col: number;
}

/** A constant or a name standing for one (RFC 4506 §6.3 "value"). */
export type Value =
  | { readonly kind: "literal"; readonly value: bigint; readonly pos: Pos }
  | { readonly kind: "name"; readonly name: string; readonly pos: Pos };

export interface EnumMember {
  readonly name: string;
  readonly value: Value;
  readonly pos: Pos;
}

export interface EnumBody {
  readonly members: readonly EnumMember[];
}

export interface StructBody {
  /** Never contains a void declaration (the grammar forbids it). */
  readonly fields: readonly Declaration[];
}

export interface UnionCase {
  /** `case A: case B: arm;` gives two labels sharing one arm. */
  readonly labels: readonly Value[];
  readonly arm: Declaration;
  readonly pos: Pos;
}

export interface UnionBody {
  /** Always a "plain" declaration (e.g. `nfs_opnum4 argop`). */
  readonly discriminant: Declaration;
  readonly cases: readonly UnionCase[];
  readonly defaultArm: Declaration | null;
}

/** RFC 4506 §6.3 "type-specifier". Inline enum/struct/union bodies are allowed. */
export type TypeSpec =
  | { readonly kind: "int"; readonly unsigned: boolean; readonly pos: Pos }
  | { readonly kind: "hyper"; readonly unsigned: boolean; readonly pos: Pos }
  | { readonly kind: "float"; readonly pos: Pos }
  | { readonly kind: "double"; readonly pos: Pos }
  | { readonly kind: "quadruple"; readonly pos: Pos }
  | { readonly kind: "bool"; readonly pos: Pos }
  | { readonly kind: "enum"; readonly body: EnumBody; readonly pos: Pos }
  | { readonly kind: "struct"; readonly body: StructBody; readonly pos: Pos }
  | { readonly kind: "union"; readonly body: UnionBody; readonly pos: Pos }
  | { readonly kind: "ref"; readonly name: string; readonly pos: Pos };

/**
 * RFC 4506 §6.3 "declaration". `max` is null for an unbounded `<>`.
 * `name` is the declared identifier.
 */
export type Declaration =
  | { readonly kind: "plain"; readonly name: string; readonly type: TypeSpec; readonly pos: Pos }
  | {
      readonly kind: "fixedArray";
      readonly name: string;
      readonly type: TypeSpec;
      readonly size: Value;
      readonly pos: Pos;
    }
  | {
      readonly kind: "varArray";
      readonly name: string;
      readonly type: TypeSpec;
      readonly max: Value | null;
      readonly pos: Pos;
    }
  | { readonly kind: "opaqueFixed"; readonly name: string; readonly size: Value; readonly pos: Pos }
  | {
      readonly kind: "opaqueVar";
      readonly name: string;
      readonly max: Value | null;
      readonly pos: Pos;
    }
  | {
      readonly kind: "string";
      readonly name: string;
      readonly max: Value | null;
      readonly pos: Pos;
    }
  | { readonly kind: "optional"; readonly name: string; readonly type: TypeSpec; readonly pos: Pos }
  | { readonly kind: "void"; readonly pos: Pos };

/** One RPC procedure: `RESULT NAME(ARG, ...) = NUMBER;` (RFC 5531 §12.2). */
export interface ProcedureDef {
  readonly name: string;
  /** null for `void`. */
  readonly result: TypeSpec | null;
  /** Empty for `(void)`. */
  readonly args: readonly TypeSpec[];
  readonly number: Value;
  readonly pos: Pos;
}

export interface VersionDef {
  readonly name: string;
  readonly procedures: readonly ProcedureDef[];
  readonly number: Value;
  readonly pos: Pos;
}

export type Definition =
  | { readonly kind: "const"; readonly name: string; readonly value: Value; readonly pos: Pos }
  | { readonly kind: "typedef"; readonly decl: Declaration; readonly pos: Pos }
  | { readonly kind: "enum"; readonly name: string; readonly body: EnumBody; readonly pos: Pos }
  | { readonly kind: "struct"; readonly name: string; readonly body: StructBody; readonly pos: Pos }
  | { readonly kind: "union"; readonly name: string; readonly body: UnionBody; readonly pos: Pos }
  | {
      readonly kind: "program";
      readonly name: string;
      readonly versions: readonly VersionDef[];
      readonly number: Value;
      readonly pos: Pos;
    }
  /** A `%` line, kept verbatim (without the `%`) for the record; emitters ignore it. */
  | { readonly kind: "passthrough"; readonly text: string; readonly pos: Pos };

export interface Specification {
  /** The file name as given to the parser (used in every Pos). */
  readonly file: string;
  readonly definitions: readonly Definition[];
}

/** A diagnostic with a position; its message renders as `file:line:col: text`. */
export class XdrSpecError extends Error {
  constructor(
    readonly pos: Pos,
    readonly text: string,
  ) {
    super(`${pos.file}:${pos.line}:${pos.col}: ${text}`);
    this.name = "XdrSpecError";
  }
}

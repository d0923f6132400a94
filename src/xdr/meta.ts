// The shape of the per-type metadata tables that the code generator emits next to
// each codec (generated/<spec>/meta.ts). Tools use them to walk values without
// knowing the types in advance: the metadata-driven interpreter, property-test
// arbitraries, pretty-printers and traffic decoders.

/** The wire form of a declaration or of an element of one. */
export type XdrType =
  | { readonly kind: "int" }
  | { readonly kind: "uint" }
  | { readonly kind: "hyper" }
  | { readonly kind: "uhyper" }
  | { readonly kind: "float" }
  | { readonly kind: "double" }
  | { readonly kind: "quadruple" }
  | { readonly kind: "bool" }
  | { readonly kind: "void" }
  /** `fixed` is the length of `opaque x[n]`; null for `opaque x<max>`. */
  | { readonly kind: "opaque"; readonly fixed: number | null; readonly max: number }
  | { readonly kind: "string"; readonly max: number }
  | {
      readonly kind: "array";
      readonly of: XdrType;
      readonly fixed: number | null;
      readonly max: number;
    }
  /** `T *x`: T or nothing. */
  | { readonly kind: "optional"; readonly of: XdrType }
  /**
   * `T *x` where T is a struct whose last field is itself `T *next` (READDIR's
   * entry4): the chain is flattened into an array of T without the link field.
   */
  | { readonly kind: "list"; readonly of: string }
  | { readonly kind: "ref"; readonly name: string };

export interface FieldMeta {
  readonly name: string;
  readonly type: XdrType;
}

export interface UnionArmMeta {
  /** Discriminant values selecting this arm; booleans for a bool discriminant. */
  readonly values: readonly (number | boolean)[];
  /** The arm's field name, or null for a void arm. */
  readonly name: string | null;
  readonly type: XdrType;
}

interface SizeMeta {
  /** Smallest encoding in bytes. */
  readonly minSize: number;
  /** Largest encoding in bytes, or null when unbounded. */
  readonly maxSize: number | null;
}

export type TypeMeta = SizeMeta &
  (
    | {
        readonly kind: "enum";
        readonly name: string;
        readonly members: Readonly<Record<string, number>>;
      }
    | {
        readonly kind: "struct";
        readonly name: string;
        readonly fields: readonly FieldMeta[];
        /** The self-referential link field that makes this struct a list element, if any. */
        readonly link: string | null;
      }
    | {
        readonly kind: "union";
        readonly name: string;
        readonly discriminant: FieldMeta;
        readonly arms: readonly UnionArmMeta[];
        /** The default arm, or null when the union has none. */
        readonly defaultArm: { readonly name: string | null; readonly type: XdrType } | null;
      }
    | { readonly kind: "typedef"; readonly name: string; readonly type: XdrType }
  );

export interface ProcedureMeta {
  readonly name: string;
  readonly number: number;
  /** Argument types; empty for `(void)`. */
  readonly args: readonly XdrType[];
  readonly result: XdrType;
}

export interface VersionMeta {
  readonly name: string;
  readonly number: number;
  readonly procedures: readonly ProcedureMeta[];
}

export interface ProgramMeta {
  readonly name: string;
  readonly number: number;
  readonly versions: readonly VersionMeta[];
}

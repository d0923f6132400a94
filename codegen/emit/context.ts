// Per-output-file emission context: tracks which names a generated file uses
// from other generated files (and from the runtime) so that each file gets
// exactly the imports it needs, sorted for deterministic output.

import type { ImportDeclarationStructure } from "ts-morph";
import { StructureKind } from "ts-morph";
import type { Model, ResolvedType } from "../resolve.js";

/** The files emitted for each spec module. */
export type GenFile = "types" | "codec" | "consts" | "meta" | "results" | "errors";

/** Where generated files find the XDR runtime, relative to generated/<module>/. */
const RUNTIME = "../../src/xdr/index.js";

interface ImportSet {
  readonly values: Set<string>;
  readonly types: Set<string>;
}

export class FileContext {
  private readonly imports = new Map<string, ImportSet>();

  constructor(
    readonly model: Model,
    readonly module: string,
    readonly file: GenFile,
  ) {}

  /** A named type of the model; throws if the resolver let an unknown name through. */
  type(name: string): ResolvedType {
    const t = this.model.types_by_name.get(name);
    if (!t) throw new Error(`codegen: unknown type '${name}'`);
    return t;
  }

  /** Records the use of `name`, exported by `from` of the module that defines spec name `owner`. */
  use(name: string, owner: string, from: GenFile, typeOnly: boolean): string {
    const module = this.model.owner.get(owner);
    if (module === undefined) throw new Error(`codegen: '${owner}' has no owning module`);
    if (module === this.module && from === this.file) return name;
    const specifier = module === this.module ? `./${from}.js` : `../${module}/${from}.js`;
    this.add(specifier, name, typeOnly);
    return name;
  }

  /** The TypeScript type named after spec type `name`. */
  typeName(name: string): string {
    return this.use(name, name, "types", true);
  }

  /** The runtime value of enum `name` (its const object or its `_names` table). */
  enumValue(enumName: string, exported: string): string {
    return this.use(exported, enumName, "types", false);
  }

  encoder(name: string): string {
    return this.use(`encode${name}`, name, "codec", false);
  }

  decoder(name: string): string {
    return this.use(`decode${name}`, name, "codec", false);
  }

  runtime(name: string, typeOnly: boolean): string {
    this.add(RUNTIME, name, typeOnly);
    return name;
  }

  importStructures(): ImportDeclarationStructure[] {
    const out: ImportDeclarationStructure[] = [];
    for (const specifier of [...this.imports.keys()].sort()) {
      const set = this.imports.get(specifier)!;
      const types = [...set.types].filter((n) => !set.values.has(n)).sort();
      if (types.length > 0)
        out.push({
          kind: StructureKind.ImportDeclaration,
          isTypeOnly: true,
          moduleSpecifier: specifier,
          namedImports: types,
        });
      if (set.values.size > 0)
        out.push({
          kind: StructureKind.ImportDeclaration,
          moduleSpecifier: specifier,
          namedImports: [...set.values].sort(),
        });
    }
    return out;
  }

  private add(specifier: string, name: string, typeOnly: boolean): void {
    let set = this.imports.get(specifier);
    if (!set) {
      set = { values: new Set(), types: new Set() };
      this.imports.set(specifier, set);
    }
    (typeOnly ? set.types : set.values).add(name);
  }
}

const RESERVED = new Set(
  (
    "break case catch class const continue debugger default delete do else enum export extends false finally for " +
    "function if import in instanceof new null return super switch this throw true try typeof var void while with " +
    "yield let static implements interface package private protected public await arguments eval undefined " +
    // Names the generated functions use for their own locals.
    "r w v e i n at disc"
  ).split(" "),
);

/** A local variable name for a spec field: the field's own name unless that would collide. */
export function localName(field: string): string {
  return RESERVED.has(field) ? `${field}_` : field;
}

/** A JS string literal. */
export function str(s: string): string {
  return JSON.stringify(s);
}

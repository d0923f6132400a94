// `npm run codegen`: parse every spec/*.x, resolve them as one namespace, check
// each module's operation/error tables (spec/<module>-errors.txt) against it,
// emit generated/<module>/*.ts. With `--check`, write nothing and fail if generated/
// differs from a fresh run (the "generated/ is up to date" test).

import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync, existsSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { resolveConfig } from "prettier";
import type { Specification } from "./ast.js";
import { XdrSpecError } from "./ast.js";
import type { GeneratedFile } from "./emit/module.js";
import type { CheckedErrorTables } from "./error-table.js";
import { checkErrorTables, errorTableModule, parseErrorTables } from "./error-table.js";
import { emitModule } from "./emit/module.js";
import { parseSpec } from "./parser.js";
import { resolve, ResolveError } from "./resolve.js";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");

/**
 * Parses, resolves and emits the given spec files and error tables (paths
 * relative to the project root).
 */
export async function generate(
  specFiles: readonly string[],
  tableFiles: readonly string[] = [],
): Promise<GeneratedFile[]> {
  const specs: Specification[] = specFiles.map((f) =>
    parseSpec(readFileSync(join(root, f), "utf8"), f),
  );
  const model = resolve(specs);
  const tables = new Map<string, CheckedErrorTables>();
  for (const f of tableFiles) {
    const checked = checkErrorTables(
      parseErrorTables(readFileSync(join(root, f), "utf8"), f),
      model,
    );
    tables.set(checked.module, checked);
  }
  const prettier = (await resolveConfig(join(root, "generated", "x.ts"))) ?? {};
  const files: GeneratedFile[] = [];
  for (const module of model.modules)
    files.push(...(await emitModule(model, module, prettier, tables.get(module) ?? null)));
  return files;
}

export function specFiles(): string[] {
  return readdirSync(join(root, "spec"))
    .filter((f) => f.endsWith(".x"))
    .sort()
    .map((f) => `spec/${f}`);
}

/** The operation/error tables under spec/: one `<module>-errors.txt` per module at most. */
export function errorTableFiles(): string[] {
  return readdirSync(join(root, "spec"))
    .filter((f) => errorTableModule(f) !== null)
    .sort()
    .map((f) => `spec/${f}`);
}

function listGenerated(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)))
    .sort();
}

async function main(): Promise<number> {
  const check = process.argv.includes("--check");
  const outDir = join(root, "generated");
  let files: GeneratedFile[];
  try {
    files = await generate(specFiles(), errorTableFiles());
  } catch (e) {
    if (e instanceof XdrSpecError || e instanceof ResolveError) {
      console.error(e.message);
      return 1;
    }
    throw e;
  }
  const expected = new Map(files.map((f) => [f.path, f.text]));
  const existing = listGenerated(outDir);
  if (check) {
    const stale = [
      ...files
        .filter(
          (f) =>
            !existsSync(join(outDir, f.path)) ||
            readFileSync(join(outDir, f.path), "utf8") !== f.text,
        )
        .map((f) => f.path),
      ...existing.filter((p) => !expected.has(p)),
    ];
    if (stale.length > 0) {
      console.error(`generated/ is out of date (run \`npm run codegen\`): ${stale.join(", ")}`);
      return 1;
    }
    console.log(`generated/ is up to date (${files.length} files)`);
    return 0;
  }
  for (const p of existing) if (!expected.has(p)) rmSync(join(outDir, p));
  for (const f of files) {
    mkdirSync(dirname(join(outDir, f.path)), { recursive: true });
    writeFileSync(join(outDir, f.path), f.text);
  }
  console.log(`wrote ${files.length} files to generated/`);
  return 0;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  process.exitCode = await main();
}

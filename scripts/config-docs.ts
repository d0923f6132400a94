// `npm run config:docs`: writes what is derived from the settings'
// declaration (src/config/declarations.ts) — schema/dfs-config.schema.json
// and the settings reference in README.md. `--check` writes nothing and
// fails when either is stale (test/config/generated-docs.test.ts runs the
// same comparison under `npm test`).

import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { format, resolveConfig } from "prettier";
import { configJsonSchema } from "../src/config/json-schema.js";
import { readmeWithReference } from "../src/config/reference.js";

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
export const SCHEMA_FILE = join(ROOT, "schema", "dfs-config.schema.json");
export const README_FILE = join(ROOT, "README.md");

/** The schema file's text, formatted as `prettier --check` wants it. */
export async function schemaFileText(): Promise<string> {
  const options = (await resolveConfig(SCHEMA_FILE)) ?? {};
  return format(JSON.stringify(configJsonSchema()), { ...options, parser: "json" });
}

async function main(check: boolean): Promise<number> {
  const wanted: [string, string][] = [
    [SCHEMA_FILE, await schemaFileText()],
    [README_FILE, readmeWithReference(readFileSync(README_FILE, "utf8"))],
  ];
  let stale = 0;
  for (const [file, text] of wanted) {
    let current = "";
    try {
      current = readFileSync(file, "utf8");
    } catch {
      // missing: stale
    }
    if (current === text) continue;
    stale++;
    if (check) console.error(`${file} is stale: run npm run config:docs`);
    else writeFileSync(file, text);
  }
  return check && stale > 0 ? 1 : 0;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href)
  process.exitCode = await main(process.argv.includes("--check"));

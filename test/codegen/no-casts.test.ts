// The codebase rule that src/, codegen/ and generated/ need no double casts:
// typed access to union arms comes from the generated switches (arm<U>, wrap<U>,
// status<U>, error<U>), so a `as unknown as` is a sign of a missing generated
// accessor, not a shortcut to take.

import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const root = join(fileURLToPath(import.meta.url), "..", "..", "..");

function tsFiles(dir: string): string[] {
  return readdirSync(join(root, dir), { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && e.name.endsWith(".ts"))
    .map((e) => relative(root, join(e.parentPath, e.name)));
}

describe("no `as unknown as`", () => {
  it.each(["src", "codegen", "generated"])("in %s/", (dir) => {
    const files = tsFiles(dir);
    expect(files.length).toBeGreaterThan(0);
    const offenders = files.flatMap((f) =>
      readFileSync(join(root, f), "utf8")
        .split("\n")
        .flatMap((line, i) => (/\bas unknown as\b/.test(line) ? [`${f}:${i + 1}`] : [])),
    );
    expect(offenders).toEqual([]);
  });
});

// The version dfs reports (dfsctl status): package.json's, found from this
// module whether it runs from src/ (tsx) or from dist/src/ (bin/).

import { readFileSync } from "node:fs";

export function packageVersion(): string {
  for (const up of ["../../package.json", "../../../package.json"]) {
    try {
      const pkg: unknown = JSON.parse(readFileSync(new URL(up, import.meta.url), "utf8"));
      if (
        typeof pkg === "object" &&
        pkg !== null &&
        "name" in pkg &&
        pkg.name === "dittofs-ts" &&
        "version" in pkg &&
        typeof pkg.version === "string"
      )
        return pkg.version;
    } catch {
      // not there: try the next level
    }
  }
  return "unknown";
}

// Loaded with `node --import` into a child process under test: when the
// process exits, it writes the npm packages loaded through CommonJS (as the
// PostgreSQL driver and the AWS SDK are, even when imported from ESM) to the
// file named by DFS_TEST_LOADED_PACKAGES, one name per line.

import { writeFileSync } from "node:fs";
import { createRequire } from "node:module";

const out = process.env["DFS_TEST_LOADED_PACKAGES"];
if (out !== undefined) {
  process.on("exit", () => {
    const names = new Set<string>();
    for (const file of Object.keys(createRequire(import.meta.url).cache)) {
      const m = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(file);
      if (m?.[1] !== undefined) names.add(m[1]);
    }
    writeFileSync(out, [...names].sort().join("\n"));
  });
}

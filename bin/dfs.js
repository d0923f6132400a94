#!/usr/bin/env node
// The `dfs` server command. The TypeScript sources are compiled to dist/ by `npm ci`
// (the package's `prepare` script); this wrapper only loads the compiled entry point.
import { main } from "../dist/src/cli/dfs.js";

process.exitCode = await main(process.argv.slice(2));

#!/usr/bin/env node
// The `dfsctl` control command; see bin/dfs.js for why it loads dist/.
import { main } from "../dist/src/cli/dfsctl.js";

process.exitCode = await main(process.argv.slice(2));

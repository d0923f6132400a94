// `dfsctl`: the DittoFS-TS control command.

import { pathToFileURL } from "node:url";
import { CONTROL_COMMANDS, controlCommand, controlHelp } from "./control-command.js";
import { WATCH_USAGE, watchCommand } from "./watch-command.js";

const USAGE = `${controlHelp().trimEnd()}

Other commands:
  watch HOST[:PORT]:/path   print the changes made in a directory, as the server
                            notifies them (NFSv4.1 directory delegations)

Exit status: 0 done, 1 the server refused, 2 bad usage, 3 the server could not be reached.
Run 'dfsctl <command> --help' for a command's options.`;

export async function main(args: readonly string[]): Promise<number> {
  // Global options (--socket PATH, --json, …) may come before the command.
  const command = args.find((a) => CONTROL_COMMANDS.includes(a));
  if (args.length === 0 || args[0] === "--help" || args[0] === "-h" || args[0] === "help") {
    if (args[1] === "watch") console.log(WATCH_USAGE);
    else console.log(USAGE);
    return args.length === 0 ? 2 : 0;
  }
  if (args[0] === "watch") return watchCommand(args.slice(1));
  if (command !== undefined) return controlCommand(args);
  console.error(
    `dfsctl: unknown command in '${args.join(" ")}'\n\nRun 'dfsctl --help' for the commands.`,
  );
  return 2;
}

// Run directly (`tsx src/cli/dfsctl.ts watch …`), not only through bin/dfsctl.js.
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = await main(process.argv.slice(2));
}

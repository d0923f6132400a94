// `dfsctl`: the DittoFS-TS control command.

import { pathToFileURL } from "node:url";
import { DECODE_USAGE, decodeCommand } from "./decode-command.js";
import { WATCH_USAGE, watchCommand } from "./watch-command.js";

const USAGE = `usage: dfsctl <command> [options]

Commands:
  watch HOST[:PORT]:/path   print the changes made in a directory, as the server
                            notifies them (NFSv4.1 directory delegations)
  decode FILE               print the NFSv4 calls and replies in a packet capture

Run 'dfsctl <command> --help' for a command's options.`;

export async function main(args: readonly string[]): Promise<number> {
  const [command, ...rest] = args;
  if (command === "--help" || command === "-h" || command === "help") {
    console.log(rest[0] === "watch" ? WATCH_USAGE : rest[0] === "decode" ? DECODE_USAGE : USAGE);
    return 0;
  }
  if (command === "watch") return watchCommand(rest);
  if (command === "decode") return decodeCommand(rest);
  console.error(command === undefined ? USAGE : `dfsctl: unknown command '${command}'\n\n${USAGE}`);
  return 2;
}

// Run directly (`tsx src/cli/dfsctl.ts watch …`), not only through bin/dfsctl.js.
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = await main(process.argv.slice(2));
}

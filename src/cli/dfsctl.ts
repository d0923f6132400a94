// `dfsctl`: the DittoFS-TS control command.

import { pathToFileURL } from "node:url";
import { BENCH_USAGE, benchCommand } from "./bench-command.js";
import { CONTROL_COMMANDS, controlCommand, controlHelp } from "./control-command.js";
import { DECODE_USAGE, decodeCommand } from "./decode-command.js";
import { WATCH_USAGE, watchCommand } from "./watch-command.js";

const USAGE = `${controlHelp().trimEnd()}

Other commands:
  watch HOST[:PORT]:/path   print the changes made in a directory, as the server
                            notifies them (NFSv4.1 directory delegations)
  decode FILE               print the NFSv4 calls and replies in a packet capture
  bench HOST[:PORT]:/path   load an NFSv4.1 server: ops/s, MB/s, latency percentiles

Exit status: 0 done, 1 the server refused, 2 bad usage, 3 the server could not be reached.
Run 'dfsctl <command> --help' for a command's options.`;

export async function main(args: readonly string[]): Promise<number> {
  const [first, ...rest] = args;
  if (first === undefined || first === "--help" || first === "-h" || first === "help") {
    const usage: Record<string, string> = {
      watch: WATCH_USAGE,
      decode: DECODE_USAGE,
      bench: BENCH_USAGE,
    };
    console.log(usage[rest[0] ?? ""] ?? USAGE);
    return first === undefined ? 2 : 0;
  }
  if (first === "watch") return watchCommand(rest);
  if (first === "decode") return decodeCommand(rest);
  if (first === "bench") return benchCommand(rest);
  // Global options (--socket PATH, --json, …) may come before a control command.
  if (args.some((a) => CONTROL_COMMANDS.includes(a))) return controlCommand(args);
  console.error(
    `dfsctl: unknown command in '${args.join(" ")}'\n\nRun 'dfsctl --help' for the commands.`,
  );
  return 2;
}

// Run directly (`tsx src/cli/dfsctl.ts watch …`), not only through bin/dfsctl.js.
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = await main(process.argv.slice(2));
}

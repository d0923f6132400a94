// `dfs`: the DittoFS-TS server command.

const USAGE = `usage: dfs serve [--listen HOST:PORT ...] [--config FILE]

Serves NFSv4.1 over TCP. The server itself is not built yet: this release
contains the protocol layer (generated XDR codecs) only.`;

export async function main(args: readonly string[]): Promise<number> {
  if (args.length === 0 || args[0] === "--help" || args[0] === "-h" || args[0] === "help") {
    console.log(USAGE);
    return args.length === 0 ? 2 : 0;
  }
  if (args[0] === "serve") {
    console.error("dfs serve: the NFSv4.1 server is not implemented yet (see the open issues).");
    return 1;
  }
  console.error(`dfs: unknown command '${args[0]}'\n\n${USAGE}`);
  return 2;
}

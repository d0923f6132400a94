// `dfsctl`: the DittoFS-TS control command.

const USAGE = `usage: dfsctl <command>

Controls a running dfs server. No commands exist yet.`;

export async function main(args: readonly string[]): Promise<number> {
  if (args[0] === "--help" || args[0] === "-h" || args[0] === "help") {
    console.log(USAGE);
    return 0;
  }
  console.error(args.length === 0 ? USAGE : `dfsctl: unknown command '${args[0]}'\n\n${USAGE}`);
  return 2;
}

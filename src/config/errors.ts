// The error a bad configuration raises: one or more problems, each naming
// where it is (file:line:col, an environment variable or the command line),
// the key path and what is allowed.

import { pathText, type KeyPath } from "./schema.js";

export interface ConfigProblem {
  /** "dfs.yaml:12:5", "DFS_NFS_LEASE_TIME_SEC", "--listen", or the file's name alone. */
  readonly where: string;
  /** The setting's key path; empty for the file as a whole. */
  readonly path: KeyPath;
  readonly message: string;
}

/** A problem as one line: `dfs.yaml:12:5: nfs.leaseTimee: unknown key (known: …)`. */
export function problemLine(p: ConfigProblem): string {
  return p.path.length === 0
    ? `${p.where}: ${p.message}`
    : `${p.where}: ${pathText(p.path)}: ${p.message}`;
}

export class ConfigError extends Error {
  override name = "ConfigError";
  readonly problems: readonly ConfigProblem[];

  constructor(messageOrProblems: string | readonly ConfigProblem[]) {
    super(
      typeof messageOrProblems === "string"
        ? messageOrProblems
        : messageOrProblems.map(problemLine).join("\n"),
    );
    this.problems = typeof messageOrProblems === "string" ? [] : messageOrProblems;
  }
}

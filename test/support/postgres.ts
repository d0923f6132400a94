// A throwaway PostgreSQL cluster for the tests of the PostgreSQL metadata
// store: initdb into a fresh directory, pg_ctl start on a free loopback port
// with its socket in that directory, one database, stopped and deleted
// afterwards. Nothing is shared with a system cluster.
//
// The binaries come from PATH or Debian's /usr/lib/postgresql/<version>/bin
// (`apt-get install postgresql`). Without them the suites that need a cluster
// skip with a loud message; `.ci/run` installs them, so CI never skips.
// PostgreSQL refuses to run as root: as root the cluster runs as the
// `postgres` user the Debian package creates (runuser).

import { execFileSync } from "node:child_process";
import { chownSync, existsSync, mkdtempSync, readdirSync, realpathSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import pg from "pg";
import { freePort } from "./ports.js";

export interface PostgresCluster {
  /** A connection URL for the cluster's database (trust authentication on loopback). */
  readonly url: string;
  /** Another empty database of the cluster, and its URL. */
  createDatabase(name: string): Promise<string>;
  stop(): void;
}

/** The directory holding initdb and pg_ctl, or null when PostgreSQL is not installed. */
export function postgresBinDir(): string | null {
  // Through symbolic links: a PATH entry may link initdb alone into /usr/local/bin.
  for (const dir of (process.env["PATH"] ?? "").split(":"))
    if (dir !== "" && existsSync(join(dir, "initdb")) && existsSync(join(dir, "pg_ctl")))
      return dirname(realpathSync(join(dir, "initdb")));
  const debian = "/usr/lib/postgresql";
  if (!existsSync(debian)) return null;
  const versions = readdirSync(debian)
    .filter((v) => existsSync(join(debian, v, "bin", "initdb")))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] === undefined ? null : join(debian, versions[0], "bin");
}

/** Why the PostgreSQL suites cannot run here, or null when they can. */
export function postgresMissing(): string | null {
  if (postgresBinDir() === null)
    return "PostgreSQL is not installed (no initdb/pg_ctl in PATH or /usr/lib/postgresql/*/bin): `apt-get install -y postgresql`";
  if (process.getuid?.() === 0 && !userExists("postgres"))
    return "running as root, and there is no `postgres` user to run PostgreSQL as";
  return null;
}

export interface PostgresOptions {
  /** Where the cluster's directory is made (default: the system's temporary directory). */
  readonly parent?: string;
  /** More server settings, NAME=VALUE (e.g. "shared_preload_libraries=pg_stat_statements"). */
  readonly settings?: readonly string[];
}

/** Starts a new cluster (a few seconds). */
export async function startPostgres(options: PostgresOptions = {}): Promise<PostgresCluster> {
  const bin = postgresBinDir();
  if (bin === null) throw new Error(postgresMissing() ?? "PostgreSQL is not installed");
  const asRoot = process.getuid?.() === 0;
  const dir = mkdtempSync(join(options.parent ?? tmpdir(), "dfs-pg-"));
  const data = join(dir, "data");
  const run = (cmd: string, args: string[]): void => {
    const [file, argv] = asRoot ? ["runuser", ["-u", "postgres", "--", cmd, ...args]] : [cmd, args];
    try {
      execFileSync(file, argv, { stdio: ["ignore", "pipe", "pipe"] });
    } catch (e) {
      const stderr = e instanceof Error && "stderr" in e ? String(e.stderr) : "";
      throw new Error(`${cmd} failed: ${stderr || String(e)}`);
    }
  };
  if (asRoot) chownSync(dir, uidOf("postgres"), gidOf("postgres"));
  const port = await freePort();
  run(join(bin, "initdb"), ["-D", data, "-U", "dfs", "--auth=trust", "--no-sync", "-E", "UTF8"]);
  run(join(bin, "pg_ctl"), [
    "-D",
    data,
    "-l",
    join(dir, "log"),
    "-w",
    "-o",
    [
      `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c max_connections=200`,
      ...(options.settings ?? []).map((s) => `-c ${s}`),
    ].join(" "),
    "start",
  ]);
  let stopped = false;
  // A test that throws, or a process that exits without stop(), leaves no cluster behind.
  const atExit = (): void => cluster.stop();
  process.once("exit", atExit);
  const cluster: PostgresCluster = {
    url: `postgres://dfs@127.0.0.1:${port}/postgres`,
    async createDatabase(name) {
      const client = new pg.Client({ connectionString: cluster.url });
      await client.connect();
      try {
        await client.query(`CREATE DATABASE "${name}"`);
      } finally {
        await client.end();
      }
      return `postgres://dfs@127.0.0.1:${port}/${name}`;
    },
    stop() {
      if (stopped) return;
      stopped = true;
      process.removeListener("exit", atExit);
      try {
        run(join(bin, "pg_ctl"), ["-D", data, "-m", "immediate", "-w", "stop"]);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
  return cluster;
}

function userExists(name: string): boolean {
  try {
    execFileSync("id", ["-u", name], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

function uidOf(name: string): number {
  return Number(execFileSync("id", ["-u", name]).toString().trim());
}

function gidOf(name: string): number {
  return Number(execFileSync("id", ["-g", name]).toString().trim());
}

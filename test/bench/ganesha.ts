// An NFS-Ganesha peer for the comparison benchmarks, started and stopped
// through the shared tools' peers/ganesha.sh (which writes its configuration,
// pid file and log under GANESHA_STATE). Ganesha daemonizes, so it is not our
// child: stop() must run on every way out, or it stays behind. The script runs
// as a child process waited for asynchronously: a blocked event loop would
// keep a Ctrl-C from being handled (tsx kills a child that does not
// acknowledge a signal within 30 ms).

import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";

/** The FSALs ganesha.sh knows: VFS (a directory of the host) and MEM (in memory). */
export type GaneshaFsal = "VFS" | "MEM";

export class Ganesha {
  /**
   * @param script shared/peers/ganesha.sh
   * @param state its GANESHA_STATE: a directory of this Ganesha's own, so two never share files
   */
  constructor(
    private readonly script: string,
    readonly port: number,
    readonly state: string,
    readonly fsal: GaneshaFsal = "VFS",
  ) {}

  async start(): Promise<void> {
    const r = await this.call("start");
    if (r !== 0) throw new Error(`ganesha.sh start failed (exit ${r}); see ${this.state}`);
  }

  async stop(): Promise<void> {
    await this.call("stop");
  }

  /** The daemon's pid, from the pid file ganesha.sh has it write. */
  pid(): number {
    return Number(readFileSync(join(this.state, `ganesha-${this.port}.pid`), "utf8").trim());
  }

  private call(cmd: string): Promise<number> {
    return new Promise((done) => {
      const child = spawn("bash", [this.script, cmd, String(this.port), this.fsal], {
        env: { ...process.env, GANESHA_STATE: this.state },
        stdio: ["ignore", "inherit", "inherit"],
      });
      child.once("error", () => done(1));
      child.once("close", (code) => done(code ?? 1));
    });
  }
}

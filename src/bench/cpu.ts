// CPU time of a process: another one's from /proc/PID/stat (Linux; utime and
// stime in clock ticks, proc(5)), this one's from process.cpuUsage(). The load
// generator reports both so a user sees whether the server or the client was
// the bottleneck.

import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";

/** Clock ticks per second when `getconf CLK_TCK` cannot tell (USER_HZ on Linux). */
export const DEFAULT_CLOCK_TICKS = 100;

let clockTicks: number | undefined;

/** sysconf(_SC_CLK_TCK), asked once. */
export function clockTicksPerSecond(): number {
  if (clockTicks !== undefined) return clockTicks;
  try {
    const n = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim());
    clockTicks = Number.isInteger(n) && n > 0 ? n : DEFAULT_CLOCK_TICKS;
  } catch {
    clockTicks = DEFAULT_CLOCK_TICKS;
  }
  return clockTicks;
}

/**
 * utime + stime of `pid` in clock ticks, from the text of /proc/PID/stat. The
 * command name (field 2) may hold spaces and parentheses, so fields are counted
 * after its last ')': there, state is the first and utime, stime the 12th, 13th.
 */
export function parseStatTicks(stat: string): number {
  const close = stat.lastIndexOf(")");
  if (close < 0) throw new Error("not a /proc/PID/stat line");
  const fields = stat
    .slice(close + 1)
    .trim()
    .split(/\s+/);
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime))
    throw new Error("not a /proc/PID/stat line");
  return utime + stime;
}

/** CPU seconds `pid` has used so far; throws if the process does not exist (or this is not Linux). */
export function processCpuSeconds(pid: number): number {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    throw new Error(`cannot read /proc/${pid}/stat: no such process, or not Linux`);
  }
  return parseStatTicks(stat) / clockTicksPerSecond();
}

/** CPU seconds this process has used so far (user + system). */
export function ownCpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

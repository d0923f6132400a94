// CPU sampling of the load generator: /proc/PID/stat parsing, and this
// process's own ticks read back after busy work.

import { describe, expect, it } from "vitest";
import {
  clockTicksPerSecond,
  ownCpuSeconds,
  parseStatTicks,
  processCpuSeconds,
} from "../../src/bench/cpu.js";

describe("CPU sampling", () => {
  it("adds utime and stime, whatever the command name holds", () => {
    // pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime …
    const line = "1234 (a b) (c)) S 1 1234 1234 0 -1 4194560 100 0 0 0 250 75 0 0 20 0 1 0 5";
    expect(parseStatTicks(line)).toBe(325);
    expect(() => parseStatTicks("garbage")).toThrow(/stat/);
  });

  it.runIf(process.platform === "linux")("reads this process's ticks after busy work", () => {
    const before = processCpuSeconds(process.pid);
    const start = ownCpuSeconds();
    let x = 0;
    // Busy until this process has used 3 ticks' worth of CPU (counted, not timed).
    while (ownCpuSeconds() - start < 3 / clockTicksPerSecond()) x += Math.sqrt(x + 1);
    expect(x).toBeGreaterThan(0);
    // /proc counts whole ticks: 3 ticks used show as at least 2 more.
    expect(processCpuSeconds(process.pid) - before).toBeGreaterThanOrEqual(
      1.5 / clockTicksPerSecond(),
    );
    expect(clockTicksPerSecond()).toBeGreaterThan(0);
  });

  it("says when the process does not exist", () => {
    expect(() => processCpuSeconds(2 ** 30)).toThrow(/no such process/);
  });
});

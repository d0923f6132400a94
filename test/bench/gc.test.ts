import { describe, expect, it } from "vitest";
import { addEvent, emptyTotals, parseGcLine } from "./gc.js";

// Lines as node 20's --trace-gc-nvp prints them (shortened: the fields in between are many).
const SCAVENGE =
  "[7820:0x3fea3d70]     4064 ms: pause=11.1 mutator=384.5 gc=s reduce_memory=0 scavenge=7.59 " +
  "total_size_before=36947832 allocated=15403584 promoted=1321024 new_space_survived=1597952 " +
  "promotion_ratio=8.0% promotion_rate=99.8%";
const MARK_COMPACT =
  "[19253:0x2ea4ad70]      332 ms: pause=4.4 mutator=16.3 gc=mc reduce_memory=0 " +
  "total_size_before=7004952 allocated=2338904 promoted=0";

describe("bench:gc's reading of --trace-gc-nvp", () => {
  it("reads a scavenge's pause, allocation and promotion, not the fields named alike", () => {
    expect(parseGcLine(SCAVENGE)).toEqual({
      kind: "scavenge",
      pauseMs: 11.1,
      allocated: 15403584,
      promoted: 1321024,
    });
  });

  it("tells mark-compacts from scavenges and ignores other lines", () => {
    expect(parseGcLine(MARK_COMPACT)?.kind).toBe("mark-compact");
    expect(parseGcLine("dfs: serving NFSv4.1 on 127.0.0.1:2049")).toBeNull();
  });

  it("sums scavenges' figures and counts mark-compacts", () => {
    const t = emptyTotals();
    for (const line of [SCAVENGE, MARK_COMPACT, SCAVENGE]) addEvent(t, parseGcLine(line)!);
    expect(t).toEqual({
      scavenges: 2,
      markCompacts: 1,
      scavengePauseMs: 22.2,
      allocated: 2 * 15403584,
      promoted: 2 * 1321024,
    });
  });
});

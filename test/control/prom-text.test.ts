// The text-format writer (src/control/prom-text.ts) and the strict reader the
// metrics tests check scrapes with (prom-parse.ts): escaping, histograms, and
// the reader refusing what Prometheus would.

import { describe, expect, it } from "vitest";
import { PromText, escapeLabelValue, formatValue } from "../../src/control/prom-text.js";
import { LatencyHistograms } from "../../src/stats/latency-histogram.js";
import { parseExposition, valueOf } from "./prom-parse.js";

describe("PromText", () => {
  it("escapes label values and help text so they read back as written", () => {
    const nasty = 'a "quoted" \\ back\nslash';
    const text = new PromText()
      .family("dfs_test_total", "counter", "help with \\ and\nnewline")
      .sample({ what: nasty }, 3)
      .toString();
    expect(text).toContain(`what="${escapeLabelValue(nasty)}"`);
    expect(text).not.toContain("\nslash");
    const families = parseExposition(text);
    expect(families.get("dfs_test_total")!.samples[0]!.labels.what).toBe(nasty);
    expect(valueOf(families, "dfs_test_total", { what: nasty })).toBe(3);
  });

  it("writes histograms as cumulative buckets ending in +Inf, with _sum and _count", () => {
    const h = new LatencyHistograms(1, [0.001, 0.01]);
    for (const s of [0.0005, 0.001, 0.005, 2]) h.observe(0, s);
    const text = new PromText()
      .family("dfs_test_seconds", "histogram", "test")
      .histogram({ op: "x" }, h.bounds, h.snapshot(0))
      .toString();
    const f = parseExposition(text);
    expect(valueOf(f, "dfs_test_seconds_bucket", { op: "x", le: "0.001" })).toBe(2);
    expect(valueOf(f, "dfs_test_seconds_bucket", { op: "x", le: "0.01" })).toBe(3);
    expect(valueOf(f, "dfs_test_seconds_bucket", { op: "x", le: "+Inf" })).toBe(4);
    expect(valueOf(f, "dfs_test_seconds_count", { op: "x" })).toBe(4);
    expect(valueOf(f, "dfs_test_seconds_sum", { op: "x" })).toBeCloseTo(2.0065);
  });

  it("refuses bad metric and label names, and samples without a family", () => {
    expect(() => new PromText().family("dfs-bad", "gauge", "x")).toThrow(/bad metric name/);
    expect(() =>
      new PromText().family("dfs_ok", "gauge", "x").sample({ "bad-label": "v" }, 1),
    ).toThrow(/bad label name/);
    expect(() => new PromText().sample(null, 1)).toThrow(/before its family/);
    expect(formatValue(Infinity)).toBe("+Inf");
    expect(formatValue(NaN)).toBe("NaN");
  });
});

describe("the reader used to check scrapes", () => {
  const ok = "# HELP a_total x\n# TYPE a_total counter\na_total 1\n";
  it("accepts a valid exposition", () => {
    expect(valueOf(parseExposition(ok), "a_total")).toBe(1);
  });
  it.each([
    ["no final newline", ok.slice(0, -1)],
    ["a sample of another family", `${ok}b_total 2\n`],
    ["a family twice", `${ok}# TYPE a_total counter\n`],
    ["a bad value", "# TYPE a gauge\na one\n"],
    ["an unquoted label", "# TYPE a gauge\na{x=1} 1\n"],
    ["a bad escape", '# TYPE a gauge\na{x="\\t"} 1\n'],
    [
      "buckets going down",
      '# TYPE h histogram\nh_bucket{le="1"} 2\nh_bucket{le="+Inf"} 1\nh_count 1\n',
    ],
    ["no +Inf bucket", '# TYPE h histogram\nh_bucket{le="1"} 1\nh_count 1\n'],
  ])("refuses %s", (_, text) => {
    expect(() => parseExposition(text)).toThrow();
  });
});

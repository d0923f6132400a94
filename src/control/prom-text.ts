// The Prometheus text exposition format (version 0.0.4), written directly:
// the server's own figures live in typed arrays and plain counters
// (src/nfs/op-metrics.ts, src/stats/latency-histogram.ts), read once per
// scrape, so they are rendered here rather than copied into prom-client
// objects first. Names are checked; label values and help text are escaped
// as the format requires.

import type { HistogramSnapshot } from "../stats/latency-histogram.js";

export type MetricType = "counter" | "gauge" | "histogram";
export type Labels = Readonly<Record<string, string>>;

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** A label value inside double quotes: backslash, quote and newline escaped. */
export function escapeLabelValue(v: string): string {
  return v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

function escapeHelp(v: string): string {
  return v.replace(/\\/g, "\\\\").replace(/\n/g, "\\n");
}

/** A sample value as the format spells it (Go's ParseFloat reads all of these). */
export function formatValue(v: number): string {
  if (Number.isNaN(v)) return "NaN";
  if (v === Infinity) return "+Inf";
  if (v === -Infinity) return "-Inf";
  return String(v);
}

function labelText(labels: Labels | null, extra?: string): string {
  const parts: string[] = [];
  if (labels !== null)
    for (const [k, v] of Object.entries(labels)) {
      if (!LABEL_NAME.test(k) || k.startsWith("__")) throw new Error(`bad label name '${k}'`);
      parts.push(`${k}="${escapeLabelValue(v)}"`);
    }
  if (extra !== undefined) parts.push(extra);
  return parts.length === 0 ? "" : `{${parts.join(",")}}`;
}

export class PromText {
  private readonly lines: string[] = [];
  private current: { readonly name: string; readonly type: MetricType } | null = null;

  /** Starts a metric family: its HELP and TYPE lines. Each name once per exposition. */
  family(name: string, type: MetricType, help: string): this {
    if (!METRIC_NAME.test(name)) throw new Error(`bad metric name '${name}'`);
    this.lines.push(`# HELP ${name} ${escapeHelp(help)}`, `# TYPE ${name} ${type}`);
    this.current = { name, type };
    return this;
  }

  /** One sample of the current (counter or gauge) family. */
  sample(labels: Labels | null, value: number): this {
    const f = this.family$();
    this.lines.push(`${f.name}${labelText(labels)} ${formatValue(value)}`);
    return this;
  }

  /** One labelled histogram of the current (histogram) family: _bucket lines, _sum, _count. */
  histogram(labels: Labels | null, bounds: readonly number[], h: HistogramSnapshot): this {
    const f = this.family$();
    if (f.type !== "histogram") throw new Error(`${f.name} is not a histogram`);
    bounds.forEach((b, i) =>
      this.lines.push(
        `${f.name}_bucket${labelText(labels, `le="${formatValue(b)}"`)} ${formatValue(h.cumulative[i]!)}`,
      ),
    );
    this.lines.push(
      `${f.name}_bucket${labelText(labels, 'le="+Inf"')} ${formatValue(h.count)}`,
      `${f.name}_sum${labelText(labels)} ${formatValue(h.sum)}`,
      `${f.name}_count${labelText(labels)} ${formatValue(h.count)}`,
    );
    return this;
  }

  toString(): string {
    return this.lines.length === 0 ? "" : `${this.lines.join("\n")}\n`;
  }

  private family$(): { readonly name: string; readonly type: MetricType } {
    if (this.current === null) throw new Error("a sample before its family");
    return this.current;
  }
}

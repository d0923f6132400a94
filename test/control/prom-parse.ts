// A strict reader of the Prometheus text exposition format (0.0.4) for the
// metrics tests: every line must be a HELP, a TYPE or a sample of the family
// the last TYPE named (histograms: _bucket with le, _sum, _count); families
// appear once; label names and escapes follow the format; histogram buckets
// are cumulative and end in +Inf = _count. Any violation throws, naming the line.

export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

export interface Family {
  readonly name: string;
  readonly type: string;
  readonly help: string;
  readonly samples: Sample[];
}

const NAME = "[a-zA-Z_:][a-zA-Z0-9_:]*";
const HELP_LINE = new RegExp(`^# HELP (${NAME}) (.*)$`);
const TYPE_LINE = new RegExp(`^# TYPE (${NAME}) (counter|gauge|histogram|summary|untyped)$`);
const SAMPLE_LINE = new RegExp(`^(${NAME})(?:\\{(.*)\\})? (\\S+)(?: (-?\\d+))?$`);
const LABEL = /^([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\\\|\\"|\\n)*)"(,|$)/;

/** A value as Prometheus reads it (Go's ParseFloat: Inf and NaN in any case; prom-client writes "Nan"). */
function parseValue(text: string, line: number): number {
  const lower = text.toLowerCase();
  if (lower === "+inf" || lower === "inf") return Infinity;
  if (lower === "-inf") return -Infinity;
  if (lower === "nan") return NaN;
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text))
    throw new Error(`line ${line}: bad value '${text}'`);
  return Number(text);
}

function parseLabels(text: string, line: number): Record<string, string> {
  const labels: Record<string, string> = {};
  let rest = text;
  while (rest.length > 0) {
    const m = LABEL.exec(rest);
    if (m === null) throw new Error(`line ${line}: bad labels '${text}'`);
    if (m[1]! in labels) throw new Error(`line ${line}: label ${m[1]} twice`);
    labels[m[1]!] = m[2]!.replace(/\\(\\|"|n)/g, (_, c: string) => (c === "n" ? "\n" : c));
    rest = rest.slice(m[0].length);
  }
  return labels;
}

/** The families of an exposition, by name; throws on anything the format does not allow. */
export function parseExposition(text: string): Map<string, Family> {
  if (!text.endsWith("\n")) throw new Error("the exposition does not end with a newline");
  const families = new Map<string, Family>();
  let helpOf: { name: string; help: string } | null = null;
  let current: Family | null = null;
  text
    .slice(0, -1)
    .split("\n")
    .forEach((raw, i) => {
      const line = i + 1;
      if (raw === "") return;
      const help = HELP_LINE.exec(raw);
      if (help) {
        helpOf = { name: help[1]!, help: help[2]! };
        return;
      }
      const type = TYPE_LINE.exec(raw);
      if (type) {
        const name = type[1]!;
        if (families.has(name)) throw new Error(`line ${line}: family ${name} twice`);
        current = {
          name,
          type: type[2]!,
          help: helpOf?.name === name ? helpOf.help : "",
          samples: [],
        };
        families.set(name, current);
        return;
      }
      if (raw.startsWith("#")) return; // a comment
      const m = SAMPLE_LINE.exec(raw);
      if (m === null) throw new Error(`line ${line}: not a sample: '${raw}'`);
      const family: Family | null = current;
      if (family === null) throw new Error(`line ${line}: a sample before any TYPE`);
      const name = m[1]!;
      const allowed =
        family.type === "histogram"
          ? [`${family.name}_bucket`, `${family.name}_sum`, `${family.name}_count`]
          : family.type === "summary"
            ? [family.name, `${family.name}_sum`, `${family.name}_count`]
            : [family.name];
      if (!allowed.includes(name))
        throw new Error(`line ${line}: sample ${name} inside family ${family.name}`);
      const labels = parseLabels(m[2] ?? "", line);
      if (name.endsWith("_bucket") && family.type === "histogram" && !("le" in labels))
        throw new Error(`line ${line}: a bucket without le`);
      family.samples.push({ name, labels, value: parseValue(m[3]!, line) });
    });
  for (const f of families.values()) if (f.type === "histogram") checkHistogram(f);
  return families;
}

/** Buckets of each label set cumulative, ending in +Inf equal to _count. */
function checkHistogram(f: Family): void {
  const key = (l: Readonly<Record<string, string>>): string =>
    JSON.stringify(Object.entries(l).filter(([k]) => k !== "le"));
  const series = new Map<string, { buckets: [number, number][]; count?: number }>();
  for (const s of f.samples) {
    const k = key(s.labels);
    const entry = series.get(k) ?? { buckets: [] };
    series.set(k, entry);
    if (s.name.endsWith("_bucket")) entry.buckets.push([parseValue(s.labels.le!, 0), s.value]);
    else if (s.name.endsWith("_count")) entry.count = s.value;
  }
  for (const [k, { buckets, count }] of series) {
    for (let i = 1; i < buckets.length; i++)
      if (buckets[i]![0] <= buckets[i - 1]![0] || buckets[i]![1] < buckets[i - 1]![1])
        throw new Error(`${f.name}${k}: buckets not increasing`);
    const last = buckets.at(-1);
    if (last === undefined || last[0] !== Infinity || last[1] !== count)
      throw new Error(`${f.name}${k}: no +Inf bucket equal to _count`);
  }
}

/** The value of the sample `name` whose labels include `labels` (exactly one), or 0 if none. */
export function valueOf(
  families: Map<string, Family>,
  name: string,
  labels: Readonly<Record<string, string>> = {},
): number {
  const family =
    families.get(name) ?? families.get(name.replace(/_(bucket|sum|count)$/, "")) ?? null;
  if (family === null) throw new Error(`no family for ${name}`);
  const hits = family.samples.filter(
    (s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v),
  );
  if (hits.length > 1) throw new Error(`${name} ${JSON.stringify(labels)}: ${hits.length} samples`);
  return hits[0]?.value ?? 0;
}

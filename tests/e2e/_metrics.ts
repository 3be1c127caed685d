/**
 * Reading `GET /metrics` in tests: a strict reader of the Prometheus text
 * exposition format 0.0.4 (every line must be a `# HELP`, a `# TYPE` or a
 * sample of the family last typed), the metrics table of observability.md
 * §1, and Prometheus' own check of the format, `promtool check metrics`.
 *
 * The npm parser parse-prometheus-text-format was tried first and left
 * out: it merges the series of a histogram with labels into one and drops
 * their labels, `_sum` and `_count`, and takes `bad line here` as a sample.
 */
import assert from "node:assert/strict";
import type { Api } from "./_http.ts";

/** One sample line: its name (with any `_bucket`…), labels and value. */
export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

/** A metric family: its `# HELP`, `# TYPE` and samples, in order. */
export interface Family {
  readonly name: string;
  help: string;
  readonly type: string;
  readonly samples: Sample[];
}

/** One histogram series: cumulative counts by `le`, sum and count. */
export interface HistogramSeries {
  readonly labels: Readonly<Record<string, string>>;
  readonly buckets: [le: string, count: number][];
  sum: number;
  count: number;
}

const NAME = "[a-zA-Z_:][a-zA-Z0-9_:]*";
const HELP = new RegExp(`^# HELP (${NAME}) (.*)$`);
const TYPE = new RegExp(
  `^# TYPE (${NAME}) (counter|gauge|histogram|summary|untyped)$`,
);
const SAMPLE = new RegExp(`^(${NAME})(?:\\{(.*)\\})? (\\S+)$`);
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\["\\n])*)"(,|$)/y;
const VALUE =
  /^(?:[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|[+-]Inf|NaN)$/;

/**
 * Reads the exposition text into families, in order; throws on any line
 * that is not one of the format's, on a sample outside the family last
 * typed, on a family typed twice.
 */
export function parseMetrics(text: string): Map<string, Family> {
  const families = new Map<string, Family>();
  let current: Family | undefined;
  let help: [string, string] | undefined;
  assert.ok(text.endsWith("\n"), "the text ends with a line feed");
  for (const line of text.slice(0, -1).split("\n")) {
    const helpMatch = HELP.exec(line);
    const typeMatch = TYPE.exec(line);
    if (helpMatch) {
      help = [helpMatch[1]!, helpMatch[2]!];
    } else if (typeMatch) {
      const [, name, type] = typeMatch as unknown as [string, string, string];
      assert.ok(!families.has(name), `${name} typed twice`);
      current = {
        name,
        type,
        help: help?.[0] === name ? help[1] : "",
        samples: [],
      };
      families.set(name, current);
    } else {
      const sample = parseSample(line);
      assert.ok(current !== undefined, `a sample before any TYPE: ${line}`);
      const suffixes = current.type === "histogram"
        ? ["_bucket", "_sum", "_count"]
        : [""];
      assert.ok(
        suffixes.some((suffix) => sample.name === current!.name + suffix),
        `${line} outside ${current.name}`,
      );
      current.samples.push(sample);
    }
  }
  return families;
}

function parseSample(line: string): Sample {
  const match = SAMPLE.exec(line);
  assert.ok(match !== null, `not a sample line: ${JSON.stringify(line)}`);
  const [, name, labelText = "", valueText] = match as unknown as [
    string,
    string,
    string | undefined,
    string,
  ];
  assert.match(valueText, VALUE, line);
  const labels: Record<string, string> = {};
  LABEL.lastIndex = 0;
  while (LABEL.lastIndex < labelText.length) {
    const label = LABEL.exec(labelText);
    assert.ok(label !== null, `bad labels in ${line}`);
    assert.ok(!(label[1]! in labels), `label ${label[1]} twice in ${line}`);
    labels[label[1]!] = label[2]!.replace(
      /\\(.)/g,
      (_, c) => c === "n" ? "\n" : c,
    );
  }
  return { name, labels, value: Number(valueText.replace("Inf", "Infinity")) };
}

/** A histogram family's series, grouped by their labels other than `le`. */
export function histogramSeries(family: Family): HistogramSeries[] {
  const series = new Map<string, HistogramSeries>();
  for (const sample of family.samples) {
    const { le, ...labels } = sample.labels;
    const key = JSON.stringify(Object.entries(labels).sort());
    let one = series.get(key);
    if (one === undefined) {
      one = { labels, buckets: [], sum: NaN, count: NaN };
      series.set(key, one);
    }
    if (sample.name.endsWith("_bucket")) one.buckets.push([le!, sample.value]);
    else if (sample.name.endsWith("_sum")) one.sum = sample.value;
    else one.count = sample.value;
  }
  return [...series.values()];
}

/** What observability.md §1 says of a metric. */
export interface Spec {
  readonly type: "counter" | "gauge" | "histogram";
  readonly labels: readonly string[];
  /** Histograms: the upper bounds in seconds. */
  readonly buckets?: readonly string[];
}

const LAG = "0.0005 0.001 0.002 0.005 0.01 0.025 0.05 0.1 0.25 0.5 1 2.5 5 10";
const DURATION = "0.001 0.005 0.01 0.05 0.1 0.5 1 5 10 30 60 300";
const COMMIT = "0.0001 0.00025 0.0005 0.001 0.0025 0.005 0.01 0.025 0.05 0.1";

const gauge = (...labels: string[]): Spec => ({ type: "gauge", labels });
const counter = (...labels: string[]): Spec => ({ type: "counter", labels });
const histogram = (bounds: string, ...labels: string[]): Spec => ({
  type: "histogram",
  labels,
  buckets: bounds.split(" "),
});

/** The table of observability.md §1, in its order. */
export const SPEC: Readonly<Record<string, Spec>> = {
  "ztick_build_info": gauge("version"),
  "ztick_uptime_seconds": gauge(),
  "ztick_jobs": gauge("status"),
  "ztick_jobs_recurring": gauge(),
  "ztick_rules": gauge(),
  "ztick_connections": gauge("protocol"),
  "ztick_executions_pending": gauge(),
  "ztick_executions_inflight": gauge(),
  "ztick_requests_total": counter("command", "result"),
  "ztick_jobs_scheduled_total": counter(),
  "ztick_jobs_removed_total": counter(),
  "ztick_executions_total": counter("runner", "outcome"),
  "ztick_retries_total": counter("runner"),
  "ztick_no_rule_total": counter(),
  "ztick_execution_duration_seconds": histogram(DURATION, "runner"),
  "ztick_schedule_lag_seconds": histogram(LAG),
  "ztick_journal_commits_total": counter(),
  "ztick_journal_records_total": counter(),
  "ztick_journal_commit_duration_seconds": histogram(COMMIT),
  "ztick_persistence_writable": gauge(),
  "ztick_compactions_total": counter("outcome"),
  "ztick_auth_failures_total": counter(),
  "ztick_process_resident_memory_bytes": gauge(),
};

/** The label values the spec fixes. */
export const LABEL_VALUES: Readonly<Record<string, readonly string[]>> = {
  status: ["planned", "triggered", "executed", "failed"],
  protocol: ["tcp", "http"],
  command: [
    "SET",
    "GET",
    "QUERY",
    "REMOVE",
    "RULE SET",
    "REMOVERULE",
    "LISTRULES",
    "STAT",
    "AUTH",
  ],
  result: ["ok", "error"],
  runner: ["shell", "direct", "http", "awf", "amqp", "redis"],
  outcome: ["executed", "failed", "success", "failure"],
};

/** Scrapes `/metrics` and reads it. */
export async function scrape(
  api: Api,
): Promise<{ text: string; families: Map<string, Family> }> {
  const response = await api.get("/metrics");
  assert.equal(response.status, 200, response.body);
  return { text: response.body, families: parseMetrics(response.body) };
}

/** The value of the sample `name` with exactly these labels (0 when absent). */
export function valueOf(
  families: Map<string, Family>,
  name: string,
  labels: Readonly<Record<string, string>> = {},
): number {
  const wanted = JSON.stringify(Object.entries(labels).sort());
  for (const family of families.values()) {
    for (const sample of family.samples) {
      if (
        sample.name === name &&
        JSON.stringify(Object.entries(sample.labels).sort()) === wanted
      ) return sample.value;
    }
  }
  return 0;
}

/** Runs `promtool check metrics` on `text`: whether it passed, what it said. */
export async function promtoolCheck(
  text: string,
): Promise<{ success: boolean; said: string }> {
  const child = new Deno.Command("promtool", {
    args: ["check", "metrics"],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(text));
  await writer.close();
  const { success, stdout, stderr } = await child.output();
  const decoder = new TextDecoder();
  return { success, said: decoder.decode(stdout) + decoder.decode(stderr) };
}

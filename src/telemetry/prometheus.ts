/**
 * The metrics registry in the Prometheus text exposition format 0.0.4
 * (spec: observability.md §1).
 *
 * @module
 */
import type { CounterName, HistogramName, Labels } from "../scheduler/ports.ts";
import { type MetricName, METRICS } from "./catalog.ts";
import type { MetricsRegistry } from "./registry.ts";
import { counterSamples, histogramSamples } from "./series.ts";

/** The `Content-Type` of `GET /metrics`. */
export const PROMETHEUS_CONTENT_TYPE =
  "text/plain; version=0.0.4; charset=utf-8";

/**
 * Renders every metric of the catalogue: `# HELP`, `# TYPE`, then its
 * series, all read from the registry now; histogram buckets are cumulative
 * with `+Inf`, `_sum` and `_count`. Counters and histograms without labels
 * are at zero before their first change.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { MetricsRegistry } from "./registry.ts";
 * import { renderPrometheus } from "./prometheus.ts";
 *
 * const registry = new MetricsRegistry();
 * registry.counter("jobs_removed_total").add(2);
 * assert.match(
 *   renderPrometheus(registry),
 *   /# TYPE ztick_jobs_removed_total counter\nztick_jobs_removed_total 2\n/,
 * );
 * ```
 */
export function renderPrometheus(registry: MetricsRegistry): string {
  let text = "";
  for (const name of Object.keys(METRICS) as MetricName[]) {
    const { type, help, otlpOnly } = METRICS[name];
    if (otlpOnly) continue;
    const full = `ztick_${name}`;
    text += `# HELP ${full} ${help}\n# TYPE ${full} ${type}\n`;
    if (type === "counter") {
      for (const series of counterSamples(registry, name as CounterName)) {
        text += `${full}${labels(series.labels)} ${series.value}\n`;
      }
    } else if (type === "gauge") {
      for (const [set, value] of registry.gaugeSeries(name as never)) {
        text += `${full}${labels(set)} ${value}\n`;
      }
    } else {
      text += histogram(full, registry, name);
    }
  }
  return text;
}

function histogram(
  full: string,
  registry: MetricsRegistry,
  name: MetricName,
): string {
  const bounds = METRICS[name].buckets ?? [];
  let text = "";
  for (const series of histogramSamples(registry, name as HistogramName)) {
    let cumulative = 0;
    for (let i = 0; i <= bounds.length; i++) {
      cumulative += series.bucketCounts[i]!;
      const le = i < bounds.length ? String(bounds[i]) : "+Inf";
      text += `${full}_bucket${labels(series.labels, le)} ${cumulative}\n`;
    }
    text += `${full}_sum${labels(series.labels)} ${series.sum}\n`;
    text += `${full}_count${labels(series.labels)} ${series.count}\n`;
  }
  return text;
}

/** `{a="1",b="2"}`, values escaped; `""` without labels. */
function labels(set: Labels, le?: string): string {
  const pairs = Object.entries(set).map(([k, v]) => `${k}="${escape(v)}"`);
  if (le !== undefined) pairs.push(`le="${le}"`);
  return pairs.length === 0 ? "" : `{${pairs.join(",")}}`;
}

function escape(value: string): string {
  return value.replace(/[\\"\n]/g, (c) => c === "\n" ? "\\n" : `\\${c}`);
}

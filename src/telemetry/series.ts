/**
 * The series a reader of the registry shows for a metric: those counted,
 * or, for a counter or histogram without labels that has not changed yet,
 * one at zero, so such a metric has a sample from the start. `/metrics`
 * and the OTLP export both read them, so they never disagree.
 *
 * @module
 */
import type { CounterName, HistogramName } from "../scheduler/ports.ts";
import { METRICS } from "./catalog.ts";
import type {
  CounterSeries,
  HistogramSeries,
  MetricsRegistry,
} from "./registry.ts";

/** A counter's series as a reader sees it. */
export type Counted = Pick<CounterSeries, "labels" | "value">;
/** A histogram's series as a reader sees it. */
export type Observed = Pick<
  HistogramSeries,
  "labels" | "bucketCounts" | "sum" | "count"
>;

/** A counter's series, or one at zero (see the module's note). */
export function counterSamples(
  registry: MetricsRegistry,
  name: CounterName,
): readonly Counted[] {
  const series = registry.counterSeries(name);
  if (series.length > 0 || METRICS[name].labels.length > 0) return series;
  return [{ labels: {}, value: 0 }];
}

/** A histogram's series, or one empty (see the module's note). */
export function histogramSamples(
  registry: MetricsRegistry,
  name: HistogramName,
): readonly Observed[] {
  const series = registry.histogramSeries(name);
  if (series.length > 0 || METRICS[name].labels.length > 0) return series;
  const bounds = METRICS[name].buckets ?? [];
  const bucketCounts = new Array<number>(bounds.length + 1).fill(0);
  return [{ labels: {}, bucketCounts, sum: 0, count: 0 }];
}

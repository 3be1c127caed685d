import type {
  Counter,
  CounterName,
  Histogram,
  HistogramName,
  Labels,
  Metrics,
} from "../scheduler/ports.ts";
import { type GaugeName, type MetricName, METRICS } from "./catalog.ts";

/** One counter series. */
export interface CounterSeries extends Counter {
  readonly labels: Labels;
  readonly value: number;
}

/** One histogram series: a count per bucket (not cumulative), sum, count. */
export interface HistogramSeries extends Histogram {
  readonly labels: Labels;
  readonly bucketCounts: readonly number[];
  readonly sum: number;
  readonly count: number;
}

/** Reads a gauge: one value, or one value per label set. */
export type GaugeReader = () =>
  | number
  | readonly (readonly [labels: Labels, value: number])[];

/** Told about every change of a series it watches. */
export type SeriesListener = (labels: Labels, value: number) => void;

class CounterCell implements CounterSeries {
  value = 0;
  constructor(readonly labels: Labels, readonly listeners: SeriesListener[]) {}
  add(value = 1): void {
    this.value += value;
    for (const listener of this.listeners) listener(this.labels, value);
  }
}

class HistogramCell implements HistogramSeries {
  readonly bucketCounts: number[];
  sum = 0;
  count = 0;
  constructor(
    readonly labels: Labels,
    readonly bounds: readonly number[],
    readonly listeners: SeriesListener[],
  ) {
    this.bucketCounts = new Array(bounds.length + 1).fill(0);
  }
  observe(value: number): void {
    const bounds = this.bounds;
    let i = 0;
    while (i < bounds.length && value > bounds[i]!) i++;
    this.bucketCounts[i]!++;
    this.sum += value;
    this.count++;
    for (const listener of this.listeners) listener(this.labels, value);
  }
}

/**
 * The one registry of counters, histograms and gauges: the core feeds it
 * through the `Metrics` port; STAT, `/metrics`, `/stats` and telemetry
 * export read it, so they never disagree (spec: observability.md).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { MetricsRegistry } from "./registry.ts";
 *
 * const registry = new MetricsRegistry();
 * registry.counter("jobs_removed_total").add();
 * registry.gauge("rules", () => 3);
 * assert.equal(registry.counterValue("jobs_removed_total"), 1);
 * assert.equal(registry.gaugeValue("rules"), 3);
 * ```
 */
export class MetricsRegistry implements Metrics {
  readonly #counters = new Map<CounterName, Map<string, CounterCell>>();
  readonly #histograms = new Map<HistogramName, Map<string, HistogramCell>>();
  readonly #gauges = new Map<GaugeName, GaugeReader>();
  readonly #listeners = new Map<
    CounterName | HistogramName,
    SeriesListener[]
  >();

  /** The series of a counter with these labels, created at zero. */
  counter(name: CounterName, labels: Labels = {}): CounterSeries {
    const cells = seriesOf(this.#counters, name);
    const key = labelKey(name, labels);
    let cell = cells.get(key);
    if (cell === undefined) {
      cell = new CounterCell(labels, this.#listenersOf(name));
      cells.set(key, cell);
    }
    return cell;
  }

  /** The series of a histogram with these labels, created empty. */
  histogram(name: HistogramName, labels: Labels = {}): HistogramSeries {
    const cells = seriesOf(this.#histograms, name);
    const key = labelKey(name, labels);
    let cell = cells.get(key);
    if (cell === undefined) {
      cell = new HistogramCell(
        labels,
        METRICS[name].buckets ?? [],
        this.#listenersOf(name),
      );
      cells.set(key, cell);
    }
    return cell;
  }

  /** Calls `listener` on every change of any series of a counter or histogram. */
  watch(name: CounterName | HistogramName, listener: SeriesListener): void {
    this.#listenersOf(name).push(listener);
  }

  #listenersOf(name: CounterName | HistogramName): SeriesListener[] {
    let listeners = this.#listeners.get(name);
    if (listeners === undefined) {
      listeners = [];
      this.#listeners.set(name, listeners);
    }
    return listeners;
  }

  /** Registers how to read a gauge; replaces an earlier reader. */
  gauge(name: GaugeName, read: GaugeReader): void {
    this.#gauges.set(name, read);
  }

  /** A counter's value for these labels (0 when never counted). */
  counterValue(name: CounterName, labels: Labels = {}): number {
    return this.#counters.get(name)?.get(labelKey(name, labels))?.value ?? 0;
  }

  /** A gauge's value for these labels (0 when unregistered or absent). */
  gaugeValue(name: GaugeName, labels: Labels = {}): number {
    const value = this.#gauges.get(name)?.();
    if (value === undefined) return 0;
    if (typeof value === "number") return value;
    const key = labelKey(name, labels);
    return value.find(([l]) => labelKey(name, l) === key)?.[1] ?? 0;
  }

  /** Every series of a counter, in creation order. */
  counterSeries(name: CounterName): CounterSeries[] {
    return [...(this.#counters.get(name)?.values() ?? [])];
  }

  /** Every series of a histogram, in creation order. */
  histogramSeries(name: HistogramName): HistogramSeries[] {
    return [...(this.#histograms.get(name)?.values() ?? [])];
  }

  /** Every series of a gauge, read now. */
  gaugeSeries(name: GaugeName): (readonly [Labels, number])[] {
    const value = this.#gauges.get(name)?.();
    if (value === undefined) return [];
    return typeof value === "number" ? [[{}, value]] : [...value];
  }
}

/** The series map of one metric, created empty. */
function seriesOf<N, T>(maps: Map<N, Map<string, T>>, name: N): Map<string, T> {
  let cells = maps.get(name);
  if (cells === undefined) {
    cells = new Map();
    maps.set(name, cells);
  }
  return cells;
}

/** The key of one series: its label values in the catalogue's order. */
function labelKey(name: MetricName, labels: Labels): string {
  let key = "";
  for (const label of METRICS[name].labels) {
    key += `${labels[label] ?? ""}\u0000`;
  }
  return key;
}

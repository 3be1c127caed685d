/**
 * The metrics registry as OpenTelemetry `MetricData`, read once per export
 * by the SDK's metric reader (a `MetricProducer`): one consistent snapshot,
 * the registry's own buckets, and no SDK work where the daemon counts
 * (spec: observability.md §2). Loaded with the SDK only.
 *
 * @module
 */
import { ValueType } from "@opentelemetry/api";
import { millisToHrTime } from "@opentelemetry/core";
import type { Resource } from "@opentelemetry/resources";
import {
  AggregationTemporality,
  type CollectionResult,
  DataPointType,
  type MetricData,
  type MetricProducer,
} from "@opentelemetry/sdk-metrics";
import type { CounterName, HistogramName, Labels } from "../scheduler/ports.ts";
import { type GaugeName, type MetricName, METRICS } from "./catalog.ts";
import type { MetricsRegistry } from "./registry.ts";
import { counterSamples, histogramSamples } from "./series.ts";

type HrTime = [number, number];
type Point = readonly [Labels, number];

/** Gauges whose values are not whole numbers. */
const DOUBLE_GAUGES: ReadonlySet<string> = new Set(["uptime_seconds"]);

/** Reads `registry` for each export of the SDK's metric reader. */
export class RegistryProducer implements MetricProducer {
  readonly #registry: MetricsRegistry;
  readonly #resource: Resource;
  readonly #scope: { name: string; version: string };
  readonly #startTime: HrTime;

  constructor(
    registry: MetricsRegistry,
    options: {
      resource: Resource;
      scope: { name: string; version: string };
      startedMs: number;
    },
  ) {
    this.#registry = registry;
    this.#resource = options.resource;
    this.#scope = options.scope;
    this.#startTime = millisToHrTime(options.startedMs);
  }

  collect(): Promise<CollectionResult> {
    const times = { start: this.#startTime, end: millisToHrTime(Date.now()) };
    let metrics: MetricData[] = [];
    const errors: unknown[] = [];
    try {
      metrics = registryMetrics(this.#registry, times);
    } catch (error) {
      errors.push(error); // a gauge reader failed: logged at debug
    }
    return Promise.resolve({
      resourceMetrics: {
        resource: this.#resource,
        scopeMetrics: [{ scope: this.#scope, metrics }],
      },
      errors,
    });
  }
}

interface Times {
  readonly start: HrTime;
  readonly end: HrTime;
}

/**
 * Every metric of the catalogue named as observability.md §2 says (no
 * `ztick_`, no `_total`), then ztick's seven where they are not already
 * among them: `jobs_executed`, `persistence_compactions`, `rules_active`
 * and `connections_active` are totals of the registry's series
 * (`jobs_scheduled`, `jobs_removed` and `execution_duration_ms` are
 * in the catalogue).
 */
export function registryMetrics(
  registry: MetricsRegistry,
  times: Times,
): MetricData[] {
  const metrics: MetricData[] = [];
  for (const name of Object.keys(METRICS) as MetricName[]) {
    const info = METRICS[name];
    const otlpName = name.replace(/_total$/, "");
    if (info.type === "counter") {
      const points = counterSamples(registry, name as CounterName)
        .map((s) => [s.labels, s.value] as const);
      metrics.push(sum(otlpName, info.help, points, true, times));
    } else if (info.type === "gauge") {
      const points = registry.gaugeSeries(name as GaugeName);
      metrics.push(gauge(name, info.help, points, times));
    } else {
      metrics.push(histogram(registry, name as HistogramName, times));
    }
  }
  const total = (points: readonly Point[]) => [
    [{}, points.reduce((n, [, value]) => n + value, 0)] as const,
  ];
  const counted = (name: CounterName) =>
    total(registry.counterSeries(name).map((s) => [s.labels, s.value]));
  metrics.push(
    sum(
      "jobs_executed",
      "Finished executions",
      counted("executions_total"),
      true,
      times,
    ),
    sum(
      "persistence_compactions",
      "Finished compactions",
      counted("compactions_total"),
      true,
      times,
    ),
    sum(
      "rules_active",
      "Rules stored",
      total(registry.gaugeSeries("rules")),
      false,
      times,
    ),
    sum(
      "connections_active",
      "Open connections",
      total(registry.gaugeSeries("connections")),
      false,
      times,
    ),
  );
  return metrics.filter((metric) => metric.dataPoints.length > 0);
}

/** The unit a metric's name ends with (UCUM, as OTLP wants it). */
function unitOf(name: string): string {
  if (name.endsWith("_seconds")) return "s";
  if (name.endsWith("_ms")) return "ms";
  if (name.endsWith("_bytes")) return "By";
  return "";
}

function sum(
  name: string,
  description: string,
  points: readonly Point[],
  isMonotonic: boolean,
  times: Times,
): MetricData {
  return {
    descriptor: {
      name,
      description,
      unit: unitOf(name),
      valueType: ValueType.INT,
    },
    aggregationTemporality: AggregationTemporality.CUMULATIVE,
    dataPointType: DataPointType.SUM,
    isMonotonic,
    dataPoints: points.map(([attributes, value]) => ({
      startTime: times.start,
      endTime: times.end,
      attributes,
      value,
    })),
  };
}

function gauge(
  name: string,
  description: string,
  points: readonly Point[],
  times: Times,
): MetricData {
  return {
    descriptor: {
      name,
      description,
      unit: unitOf(name),
      valueType: DOUBLE_GAUGES.has(name) ? ValueType.DOUBLE : ValueType.INT,
    },
    aggregationTemporality: AggregationTemporality.CUMULATIVE,
    dataPointType: DataPointType.GAUGE,
    dataPoints: points.map(([attributes, value]) => ({
      startTime: times.start,
      endTime: times.end,
      attributes,
      value,
    })),
  };
}

function histogram(
  registry: MetricsRegistry,
  name: HistogramName,
  times: Times,
): MetricData {
  const { help, buckets = [] } = METRICS[name];
  return {
    descriptor: {
      name,
      description: help,
      unit: unitOf(name),
      valueType: ValueType.DOUBLE,
    },
    aggregationTemporality: AggregationTemporality.CUMULATIVE,
    dataPointType: DataPointType.HISTOGRAM,
    dataPoints: histogramSamples(registry, name).map((s) => ({
      startTime: times.start,
      endTime: times.end,
      attributes: s.labels,
      value: {
        buckets: { boundaries: [...buckets], counts: [...s.bucketCounts] },
        sum: s.sum,
        count: s.count,
      },
    })),
  };
}

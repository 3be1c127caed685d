/**
 * What could not be sent: the batch processors' drops, counted through
 * their self-observability meter, and reported at debug once per metric
 * interval when the totals changed (spec: observability.md §2). Loaded
 * with the SDK only.
 *
 * @module
 */
import {
  createNoopMeter,
  type Meter,
  type MeterProvider as MeterProviderApi,
} from "@opentelemetry/api";
import { resourceFromAttributes } from "@opentelemetry/resources";
import type { MetricProducer } from "@opentelemetry/sdk-metrics";

/** A MeterProvider for the processors' self-observability that only counts drops. */
export function dropCounter(
  dropped: (count: number) => void,
): MeterProviderApi {
  const noop = createNoopMeter();
  const meter: Meter = Object.create(noop);
  meter.createCounter = (name, opts) => {
    if (!name.endsWith(".processed")) return noop.createCounter(name, opts);
    return {
      add(count, attributes) {
        if (attributes?.["error.type"] !== undefined) dropped(count);
      },
    };
  };
  return { getMeter: () => meter };
}

/**
 * A producer with no metrics that writes the drop counts to the debug log
 * when they changed: the report rides on the metric interval.
 */
export function dropReport(
  drops: { readonly spans: number; readonly logRecords: number },
  debug: (message: string) => void,
): MetricProducer {
  let reported = 0;
  return {
    collect() {
      const { spans, logRecords } = drops;
      if (spans + logRecords !== reported) {
        reported = spans + logRecords;
        debug(
          `telemetry dropped (total since start): ${spans} spans, ${logRecords} log records`,
        );
      }
      return Promise.resolve({
        resourceMetrics: {
          resource: resourceFromAttributes({}),
          scopeMetrics: [],
        },
        errors: [],
      });
    },
  };
}

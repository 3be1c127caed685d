import { INSTRUCTIONS } from "../domain/command.ts";
import type { Counter, Metrics } from "../scheduler/ports.ts";

/** A request as `ztick_requests_total{command}` names it. */
export type RequestName =
  | (typeof INSTRUCTIONS)[keyof typeof INSTRUCTIONS]
  | "AUTH";

/** Counts one answered request (observability.md §1). */
export type CountRequest = (command: RequestName, ok: boolean) => void;

/**
 * Counts answered requests in `requests_total{command, result}`, each
 * series resolved once, so counting on the hot path is a map lookup.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { MetricsRegistry } from "./registry.ts";
 * import { requestCounter } from "./requests.ts";
 *
 * const registry = new MetricsRegistry();
 * const count = requestCounter(registry);
 * count("SET", true);
 * count("SET", false);
 * assert.equal(registry.counterValue("requests_total", { command: "SET", result: "ok" }), 1);
 * ```
 */
export function requestCounter(metrics: Metrics): CountRequest {
  const series = new Map<string, Counter>();
  return (command, ok) => {
    const result = ok ? "ok" : "error";
    const key = ok ? command : `${command} error`;
    let counter = series.get(key);
    if (counter === undefined) {
      counter = metrics.counter("requests_total", { command, result });
      series.set(key, counter);
    }
    counter.add();
  };
}

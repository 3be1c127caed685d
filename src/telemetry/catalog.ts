/**
 * Every metric ztick exports: name, type, help text, label names and
 * buckets (spec: observability.md §1). Names omit the `ztick_` prefix.
 *
 * @module
 */
import type { CounterName, HistogramName } from "../scheduler/ports.ts";

/** Gauges the daemon registers with a reader. */
export type GaugeName =
  | "build_info"
  | "uptime_seconds"
  | "jobs"
  | "jobs_recurring"
  | "rules"
  | "connections"
  | "executions_pending"
  | "executions_inflight"
  | "persistence_writable"
  | "process_resident_memory_bytes";

/** Any metric name. */
export type MetricName = CounterName | HistogramName | GaugeName;

/** How a metric is described to Prometheus and OpenTelemetry. */
export interface MetricInfo {
  readonly type: "counter" | "gauge" | "histogram";
  readonly help: string;
  readonly labels: readonly string[];
  /** Upper bounds in the metric's unit (seconds unless named `_ms`), histograms only. */
  readonly buckets?: readonly number[];
  /** Exported to OpenTelemetry only, not on `/metrics` (observability.md §2). */
  readonly otlpOnly?: true;
}

const LAG_BUCKETS = [
  0.0005,
  0.001,
  0.002,
  0.005,
  0.01,
  0.025,
  0.05,
  0.1,
  0.25,
  0.5,
  1,
  2.5,
  5,
  10,
];
const DURATION_BUCKETS = [
  0.001,
  0.005,
  0.01,
  0.05,
  0.1,
  0.5,
  1,
  5,
  10,
  30,
  60,
  300,
];
const COMMIT_BUCKETS = [
  0.0001,
  0.00025,
  0.0005,
  0.001,
  0.0025,
  0.005,
  0.01,
  0.025,
  0.05,
  0.1,
];

/** The catalogue, in the order `/metrics` and OTLP list it. */
export const METRICS: { readonly [N in MetricName]: MetricInfo } = {
  "build_info": { type: "gauge", help: "Product version", labels: ["version"] },
  "uptime_seconds": {
    type: "gauge",
    help: "Seconds since the daemon started",
    labels: [],
  },
  "jobs": { type: "gauge", help: "Jobs stored, by status", labels: ["status"] },
  "jobs_recurring": {
    type: "gauge",
    help: "Jobs with a schedule",
    labels: [],
  },
  "rules": { type: "gauge", help: "Rules stored", labels: [] },
  "connections": {
    type: "gauge",
    help: "Open connections",
    labels: ["protocol"],
  },
  "executions_pending": {
    type: "gauge",
    help: "Executions waiting for a free slot",
    labels: [],
  },
  "executions_inflight": {
    type: "gauge",
    help: "Executions running",
    labels: [],
  },
  "requests_total": {
    type: "counter",
    help: "Protocol and HTTP requests answered",
    labels: ["command", "result"],
  },
  "jobs_scheduled_total": {
    type: "counter",
    help: "Accepted SET and CRON mutations",
    labels: [],
  },
  "jobs_removed_total": {
    type: "counter",
    help: "Accepted REMOVEs",
    labels: [],
  },
  "executions_total": {
    type: "counter",
    help: "Finished executions",
    labels: ["runner", "outcome"],
  },
  "retries_total": {
    type: "counter",
    help: "Retries planned",
    labels: ["runner"],
  },
  "no_rule_total": {
    type: "counter",
    help: "Due jobs that no rule matched",
    labels: [],
  },
  "execution_duration_seconds": {
    type: "histogram",
    help: "Start to end of an execution",
    labels: ["runner"],
    buckets: DURATION_BUCKETS,
  },
  "schedule_lag_seconds": {
    type: "histogram",
    help: "Due time to start of the execution",
    labels: [],
    buckets: LAG_BUCKETS,
  },
  "journal_commits_total": {
    type: "counter",
    help: "Group commits",
    labels: [],
  },
  "journal_records_total": {
    type: "counter",
    help: "Records committed",
    labels: [],
  },
  "journal_commit_duration_seconds": {
    type: "histogram",
    help: "Write and fsync of one group",
    labels: [],
    buckets: COMMIT_BUCKETS,
  },
  "persistence_writable": {
    type: "gauge",
    help: "1, or 0 in read-only mode",
    labels: [],
  },
  "compactions_total": {
    type: "counter",
    help: "Finished compactions",
    labels: ["outcome"],
  },
  "auth_failures_total": {
    type: "counter",
    help: "Rejected AUTH secrets and Bearer tokens",
    labels: [],
  },
  "process_resident_memory_bytes": {
    type: "gauge",
    help: "Resident memory of the daemon",
    labels: [],
  },
  "execution_duration_ms": {
    type: "histogram",
    help: "From the job's execution time to the end of a successful execution",
    labels: [],
    buckets: DURATION_BUCKETS.map((seconds) => seconds * 1000),
    otlpOnly: true,
  },
};

import assert from "node:assert/strict";
import { renderPrometheus } from "../../../src/telemetry/prometheus.ts";
import { MetricsRegistry } from "../../../src/telemetry/registry.ts";

Deno.test("renderPrometheus gives counters and histograms without labels a zero sample before their first change", () => {
  const text = renderPrometheus(new MetricsRegistry());
  assert.match(text, /^ztick_auth_failures_total 0$/m);
  assert.match(text, /^ztick_jobs_removed_total 0$/m);
  assert.match(text, /^ztick_schedule_lag_seconds_bucket\{le="0\.0005"\} 0$/m);
  assert.match(text, /^ztick_schedule_lag_seconds_bucket\{le="\+Inf"\} 0$/m);
  assert.match(text, /^ztick_schedule_lag_seconds_sum 0$/m);
  assert.match(text, /^ztick_journal_commit_duration_seconds_count 0$/m);
  // series with labels appear with their label values; gauges with a reader
  assert.doesNotMatch(text, /^ztick_executions_total/m);
  assert.doesNotMatch(text, /^ztick_execution_duration_seconds_/m);
  assert.doesNotMatch(text, /^ztick_rules /m);
});

Deno.test("renderPrometheus renders counted series as they are", () => {
  const registry = new MetricsRegistry();
  registry.counter("auth_failures_total").add(3);
  registry.histogram("schedule_lag_seconds").observe(0.003);
  const text = renderPrometheus(registry);
  assert.match(text, /^ztick_auth_failures_total 3$/m);
  assert.equal(text.match(/^ztick_auth_failures_total /gm)?.length, 1);
  assert.match(text, /^ztick_schedule_lag_seconds_bucket\{le="0\.002"\} 0$/m);
  assert.match(text, /^ztick_schedule_lag_seconds_bucket\{le="0\.005"\} 1$/m);
  assert.match(text, /^ztick_schedule_lag_seconds_count 1$/m);
});

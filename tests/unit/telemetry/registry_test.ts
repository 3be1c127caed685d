import assert from "node:assert/strict";
import { METRICS } from "../../../src/telemetry/catalog.ts";
import { MetricsRegistry } from "../../../src/telemetry/registry.ts";

Deno.test({
  name:
    "MetricsRegistry counter() starts at zero and adds one by default, or the value given",
  permissions: "none",
  fn() {
    const registry = new MetricsRegistry();
    assert.equal(registry.counterValue("jobs_removed_total"), 0);
    const series = registry.counter("jobs_removed_total");
    assert.equal(series.value, 0);
    assert.deepEqual(series.labels, {});
    series.add();
    series.add();
    series.add(5);
    assert.equal(series.value, 7);
    assert.equal(registry.counterValue("jobs_removed_total"), 7);
    assert.equal(registry.counterValue("jobs_scheduled_total"), 0);
  },
});

Deno.test({
  name:
    "MetricsRegistry counter() gives the same series for the same labels, in any key order",
  permissions: "none",
  fn() {
    const registry = new MetricsRegistry();
    const a = registry.counter("requests_total", {
      command: "SET",
      result: "ok",
    });
    const b = registry.counter("requests_total", {
      result: "ok",
      command: "SET",
    });
    assert.equal(a, b);
    a.add();
    b.add();
    assert.equal(
      registry.counterValue("requests_total", {
        result: "ok",
        command: "SET",
      }),
      2,
    );
  },
});

Deno.test({
  name:
    "MetricsRegistry counter() keeps one series per label set, listed in creation order",
  permissions: "none",
  fn() {
    const registry = new MetricsRegistry();
    const labels = [
      { runner: "shell", outcome: "executed" },
      { runner: "shell", outcome: "failed" },
      { runner: "http", outcome: "executed" },
    ];
    labels.forEach((l, i) =>
      registry.counter("executions_total", l).add(i + 1)
    );
    assert.deepEqual(
      registry.counterSeries("executions_total").map((
        s,
      ) => [s.labels, s.value]),
      [[labels[0], 1], [labels[1], 2], [labels[2], 3]],
    );
    assert.equal(
      registry.counterValue("executions_total", {
        runner: "shell",
        outcome: "failed",
      }),
      2,
    );
    assert.equal(
      registry.counterValue("executions_total", {
        runner: "amqp",
        outcome: "failed",
      }),
      0,
    );
    assert.equal(
      registry.counterValue("executions_total", { runner: "shell" }),
      0,
      "a missing label is another series",
    );
    assert.deepEqual(registry.counterSeries("retries_total"), []);
  },
});

Deno.test({
  name:
    "MetricsRegistry histogram() uses the catalogue's buckets, upper bounds inclusive",
  permissions: "none",
  fn() {
    const registry = new MetricsRegistry();
    const lag = registry.histogram("schedule_lag_seconds");
    const bounds = METRICS.schedule_lag_seconds.buckets!;
    assert.equal(lag.bucketCounts.length, bounds.length + 1, "+Inf bucket");
    assert.ok(lag.bucketCounts.every((n) => n === 0));
    assert.equal(lag.count, 0);
    assert.equal(lag.sum, 0);
    const observed = [-1, 0, 0.0005, 0.0006, 0.002, 1, 10, 10.5, 1e9];
    for (const value of observed) lag.observe(value);
    assert.deepEqual(bounds, [
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
    ]);
    // -1, 0 and 0.0005 fall in le=0.0005, 0.0006 in le=0.001, 0.002 in
    // le=0.002, 1 in le=1, 10 in le=10, and 10.5 and 1e9 in +Inf.
    const expected = [3, 1, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 1, 2];
    assert.deepEqual(lag.bucketCounts, expected);
    assert.equal(lag.count, observed.length);
    assert.equal(lag.sum, observed.reduce((a, b) => a + b, 0));
  },
});

Deno.test({
  name: "MetricsRegistry histogram() keeps one series per label set",
  permissions: "none",
  fn() {
    const registry = new MetricsRegistry();
    const shell = registry.histogram("execution_duration_seconds", {
      runner: "shell",
    });
    const http = registry.histogram("execution_duration_seconds", {
      runner: "http",
    });
    assert.notEqual(shell, http);
    assert.equal(
      registry.histogram("execution_duration_seconds", { runner: "shell" }),
      shell,
    );
    shell.observe(0.2);
    shell.observe(400);
    http.observe(0.001);
    const series = registry.histogramSeries("execution_duration_seconds");
    assert.deepEqual(series.map((s) => [s.labels, s.count]), [
      [{ runner: "shell" }, 2],
      [{ runner: "http" }, 1],
    ]);
    const bounds = METRICS.execution_duration_seconds.buckets!;
    assert.equal(shell.bucketCounts[bounds.indexOf(0.5)], 1);
    assert.equal(shell.bucketCounts[bounds.length], 1);
    assert.equal(http.bucketCounts[0], 1);
    assert.deepEqual(registry.histogramSeries("schedule_lag_seconds"), []);
  },
});

Deno.test({
  name: "MetricsRegistry gauge() reads a single value at every request",
  permissions: "none",
  fn() {
    const registry = new MetricsRegistry();
    assert.equal(registry.gaugeValue("rules"), 0, "unregistered");
    assert.deepEqual(registry.gaugeSeries("rules"), []);
    let rules = 3;
    registry.gauge("rules", () => rules);
    assert.equal(registry.gaugeValue("rules"), 3);
    rules = 4;
    assert.equal(registry.gaugeValue("rules"), 4);
    assert.deepEqual(registry.gaugeSeries("rules"), [[{}, 4]]);
    registry.gauge("rules", () => 9);
    assert.equal(registry.gaugeValue("rules"), 9, "the new reader replaced it");
  },
});

Deno.test({
  name: "MetricsRegistry gauge() reads one value per label set",
  permissions: "none",
  fn() {
    const registry = new MetricsRegistry();
    registry.gauge("jobs", () => [
      [{ status: "planned" }, 2],
      [{ status: "failed" }, 1],
    ]);
    assert.equal(registry.gaugeValue("jobs", { status: "planned" }), 2);
    assert.equal(registry.gaugeValue("jobs", { status: "failed" }), 1);
    assert.equal(registry.gaugeValue("jobs", { status: "executed" }), 0);
    assert.equal(registry.gaugeValue("jobs"), 0, "no series without labels");
    assert.deepEqual(registry.gaugeSeries("jobs"), [
      [{ status: "planned" }, 2],
      [{ status: "failed" }, 1],
    ]);
  },
});

import assert from "node:assert/strict";
import { renderAnswer } from "../../../src/protocol/answer.ts";
import { MetricsRegistry } from "../../../src/telemetry/registry.ts";
import { statEntries, type StatInfo } from "../../../src/telemetry/stat.ts";

/**
 * Keys 1–19 of protocol.md §6, then 20–24 of extensions.md §6–§7, in the
 * spec's order.
 */
const SPEC_KEYS = [
  "uptime_ns",
  "connections",
  "jobs_total",
  "jobs_planned",
  "jobs_triggered",
  "jobs_executed",
  "jobs_failed",
  "rules_total",
  "executions_pending",
  "executions_inflight",
  "persistence",
  "compression",
  "auth_enabled",
  "tls_enabled",
  "framerate",
  "version",
  "execution_concurrency",
  "execution_timeout",
  "persistence_writable",
  "jobs_recurring",
  "runs_recorded",
  "retries_scheduled",
  "execution_history",
  "jobs_expired",
  "cluster_role",
  "cluster_term",
];

const INFO: StatInfo = {
  persistence: "logfile",
  auth: false,
  tls: false,
  framerate: 512,
  version: "0.1.0",
  concurrency: 16,
  timeoutS: 0,
  history: 10,
};

/** A registry with the gauges the daemon registers, at the spec example's values. */
function exampleRegistry(): MetricsRegistry {
  const registry = new MetricsRegistry();
  registry.gauge("jobs", () => [
    [{ status: "planned" }, 2],
    [{ status: "triggered" }, 0],
    [{ status: "executed" }, 1],
    [{ status: "failed" }, 0],
  ]);
  registry.gauge("rules", () => 1);
  registry.gauge("connections", () => [[{ protocol: "tcp" }, 1]]);
  registry.gauge("executions_pending", () => 0);
  registry.gauge("executions_inflight", () => 0);
  registry.gauge("persistence_writable", () => 1);
  return registry;
}

Deno.test({
  name:
    "statEntries() lists keys 1–19 of protocol.md §6, then 21–24 of extensions.md §6–§7, in that order",
  permissions: "none",
  fn() {
    const entries = statEntries({
      registry: exampleRegistry(),
      info: INFO,
      uptimeNs: () => 0n,
      compaction: () => "idle",
      runsRecorded: () => 0,
      jobsExpired: () => 0,
    });
    assert.deepEqual(entries.map(([key]) => key), SPEC_KEYS);
  },
});

Deno.test({
  name:
    "statEntries() renders as the STAT example of protocol.md §6, then keys 19 and 21–24",
  permissions: "none",
  fn() {
    const entries = statEntries({
      registry: exampleRegistry(),
      info: INFO,
      uptimeNs: () => 60_000_000_000n,
      compaction: () => "idle",
      runsRecorded: () => 0,
      jobsExpired: () => 0,
    });
    assert.equal(
      renderAnswer("r1", { kind: "stats", entries }),
      `r1 uptime_ns 60000000000
r1 connections 1
r1 jobs_total 3
r1 jobs_planned 2
r1 jobs_triggered 0
r1 jobs_executed 1
r1 jobs_failed 0
r1 rules_total 1
r1 executions_pending 0
r1 executions_inflight 0
r1 persistence logfile
r1 compression idle
r1 auth_enabled 0
r1 tls_enabled 0
r1 framerate 512
r1 version 0.1.0
r1 execution_concurrency 16
r1 execution_timeout 0
r1 persistence_writable 1
r1 jobs_recurring 0
r1 runs_recorded 0
r1 retries_scheduled 0
r1 execution_history 10
r1 jobs_expired 0
r1 cluster_role single
r1 cluster_term 0
r1 OK
`,
    );
  },
});

Deno.test({
  name: "statEntries() reads every value from its source at each call",
  permissions: "none",
  fn() {
    const registry = new MetricsRegistry();
    const live = {
      jobs: { planned: 4, triggered: 3, executed: 2, failed: 1 },
      rules: 7,
      tcp: 5,
      pending: 6,
      inflight: 8,
      writable: 0,
      uptimeNs: 123n,
      compaction: "running",
      runs: 9,
      expired: 4,
      recurring: 12,
    };
    registry.gauge(
      "jobs",
      () => Object.entries(live.jobs).map(([status, n]) => [{ status }, n]),
    );
    registry.gauge("rules", () => live.rules);
    registry.gauge("connections", () => [
      [{ protocol: "http" }, 99],
      [{ protocol: "tcp" }, live.tcp],
    ]);
    registry.gauge("executions_pending", () => live.pending);
    registry.gauge("executions_inflight", () => live.inflight);
    registry.gauge("persistence_writable", () => live.writable);
    registry.gauge("jobs_recurring", () => live.recurring);
    const read = () =>
      Object.fromEntries(statEntries({
        registry,
        info: {
          persistence: "memory",
          auth: true,
          tls: true,
          framerate: 64,
          version: "9.9.9",
          concurrency: 3,
          timeoutS: 30,
          history: 0,
        },
        uptimeNs: () => live.uptimeNs,
        compaction: () => live.compaction,
        runsRecorded: () => live.runs,
        jobsExpired: () => live.expired,
      }));
    assert.deepEqual(read(), {
      uptime_ns: 123n,
      connections: 5,
      jobs_total: 10,
      jobs_planned: 4,
      jobs_triggered: 3,
      jobs_executed: 2,
      jobs_failed: 1,
      rules_total: 7,
      executions_pending: 6,
      executions_inflight: 8,
      persistence: "memory",
      compression: "running",
      auth_enabled: 1,
      tls_enabled: 1,
      framerate: 64,
      version: "9.9.9",
      execution_concurrency: 3,
      execution_timeout: 30,
      persistence_writable: 0,
      jobs_recurring: 12,
      runs_recorded: 9,
      retries_scheduled: 0,
      execution_history: 0,
      jobs_expired: 4,
      cluster_role: "single",
      cluster_term: 0n,
    });
    live.jobs.failed = 11;
    live.tcp = 1;
    live.uptimeNs = 456n;
    live.compaction = "success";
    live.writable = 1;
    live.runs = 10;
    live.recurring = 13;
    const again = read();
    assert.equal(again.jobs_recurring, 13);
    assert.equal(again.jobs_failed, 11);
    assert.equal(again.jobs_total, 20);
    assert.equal(again.connections, 1);
    assert.equal(again.uptime_ns, 456n);
    assert.equal(again.compression, "success");
    assert.equal(again.persistence_writable, 1);
    assert.equal(again.runs_recorded, 10);
  },
});

Deno.test({
  name: "statEntries() counts zero for gauges nobody registered",
  permissions: "none",
  fn() {
    const entries = statEntries({
      registry: new MetricsRegistry(),
      info: INFO,
      uptimeNs: () => 1n,
      compaction: () => "idle",
      runsRecorded: () => 0,
      jobsExpired: () => 0,
    });
    const values = Object.fromEntries(entries);
    for (
      const key of [
        "connections",
        "jobs_total",
        "jobs_planned",
        "jobs_triggered",
        "jobs_executed",
        "jobs_failed",
        "rules_total",
        "executions_pending",
        "executions_inflight",
        "retries_scheduled",
      ]
    ) {
      assert.equal(values[key], 0, key);
    }
  },
});

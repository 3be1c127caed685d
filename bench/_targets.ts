/**
 * The performance targets `deno task bench` holds its figures against
 * (issue 17's list; bench/README.md "Targets").
 *
 * @module
 */
import type { Target } from "./_results.ts";

export const TARGETS: readonly Target[] = [
  {
    label: "Pipelined SET, fsync off ≥ Redis ZADD, AOF off",
    figure: "ztick_fsync_off.pipe.rps",
    op: ">=",
    bound: { figure: "redis_off.pipe.rps", factor: 1 },
    unit: "req/s",
  },
  {
    label: "Pipelined SET, fsync on ≥ 1.2 × Redis ZADD, AOF always",
    figure: "ztick_fsync_on.pipe.rps",
    op: ">=",
    bound: { figure: "redis_always.pipe.rps", factor: 1.2 },
    unit: "req/s",
  },
  {
    label: "Durable SET, 50 req/resp conns ≥ 1.2 × Redis ZADD, AOF always",
    figure: "ztick_fsync_on.rr50.rps",
    op: ">=",
    bound: { figure: "redis_always.rr50.rps", factor: 1.2 },
    unit: "req/s",
  },
  {
    label: "Req/resp SET, 1 conn, fsync off: p50 ≤ 1.2 × C echo round trip p50",
    figure: "ztick_fsync_off.rr1.p50_us",
    op: "<=",
    bound: { figure: "echo_c.rr1.p50_us", factor: 1.2 },
    unit: "µs",
  },
  {
    label:
      "Firing lateness p99, 10,000 jobs in one second, fsync on (default) ≤ 5 ms",
    figure: "firing_fsync_on.p99_ms",
    op: "<=",
    bound: 5,
    unit: "ms",
  },
  {
    label: "Firing lateness p99, 10,000 jobs in one second, fsync off ≤ 2 ms",
    figure: "firing_fsync_off.p99_ms",
    op: "<=",
    bound: 2,
    unit: "ms",
  },
  {
    label: "Firing lateness of a single job, fsync on ≤ 1 ms",
    figure: "firing_fsync_on.single_ms",
    op: "<=",
    bound: 1,
    unit: "ms",
  },
  {
    label: "Shell executions ≥ 1,500 jobs/s (or the next line)",
    figure: "exec.rate",
    op: ">=",
    bound: 1500,
    unit: "jobs/s",
  },
  {
    label:
      "Shell executions ≥ 75 % of the machine's spawn limit (C fork + exec, same run)",
    figure: "exec.rate",
    op: ">=",
    bound: { figure: "exec.spawn_limit", factor: 0.75 },
    unit: "jobs/s",
  },
  {
    label:
      "1M jobs: shell executions with them loaded ≥ 1,500 jobs/s (or the next line)",
    figure: "exec.rate_loaded",
    op: ">=",
    bound: 1500,
    unit: "jobs/s",
  },
  {
    label:
      "1M jobs: shell executions with them loaded ≥ 75 % of the spawn limit",
    figure: "exec.rate_loaded",
    op: ">=",
    bound: { figure: "exec.spawn_limit", factor: 0.75 },
    unit: "jobs/s",
  },
  {
    label: "1M jobs: RSS after loading ≤ 300 MB",
    figure: "scale.rss_loaded_mb",
    op: "<=",
    bound: 300,
    unit: "MB",
  },
  {
    label: "1M jobs: RSS after replay ≤ 300 MB",
    figure: "scale.rss_replayed_mb",
    op: "<=",
    bound: 300,
    unit: "MB",
  },
  {
    label: "1M jobs: replay ≤ 2 s",
    figure: "scale.replay_ms",
    op: "<=",
    bound: 2000,
    unit: "ms",
  },
  {
    label:
      "1M jobs: no GET stalled > 25 ms during compaction (max over all compactions)",
    figure: "scale.get_stall_ms",
    stat: "max",
    op: "<=",
    bound: 25,
    unit: "ms",
  },
];

import { JOB_STATUSES } from "../domain/job.ts";
import type { StatEntry } from "../domain/result.ts";
import type { MetricsRegistry } from "./registry.ts";

/** What STAT shows that does not change while the daemon runs. */
export interface StatInfo {
  readonly persistence: string;
  readonly auth: boolean;
  readonly tls: boolean;
  readonly framerate: number;
  readonly version: string;
  readonly concurrency: number;
  readonly timeoutS: number;
  /** `[execution] history` (extensions.md §3). */
  readonly history: number;
}

/** Where STAT reads its values. */
export interface StatSources {
  readonly registry: MetricsRegistry;
  readonly info: StatInfo;
  /** Nanoseconds since start, monotonic. */
  readonly uptimeNs: () => bigint;
  /** STAT `compression`: the state of the last compaction. */
  readonly compaction: () => string;
  /** Runs recorded since start (extensions.md §3). */
  readonly runsRecorded: () => number;
  /** Jobs removed by retention since startup (extensions.md §7). */
  readonly jobsExpired: () => number;
  /** STAT `cluster_role` and `cluster_term`; `single`, 0 when absent. */
  readonly cluster?: () => readonly [string, bigint];
}

/**
 * STAT's entries in the spec's order, read from the metrics registry and
 * the startup facts (spec: protocol.md §6): ztick's fifteen keys, then the
 * extensions this daemon has, in the table's order (19–26).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { MetricsRegistry } from "./registry.ts";
 * import { statEntries } from "./stat.ts";
 *
 * const registry = new MetricsRegistry();
 * registry.gauge("rules", () => 2);
 * const info = {
 *   persistence: "memory", auth: false, tls: false, framerate: 512,
 *   version: "0.1.0", concurrency: 16, timeoutS: 0, history: 10,
 * };
 * const entries = statEntries({
 *   registry, info, uptimeNs: () => 5n, compaction: () => "idle",
 *   runsRecorded: () => 3, jobsExpired: () => 0,
 * });
 * assert.deepEqual(entries[0], ["uptime_ns", 5n]);
 * assert.deepEqual(entries[7], ["rules_total", 2]);
 * assert.deepEqual(entries.slice(19).map(([key]) => key), [
 *   "jobs_recurring", "runs_recorded", "retries_scheduled",
 *   "execution_history", "jobs_expired", "cluster_role", "cluster_term",
 * ]);
 * ```
 */
export function statEntries(sources: StatSources): StatEntry[] {
  const { registry, info } = sources;
  const gauge = registry.gaugeValue.bind(registry);
  const jobs = new Map(
    registry.gaugeSeries("jobs").map(([labels, value]) => [
      labels.status,
      value,
    ]),
  );
  const count = (status: string) => jobs.get(status) ?? 0;
  let total = 0;
  for (const status of JOB_STATUSES) total += count(status);
  return [
    ["uptime_ns", sources.uptimeNs()],
    ["connections", gauge("connections", { protocol: "tcp" })],
    ["jobs_total", total],
    ["jobs_planned", count("planned")],
    ["jobs_triggered", count("triggered")],
    ["jobs_executed", count("executed")],
    ["jobs_failed", count("failed")],
    ["rules_total", gauge("rules")],
    ["executions_pending", gauge("executions_pending")],
    ["executions_inflight", gauge("executions_inflight")],
    ["persistence", info.persistence],
    ["compression", sources.compaction()],
    ["auth_enabled", info.auth ? 1 : 0],
    ["tls_enabled", info.tls ? 1 : 0],
    ["framerate", info.framerate],
    ["version", info.version],
    ["execution_concurrency", info.concurrency],
    ["execution_timeout", info.timeoutS],
    ["persistence_writable", gauge("persistence_writable")],
    ["jobs_recurring", gauge("jobs_recurring")],
    ["runs_recorded", sources.runsRecorded()],
    ["retries_scheduled", sum(registry.counterSeries("retries_total"))],
    ["execution_history", info.history],
    ["jobs_expired", sources.jobsExpired()],
    ...clusterEntries(sources.cluster?.() ?? ["single", 0n]),
  ];
}

function clusterEntries(
  [role, term]: readonly [string, bigint],
): StatEntry[] {
  return [["cluster_role", role], ["cluster_term", term]];
}

function sum(series: readonly { readonly value: number }[]): number {
  let total = 0;
  for (const { value } of series) total += value;
  return total;
}

/**
 * `GET /stats`: the dashboard's figures — every STAT key, executions per
 * minute over the last hour, planned jobs per hour over the next 24 hours,
 * the schedule lag of the last 10 minutes (spec: http-api.md §8).
 *
 * @module
 */
import type { StatEntry } from "../../domain/result.ts";
import type { Activity } from "../../telemetry/activity.ts";
import { statJson } from "./_json.ts";

const NS_PER_MS = 1_000_000n;
const HOUR_NS = 3_600_000_000_000n;

/** Where the figures come from. */
export interface StatsSources {
  readonly stat: () => readonly StatEntry[];
  readonly activity: Activity;
  /** Planned jobs per bucket: `upcoming(startNs, bucketNs, count)`. */
  readonly upcoming: (
    startNs: bigint,
    bucketNs: bigint,
    count: number,
  ) => number[];
  /** Wall clock, ms since the epoch. */
  readonly nowMs: () => number;
}

/** Renders the figures now, integers exact. */
export function statsJson(sources: StatsSources): string {
  const nowMs = sources.nowMs();
  const perMinute = sources.activity.perMinute(nowMs);
  const hourNs = (BigInt(Math.floor(nowMs)) * NS_PER_MS / HOUR_NS) * HOUR_NS;
  const planned = sources.upcoming(hourNs, HOUR_NS, 24);
  const lag = sources.activity.lag(nowMs);
  return `{"stat":${statJson(sources.stat())},` +
    `"executions_per_minute":{"start":${
      BigInt(perMinute.startMs) * NS_PER_MS
    },"executed":[${perMinute.executed}],"failed":[${perMinute.failed}]},` +
    `"upcoming_per_hour":{"start":${hourNs},"planned":[${planned}]},` +
    `"lag_ms":{"p50":${lag.p50},"p99":${lag.p99},"count":${lag.count}}}`;
}

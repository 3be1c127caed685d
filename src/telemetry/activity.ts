/**
 * The dashboard's figures over time, fed by the metrics registry: finished
 * executions per minute over the last hour, and the schedule lag of the
 * last 10 minutes (spec: http-api.md §8). Bounded: 60 minutes of counts,
 * 10 minutes of lag in log-scale buckets (±6 %), whatever the load.
 *
 * @module
 */
import type { MetricsRegistry } from "./registry.ts";

const MINUTE_MS = 60_000;
const MINUTES = 60;
const LAG_MINUTES = 10;
/** Lag buckets: 20 per decade from 1 µs to 10^7 ms. */
const PER_DECADE = 20;
const LAG_BUCKETS = 13 * PER_DECADE;
const LAG_FLOOR_MS = 0.001;

interface Minute {
  index: number;
  executed: number;
  failed: number;
  lags: number[] | undefined;
}

/** Executions per minute, as `GET /stats` shows them. */
export interface PerMinute {
  /** Start of the first bucket, ms since the epoch, minute-aligned. */
  readonly startMs: number;
  readonly executed: readonly number[];
  readonly failed: readonly number[];
}

/** Schedule-lag percentiles of the last 10 minutes; `null` without any. */
export interface LagSummary {
  readonly p50: number | null;
  readonly p99: number | null;
  readonly count: number;
}

/** Time-bucketed execution figures. */
export class Activity {
  readonly #minutes: Minute[] = [];
  readonly #nowMs: () => number;

  /** Watches `executions_total` and `schedule_lag_seconds` of `registry`. */
  constructor(registry: MetricsRegistry, nowMs: () => number = Date.now) {
    this.#nowMs = nowMs;
    for (let i = 0; i < MINUTES; i++) {
      this.#minutes.push({
        index: -1,
        executed: 0,
        failed: 0,
        lags: undefined,
      });
    }
    registry.watch("executions_total", (labels, value) => {
      const minute = this.#minute(this.#nowMs());
      if (labels.outcome === "executed") minute.executed += value;
      else minute.failed += value;
    });
    registry.watch("schedule_lag_seconds", (_, seconds) => {
      const minute = this.#minute(this.#nowMs());
      minute.lags ??= new Array(LAG_BUCKETS).fill(0);
      minute.lags[lagBucket(seconds * 1000)]!++;
    });
  }

  /** The last 60 minutes, oldest first, the current one last. */
  perMinute(nowMs = this.#nowMs()): PerMinute {
    const current = Math.floor(nowMs / MINUTE_MS);
    const executed: number[] = [];
    const failed: number[] = [];
    for (let index = current - MINUTES + 1; index <= current; index++) {
      const minute = this.#minutes[index % MINUTES]!;
      const fresh = minute.index === index;
      executed.push(fresh ? minute.executed : 0);
      failed.push(fresh ? minute.failed : 0);
    }
    return { startMs: (current - MINUTES + 1) * MINUTE_MS, executed, failed };
  }

  /** p50 and p99 of the schedule lag over the last 10 minutes, in ms. */
  lag(nowMs = this.#nowMs()): LagSummary {
    const current = Math.floor(nowMs / MINUTE_MS);
    const merged = new Array<number>(LAG_BUCKETS).fill(0);
    let count = 0;
    for (let index = current - LAG_MINUTES + 1; index <= current; index++) {
      const minute = this.#minutes[index % MINUTES]!;
      if (minute.index !== index || minute.lags === undefined) continue;
      minute.lags.forEach((n, i) => {
        merged[i]! += n;
        count += n;
      });
    }
    if (count === 0) return { p50: null, p99: null, count };
    return {
      p50: percentile(merged, count, 0.5),
      p99: percentile(merged, count, 0.99),
      count,
    };
  }

  /** The bucket of the minute holding `ms`, emptied if it is stale. */
  #minute(ms: number): Minute {
    const index = Math.floor(ms / MINUTE_MS);
    const minute = this.#minutes[index % MINUTES]!;
    if (minute.index !== index) {
      minute.index = index;
      minute.executed = 0;
      minute.failed = 0;
      minute.lags = undefined;
    }
    return minute;
  }
}

function lagBucket(ms: number): number {
  if (!(ms > LAG_FLOOR_MS)) return 0;
  const i = Math.ceil(Math.log10(ms / LAG_FLOOR_MS) * PER_DECADE);
  return Math.min(LAG_BUCKETS - 1, i);
}

/** The upper bound (ms, 3 significant digits) of the bucket of rank `q`. */
function percentile(buckets: number[], count: number, q: number): number {
  const rank = Math.max(1, Math.ceil(q * count));
  let seen = 0;
  for (let i = 0; i < buckets.length; i++) {
    seen += buckets[i]!;
    if (seen >= rank) {
      return Number((LAG_FLOOR_MS * 10 ** (i / PER_DECADE)).toPrecision(3));
    }
  }
  return Number(
    (LAG_FLOOR_MS * 10 ** (LAG_BUCKETS / PER_DECADE)).toPrecision(3),
  );
}

/**
 * SET throughput in three load shapes against ztick, Redis ZADD and
 * beanstalkd put, and the load generator's ceiling against echo servers.
 *
 * @module
 */
import {
  encodePool,
  type RequestPool,
  runPipelined,
  runRequestResponse,
  type RunResult,
  type Wire,
} from "./_load.ts";
import type { Results } from "./_results.ts";
import { percentile, sortedCopy } from "./_stats.ts";

/** A load shape: how requests are sent. */
export interface Shape {
  readonly key: "pipe" | "rr1" | "rr50";
  readonly label: string;
  /** Upper guess of the rate, to size the pre-encoded pool. */
  readonly maxRate: number;
  run(port: number, pool: RequestPool, durationMs: number): Promise<RunResult>;
}

/** Pipelining window of the pipelined shape. */
export const WINDOW = 1000;

/** The three shapes of the brief. */
export const SHAPES: readonly Shape[] = [
  {
    key: "pipe",
    label: `1 conn pipelined (${WINDOW} in flight)`,
    maxRate: 700_000,
    run: (port, pool, durationMs) =>
      runPipelined(port, pool, { window: WINDOW, durationMs }),
  },
  {
    key: "rr1",
    label: "1 conn request/response",
    maxRate: 80_000,
    run: (port, pool, durationMs) =>
      runRequestResponse(port, pool, { connections: 1, durationMs }),
  },
  {
    key: "rr50",
    label: "50 conns request/response",
    maxRate: 300_000,
    run: (port, pool, durationMs) =>
      runRequestResponse(port, pool, { connections: 50, durationMs }),
  },
];

/** A server under test: started before its shapes, stopped after. */
export interface ThroughputTarget {
  /** Figure id prefix, e.g. `ztick_fsync_off`. */
  readonly id: string;
  readonly label: string;
  readonly wire: Wire;
  start(): Promise<{ port: number; stop(): Promise<void> }>;
}

/** How long and how often. */
export interface ThroughputOptions {
  readonly reps: number;
  readonly durationMs: number;
  readonly warmupMs: number;
  readonly log: (text: string) => void;
}

let poolSerial = 0;

/**
 * Measures one target in every shape: a warm-up run, then `reps` timed
 * runs, each with fresh ids (so every request inserts). Adds figures
 * `<id>.<shape>.rps`, and for request/response `<id>.<shape>.p50_us` and
 * `.p99_us`.
 */
export async function measureThroughput(
  results: Results,
  target: ThroughputTarget,
  options: ThroughputOptions,
): Promise<void> {
  const server = await target.start();
  try {
    for (const shape of SHAPES) {
      const poolSize = (durationMs: number) =>
        Math.max(2000, Math.ceil(shape.maxRate * durationMs / 1000));
      await shape.run(
        server.port,
        encodePool(
          target.wire,
          `bench.w${++poolSerial}`,
          poolSize(options.warmupMs),
        ),
        options.warmupMs,
      );
      const rates: number[] = [];
      const p50s: number[] = [];
      const p99s: number[] = [];
      let exhausted = 0;
      for (let rep = 0; rep < options.reps; rep++) {
        const pool = encodePool(
          target.wire,
          `bench.b${++poolSerial}`,
          poolSize(options.durationMs),
        );
        const result = await shape.run(server.port, pool, options.durationMs);
        rates.push(result.perSecond);
        if (result.poolExhausted) exhausted++;
        if (result.latenciesMs) {
          const sorted = sortedCopy(result.latenciesMs);
          p50s.push(percentile(sorted, 50) * 1000);
          p99s.push(percentile(sorted, 99) * 1000);
        }
      }
      const note = exhausted > 0
        ? `${exhausted} run(s) used up the pre-encoded pool before the clock`
        : undefined;
      const rps = results.add(
        `${target.id}.${shape.key}.rps`,
        `${target.label}: ${shape.label}`,
        "req/s",
        rates,
        note,
      );
      let line = `  ${rps.label}: ${fmt(rps.median)} req/s [${fmt(rps.min)}–${
        fmt(rps.max)
      }]`;
      if (p50s.length > 0) {
        const p50 = results.add(
          `${target.id}.${shape.key}.p50_us`,
          `${target.label}: ${shape.label}, latency p50`,
          "µs",
          p50s,
        );
        const p99 = results.add(
          `${target.id}.${shape.key}.p99_us`,
          `${target.label}: ${shape.label}, latency p99`,
          "µs",
          p99s,
        );
        line += `, p50 ${p50.median.toFixed(0)} µs, p99 ${
          p99.median.toFixed(0)
        } µs`;
      }
      options.log(line);
    }
  } finally {
    await server.stop();
  }
}

function fmt(n: number): string {
  return Math.round(n).toLocaleString("en-US");
}

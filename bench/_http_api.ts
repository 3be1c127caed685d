/**
 * The `http` scenario: the HTTP API next to the TCP protocol on the same
 * daemon, 50 keep-alive connections with one request in flight each,
 * `PUT /jobs/{id}` against `SET` and `GET /jobs/{id}` against `GET`, fsync
 * on (the default) and off, the same in-Deno load generator for both front
 * doors, the order of the four cases alternated per rep.
 *
 * @module
 */
import {
  HTTP_GET,
  HTTP_PUT,
  runHttpRequestResponse,
  TCP_GET,
} from "./_http_load.ts";
import {
  encodePool,
  type RequestPool,
  runPipelined,
  runRequestResponse,
  type RunResult,
  ZTICK_SET,
} from "./_load.ts";
import type { Results } from "./_results.ts";
import { percentile, sortedCopy } from "./_stats.ts";
import { startZtick, type Ztick } from "./_ztick.ts";

export const HTTP_CONNECTIONS = 50;
/** Jobs stored before the GETs run, so that every GET finds its job. */
const STORED = 200_000;

interface Case {
  readonly id: string;
  readonly label: string;
  readonly door: "tcp" | "http";
  pool(rep: number): RequestPool;
}

const CASES: readonly Case[] = [
  {
    id: "tcp_set",
    label: "TCP SET",
    door: "tcp",
    pool: (r) => encodePool(ZTICK_SET, `t${r}`, 400_000),
  },
  {
    id: "http_put",
    label: "HTTP PUT /jobs/{id}",
    door: "http",
    pool: (r) => encodePool(HTTP_PUT, `h${r}`, 400_000),
  },
  {
    id: "tcp_get",
    label: "TCP GET",
    door: "tcp",
    pool: () => encodePool(TCP_GET, "g", STORED),
  },
  {
    id: "http_get",
    label: "HTTP GET /jobs/{id}",
    door: "http",
    pool: () => encodePool(HTTP_GET, "g", STORED),
  },
];

export interface HttpApiOptions {
  readonly reps: number;
  readonly durationMs: number;
  log(text: string): void;
}

function run(daemon: Ztick, kase: Case, pool: RequestPool, durationMs: number) {
  const options = { connections: HTTP_CONNECTIONS, durationMs };
  return kase.door === "tcp"
    ? runRequestResponse(daemon.port, pool, options)
    : runHttpRequestResponse(daemon.httpPort, pool, options);
}

type Samples = { rps: number[]; p50: number[]; p99: number[] };

function collect(samples: Samples, result: RunResult): void {
  const sorted = sortedCopy(result.latenciesMs!);
  samples.rps.push(result.perSecond);
  samples.p50.push(percentile(sorted, 50) * 1000);
  samples.p99.push(percentile(sorted, 99) * 1000);
}

/** Figures `http_api.<case>.fsync_<on|off>.{rps,p50_us,p99_us}`. */
export async function measureHttpApi(
  results: Results,
  options: HttpApiOptions,
): Promise<void> {
  for (const fsync of [true, false]) {
    const daemon = await startZtick({ fsync, http: true, logLevel: "info" });
    const samples = new Map<Case, Samples>(
      CASES.map((c) => [c, { rps: [], p50: [], p99: [] }]),
    );
    try {
      await runPipelined(daemon.port, encodePool(ZTICK_SET, "g", STORED), {
        window: 1000,
        durationMs: 60_000,
      });
      for (let rep = 0; rep < options.reps; rep++) {
        const order = rep % 2 === 0 ? CASES : [...CASES].reverse();
        for (const kase of order) {
          const result = await run(
            daemon,
            kase,
            kase.pool(rep),
            options.durationMs,
          );
          collect(samples.get(kase)!, result);
        }
      }
    } finally {
      await daemon.stop();
    }
    const mode = `fsync_${fsync ? "on" : "off"}`;
    for (const [kase, s] of samples) {
      const id = `http_api.${kase.id}.${mode}`;
      const label =
        `${kase.label}, ${HTTP_CONNECTIONS} keep-alive conns, fsync ${
          fsync ? "on" : "off"
        }`;
      const f = results.add(`${id}.rps`, label, "req/s", s.rps);
      results.add(`${id}.p50_us`, `${label}: p50`, "µs", s.p50);
      results.add(`${id}.p99_us`, `${label}: p99`, "µs", s.p99);
      options.log(`  ${label}: ${Math.round(f.median)} req/s`);
    }
  }
}

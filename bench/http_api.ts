/**
 * The HTTP API next to the TCP protocol on the same daemon: 50 keep-alive
 * connections, one request in flight each, `PUT /jobs/{id}` against `SET`
 * and `GET /jobs/{id}` against `GET`, fsync on (the default) and off, the
 * same in-Deno load generator for both front doors, alternated per rep.
 *
 *     deno run -A bench/http_api.ts [--reps 3] [--duration 1500]
 *
 * @module
 */
import { parseArgs } from "node:util";
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
import { hasProgram } from "./_peers.ts";
import { cleanUp, pinSelf, pinServers } from "./_procs.ts";
import { percentile, sortedCopy, summarize } from "./_stats.ts";
import { startZtick, type Ztick } from "./_ztick.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    reps: { type: "string", default: "3" },
    duration: { type: "string", default: "1500" },
  },
});
const reps = Number(values.reps);
const durationMs = Number(values.duration);
const CONNECTIONS = 50;
/** Jobs stored before the GET runs, so that every GET finds its job. */
const STORED = 200_000;

type Door = "tcp" | "http";
interface Case {
  readonly label: string;
  readonly door: Door;
  pool(rep: number): RequestPool;
}

const CASES: readonly Case[] = [
  {
    label: "SET",
    door: "tcp",
    pool: (r) => encodePool(ZTICK_SET, `t${r}`, 400_000),
  },
  {
    label: "PUT /jobs/{id}",
    door: "http",
    pool: (r) => encodePool(HTTP_PUT, `h${r}`, 400_000),
  },
  { label: "GET", door: "tcp", pool: () => encodePool(TCP_GET, "g", STORED) },
  {
    label: "GET /jobs/{id}",
    door: "http",
    pool: () => encodePool(HTTP_GET, "g", STORED),
  },
];

function run(daemon: Ztick, kase: Case, pool: RequestPool): Promise<RunResult> {
  const options = { connections: CONNECTIONS, durationMs };
  return kase.door === "tcp"
    ? runRequestResponse(daemon.port, pool, options)
    : runHttpRequestResponse(daemon.httpPort, pool, options);
}

if (navigator.hardwareConcurrency >= 2 && await hasProgram("taskset")) {
  await pinSelf("0");
  pinServers("1");
}
const figures = new Map<
  string,
  { rates: number[]; p50: number[]; p99: number[] }
>();
try {
  for (const fsync of [true, false]) {
    const daemon = await startZtick({ fsync, http: true, logLevel: "info" });
    try {
      await runPipelined(daemon.port, encodePool(ZTICK_SET, "g", STORED), {
        window: 1000,
        durationMs: 60_000,
      });
      for (let rep = 0; rep < reps; rep++) {
        // Alternate which door goes first in each rep.
        const order = rep % 2 === 0 ? CASES : [...CASES].reverse();
        for (const kase of order) {
          const result = await run(daemon, kase, kase.pool(rep));
          const key = `${kase.label}, fsync ${fsync ? "on" : "off"}`;
          const sorted = sortedCopy(result.latenciesMs!);
          const entry = figures.get(key) ?? { rates: [], p50: [], p99: [] };
          entry.rates.push(result.perSecond);
          entry.p50.push(percentile(sorted, 50) * 1000);
          entry.p99.push(percentile(sorted, 99) * 1000);
          figures.set(key, entry);
          console.error(
            `${key}: ${
              Math.round(result.perSecond).toLocaleString("en-US")
            } req/s`,
          );
        }
      }
    } finally {
      await daemon.stop();
    }
  }
} finally {
  await cleanUp();
}

function range(samples: number[]): string {
  const { median, min, max } = summarize(samples);
  const f = (x: number) => Math.round(x).toLocaleString("en-US");
  return `${f(median)} (${f(min)}–${f(max)})`;
}
console.log(
  `| ${CONNECTIONS} keep-alive conns, request/response | req/s | p50 µs | p99 µs |`,
);
console.log("| --- | ---: | ---: | ---: |");
for (const [key, { rates, p50, p99 }] of figures) {
  console.log(`| ${key} | ${range(rates)} | ${range(p50)} | ${range(p99)} |`);
}

/**
 * What a request or an execution costs the daemon in CPU: user + system
 * time of the daemon's process (all its threads, from `/proc/<pid>/stat`)
 * divided by the requests answered or executions done. On a shared 2-core
 * VM this moves less than a throughput figure, which follows whatever else
 * runs; alternating checkouts round by round makes it an A/B.
 *
 *     deno run -A bench/cpu_cost.ts [--roots A,B] [--rounds 3]
 *       [--shapes rr1,rr50,pipe,http] [--fsync on,off] [--seconds 3]
 *
 * Shapes: `rr1`, `rr50` and `pipe` are the bench's SET shapes (1 and 50
 * request/response connections, 1 connection with 1,000 in flight); `http`
 * sets 30,000 jobs due at once for an `http POST` rule whose receiver is the
 * firing scenario's (`_receiver.ts`, in this process), and counts until all
 * arrived (the http runner's capacity).
 *
 * @module
 */
import { parseArgs } from "node:util";
import {
  encodePool,
  LineClient,
  runPipelined,
  runRequestResponse,
  sendLines,
  ZTICK_SET,
} from "./_load.ts";
import { cpuMs } from "./_procs.ts";
import { Receiver } from "./_receiver.ts";
import { summarize } from "./_stats.ts";
import { startZtick, type Ztick } from "./_ztick.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    roots: { type: "string", default: "." },
    rounds: { type: "string", default: "3" },
    shapes: { type: "string", default: "rr1,rr50,pipe,http" },
    fsync: { type: "string", default: "on,off" },
    seconds: { type: "string", default: "3" },
  },
});
const HTTP_JOBS = 30_000;
/** One measurement: work per second and daemon CPU µs per unit of work. */
interface Cost {
  readonly perSecond: number;
  readonly cpuUs: number;
}

async function setCost(daemon: Ztick, shape: string): Promise<Cost> {
  const ms = Number(values.seconds) * 1000;
  const run = (prefix: string, durationMs: number) => {
    const pool = encodePool(ZTICK_SET, `${prefix}${Date.now() % 1e5}`, 2e6);
    return shape === "pipe"
      ? runPipelined(daemon.port, pool, { window: 1000, durationMs })
      : runRequestResponse(daemon.port, pool, {
        connections: shape === "rr1" ? 1 : 50,
        durationMs,
      });
  };
  await run("w", 400);
  const before = await cpuMs(daemon.proc.pid);
  const result = await run("m", ms);
  const used = await cpuMs(daemon.proc.pid) - before;
  return { perSecond: result.perSecond, cpuUs: used * 1000 / result.requests };
}

async function httpCost(daemon: Ztick, receiver: Receiver): Promise<Cost> {
  const client = await LineClient.open(daemon.port);
  await client.request(
    `r RULE SET cap cap. http POST http://127.0.0.1:${receiver.port}/hit`,
  );
  client.close();
  const costs: Cost[] = [];
  for (let rep = 0; rep < 2; rep++) { // the first warms the daemon up
    const lines = Array.from(
      { length: HTTP_JOBS },
      (_, i) => `s SET cap.${rep}.${i} 1000000000000000000`,
    );
    const before = await cpuMs(daemon.proc.pid);
    const startMs = performance.now();
    await sendLines(daemon.port, lines);
    await receiver.waitFor(`cap.${rep}.`, HTTP_JOBS, 120_000);
    const arrived = receiver.collect(`cap.${rep}.`).length;
    if (arrived < HTTP_JOBS) {
      throw new Error(`${HTTP_JOBS - arrived} executions never arrived`);
    }
    const elapsedMs = performance.now() - startMs;
    const used = await cpuMs(daemon.proc.pid) - before;
    costs.push({
      perSecond: HTTP_JOBS / elapsedMs * 1000,
      cpuUs: used * 1000 / HTTP_JOBS,
    });
  }
  return costs[1]!;
}

const roots = values.roots.split(",").map((root) => Deno.realPathSync(root));
const shapes = values.shapes.split(",");
const modes = values.fsync.split(",").map((mode) => mode === "on");
const samples = new Map<string, Cost[]>();
{
  await using receiver = new Receiver();
  for (let round = 1; round <= Number(values.rounds); round++) {
    for (const fsync of modes) {
      for (const shape of shapes) {
        for (const root of roots) {
          const daemon = await startZtick({ fsync, root });
          try {
            const cost = shape === "http"
              ? await httpCost(daemon, receiver)
              : await setCost(daemon, shape);
            const key = `${shape} fsync ${fsync ? "on" : "off"} ${root}`;
            samples.set(key, [...samples.get(key) ?? [], cost]);
            print(
              `round ${round}: ${key}: ${Math.round(cost.perSecond)}/s, ` +
                `${cost.cpuUs.toFixed(1)} µs CPU each`,
            );
          } finally {
            await daemon.stop();
          }
        }
      }
    }
  }
}
print("\nmedians: per second, daemon CPU µs per request or execution");
for (const [key, costs] of samples) {
  const rate = summarize(costs.map((c) => c.perSecond));
  const cpu = summarize(costs.map((c) => c.cpuUs));
  print(
    `${key}: ${Math.round(rate.median)}/s (${Math.round(rate.min)}–${
      Math.round(rate.max)
    }), ${cpu.median.toFixed(1)} µs (${cpu.min.toFixed(1)}–${
      cpu.max.toFixed(1)
    })`,
  );
}

function print(text: string): void {
  Deno.stdout.writeSync(new TextEncoder().encode(`${text}\n`));
}

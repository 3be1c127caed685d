/**
 * Execution throughput: shell jobs (`true`) due at once, default
 * concurrency; time until STAT `jobs_executed` has grown by their number.
 *
 * @module
 */
import { LineClient, sendLines } from "./_load.ts";
import { sleep } from "./_procs.ts";
import type { Results } from "./_results.ts";
import { startZtick } from "./_ztick.ts";

/** 2024-03-28 08:00:00 UTC: in the past, so due at once. */
const PAST_NS = "1711612800000000000";

/** Options of the execution scenario. */
export interface ExecutionOptions {
  readonly reps: number;
  readonly jobs: number;
  readonly log: (text: string) => void;
  readonly cpuProfDir?: string;
}

/** Adds `exec.rate` (jobs/s) from `reps` batches of `jobs` shell jobs. */
export async function measureExecution(
  results: Results,
  options: ExecutionOptions,
): Promise<void> {
  const daemon = await startZtick({
    fsync: true,
    ...(options.cpuProfDir ? { cpuProfDir: options.cpuProfDir } : {}),
  });
  const client = await LineClient.open(daemon.port);
  try {
    const rule = await client.request("r RULE SET run exec. shell true");
    if (rule.at(-1) !== "r OK") {
      throw new Error(`RULE SET: ${rule.join(" | ")}`);
    }
    const rates: number[] = [];
    let failed = 0;
    for (let rep = 0; rep < options.reps; rep++) {
      const before = await client.stat();
      const executed0 = Number(before.get("jobs_executed"));
      const failed0 = Number(before.get("jobs_failed"));
      const lines = Array.from(
        { length: options.jobs },
        (_, i) => `x SET exec.b${rep}.${i} ${PAST_NS}`,
      );
      const startMs = performance.now();
      const sent = await sendLines(daemon.port, lines);
      if (sent.errors > 0) {
        throw new Error(`${sent.errors} SETs answered ERROR`);
      }
      let endMs = NaN;
      const deadlineMs = startMs + 120_000;
      while (performance.now() < deadlineMs) {
        const stat = await client.stat();
        const executed = Number(stat.get("jobs_executed")) - executed0;
        const fails = Number(stat.get("jobs_failed")) - failed0;
        if (executed + fails >= options.jobs) {
          endMs = performance.now();
          failed += fails;
          break;
        }
        await sleep(5);
      }
      rates.push(options.jobs / ((endMs - startMs) / 1000));
    }
    const figure = results.add(
      "exec.rate",
      `Execution: ${
        options.jobs.toLocaleString("en-US")
      } shell jobs (true) due now, concurrency 16`,
      "jobs/s",
      rates,
      failed > 0 ? `${failed} executions failed` : undefined,
    );
    options.log(
      `  ${figure.label}: ${figure.median.toFixed(0)} jobs/s [${
        figure.min.toFixed(0)
      }–${figure.max.toFixed(0)}]`,
    );
  } finally {
    client.close();
    await daemon.stop();
  }
}

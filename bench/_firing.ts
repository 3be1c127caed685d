/**
 * Firing precision: jobs due within one second fire an `http` rule whose
 * URL is a receiver in this process (`_receiver.ts`); lateness is the
 * arrival time of the request minus the job's due time (from the JSON body).
 *
 * @module
 */
import { calibrateWallClock, nsToMs, wallNowMs, wallNowNs } from "./_clock.ts";
import { Receiver } from "./_receiver.ts";
import { LineClient, sendLines } from "./_load.ts";
import type { Results } from "./_results.ts";
import { percentile, sortedCopy } from "./_stats.ts";
import { startZtick } from "./_ztick.ts";
import { sleep } from "./_procs.ts";

/** Options of the firing scenario. */
export interface FiringOptions {
  readonly reps: number;
  readonly jobs: number;
  readonly singleReps: number;
  readonly fsync: boolean;
  /** `[execution] concurrency`; default 16. */
  readonly concurrency?: number;
  readonly log: (text: string) => void;
  readonly cpuProfDir?: string;
  readonly v8Flags?: readonly string[];
  /** Called with the daemon's output lines (diagnostics). */
  readonly onDaemonLine?: (text: string, atMs: number) => void;
  /** Write each batch job's lateness (ms, in due order) as JSON here. */
  readonly dumpPath?: string;
}

/**
 * `jobs` jobs due evenly spread over one second, starting 2 s after they
 * are set (so loading them is over), `reps` times; then a single job due
 * in 1 s, `singleReps` times. Figures under `firing_<fsync>.`.
 */
export async function measureFiring(
  results: Results,
  options: FiringOptions,
): Promise<void> {
  const concurrency = options.concurrency ?? 16;
  const key = `firing_fsync_${options.fsync ? "on" : "off"}${
    concurrency === 16 ? "" : `_c${concurrency}`
  }`;
  const label = `Firing, fsync_on_persist ${options.fsync}${
    concurrency === 16 ? "" : `, concurrency ${concurrency}`
  }`;
  await using receiver = new Receiver();
  const daemon = await startZtick({
    fsync: options.fsync,
    concurrency,
    ...(options.v8Flags ? { v8Flags: options.v8Flags } : {}),
    ...(options.cpuProfDir ? { cpuProfDir: options.cpuProfDir } : {}),
  });
  const onLine = options.onDaemonLine;
  if (onLine) daemon.proc.onLine((line) => onLine(line.text, line.atMs));
  const client = await LineClient.open(daemon.port);
  try {
    const rule = await client.request(
      `r RULE SET fire fire. http POST http://127.0.0.1:${receiver.port}/hit`,
    );
    if (rule.at(-1) !== "r OK") {
      throw new Error(`RULE SET: ${rule.join(" | ")}`);
    }
    const p50: number[] = [];
    const p99: number[] = [];
    const max: number[] = [];
    const missing: number[] = [];
    // Rep -1 warms the daemon up (its first batch runs cold code, and was
    // up to 100 ms late where the next ones were not); it is not counted.
    for (let rep = -1; rep < options.reps; rep++) {
      const prefix = `fire.b${rep}.`;
      calibrateWallClock();
      const firstNs = wallNowNs() + 2_000_000_000n;
      const stepNs = 1_000_000_000n / BigInt(options.jobs);
      const lines: string[] = [];
      for (let i = 0; i < options.jobs; i++) {
        lines.push(`f SET ${prefix}${i} ${firstNs + BigInt(i) * stepNs}`);
      }
      const sent = await sendLines(daemon.port, lines);
      if (sent.errors > 0) {
        throw new Error(`${sent.errors} SETs answered ERROR`);
      }
      // A collection of this process (the receiver) must not land inside
      // the measured second: start it clean (the bench task exposes gc).
      (globalThis as { gc?: () => void }).gc?.();
      const leftMs = nsToMs(firstNs) - wallNowMs();
      if (leftMs < 100) {
        results.note(`${label}: loading took until ${-leftMs} ms before due`);
      }
      await receiver.waitFor(prefix, options.jobs, leftMs + 1000 + 30_000);
      if (rep < 0) {
        await sleep(200);
        continue;
      }
      if (options.dumpPath) {
        const ordered = lines.map((_, i) =>
          receiver.lateness.get(`${prefix}${i}`) ?? null
        );
        await Deno.writeTextFile(
          `${options.dumpPath}.${rep}.json`,
          JSON.stringify(ordered),
        );
      }
      const sorted = sortedCopy(receiver.collect(prefix));
      missing.push(options.jobs - sorted.length);
      p50.push(percentile(sorted, 50));
      p99.push(percentile(sorted, 99));
      max.push(sorted[sorted.length - 1] ?? NaN);
      await sleep(200);
    }
    const what = `${options.jobs.toLocaleString("en-US")} jobs due within 1 s`;
    const missed = missing.reduce((a, b) => a + b, 0);
    const note = missed > 0 ? `${missed} executions never arrived` : undefined;
    const f50 = results.add(
      `${key}.p50_ms`,
      `${label}: ${what}, lateness p50`,
      "ms",
      p50,
      note,
    );
    const f99 = results.add(
      `${key}.p99_ms`,
      `${label}: ${what}, lateness p99`,
      "ms",
      p99,
      note,
    );
    const fmax = results.add(
      `${key}.max_ms`,
      `${label}: ${what}, lateness max`,
      "ms",
      max,
      note,
    );
    options.log(
      `  ${label}: ${what}: p50 ${f50.median.toFixed(2)} ms, p99 ${
        f99.median.toFixed(2)
      } ms, max ${fmax.median.toFixed(2)} ms${note ? ` (${note})` : ""}`,
    );

    const single: number[] = [];
    for (let rep = 0; rep < options.singleReps; rep++) {
      const id = `fire.one${rep}`;
      calibrateWallClock();
      const dueNs = wallNowNs() + 1_000_000_000n;
      const answer = await client.request(`o SET ${id} ${dueNs}`);
      if (answer.at(-1) !== "o OK") {
        throw new Error(`SET: ${answer.join(" | ")}`);
      }
      await receiver.waitFor(id, 1, 10_000);
      single.push(receiver.lateness.get(id) ?? NaN);
    }
    const one = results.add(
      `${key}.single_ms`,
      `${label}: single job due in 1 s, lateness`,
      "ms",
      single,
    );
    options.log(
      `  ${label}: single job lateness ${one.median.toFixed(2)} ms [${
        one.min.toFixed(2)
      }–${one.max.toFixed(2)}]`,
    );
  } finally {
    client.close();
    await daemon.stop();
  }
}

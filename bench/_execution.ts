/**
 * Execution throughput: jobs due at once (set pipelined, due in the past);
 * time until STAT `jobs_executed` + `jobs_failed` has grown by their
 * number, each batch bounded in time. `fsync_on_persist = true`.
 *
 * - shell `true`, concurrency 16, each batch next to a run of
 *   `bench/spawn_limit.c` (C fork + setsid + execve of `sh -c true`, 16 in
 *   flight): the machine's own spawn limit, measured in the same run;
 * - the same with N jobs (`--scale`, default 1,000,000) planned far in the
 *   future in the daemon;
 * - amqp (the local RabbitMQ) and redis (an own redis-server) jobs with 1
 *   and 16 in flight.
 *
 * @module
 */
import {
  encodePool,
  LineClient,
  runPipelined,
  sendLines,
  ZTICK_SET,
} from "./_load.ts";
import { compileC, ensureProgram, hasProgram, startRedis } from "./_peers.ts";
import { removeDir, rssBytes, sleep } from "./_procs.ts";
import type { Results } from "./_results.ts";
import { startZtick } from "./_ztick.ts";

/** 2024-03-28 08:00:00 UTC: in the past, so due at once. */
const PAST_NS = "1711612800000000000";
const MB = 1024 * 1024;
const RABBITMQ = { hostname: "127.0.0.1", port: 5672 };

/** Options of the execution scenario. */
export interface ExecutionOptions {
  readonly reps: number;
  /** Shell jobs per batch. */
  readonly jobs: number;
  /** amqp jobs per batch. */
  readonly amqpJobs: number;
  /** redis jobs per batch (more: a batch of them is over in a blink). */
  readonly redisJobs: number;
  /** Far-future jobs planned in the daemon of the loaded variant. */
  readonly loadedJobs: number;
  /** Bound of one batch: its rate counts the jobs done by then. */
  readonly batchLimitMs: number;
  readonly log: (text: string) => void;
  readonly cpuProfDir?: string;
}

/** One daemon, one rule, `reps` batches of jobs matching it. */
interface Scenario {
  readonly id: string;
  readonly label: string;
  /** The rule's runner and arguments, as RULE SET takes them. */
  readonly runner: string;
  readonly jobs: number;
  readonly concurrency: number;
  /** Jobs planned far in the future before the batches. */
  readonly loadedJobs?: number;
  /** Runs before every batch, the daemon idle. */
  readonly beforeBatch?: () => Promise<void>;
  readonly cpuProfDir?: string;
}

/** Adds the `exec.*` figures (jobs/s). */
export async function measureExecution(
  results: Results,
  options: ExecutionOptions,
): Promise<void> {
  const limits: number[] = [];
  const spawnLimit = await hasProgram("gcc")
    ? await spawnLimitRunner(options, limits)
    : undefined;
  if (spawnLimit === undefined) {
    results.note("gcc not found: no spawn limit next to the shell figures");
  }
  const shell = {
    runner: "shell true",
    jobs: options.jobs,
    concurrency: 16,
    ...(spawnLimit ? { beforeBatch: spawnLimit } : {}),
  };
  const n = options.jobs.toLocaleString("en-US");
  await measureScenario(results, options, {
    ...shell,
    id: "exec.rate",
    label: `Execution: ${n} shell jobs (true) due now, concurrency 16`,
    ...(options.cpuProfDir ? { cpuProfDir: options.cpuProfDir } : {}),
  });
  const loaded = options.loadedJobs.toLocaleString("en-US");
  await measureScenario(results, options, {
    ...shell,
    id: "exec.rate_loaded",
    label: `Execution: ${n} shell jobs (true) due now, concurrency 16, ` +
      `${loaded} jobs planned in the daemon`,
    loadedJobs: options.loadedJobs,
  });
  if (limits.length > 0) {
    const figure = results.add(
      "exec.spawn_limit",
      `Spawn limit of this machine: C fork + setsid + execve of sh -c true, ${n} runs, 16 in flight (before each shell batch)`,
      "jobs/s",
      limits,
    );
    options.log(`  spawn limit: ${figure.median.toFixed(0)} jobs/s`);
  }
  await measureNetwork(results, options);
}

/** Builds bench/spawn_limit.c; returns one run that records its rate. */
async function spawnLimitRunner(
  options: ExecutionOptions,
  rates: number[],
): Promise<() => Promise<void>> {
  const binary = await compileC("spawn_limit");
  return async () => {
    const out = await new Deno.Command(binary, {
      args: ["fork", String(options.jobs), "16"],
      stdin: "null",
      stdout: "piped",
    }).output();
    const line = JSON.parse(new TextDecoder().decode(out.stdout)) as {
      rate: number;
      failed: number;
    };
    if (!out.success || line.failed > 0) {
      throw new Error(`spawn_limit failed: ${JSON.stringify(line)}`);
    }
    rates.push(line.rate);
  };
}

/** amqp and redis jobs, 1 and 16 in flight. */
async function measureNetwork(
  results: Results,
  options: ExecutionOptions,
): Promise<void> {
  const rabbit = await Deno.connect(RABBITMQ).then((conn) => {
    conn.close();
    return true;
  }, () => false);
  for (const concurrency of rabbit ? [1, 16] : []) {
    await measureScenario(results, options, {
      id: `exec.amqp_c${concurrency}`,
      label: `Execution: ${count(options.amqpJobs)} amqp jobs (publish to ` +
        `amq.direct, local RabbitMQ) due now, concurrency ${concurrency}`,
      runner:
        `amqp amqp://guest:guest@${RABBITMQ.hostname}:${RABBITMQ.port}/ ` +
        "amq.direct ztick.bench",
      jobs: options.amqpJobs,
      concurrency,
    });
  }
  if (!rabbit) {
    results.note(
      `no RabbitMQ on ${RABBITMQ.hostname}:${RABBITMQ.port}: no amqp figures`,
    );
  }
  if (!await ensureProgram("redis-server", "redis-server", options.log)) {
    results.note("redis-server not found: no redis execution figures");
    return;
  }
  const redis = await startRedis("off");
  try {
    for (const concurrency of [1, 16]) {
      await measureScenario(results, options, {
        id: `exec.redis_c${concurrency}`,
        label: `Execution: ${count(options.redisJobs)} redis jobs (PUBLISH, ` +
          `own redis-server) due now, concurrency ${concurrency}`,
        runner: `redis redis://127.0.0.1:${redis.port} PUBLISH ztick.bench`,
        jobs: options.redisJobs,
        concurrency,
      });
    }
  } finally {
    await redis.stop();
  }
}

function count(n: number): string {
  return n.toLocaleString("en-US");
}

/** Starts a daemon for `scenario`, runs its batches, adds its figure. */
async function measureScenario(
  results: Results,
  options: ExecutionOptions,
  scenario: Scenario,
): Promise<void> {
  const daemon = await startZtick({
    fsync: true,
    concurrency: scenario.concurrency,
    ...(scenario.cpuProfDir ? { cpuProfDir: scenario.cpuProfDir } : {}),
  });
  const client = await LineClient.open(daemon.port);
  try {
    const rule = await client.request(
      `r RULE SET run exec. ${scenario.runner}`,
    );
    if (rule.at(-1) !== "r OK") {
      throw new Error(`RULE SET: ${rule.join(" | ")}`);
    }
    if (scenario.loadedJobs !== undefined) {
      await load(results, daemon.port, daemon.proc.pid, scenario.loadedJobs);
    }
    const rates: number[] = [];
    const notes: string[] = [];
    let failed = 0;
    for (let rep = 0; rep < options.reps; rep++) {
      await scenario.beforeBatch?.();
      const batch = await runBatch(client, daemon.port, {
        prefix: `exec.b${rep}`,
        jobs: scenario.jobs,
        limitMs: options.batchLimitMs,
      });
      rates.push(batch.rate);
      failed += batch.failed;
      if (batch.done < scenario.jobs) {
        notes.push(
          `batch ${rep + 1} hit the ${options.batchLimitMs / 1000} s bound ` +
            `after ${batch.done} jobs; no further batch`,
        );
        break;
      }
    }
    if (failed > 0) notes.unshift(`${failed} executions failed`);
    const figure = results.add(
      scenario.id,
      scenario.label,
      "jobs/s",
      rates,
      notes.length > 0 ? notes.join("; ") : undefined,
    );
    options.log(
      `  ${figure.label}: ${figure.median.toFixed(0)} jobs/s [${
        figure.min.toFixed(0)
      }–${figure.max.toFixed(0)}]${notes.length > 0 ? ` (${notes})` : ""}`,
    );
  } finally {
    client.close();
    await daemon.stop();
    await removeDir(daemon.dir);
  }
}

/** Plans `jobs` far-future jobs (pipelined SETs); adds the daemon's RSS. */
async function load(
  results: Results,
  port: number,
  pid: number,
  jobs: number,
): Promise<void> {
  const pool = encodePool(ZTICK_SET, "bench.load", jobs);
  const loaded = await runPipelined(port, pool, {
    window: 1000,
    durationMs: Infinity,
  });
  if (loaded.requests !== jobs) {
    throw new Error(`only ${loaded.requests} SETs answered`);
  }
  await sleep(1000);
  results.add(
    "exec.loaded_rss_mb",
    `Execution with ${
      jobs.toLocaleString("en-US")
    } jobs planned: daemon RSS before the batches`,
    "MB",
    [await rssBytes(pid) / MB],
  );
}

/** What one batch did. */
interface Batch {
  /** Jobs ended (executed or failed) per second. */
  readonly rate: number;
  readonly done: number;
  readonly failed: number;
}

/**
 * Sets `jobs` jobs due now and polls STAT every 5 ms until they all ended
 * or `limitMs` passed.
 */
async function runBatch(
  client: LineClient,
  port: number,
  batch: { prefix: string; jobs: number; limitMs: number },
): Promise<Batch> {
  const before = await client.stat();
  const executed0 = Number(before.get("jobs_executed"));
  const failed0 = Number(before.get("jobs_failed"));
  const lines = Array.from(
    { length: batch.jobs },
    (_, i) => `x SET ${batch.prefix}.${i} ${PAST_NS}`,
  );
  const startMs = performance.now();
  const sent = await sendLines(port, lines);
  if (sent.errors > 0) throw new Error(`${sent.errors} SETs answered ERROR`);
  const deadlineMs = startMs + batch.limitMs;
  for (;;) {
    const stat = await client.stat();
    const executed = Number(stat.get("jobs_executed")) - executed0;
    const failed = Number(stat.get("jobs_failed")) - failed0;
    const nowMs = performance.now();
    if (executed + failed >= batch.jobs || nowMs >= deadlineMs) {
      const done = executed + failed;
      return { rate: done / ((nowMs - startMs) / 1000), done, failed };
    }
    await sleep(5);
  }
}

/**
 * `deno task bench`: ztick side by side with Redis and beanstalkd, plus the
 * load generator's own ceiling, durability, firing precision, execution
 * throughput and scale. Progress goes to stderr, the Markdown report to
 * stdout, every figure to bench/results/latest.json. See bench/README.md.
 *
 * Options: `--scale N` (jobs of the scale scenario and of the exec
 * scenario's loaded daemon, default 1000000),
 * `--reps N` (default 3), `--duration MS` (one throughput run, default
 * 1500), `--quick` (short smoke run), `--only a,b` (scenarios: ceiling,
 * set, fsync, firing, exec, scale), `--cpu-prof DIR` (profile the daemons
 * of firing, exec and scale, and the ztick SET runs), `--telemetry`
 * (every daemon exports OpenTelemetry, every 5 s, to an OTLP receiver in
 * the bench process that counts and discards), `--out FILE`.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { dirname } from "node:path";
import { fileURLToPath as fromFileUrl } from "node:url";
import { measureExecution } from "./_execution.ts";
import { measureFiring } from "./_firing.ts";
import { rawFsyncRate } from "./_fsync.ts";
import { BEANSTALK_PUT, ECHO_LINE, REDIS_ZADD, ZTICK_SET } from "./_load.ts";
import {
  type BeanstalkMode,
  ensureProgram,
  hasProgram,
  type RedisMode,
  startBeanstalkd,
  startCEcho,
  startDenoEcho,
  startRedis,
} from "./_peers.ts";
import {
  cleanUp,
  pinSelf,
  pinServers,
  removeDir,
  tempDir,
  waitForQuiet,
} from "./_procs.ts";
import { machineFacts, markdown, type MatrixRow } from "./_report.ts";
import { Results, type Target } from "./_results.ts";
import { measureScale } from "./_scale.ts";
import { measureThroughput, type ThroughputTarget } from "./_throughput.ts";
import { exportTelemetryTo, startZtick } from "./_ztick.ts";
import { startOtlpReceiver } from "../tests/_helpers/otlp_receiver.ts";

const SCENARIOS = ["ceiling", "set", "fsync", "firing", "exec", "scale"];
const ENCODER = new TextEncoder();

function log(text: string): void {
  Deno.stderr.writeSync(ENCODER.encode(`${text}\n`));
}

function positive(
  name: string,
  value: string | undefined,
  fallback: number,
): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) {
    throw new Error(`--${name} must be a positive number`);
  }
  return n;
}

const { values } = parseArgs({
  args: Deno.args[0] === "--" ? Deno.args.slice(1) : Deno.args,
  options: {
    scale: { type: "string" },
    reps: { type: "string" },
    duration: { type: "string" },
    quick: { type: "boolean", default: false },
    only: { type: "string" },
    "cpu-prof": { type: "string" },
    out: { type: "string" },
    "no-pin": { type: "boolean", default: false },
    telemetry: { type: "boolean", default: false },
    help: { type: "boolean", short: "h", default: false },
  },
});
if (values.help) {
  log(
    "usage: deno task bench [--quick] [--scale N] [--reps N] [--duration MS] [--only ceiling,set,fsync,firing,exec,scale] [--cpu-prof DIR] [--no-pin] [--telemetry] [--out FILE]",
  );
  Deno.exit(0);
}
const quick = values.quick;
const reps = Math.round(positive("reps", values.reps, quick ? 1 : 3));
const durationMs = positive("duration", values.duration, quick ? 300 : 1500);
const warmupMs = quick ? 150 : 400;
const scale = Math.round(
  positive("scale", values.scale, quick ? 20_000 : 1_000_000),
);
const only = new Set(
  values.only ? values.only.split(",").map((s) => s.trim()) : SCENARIOS,
);
for (const name of only) {
  if (!SCENARIOS.includes(name)) {
    throw new Error(`unknown scenario "${name}" (${SCENARIOS.join(", ")})`);
  }
}
const cpuProfDir = values["cpu-prof"];
const outPath = values.out ??
  fromFileUrl(new URL("./results/latest.json", import.meta.url));

Deno.addSignalListener("SIGINT", () => {
  log("interrupted: stopping children, removing temp dirs");
  cleanUp().finally(() => Deno.exit(130));
});

const results = new Results();
const ceilingRows: MatrixRow[] = [
  { id: "echo_c", label: "C echo (epoll, gcc -O2)" },
  { id: "echo_deno", label: "Deno echo (one write per read)" },
];
const setRows: MatrixRow[] = [
  { id: "ztick_fsync_off", label: "ztick SET, fsync_on_persist false" },
  { id: "ztick_fsync_on", label: "ztick SET, fsync_on_persist true" },
  { id: "redis_off", label: "Redis ZADD, AOF off" },
  { id: "redis_everysec", label: "Redis ZADD, AOF everysec" },
  { id: "redis_always", label: "Redis ZADD, AOF always" },
  {
    id: "beanstalkd_default",
    label: "beanstalkd put, binlog, default sync (-f 50)",
  },
  {
    id: "beanstalkd_f0",
    label: "beanstalkd put, binlog, -f 0 (fsync every put)",
  },
];
const throughput = { reps, durationMs, warmupMs, log };
const busyBefore: Record<string, number> = {};
/** Waits for other processes to calm down; notes it if they do not. */
async function quiet(scenario: string): Promise<void> {
  const busy = await waitForQuiet({
    threshold: 0.15,
    maxWaitMs: quick ? 5_000 : 120_000,
    log,
  });
  busyBefore[scenario] = busy;
  if (busy > 0.15) {
    results.note(
      `${scenario}: other processes used ${
        (busy * 100).toFixed(0)
      }% of the CPUs just before it ran; its figures are disturbed`,
    );
  }
}
const started = performance.now();
const workDir = await tempDir("run");
const collector = values.telemetry
  ? startOtlpReceiver({ kind: "ok" }, { discard: true })
  : undefined;
exportTelemetryTo(collector?.endpoint);
if (collector) {
  results.note(
    "Telemetry on: every daemon exports OTLP/HTTP to a receiver in the bench process (--telemetry).",
  );
}

try {
  log(
    `ztick bench: reps ${reps}, ${durationMs} ms per throughput run, scale ${
      scale.toLocaleString("en-US")
    }, scenarios ${[...only].join(",")}`,
  );
  const cores = navigator.hardwareConcurrency;
  const pin = !values["no-pin"] && cores >= 2 && await hasProgram("taskset") &&
    (only.has("ceiling") || only.has("set"));
  if (pin) {
    // One core for the load generator, the others for the server measured:
    // same placement for every server, no same-core/cross-core lottery.
    await pinSelf("0");
    pinServers(`1-${cores - 1}`);
    results.note(
      `Throughput runs: load generator pinned to CPU 0, servers to CPU 1${
        cores > 2 ? `-${cores - 1}` : ""
      } (taskset); other scenarios unpinned.`,
    );
  }
  if (only.has("ceiling")) {
    await quiet("ceiling");
    log("load generator ceiling:");
    if (await hasProgram("gcc")) {
      await measureThroughput(results, {
        id: "echo_c",
        label: "C echo",
        wire: ECHO_LINE,
        start: startCEcho,
      }, throughput);
    } else {
      results.note("gcc not found: no C echo ceiling");
    }
    await measureThroughput(results, {
      id: "echo_deno",
      label: "Deno echo",
      wire: ECHO_LINE,
      start: startDenoEcho,
    }, throughput);
  }

  if (only.has("set")) {
    await quiet("set");
    log("SET throughput:");
    const targets: ThroughputTarget[] = [];
    for (const fsync of [false, true]) {
      targets.push({
        id: `ztick_fsync_${fsync ? "on" : "off"}`,
        label: `ztick SET, fsync ${fsync ? "on" : "off"}`,
        wire: ZTICK_SET,
        start: () =>
          startZtick({ fsync, ...(cpuProfDir ? { cpuProfDir } : {}) }),
      });
    }
    if (await ensureProgram("redis-server", "redis-server", log)) {
      for (const mode of ["off", "everysec", "always"] as RedisMode[]) {
        targets.push({
          id: `redis_${mode}`,
          label: `Redis ZADD, AOF ${mode}`,
          wire: REDIS_ZADD,
          start: () => startRedis(mode),
        });
      }
    } else {
      results.note(
        "redis-server not found and apt-get could not install it: no Redis figures",
      );
    }
    if (await ensureProgram("beanstalkd", "beanstalkd", log)) {
      for (const mode of ["default", "f0"] as BeanstalkMode[]) {
        targets.push({
          id: `beanstalkd_${mode}`,
          label: `beanstalkd put, ${mode === "f0" ? "-f 0" : "default sync"}`,
          wire: BEANSTALK_PUT,
          start: () => startBeanstalkd(mode),
        });
      }
    } else {
      results.note(
        "beanstalkd not found and apt-get could not install it: no beanstalkd figures",
      );
    }
    for (const target of targets) {
      await measureThroughput(results, target, throughput);
    }
  }

  if (pin) {
    await pinSelf(`0-${cores - 1}`);
    pinServers(undefined);
  }

  if (only.has("fsync")) {
    await quiet("fsync");
    log("raw fsync rate:");
    const rates: number[] = [];
    const over: number[] = [];
    for (let rep = 0; rep < reps; rep++) {
      // Alternated: the disk's rate drifts with the other tenants' load.
      rates.push(rawFsyncRate(workDir, quick ? 500 : 2000));
      over.push(rawFsyncRate(workDir, quick ? 500 : 2000, true));
    }
    const f = results.add(
      "fsync.rate",
      "Raw fsync rate: 100-byte append + fdatasync, back to back",
      "ops/s",
      rates,
    );
    log(
      `  ${Math.round(f.median)} fsyncs/s [${Math.round(f.min)}–${
        Math.round(f.max)
      }]`,
    );
    const p = results.add(
      "fsync.preallocated_rate",
      "Raw fsync rate: 100 bytes over preallocated zeros + fdatasync",
      "ops/s",
      over,
    );
    log(`  over preallocated zeros: ${Math.round(p.median)} fsyncs/s`);
    for (
      const [id, label] of [["ztick_fsync_on", "ztick"], [
        "redis_always",
        "Redis always",
      ]]
    ) {
      const rr50 = results.get(`${id}.rr50.rps`);
      if (!rr50) continue;
      results.add(
        `group_commit.${id}`,
        `Group commit: ${label} durable 50-conn SET rate / raw fsync rate`,
        "×",
        rr50.samples.map((s) => s / f.median),
      );
    }
  }

  const profile = cpuProfDir ? { cpuProfDir } : {};
  if (only.has("firing")) {
    await quiet("firing");
    log("firing precision (http runner → receiver in the bench process):");
    const jobs = quick ? 1000 : 10_000;
    const singleReps = Math.max(5, reps);
    await measureFiring(results, {
      reps,
      jobs,
      singleReps,
      fsync: true,
      log,
      ...profile,
    });
    await measureFiring(results, { reps, jobs, singleReps, fsync: false, log });
  }

  if (only.has("exec")) {
    await quiet("exec");
    log("execution throughput:");
    await measureExecution(results, {
      reps,
      jobs: quick ? 200 : 2000,
      amqpJobs: quick ? 100 : 500,
      redisJobs: quick ? 400 : 2000,
      loadedJobs: scale,
      batchLimitMs: quick ? 10_000 : 60_000,
      log,
      ...profile,
    });
  }

  if (only.has("scale")) {
    await quiet("scale");
    log(`scale (${scale.toLocaleString("en-US")} jobs):`);
    await measureScale(results, {
      jobs: scale,
      reps,
      compactionIntervalS: quick ? 2 : 5,
      log,
      ...profile,
    });
  }

  const atScale = scale >= 1_000_000 ? {} : { note: true };
  const targetList: Target[] = [
    {
      label: "Pipelined SET, fsync off ≥ Redis ZADD, AOF off",
      figure: "ztick_fsync_off.pipe.rps",
      op: ">=",
      bound: { figure: "redis_off.pipe.rps", factor: 1 },
      unit: "req/s",
    },
    {
      label: "Pipelined SET, fsync on ≥ 1.2 × Redis ZADD, AOF always",
      figure: "ztick_fsync_on.pipe.rps",
      op: ">=",
      bound: { figure: "redis_always.pipe.rps", factor: 1.2 },
      unit: "req/s",
    },
    {
      label: "Durable SET, 50 req/resp conns ≥ 1.2 × Redis ZADD, AOF always",
      figure: "ztick_fsync_on.rr50.rps",
      op: ">=",
      bound: { figure: "redis_always.rr50.rps", factor: 1.2 },
      unit: "req/s",
    },
    {
      label:
        "Req/resp SET, 1 conn, fsync off: p50 ≤ 1.2 × C echo round trip p50",
      figure: "ztick_fsync_off.rr1.p50_us",
      op: "<=",
      bound: { figure: "echo_c.rr1.p50_us", factor: 1.2 },
      unit: "µs",
    },
    {
      label:
        "Firing lateness p99, 10,000 jobs in one second, fsync on (default) ≤ 2 ms",
      figure: "firing_fsync_on.p99_ms",
      op: "<=",
      bound: 2,
      unit: "ms",
    },
    {
      label: "Firing lateness p99, 10,000 jobs in one second, fsync off ≤ 2 ms",
      figure: "firing_fsync_off.p99_ms",
      op: "<=",
      bound: 2,
      unit: "ms",
    },
    {
      label: "Shell executions ≥ 1,500 jobs/s (or the next line)",
      figure: "exec.rate",
      op: ">=",
      bound: 1500,
      unit: "jobs/s",
    },
    {
      label:
        "Shell executions ≥ 75 % of the machine's spawn limit (C fork + exec, same run)",
      figure: "exec.rate",
      op: ">=",
      bound: { figure: "exec.spawn_limit", factor: 0.75 },
      unit: "jobs/s",
    },
    {
      label:
        "1M jobs: shell executions with them loaded ≥ 1,500 jobs/s (or the next line)",
      figure: "exec.rate_loaded",
      op: ">=",
      bound: 1500,
      unit: "jobs/s",
    },
    {
      label:
        "1M jobs: shell executions with them loaded ≥ 75 % of the spawn limit",
      figure: "exec.rate_loaded",
      op: ">=",
      bound: { figure: "exec.spawn_limit", factor: 0.75 },
      unit: "jobs/s",
    },
    {
      label: "1M jobs: RSS after loading ≤ 300 MB",
      figure: "scale.rss_loaded_mb",
      op: "<=",
      bound: 300,
      unit: "MB",
    },
    {
      label: "1M jobs: RSS after replay ≤ 300 MB",
      figure: "scale.rss_replayed_mb",
      op: "<=",
      bound: 300,
      unit: "MB",
    },
    {
      label: "1M jobs: replay ≤ 2 s",
      figure: "scale.replay_ms",
      op: "<=",
      bound: 2000,
      unit: "ms",
    },
    {
      label:
        "1M jobs: no GET stalled > 50 ms during compaction (max over all compactions)",
      figure: "scale.get_stall_ms",
      stat: "max",
      op: "<=",
      bound: 50,
      unit: "ms",
    },
  ];
  let evaluated = results.evaluate(targetList);
  if (atScale.note) {
    evaluated = evaluated.map((t) =>
      t.label.startsWith("1M")
        ? {
          ...t,
          status: "n/a" as const,
          label: `${t.label} (run at scale ${scale})`,
        }
        : t
    );
    if (quick) {
      results.note(
        "--quick: single short runs; figures are a smoke test, not results",
      );
    }
  }
  if (quick) {
    evaluated = evaluated.map((t) =>
      t.label.startsWith("Firing")
        ? { ...t, label: t.label.replace("10,000", "1,000 (--quick)") }
        : t
    );
  }

  const facts = await machineFacts(workDir);
  const report = markdown(results, evaluated, facts, {
    reps,
    durationMs,
    ceilingRows,
    setRows,
  });
  Deno.stdout.writeSync(ENCODER.encode(`${report}\n`));
  await Deno.mkdir(dirname(outPath), { recursive: true });
  await Deno.writeTextFile(
    outPath,
    JSON.stringify(
      {
        machine: facts,
        options: {
          reps,
          durationMs,
          warmupMs,
          scale,
          quick,
          scenarios: [...only],
        },
        elapsedS: Math.round((performance.now() - started) / 1000),
        figures: [...results.figures.values()],
        targets: evaluated,
        notes: results.notes,
      },
      null,
      2,
    ) + "\n",
  );
  log(
    `wrote ${outPath} (${Math.round((performance.now() - started) / 1000)} s)`,
  );
} finally {
  await removeDir(workDir);
  await cleanUp();
  if (collector) {
    log(
      `telemetry: ${collector.counted.requests} OTLP requests, ${
        (collector.counted.bytes / 2 ** 20).toFixed(1)
      } MiB received`,
    );
    await collector.close();
  }
}

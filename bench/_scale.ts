/**
 * Scale: N planned jobs (far future) loaded with pipelined SETs, then RSS,
 * logfile size, replay time at restart, compaction time and the longest
 * stall of a concurrent GET loop during compaction.
 *
 * @module
 */
import {
  connect,
  encodePool,
  type RequestPool,
  runPipelined,
  type Wire,
  writeAll,
  ZTICK_SET,
} from "./_load.ts";
import { peakRssBytes, removeDir, rssBytes, sleep, tempDir } from "./_procs.ts";
import type { Results } from "./_results.ts";
import { summarize } from "./_stats.ts";
import { startZtick } from "./_ztick.ts";

const GET: Wire = {
  name: "ztick GET",
  expect: "g OK planned",
  request: (id) => `g GET ${id}\n`,
};
const COMPACTED =
  /logfile: compacted to (\d+) rules, (\d+) jobs,(?: \d+ runs,)? (\d+) bytes in (\d+) ms/;
const MB = 1024 * 1024;
/** Ids are `bench.scale.00000000`: 20 chars, a realistic length. */
const SCALE_PREFIX = "bench.scale";

/** Options of the scale scenario. */
export interface ScaleOptions {
  readonly jobs: number;
  readonly reps: number;
  /** `compression_interval` of the compaction phase, in seconds. */
  readonly compactionIntervalS: number;
  readonly log: (text: string) => void;
  readonly cpuProfDir?: string;
}

/** Runs the scale scenario; figures under `scale.`. */
export async function measureScale(
  results: Results,
  options: ScaleOptions,
): Promise<void> {
  const { jobs, reps, log } = options;
  const n = jobs.toLocaleString("en-US");

  // Baseline: spawn → `listening on` with an empty logfile.
  const empty: number[] = [];
  for (let rep = 0; rep < reps; rep++) {
    const daemon = await startZtick({ fsync: false });
    empty.push(daemon.startupMs);
    await daemon.stop();
    await removeDir(daemon.dir);
  }
  const emptyMs = summarize(empty).median;
  results.add(
    "scale.startup_empty_ms",
    "Startup with an empty logfile (spawn → listening on)",
    "ms",
    empty,
  );

  // Load.
  const dir = await tempDir("scale");
  const pool = encodePool(ZTICK_SET, SCALE_PREFIX, jobs);
  {
    const daemon = await startZtick({ fsync: false, dir });
    const load = await runPipelined(daemon.port, pool, {
      window: 1000,
      durationMs: Infinity,
    });
    if (load.requests !== jobs) {
      throw new Error(`only ${load.requests} SETs answered`);
    }
    await sleep(2000);
    const rss = await rssBytes(daemon.proc.pid);
    await daemon.stop();
    const size = (await Deno.stat(daemon.logfile)).size;
    results.add(
      "scale.load_rps",
      `${n} pipelined SETs (fsync off), load rate`,
      "req/s",
      [load.perSecond],
    );
    results.add(
      "scale.rss_loaded_mb",
      `${n} jobs: daemon RSS after loading them`,
      "MB",
      [rss / MB],
    );
    results.add("scale.logfile_mb", `${n} jobs: logfile size`, "MB", [
      size / MB,
    ]);
    log(
      `  loaded ${n} jobs at ${Math.round(load.perSecond)} req/s; RSS ${
        (rss / MB).toFixed(0)
      } MB; logfile ${(size / MB).toFixed(1)} MB`,
    );
  }

  // Replay.
  const replay: number[] = [];
  const rssReplayed: number[] = [];
  const peakReplayed: number[] = [];
  for (let rep = 0; rep < reps; rep++) {
    const daemon = await startZtick({
      fsync: false,
      dir,
      startTimeoutMs: 300_000,
    });
    replay.push(daemon.startupMs - emptyMs);
    await sleep(1000);
    rssReplayed.push(await rssBytes(daemon.proc.pid) / MB);
    peakReplayed.push(await peakRssBytes(daemon.proc.pid) / MB);
    await daemon.stop();
  }
  const replayFigure = results.add(
    "scale.replay_ms",
    `${n} jobs: replay at restart (startup minus empty startup ${
      emptyMs.toFixed(0)
    } ms)`,
    "ms",
    replay,
  );
  results.add(
    "scale.rss_replayed_mb",
    `${n} jobs: daemon RSS 1 s after replay`,
    "MB",
    rssReplayed,
  );
  results.add(
    "scale.rss_peak_replay_mb",
    `${n} jobs: daemon peak RSS (VmHWM) up to 1 s after replay`,
    "MB",
    peakReplayed,
  );
  log(
    `  replay ${replayFigure.median.toFixed(0)} ms [${
      replayFigure.min.toFixed(0)
    }–${replayFigure.max.toFixed(0)}], RSS after replay ${
      summarize(rssReplayed).median.toFixed(0)
    } MB`,
  );

  // Compaction with a GET loop running.
  const daemon = await startZtick({
    fsync: false,
    dir,
    compressionIntervalS: options.compactionIntervalS,
    startTimeoutMs: 300_000,
    ...(options.cpuProfDir ? { cpuProfDir: options.cpuProfDir } : {}),
  });
  const compactions: { endMs: number; ms: number; bytes: number }[] = [];
  const failures: string[] = [];
  const enough = Promise.withResolvers<void>();
  const unsubscribe = daemon.proc.onLine((line) => {
    const match = line.text.match(COMPACTED);
    if (match) {
      compactions.push({
        endMs: line.atMs,
        ms: Number(match[4]),
        bytes: Number(match[3]),
      });
      if (compactions.length >= reps) enough.resolve();
    } else if (line.text.includes("compaction failed")) {
      failures.push(line.text);
    }
  });
  const stop = { done: false };
  const getPool = encodePool(GET, SCALE_PREFIX, Math.min(jobs, 100_000));
  const loop = getLoop(daemon.port, getPool, stop);
  const timer = setTimeout(
    () => enough.resolve(),
    (reps * (options.compactionIntervalS + 60)) * 1000,
  );
  await enough.promise;
  clearTimeout(timer);
  stop.done = true;
  const gets = await loop;
  unsubscribe();
  const peak = await peakRssBytes(daemon.proc.pid);
  await daemon.stop();

  const durations = compactions.map((c) => c.ms);
  const stalls = compactions.map((c) =>
    maxOverlapping(gets, c.endMs - c.ms, c.endMs)
  );
  const warmMs = gets.starts[0] === undefined ? 0 : gets.starts[0] + 500;
  let outside = 0;
  for (let i = 0; i < gets.starts.length; i++) {
    const s = gets.starts[i]!;
    if (s < warmMs) continue;
    const e = s + gets.latencies[i]!;
    if (compactions.some((c) => e >= c.endMs - c.ms && s <= c.endMs)) continue;
    outside = Math.max(outside, gets.latencies[i]!);
  }
  const note = failures.length > 0
    ? `${failures.length} compaction(s) failed`
    : compactions.length < reps
    ? `only ${compactions.length} compaction(s) seen`
    : undefined;
  const compaction = results.add(
    "scale.compaction_ms",
    `${n} jobs: compaction time (from the log line)`,
    "ms",
    durations,
    note,
  );
  const stall = results.add(
    "scale.get_stall_ms",
    `${n} jobs: longest GET round trip during compaction`,
    "ms",
    stalls,
    note,
  );
  results.add(
    "scale.get_max_outside_ms",
    `${n} jobs: longest GET round trip outside compaction`,
    "ms",
    [outside],
  );
  results.add(
    "scale.get_count",
    `GETs answered during the compaction phase`,
    "GETs",
    [gets.starts.length],
  );
  results.add(
    "scale.rss_peak_mb",
    `${n} jobs: daemon peak RSS (VmHWM) over replay + ${reps} compactions`,
    "MB",
    [peak / MB],
  );
  log(
    `  compaction ${compaction.median.toFixed(0)} ms [${
      compaction.min.toFixed(0)
    }–${compaction.max.toFixed(0)}], longest GET during it ${
      stall.median.toFixed(1)
    } ms [${stall.min.toFixed(1)}–${stall.max.toFixed(1)}], outside ${
      outside.toFixed(1)
    } ms, peak RSS ${(peak / MB).toFixed(0)} MB`,
  );
  await removeDir(dir);
}

/** Back-to-back GETs on one connection until `stop.done`. */
async function getLoop(
  port: number,
  pool: RequestPool,
  stop: { done: boolean },
): Promise<{ starts: number[]; latencies: number[] }> {
  const conn = await connect(port);
  const starts: number[] = [];
  const latencies: number[] = [];
  const buffer = new Uint8Array(4096);
  const { bytes, size, count } = pool;
  let checked = false;
  try {
    for (let i = 0; !stop.done; i = (i + 1) % count) {
      const t0 = performance.now();
      await writeAll(conn, bytes.subarray(i * size, (i + 1) * size));
      for (;;) {
        const n = await conn.read(buffer);
        if (n === null) throw new Error("GET loop: connection closed");
        if (!checked) {
          const head = new TextDecoder().decode(buffer.subarray(0, n));
          if (!head.startsWith(pool.wire.expect)) {
            throw new Error(
              `GET loop: unexpected answer ${JSON.stringify(head)}`,
            );
          }
          checked = true;
        }
        if (buffer.subarray(0, n).includes(10)) break;
      }
      starts.push(t0);
      latencies.push(performance.now() - t0);
    }
  } finally {
    conn.close();
  }
  return { starts, latencies };
}

function maxOverlapping(
  gets: { starts: number[]; latencies: number[] },
  fromMs: number,
  toMs: number,
): number {
  let max = 0;
  for (let i = 0; i < gets.starts.length; i++) {
    const s = gets.starts[i]!;
    const e = s + gets.latencies[i]!;
    if (e >= fromMs && s <= toMs) max = Math.max(max, gets.latencies[i]!);
  }
  return max;
}
